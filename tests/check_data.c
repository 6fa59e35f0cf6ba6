/* The IDX loader (host/data.c): well-formed files of another image size, gzip and plain,
 * and every malformed case, each with files the test writes itself; then the real
 * Fashion-MNIST if it is installed. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clfit/data.h"
#include "testutil.h"


/* <test_dir>/<name>, through write_idx_file (testutil.c) */
static void write_idx(const char *name, int type, int ndim, const uint32_t *dims,
                      const uint8_t *payload, size_t payload_len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    write_idx_file(path, type, ndim, dims, payload, payload_len);
}

static uint8_t pixels[7 * 3 * 5], labels[7] = {0, 1, 2, 3, 4, 5, 9};

/* A well-formed split "s" of 7 images of 3x5 pixels, gzip-compressed or plain. */
static void write_split(const char *split, int gz)
{
    for (size_t i = 0; i < sizeof pixels; i++) pixels[i] = (uint8_t)(i * 37);
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", split, gz ? ".gz" : "");
    write_idx(name, 8, 3, (uint32_t[]){7, 3, 5}, pixels, sizeof pixels);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", split, gz ? ".gz" : "");
    write_idx(name, 8, 1, (uint32_t[]){7}, labels, sizeof labels);
}

static void check_good(int gz)
{
    write_split("s", gz);
    clfit_dataset d;
    ASSERT_OK(clfit_dataset_load(test_dir, "s", 10, &d));
    ck_assert_int_eq(d.count, 7);
    ck_assert_int_eq(d.rows, 3);
    ck_assert_int_eq(d.cols, 5);
    ck_assert_int_eq(memcmp(d.images, pixels, sizeof pixels), 0);
    ck_assert_int_eq(memcmp(d.labels, labels, sizeof labels), 0);
    clfit_dataset_free(&d);
}

START_TEST(test_good_gz) { check_good(1); }
END_TEST
START_TEST(test_good_plain) { check_good(0); }
END_TEST

/* Expects loading split "s" to fail with status st and a message naming `file` and
 * containing `what`. */
static void expect_error(clfit_status st, const char *file, const char *what)
{
    clfit_dataset d;
    memset(&d, 0xab, sizeof d);
    clfit_status got = clfit_dataset_load(test_dir, "s", 10, &d);
    ck_assert_msg(got == st, "status %s, want %s (%s)", clfit_status_name(got),
                  clfit_status_name(st), clfit_last_error());
    ck_assert_msg(strstr(clfit_last_error(), file), "message \"%s\" does not name %s",
                  clfit_last_error(), file);
    ck_assert_msg(strstr(clfit_last_error(), what), "message \"%s\" does not say \"%s\"",
                  clfit_last_error(), what);
    ck_assert_ptr_null(d.images); /* zeroed on failure */
    ck_assert_ptr_null(d.labels);
}

#define IMG "s-images-idx3-ubyte.gz"
#define LBL "s-labels-idx1-ubyte.gz"

START_TEST(test_bad_magic)
{
    write_split("s", 1);
    uint8_t junk[] = "PK\x03\x04 this is a zip file, not IDX";
    char path[512];
    snprintf(path, sizeof path, "%s/" IMG, test_dir);
    gzFile f = gzopen(path, "wb");
    gzwrite(f, junk, sizeof junk);
    gzclose(f);
    expect_error(CLFIT_ERR_FORMAT, IMG, "bad magic");
}
END_TEST

START_TEST(test_wrong_type)
{
    write_split("s", 1);
    write_idx(IMG, 0x0D /* float */, 3, (uint32_t[]){7, 3, 5}, pixels, sizeof pixels);
    expect_error(CLFIT_ERR_FORMAT, IMG, "element type 0x0d is not unsigned byte");
}
END_TEST

START_TEST(test_wrong_ndim)
{
    write_split("s", 1);
    write_idx(IMG, 8, 2, (uint32_t[]){7, 15}, pixels, sizeof pixels);
    expect_error(CLFIT_ERR_FORMAT, IMG, "2 dimensions, expected 3");
    write_split("s", 1);
    write_idx(LBL, 8, 3, (uint32_t[]){7, 1, 1}, labels, sizeof labels);
    expect_error(CLFIT_ERR_FORMAT, LBL, "3 dimensions, expected 1");
}
END_TEST

START_TEST(test_truncated)
{
    write_split("s", 1);
    write_idx(IMG, 8, 3, (uint32_t[]){7, 3, 5}, pixels, sizeof pixels - 1);
    expect_error(CLFIT_ERR_FORMAT, IMG, "truncated: expected 121 bytes, got 120");
    write_split("s", 1);
    /* the header announces 3 dimensions but the file ends after 2 */
    write_idx(IMG, 8, 2, (uint32_t[]){7, 3}, NULL, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/" IMG, test_dir);
    gzFile f = gzopen(path, "wb");
    gzwrite(f, "\0\0\x08\x03\0\0\0\x07\0\0\0\x03", 12);
    gzclose(f);
    expect_error(CLFIT_ERR_FORMAT, IMG, "truncated");
    write_split("s", 1);
    write_idx(LBL, 8, 0, NULL, NULL, 0); /* ndim 0 and nothing else: wrong ndim */
    expect_error(CLFIT_ERR_FORMAT, LBL, "dimensions");
}
END_TEST

START_TEST(test_trailing_garbage)
{
    write_split("s", 1);
    uint8_t more[sizeof labels + 3] = {0};
    memcpy(more, labels, sizeof labels);
    write_idx(LBL, 8, 1, (uint32_t[]){7}, more, sizeof more);
    expect_error(CLFIT_ERR_FORMAT, LBL, "trailing garbage: 3 bytes");
}
END_TEST

START_TEST(test_count_mismatch)
{
    write_split("s", 1);
    write_idx(LBL, 8, 1, (uint32_t[]){6}, labels, 6);
    expect_error(CLFIT_ERR_FORMAT, LBL, "6 labels, but");
}
END_TEST

START_TEST(test_label_out_of_range)
{
    write_split("s", 1);
    uint8_t bad[7] = {0, 1, 2, 10, 4, 5, 6};
    write_idx(LBL, 8, 1, (uint32_t[]){7}, bad, sizeof bad);
    expect_error(CLFIT_ERR_FORMAT, LBL, "label 10 at index 3 is outside 0..9");
}
END_TEST

START_TEST(test_zero_dimension)
{
    write_split("s", 1);
    write_idx(IMG, 8, 3, (uint32_t[]){7, 0, 5}, NULL, 0);
    expect_error(CLFIT_ERR_FORMAT, IMG, "dimension 1 is 0");
}
END_TEST

START_TEST(test_missing_file)
{
    write_split("s", 1);
    char path[512];
    snprintf(path, sizeof path, "%s/" LBL, test_dir);
    unlink(path);
    expect_error(CLFIT_ERR_IO, LBL, "No such file");
}
END_TEST

START_TEST(test_corrupt_gzip)
{
    /* a gzip stream cut in half: zlib must report it, never a short read taken as data */
    write_split("s", 1);
    char path[512];
    snprintf(path, sizeof path, "%s/" IMG, test_dir);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(truncate(path, sb.st_size / 2), 0);
    clfit_dataset d;
    clfit_status st = clfit_dataset_load(test_dir, "s", 10, &d);
    ck_assert_int_eq(st, CLFIT_ERR_FORMAT);
    const char *first = strstr(clfit_last_error(), IMG);
    ck_assert_ptr_nonnull(first);
    ck_assert_msg(!strstr(first + 1, IMG), "the path appears twice: %s", clfit_last_error());
}
END_TEST

/* Not regular files in a data file's place: one line, never a hang (a FIFO blocks in
 * open without O_NONBLOCK) or an endless read (/dev/zero). */
START_TEST(test_not_regular_files)
{
    write_split("s", 1);
    char path[512];
    snprintf(path, sizeof path, "%s/" IMG, test_dir);
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    expect_error(CLFIT_ERR_IO, IMG, "is a FIFO, not a regular file");
    unlink(path);
    ck_assert_int_eq(symlink("/dev/zero", path), 0);
    expect_error(CLFIT_ERR_IO, IMG, "is a device, not a regular file");
    unlink(path);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    expect_error(CLFIT_ERR_IO, IMG, "is a directory, not a regular file");
    rmdir(path);
}
END_TEST

/* A header's claims cost nothing until the bytes arrive: a claim over 4 GiB is refused at once,
 * a 2 GB claim over a short body is "truncated" after at most the first 1 MB buffer (the
 * test caps its address space to show it, outside the sanitizer build, which reserves a
 * lot), and a small body followed by 100 MB of zeros (a gzip bomb of 100 KB) is "trailing
 * garbage" after 1 MB of counting. */
START_TEST(test_claims_cost_nothing)
{
    write_split("s", 1);
    write_idx(IMG, 8, 3, (uint32_t[]){65536, 256, 257}, pixels, sizeof pixels);
    expect_error(CLFIT_ERR_FORMAT, IMG, "more than the 4294967296 clfit reads");
#if !defined(__SANITIZE_ADDRESS__)
    struct rlimit rl = {.rlim_cur = 512u << 20, .rlim_max = 512u << 20};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
#endif
    write_idx(IMG, 8, 3, (uint32_t[]){2000000000, 1, 1}, pixels, sizeof pixels);
    expect_error(CLFIT_ERR_FORMAT, IMG, "truncated: expected 2000000016 bytes, got 121");
    size_t big = 100u << 20;
    uint8_t *zeros = calloc(1, sizeof pixels + big);
    memcpy(zeros, pixels, sizeof pixels);
    write_idx(IMG, 8, 3, (uint32_t[]){7, 3, 5}, zeros, sizeof pixels + big);
    free(zeros);
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/" IMG, test_dir);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_lt(sb.st_size, 200000);
    expect_error(CLFIT_ERR_FORMAT, IMG, "trailing garbage: at least 1048576 bytes");
}
END_TEST

/* Images larger than any model takes are refused by their header. */
START_TEST(test_image_too_large)
{
    write_split("s", 1);
    write_idx(IMG, 8, 3, (uint32_t[]){1, 2048, 1024}, NULL, 0);
    expect_error(CLFIT_ERR_FORMAT, IMG, "2048x1024 pixels");
}
END_TEST

/* The parser on bytes in memory (the fuzz target's entry): gzip or plain alike. */
START_TEST(test_parse_in_memory)
{
    uint8_t plain[4 + 4 + 7] = {0, 0, 8, 1, 0, 0, 0, 7};
    memcpy(plain + 8, labels, 7);
    uint8_t *out;
    uint32_t dims[3];
    ASSERT_OK(clfit_idx_parse(plain, sizeof plain, "mem", 1, &out, dims));
    ck_assert_int_eq(dims[0], 7);
    ck_assert_int_eq(memcmp(out, labels, 7), 0);
    free(out);
    uLongf zlen = compressBound(sizeof plain) + 32;
    uint8_t z[128];
    z_stream zs = {0};
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = plain;
    zs.avail_in = sizeof plain;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    zlen = zs.total_out;
    deflateEnd(&zs);
    ASSERT_OK(clfit_idx_parse(z, zlen, "mem.gz", 1, &out, dims));
    ck_assert_int_eq(memcmp(out, labels, 7), 0);
    free(out);
    ck_assert_int_eq(clfit_idx_parse(z, zlen - 1, "mem.gz", 1, &out, dims), CLFIT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "mem.gz"));
}
END_TEST

START_TEST(test_data_dir)
{
    unsetenv("CLFIT_DATA");
    ck_assert_str_eq(clfit_data_dir(NULL), CLFIT_DEFAULT_DATA_DIR);
    setenv("CLFIT_DATA", "/from/env", 1);
    ck_assert_str_eq(clfit_data_dir(NULL), "/from/env");
    ck_assert_str_eq(clfit_data_dir("/given"), "/given");
    unsetenv("CLFIT_DATA");
    ck_assert_str_eq(clfit_fashion_classes[0], "T-shirt/top");
    ck_assert_str_eq(clfit_fashion_classes[9], "Ankle boot");
}
END_TEST

START_TEST(test_real_fashion_mnist)
{
    struct stat sb;
    char path[512];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", CLFIT_DEFAULT_DATA_DIR);
    if (stat(path, &sb) != 0) {
        printf("real data not installed at %s: skipped\n", CLFIT_DEFAULT_DATA_DIR);
        return;
    }
    clfit_dataset tr, te;
    ASSERT_OK(clfit_dataset_load(CLFIT_DEFAULT_DATA_DIR, "train", 10, &tr));
    ASSERT_OK(clfit_dataset_load(CLFIT_DEFAULT_DATA_DIR, "t10k", 10, &te));
    ck_assert_int_eq(tr.count, 60000);
    ck_assert_int_eq(te.count, 10000);
    ck_assert_int_eq(tr.rows, 28);
    ck_assert_int_eq(tr.cols, 28);
    int per_class[10] = {0};
    for (int i = 0; i < tr.count; i++) per_class[tr.labels[i]]++;
    for (int c = 0; c < 10; c++) ck_assert_int_eq(per_class[c], 6000); /* balanced */
    ck_assert_int_eq(tr.labels[0], 9); /* the tutorial's first image: an ankle boot */
    clfit_dataset_free(&tr);
    clfit_dataset_free(&te);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, test_dir_setup, test_dir_teardown);
    tcase_add_test(tc, test_good_gz);
    tcase_add_test(tc, test_good_plain);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_wrong_type);
    tcase_add_test(tc, test_wrong_ndim);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_trailing_garbage);
    tcase_add_test(tc, test_count_mismatch);
    tcase_add_test(tc, test_label_out_of_range);
    tcase_add_test(tc, test_zero_dimension);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_corrupt_gzip);
    tcase_add_test(tc, test_not_regular_files);
    tcase_add_test(tc, test_claims_cost_nothing);
    tcase_add_test(tc, test_image_too_large);
    tcase_add_test(tc, test_parse_in_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("dirs");
    tcase_add_test(tc, test_data_dir);
    tcase_add_test(tc, test_real_fashion_mnist);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
