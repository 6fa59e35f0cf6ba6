/* Shared test helpers (see testutil.h). */
#include <sys/wait.h>

#include "testutil.h"

#include <string.h>
#include <time.h>
#include <zlib.h>
#include <unistd.h>

clfit_cl *tcl;
char test_dir[256];

void test_dir_setup(void)
{
    snprintf(test_dir, sizeof test_dir, "/tmp/clfit-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(test_dir));
}

void test_dir_teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
    ck_assert_int_eq(system(cmd), 0);
}

uint64_t test_seed(void)
{
    static uint64_t seed;
    static int have;
    if (!have) {
        const char *env = getenv("CLFIT_TEST_SEED");
        seed = env && *env ? strtoull(env, NULL, 10)
                           : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
        have = 1;
    }
    return seed;
}

void fill_uniform(clfit_rng *r, float *a, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * clfit_rng_uniform(r);
}

int test_small(void)
{
    const char *e = getenv("CLFIT_TEST_SMALL");
    return e && *e && *e != '0';
}

void cl_setup(void)
{
    clfit_status st;
    tcl = clfit_cl_open(NULL, &st);
    ck_assert_msg(tcl != NULL, "clfit_cl_open: %s: %s", clfit_status_name(st), clfit_last_error());
}

void cl_teardown(void)
{
    clfit_cl_close(tcl);
    tcl = NULL;
}

cl_mem upload(const void *host, size_t bytes)
{
    clfit_status st;
    cl_mem b = clfit_cl_buffer(tcl, bytes, host, &st);
    ck_assert_msg(b != NULL, "clfit_cl_buffer: %s", clfit_last_error());
    return b;
}

void download(cl_mem buf, void *host, size_t bytes)
{
    ASSERT_OK(clfit_cl_read(tcl, buf, 0, bytes, host));
}

int run_suite(Suite *s)
{
    test_seed(); /* fixed in the parent, so every forked test uses the same seed */
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed) fprintf(stderr, "(random inputs used seed %llu: rerun with CLFIT_TEST_SEED=%llu)\n",
                        (unsigned long long)test_seed(), (unsigned long long)test_seed());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void write_idx_file(const char *path, int type, int ndim, const uint32_t *dims,
                    const uint8_t *payload, size_t payload_len)
{
    size_t n = 4 + 4 * (size_t)ndim + payload_len;
    uint8_t *buf = malloc(n);
    buf[0] = 0; buf[1] = 0; buf[2] = (uint8_t)type; buf[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[4 + 4 * i] = dims[i] >> 24; buf[5 + 4 * i] = dims[i] >> 16;
        buf[6 + 4 * i] = dims[i] >> 8; buf[7 + 4 * i] = dims[i];
    }
    if (payload_len) memcpy(buf + 4 + 4 * ndim, payload, payload_len);
    size_t len = strlen(path);
    if (len > 3 && strcmp(path + len - 3, ".gz") == 0) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, buf, (unsigned)n), (int)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
        fclose(f);
    }
    free(buf);
}

void write_learnable_split(const char *dir, const char *split, int n, int rows, int cols,
                           int classes, uint64_t seed)
{
    clfit_rng r;
    clfit_rng_seed(&r, seed);
    int D = rows * cols;
    uint8_t *img = malloc((size_t)n * D), *lab = malloc(n);
    for (int i = 0; i < n; i++) {
        lab[i] = (uint8_t)clfit_rng_below(&r, classes);
        for (int k = 0; k < D; k++)
            img[(size_t)i * D + k] = (uint8_t)((k % classes == lab[i] ? 160 : 0) + clfit_rng_below(&r, 90));
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    write_idx_file(path, 8, 3, (uint32_t[]){n, rows, cols}, img, (size_t)n * D);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    write_idx_file(path, 8, 1, (uint32_t[]){n}, lab, n);
    free(img);
    free(lab);
}

static void assert_row(const clfit_verify_row *r, void *user)
{
    (void)user;
    ck_assert_msg(r->pass,
                  "%s %s: %s: %zu of %zu outside atol %.3g rtol %.3g (%s; %zu non-finite); "
                  "worst [%zu] got %.9g want %.9g; max abs %.3g max rel %.3g; seed %llu",
                  r->op, r->sizes, r->what, r->failures, r->n, r->atol, r->rtol, r->why,
                  r->nonfinite, r->worst, r->worst_got, r->worst_want, r->max_abs, r->max_rel,
                  (unsigned long long)test_seed());
}

void verify_op(const char *op)
{
    int dims[16][4];
    int n = clfit_verify_sizes(op, test_small(), dims, 16);
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++)
        ASSERT_OK(clfit_verify_run(tcl, op, dims[i], test_seed() + (uint64_t)i, assert_row, NULL));
}

static const verify_case *suite_cases;

START_TEST(test_verify_case)
{
    verify_op(suite_cases[_i].op);
}
END_TEST

int run_verify_suite(const char *name, const verify_case *cases, int n)
{
    suite_cases = cases; /* set before Check forks: every test process sees it */
    Suite *s = suite_create(name);
    for (int i = 0; i < n; i++) {
        TCase *tc = tcase_create(cases[i].tcase);
        tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
        tcase_set_timeout(tc, 300);
        if (cases[i].tags) tcase_set_tags(tc, cases[i].tags);
        tcase_add_loop_test(tc, test_verify_case, i, i + 1);
        suite_add_tcase(s, tc);
    }
    return run_suite(s);
}

void read_text_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

int run_in_test_dir(const char *cmd, char *out, size_t osize, char *err, size_t esize)
{
    char line[4096], path[300];
    snprintf(line, sizeof line, "cd '%s' && { %s ; } > out.txt 2> err.txt < /dev/null", test_dir, cmd);
    int rc = system(line);
    snprintf(path, sizeof path, "%s/out.txt", test_dir);
    read_text_file(path, out, osize);
    snprintf(path, sizeof path, "%s/err.txt", test_dir);
    read_text_file(path, err, esize);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* ---- .npz files ---- */

static void put16(FILE *f, unsigned v) { fputc(v & 255, f); fputc(v >> 8 & 255, f); }
static void put32(FILE *f, unsigned long v) { put16(f, v & 0xffff); put16(f, v >> 16 & 0xffff); }

void write_npz(const char *path, const npy_member *m, int n, int deflated)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    unsigned long offs[8], crcs[8], csz[8], usz[8];
    for (int i = 0; i < n; i++) {
        char hdr[256];
        int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", m[i].descr,
                          m[i].fortran ? "True" : "False", m[i].shape);
        while ((10 + hl + 1) % 64) hdr[hl++] = ' ';
        hdr[hl++] = '\n';
        size_t un = 10 + (size_t)hl + m[i].bytes;
        unsigned char *raw = malloc(un), *packed = malloc(un + 64);
        memcpy(raw, "\x93NUMPY\x01\x00", 8);
        raw[8] = (unsigned char)(hl & 255);
        raw[9] = (unsigned char)(hl >> 8);
        memcpy(raw + 10, hdr, (size_t)hl);
        memcpy(raw + 10 + hl, m[i].data, m[i].bytes);
        size_t cn = un;
        if (deflated) {
            z_stream z = {0};
            ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
            z.next_in = raw;
            z.avail_in = (uInt)un;
            z.next_out = packed;
            z.avail_out = (uInt)(un + 64);
            ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
            cn = z.total_out;
            deflateEnd(&z);
        } else {
            memcpy(packed, raw, un);
        }
        char fname[80];
        snprintf(fname, sizeof fname, "%s.npy", m[i].name);
        offs[i] = (unsigned long)ftell(f);
        crcs[i] = crc32(0, raw, (uInt)un);
        csz[i] = (unsigned long)cn;
        usz[i] = (unsigned long)un;
        put32(f, 0x04034b50); put16(f, 20); put16(f, 0); put16(f, deflated ? 8 : 0); put16(f, 0); put16(f, 0);
        put32(f, crcs[i]); put32(f, csz[i]); put32(f, usz[i]); put16(f, (unsigned)strlen(fname)); put16(f, 0);
        fwrite(fname, 1, strlen(fname), f);
        fwrite(packed, 1, cn, f);
        free(raw);
        free(packed);
    }
    unsigned long cd = (unsigned long)ftell(f);
    for (int i = 0; i < n; i++) {
        char fname[80];
        snprintf(fname, sizeof fname, "%s.npy", m[i].name);
        put32(f, 0x02014b50); put16(f, 20); put16(f, 20); put16(f, 0); put16(f, deflated ? 8 : 0); put16(f, 0); put16(f, 0);
        put32(f, crcs[i]); put32(f, csz[i]); put32(f, usz[i]); put16(f, (unsigned)strlen(fname)); put16(f, 0); put16(f, 0);
        put16(f, 0); put16(f, 0); put32(f, 0); put32(f, offs[i]);
        fwrite(fname, 1, strlen(fname), f);
    }
    unsigned long cdsize = (unsigned long)ftell(f) - cd;
    put32(f, 0x06054b50); put16(f, 0); put16(f, 0); put16(f, (unsigned)n); put16(f, (unsigned)n);
    put32(f, cdsize); put32(f, cd); put16(f, 0);
    fclose(f);
}
