/* safetensors model files (host/modelfile.c): an exact round trip of weights, Adam state
 * and metadata; and clear errors for files that are truncated, foreign or mismatched. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/modelfile.h"
#include "testutil.h"

static char path[300];

static void make_dir(void)
{
    test_dir_setup();
    snprintf(path, sizeof path, "%s/m.safetensors", test_dir);
}

static clfit_model *random_model(const clfit_model_desc *d, clfit_model_meta *meta)
{
    clfit_status st;
    clfit_model *m = clfit_model_new(d, test_seed(), &st);
    ck_assert_ptr_nonnull(m);
    clfit_rng r;
    clfit_rng_seed(&r, test_seed() + 1);
    for (int l = 0; l < m->nlayers; l++) { /* every real entry non-trivial, padding zero */
        const clfit_layer *L = &m->layer[l];
        fill_uniform(&r, m->params + L->b_off, L->out, -1, 1);
        fill_uniform(&r, m->m + L->w_off, (size_t)L->in * L->out, -1, 1);
        fill_uniform(&r, m->v + L->b_off, L->out, 0, 1);
    }
    m->step = 12345;
    m->adam.lr = 0.0003f;
    *meta = (clfit_model_meta){.epoch = 7, .seed = 18446744073709551557ull, .batch = 93,
                               .validation_split = 0.1, .rows = 4, .cols = 5};
    return m;
}

START_TEST(test_round_trip)
{
    clfit_model_desc d = {.input = 20, .nhidden = 2, .hidden = {33, 7}, .classes = 10};
    clfit_model_meta meta, back_meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_status st;
    clfit_model *back = clfit_model_load(path, &back_meta, &st);
    ck_assert_msg(back != NULL, "%s", clfit_last_error());
    /* bit-identity is the claim: floats are stored as their bytes */
    ck_assert_uint_eq(back->nparams, m->nparams);
    ck_assert_int_eq(memcmp(back->params, m->params, m->nparams * 4), 0);
    ck_assert_int_eq(memcmp(back->m, m->m, m->nparams * 4), 0);
    ck_assert_int_eq(memcmp(back->v, m->v, m->nparams * 4), 0);
    ck_assert_int_eq(back->step, 12345);
    ck_assert_int_eq(memcmp(&back->adam, &m->adam, sizeof m->adam), 0);
    ck_assert_int_eq(memcmp(&back->desc, &m->desc, sizeof m->desc), 0);
    ck_assert_int_eq(back_meta.epoch, 7);
    ck_assert(back_meta.seed == meta.seed);
    ck_assert_int_eq(back_meta.batch, 93);
    ck_assert(back_meta.validation_split == 0.1); /* %.17g round-trips a double exactly */
    ck_assert_int_eq(back_meta.rows, 4);
    clfit_model_free(back);
    clfit_model_free(m);
}
END_TEST

/* Saves a model, then rewrites the JSON header with `from` replaced by `to` (same file
 * otherwise; the length field is updated), and expects loading to fail with `what`. */
static void expect_header_edit_fails(const char *from, const char *to, const char *what)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(size + 256);
    ck_assert_int_eq(fread(buf, 1, size, f), size);
    fclose(f);
    uint64_t hlen;
    memcpy(&hlen, buf, 8);
    char *hdr = malloc(hlen + 256);
    memcpy(hdr, buf + 8, hlen);
    hdr[hlen] = '\0';
    char *at = strstr(hdr, from);
    ck_assert_msg(at != NULL, "header lacks %s: %s", from, hdr);
    char *edited = malloc(hlen + 256);
    snprintf(edited, hlen + 256, "%.*s%s%s", (int)(at - hdr), hdr, to, at + strlen(from));
    uint64_t nlen = strlen(edited);
    f = fopen(path, "wb");
    fwrite(&nlen, 8, 1, f);
    fwrite(edited, 1, nlen, f);
    fwrite(buf + 8 + hlen, 1, size - 8 - hlen, f);
    fclose(f);
    clfit_status st;
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_int_eq(st, CLFIT_ERR_FORMAT);
    ck_assert_msg(strstr(clfit_last_error(), what), "\"%s\" lacks \"%s\"", clfit_last_error(), what);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "m.safetensors"));
    free(buf); free(hdr); free(edited);
}

START_TEST(test_mismatched_files)
{
    expect_header_edit_fails("\"architecture\":\"20-8-10\"", "\"architecture\":\"20-9-10\"", "shape");
    expect_header_edit_fails("\"architecture\":\"20-8-10\"", "\"architecture\":\"big\"", "architecture");
    expect_header_edit_fails("\"format\":\"clfit\"", "\"format\":\"pt\"", "not a clfit model");
    expect_header_edit_fails("\"dtype\":\"F32\"", "\"dtype\":\"F16\"", "dtype F16, expected F32");
    expect_header_edit_fails("\"dense_1.bias\"", "\"dense_1.bias_renamed\"", "tensor dense_1.bias is missing");
    expect_header_edit_fails("\"input_shape\":\"4x5\"", "\"input_shape\":\"5x5\"", "input_shape");
    expect_header_edit_fails("\"epoch\":\"7\",", "", "lacks \"epoch\"");
    expect_header_edit_fails("{\"__metadata__\"", "[{\"__metadata__\"", "not a JSON object");
}
END_TEST

START_TEST(test_truncated_and_trailing)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    clfit_status st;
    ck_assert_int_eq(truncate(path, sb.st_size - 4), 0);
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "truncated"));
    ck_assert_int_eq(truncate(path, 100), 0); /* inside the header */
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "header length"));
    ck_assert_int_eq(truncate(path, 3), 0);
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "truncated"));
    /* bytes after the tensors */
    m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    FILE *f = fopen(path, "ab");
    fputs("extra", f);
    fclose(f);
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "the tensors account for"));
}
END_TEST

START_TEST(test_save_failure_keeps_old_file)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    /* a directory that cannot be written: the save fails, names the path, leaves no temp */
    char ro[300];
    snprintf(ro, sizeof ro, "%s/missing-dir/m.safetensors", test_dir);
    ck_assert_int_eq(clfit_model_save(ro, m, &meta), CLFIT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "missing-dir"));
    /* the arch string helpers */
    char arch[64];
    clfit_arch_format(&m->desc, arch, sizeof arch);
    ck_assert_str_eq(arch, "20-8-10");
    clfit_model_desc back;
    ASSERT_OK(clfit_arch_parse("784-128-64-10", &back));
    ck_assert_int_eq(back.nhidden, 2);
    ck_assert_int_eq(back.hidden[1], 64);
    ck_assert_int_eq(clfit_arch_parse("784", &back), CLFIT_ERR_ARG);
    ck_assert_int_eq(clfit_arch_parse("784--10", &back), CLFIT_ERR_ARG);
    clfit_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("modelfile");
    TCase *tc = tcase_create("safetensors");
    tcase_add_checked_fixture(tc, make_dir, test_dir_teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_mismatched_files);
    tcase_add_test(tc, test_truncated_and_trailing);
    tcase_add_test(tc, test_save_failure_keeps_old_file);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
