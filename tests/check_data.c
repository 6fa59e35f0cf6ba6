/* The IDX loader (host/data.c): well-formed files of another image size, gzip and plain,
 * and every malformed case, each with files the test writes itself; then the real
 * Fashion-MNIST if it is installed. */
#include <string.h>
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
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), IMG));
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
    suite_add_tcase(s, tc);
    tc = tcase_create("dirs");
    tcase_add_test(tc, test_data_dir);
    tcase_add_test(tc, test_real_fashion_mnist);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
