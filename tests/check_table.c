/* CSV tables (host/table.c) as spreadsheets and databases write them, and every way one can
 * be wrong: each a single message naming the file, the line and the column; and the
 * standardisation of a table's features. */
#include <math.h>
#include <string.h>

#include "clfit/table.h"
#include "testutil.h"

static char path[512];

/* Writes text (exactly its bytes) to test_dir/name and returns the path. */
static const char *put(const char *name, const char *text)
{
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
    return path;
}

/* Loading text must fail with a message holding `want`; the dataset stays zeroed. */
static void expect_fails(const char *text, const clfit_csv_spec *spec, const char *want)
{
    clfit_dataset d;
    clfit_status st = clfit_csv_load(put("bad.csv", text), spec, &d);
    ck_assert_msg(st != CLFIT_OK, "%s: loaded", text);
    ck_assert_msg(strstr(clfit_last_error(), want), "message \"%s\" lacks \"%s\"", clfit_last_error(), want);
    ck_assert_ptr_null(d.features);
    ck_assert_ptr_null(d.labels);
    ck_assert_int_eq(d.count, 0);
}

/* A spreadsheet's export: BOM, CRLF, a quoted header with a comma, quoted string classes
 * with an escaped quote, spaces around numbers; the classes sorted by their bytes. */
START_TEST(test_spreadsheet_quirks)
{
    const char *text = "\xEF\xBB\xBF\"width, cm\",height,\"kind\"\r\n"
                       " 1.5 ,2,\"b \"\"q\"\"\"\r\n"
                       "-3e-1,4,a\r\n"
                       "5,+6.25,\"b \"\"q\"\"\"\r\n";
    clfit_dataset d;
    ASSERT_OK(clfit_csv_load(put("s.csv", text), NULL, &d));
    ck_assert_int_eq(d.count, 3);
    ck_assert_int_eq(d.rows, 1);
    ck_assert_int_eq(d.cols, 2);
    ck_assert_int_eq(d.nclasses, 2);
    ck_assert_str_eq(d.class_names[0], "a");
    ck_assert_str_eq(d.class_names[1], "b \"q\"");
    const float want[6] = {1.5f, 2.0f, -0.3f, 4.0f, 5.0f, 6.25f};
    for (int i = 0; i < 6; i++) ck_assert_msg(d.features[i] == want[i], "feature %d: %g", i, (double)d.features[i]);
    ck_assert_int_eq(d.labels[0], 1);
    ck_assert_int_eq(d.labels[1], 0);
    ck_assert_int_eq(d.labels[2], 1);
    ck_assert_int_eq(d.unlabeled, 0);
    clfit_dataset_free(&d);
}
END_TEST

/* --target by name or index from 0; whole numbers 0..255 are class indices. */
START_TEST(test_target_column)
{
    const char *text = "label,x,y\n2,0.5,7\n0,1.5,8\n";
    clfit_csv_spec spec = {.target = "label"};
    clfit_dataset d;
    ASSERT_OK(clfit_csv_load(put("t.csv", text), &spec, &d));
    ck_assert_int_eq(d.cols, 2);
    ck_assert_ptr_null(d.class_names);
    ck_assert_int_eq(d.labels[0], 2);
    ck_assert_int_eq(d.labels[1], 0);
    ck_assert(d.features[0] == 0.5f && d.features[1] == 7.0f && d.features[2] == 1.5f);
    clfit_dataset_free(&d);
    spec.target = "0";
    ASSERT_OK(clfit_csv_load(put("t.csv", text), &spec, &d));
    ck_assert_int_eq(d.labels[0], 2);
    clfit_dataset_free(&d);
    /* the default is the last column: y's values 7 and 8 as classes */
    ASSERT_OK(clfit_csv_load(put("t.csv", text), NULL, &d));
    ck_assert_int_eq(d.labels[0], 7);
    ck_assert(d.features[0] == 2.0f && d.features[1] == 0.5f);
    clfit_dataset_free(&d);
    spec.target = "nope";
    expect_fails(text, &spec, "no column \"nope\"");
    spec.target = "3";
    expect_fails(text, &spec, "no column \"3\"");
}
END_TEST

/* A test file read with a model's class names: the same labels for the same names, and a
 * name outside them is an error on its line. */
START_TEST(test_known_classes)
{
    char *names[3] = {"cat", "dog", "emu"};
    clfit_csv_spec spec = {.class_names = names, .nclasses = 3};
    clfit_dataset d;
    ASSERT_OK(clfit_csv_load(put("k.csv", "f,c\n1,emu\n2,cat\n"), &spec, &d));
    ck_assert_int_eq(d.nclasses, 3);
    ck_assert_str_eq(d.class_names[1], "dog");
    ck_assert_int_eq(d.labels[0], 2);
    ck_assert_int_eq(d.labels[1], 0);
    clfit_dataset_free(&d);
    expect_fails("f,c\n1,emu\n2,\"yak\"\n", &spec, "line 3, column 1 (\"c\"): the target \"yak\" is none of the model's 3 classes");
}
END_TEST

/* Rows to predict: a file with exactly the model's inputs has no target column. */
START_TEST(test_no_target_column)
{
    clfit_csv_spec spec = {.features = 2};
    clfit_dataset d;
    ASSERT_OK(clfit_csv_load(put("p.csv", "a,b\n1,2\n3,4\n5,6\n"), &spec, &d));
    ck_assert_int_eq(d.unlabeled, 1);
    ck_assert_int_eq(d.cols, 2);
    ck_assert_int_eq(d.count, 3);
    ck_assert(d.features[5] == 6.0f);
    ck_assert_int_eq(d.labels[2], 0);
    clfit_dataset_free(&d);
    /* with one more column the last is the target */
    ASSERT_OK(clfit_csv_load(put("p.csv", "a,b,c\n1,2,x\n"), &spec, &d));
    ck_assert_int_eq(d.unlabeled, 0);
    ck_assert_int_eq(d.cols, 2);
    clfit_dataset_free(&d);
}
END_TEST

/* Each bad cell or row: one message with the file, line and column. */
START_TEST(test_bad_cells)
{
    expect_fails("a,b,c\n1,2,x\n1,,y\n", NULL, "bad.csv: line 3, column 1 (\"b\"): a missing value");
    expect_fails("a,b,c\n1,2,x\n1,\"\",y\n", NULL, "line 3, column 1 (\"b\"): a missing value");
    expect_fails("a,b,c\n1,2,x\n1,zz,y\n", NULL, "line 3, column 1 (\"b\"): not a number: \"zz\"");
    expect_fails("a,b,c\n1,0x10,x\n", NULL, "line 2, column 1 (\"b\"): not a number: \"0x10\"");
    expect_fails("a,b,c\n1,nan,x\n", NULL, "not a number: \"nan\"");
    expect_fails("a,b,c\n1,1e39,x\n", NULL, "line 2, column 1 (\"b\"): not a finite float: \"1e39\"");
    expect_fails("a,b,c\n1,2,x\n1,2\n", NULL, "line 3, column 2 (\"c\"): the row ends after 2 of the header's 3 columns");
    expect_fails("a,b,c\n1,2,x,9\n", NULL, "line 2, column 3: a field beyond the header's columns");
    expect_fails("a,b,c\n1,2,\n", NULL, "line 2, column 2 (\"c\"): the target is missing");
    expect_fails("a,b\n1,\"2\n", NULL, "a quote left open");
    expect_fails("", NULL, "empty: no header row");
    expect_fails("a,b\n", NULL, "a header and no rows");
    expect_fails("a\n1\n", NULL, "the header has 1 column");
    /* a record's line counts the lines of the quoted fields before it */
    expect_fails("a,b,c\n1,2,\"two\nlines\"\n1,q,x\n", NULL, "line 4, column 1 (\"b\"): not a number: \"q\"");
}
END_TEST

/* Not a regular file, or missing: one line naming it. */
START_TEST(test_not_a_file)
{
    clfit_dataset d;
    char dir[300];
    snprintf(dir, sizeof dir, "%s", test_dir);
    ck_assert_int_ne(clfit_csv_load(dir, NULL, &d), CLFIT_OK);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), dir));
    snprintf(dir, sizeof dir, "%s/none.csv", test_dir);
    ck_assert_int_ne(clfit_csv_load(dir, NULL, &d), CLFIT_OK);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "none.csv"));
}
END_TEST

/* More than 256 distinct string classes: refused (labels are bytes). */
START_TEST(test_too_many_classes)
{
    size_t cap = 300 * 16 + 16, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text + n, cap - n, "f,c\n");
    for (int i = 0; i < 257; i++) n += (size_t)snprintf(text + n, cap - n, "1,k%d\n", i);
    expect_fails(text, NULL, "257 distinct values; at most 256 classes");
    free(text);
}
END_TEST

/* StandardScaler's mean and population deviation over the first n rows (the training
 * part), a constant column dividing by 1; applied, the rows have mean 0 and deviation 1. */
START_TEST(test_standardize)
{
    float x[4 * 3] = {1, 10, 5, 2, 20, 5, 3, 30, 5, 100, -7, 5}; /* the 4th row is held out */
    float mean[3], sd[3];
    clfit_standardize_fit(x, 3, 3, mean, sd);
    ck_assert(fabsf(mean[0] - 2.0f) < 1e-6f && fabsf(mean[1] - 20.0f) < 1e-5f && mean[2] == 5.0f);
    ck_assert(fabsf(sd[0] - sqrtf(2.0f / 3.0f)) < 1e-6f && fabsf(sd[1] - sqrtf(200.0f / 3.0f)) < 1e-5f);
    ck_assert(sd[2] == 1.0f);
    clfit_standardize_apply(x, 4, 3, mean, sd);
    double s0 = 0, q0 = 0;
    for (int i = 0; i < 3; i++) { s0 += x[i * 3]; q0 += (double)x[i * 3] * x[i * 3]; }
    ck_assert(fabs(s0) < 1e-6 && fabs(q0 / 3 - 1) < 1e-6);
    ck_assert(x[2] == 0.0f && x[11] == 0.0f);
    ck_assert(fabsf(x[9] - (100.0f - 2.0f) / sd[0]) < 1e-3f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, test_dir_setup, test_dir_teardown);
    tcase_add_test(tc, test_spreadsheet_quirks);
    tcase_add_test(tc, test_target_column);
    tcase_add_test(tc, test_known_classes);
    tcase_add_test(tc, test_no_target_column);
    tcase_add_test(tc, test_bad_cells);
    tcase_add_test(tc, test_not_a_file);
    tcase_add_test(tc, test_too_many_classes);
    tcase_add_test(tc, test_standardize);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
