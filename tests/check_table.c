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

/* A regression's targets: several columns by name or index, in the order listed, as
 * values; features are the rest in file order; a target cell must be a number. */
START_TEST(test_regression_targets)
{
    const char *text = "\xEF\xBB\xBF" "a,t1,\"b\",t2\r\n1,10,2,20\r\n3,30.5,4,-4e1\r\n";
    clfit_csv_spec spec = {.target = "t2,1", .regression = 1};
    clfit_dataset d;
    ASSERT_OK(clfit_csv_load(put("r.csv", text), &spec, &d));
    ck_assert_int_eq(d.count, 2);
    ck_assert_int_eq(d.cols, 2);
    ck_assert_int_eq(d.ntargets, 2);
    ck_assert_str_eq(d.target_names[0], "t2");
    ck_assert_str_eq(d.target_names[1], "t1");
    const float x[4] = {1, 2, 3, 4}, t[4] = {20, 10, -40, 30.5f};
    ck_assert_int_eq(memcmp(d.features, x, sizeof x), 0);
    ck_assert_int_eq(memcmp(d.targets, t, sizeof t), 0);
    ck_assert_ptr_null(d.class_names);
    ck_assert(d.labels[0] == 0 && d.labels[1] == 0);
    clfit_dataset_free(&d);
    spec.target = NULL; /* the last column alone */
    ASSERT_OK(clfit_csv_load(put("r.csv", text), &spec, &d));
    ck_assert_int_eq(d.cols, 3);
    ck_assert_int_eq(d.ntargets, 1);
    ck_assert(d.targets[0] == 20.0f && d.targets[1] == -40.0f);
    clfit_dataset_free(&d);
    spec.target = "t1";
    expect_fails("a,t1\n1,2\n3,cat\n", &spec, "bad.csv: line 3, column 1 (\"t1\"): the target is not a number");
    expect_fails("a,t1\n1,2\n3,\n", &spec, "bad.csv: line 3, column 1 (\"t1\"): the target is missing");
    expect_fails("a,t1\n1,1e39\n", &spec, "line 2, column 1 (\"t1\"): the target is not a finite float");
    spec.target = "a,t1";
    expect_fails("a,t1\n1,2\n", &spec, "bad.csv: every column is a target: no features left");
    spec.target = "t1,t1";
    expect_fails("a,t1,b\n1,2,3\n", &spec, "--target names column t1 twice");
    spec.target = "t1,nope";
    expect_fails("a,t1,b\n1,2,3\n", &spec, "no column \"nope\"");
    /* a model's rows to predict: its input columns alone, whatever target says */
    clfit_csv_spec rows = {.target = "t1", .features = 2, .regression = 1};
    ASSERT_OK(clfit_csv_load(put("p.csv", "a,b\n1,2\n"), &rows, &d));
    ck_assert_int_eq(d.unlabeled, 1);
    ck_assert_int_eq(d.cols, 2);
    ck_assert_ptr_null(d.targets);
    clfit_dataset_free(&d);
}
END_TEST

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
    ck_assert_int_eq(d.values, 0);
    clfit_dataset_free(&d);
    /* numbers that are no class indices: still classes, but the loader says where */
    ASSERT_OK(clfit_csv_load(put("v.csv", "x,y\n1,2\n2,0.5\n3,2\n"), NULL, &d));
    ck_assert_int_eq(d.values, 3);
    ck_assert_int_eq(d.nclasses, 2);
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

/* ---- NumPy .npz: archives written here, stored or deflated, as np.savez(_compressed) ---- */

/* test_dir/name, written as an .npz of the members */
static const char *put_npz(const char *name, const npy_member *m, int n, int deflated)
{
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    write_npz(path, m, n, deflated);
    return path;
}

static void expect_npz_fails(const npy_member *m, int n, const char *want)
{
    clfit_dataset d;
    clfit_status st = clfit_npz_load(put_npz("bad.npz", m, n, 0), "train", &d);
    ck_assert_msg(st != CLFIT_OK, "%s: loaded", want);
    ck_assert_msg(strstr(clfit_last_error(), want), "message \"%s\" lacks \"%s\"", clfit_last_error(), want);
    ck_assert_ptr_null(d.features);
    ck_assert_ptr_null(d.labels);
}

/* Keras' layout (x_train, y_train, x_test, y_test) and plain x, y; float32, big-endian
 * float64, integer labels of any width and (N, 1); stored and deflated; uint8 (N, rows,
 * cols) as images. */
START_TEST(test_npz_layouts)
{
    static const float xf[6] = {1.5f, -2, 3, 4, 0.25f, 6};
    static const unsigned char xbig[3 * 8] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0, /* 1.5, -2, 3 as >f8 */
                                              0xc0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x08, 0, 0, 0, 0, 0, 0};
    static const long long y64[3] = {2, 0, 1};
    static const short y16[3] = {1, 1, 0};
    static const unsigned char img[2 * 2 * 3] = {0, 255, 10, 20, 30, 40, 1, 2, 3, 4, 5, 6}, ylab[2] = {7, 9};
    for (int deflated = 0; deflated <= 1; deflated++) {
        npy_member keras[4] = {{"x_train", "<f4", "(3, 2)", xf, sizeof xf, 0}, {"y_train", "<i8", "(3,)", y64, sizeof y64, 0},
                               {"x_test", ">f8", "(3, 1)", xbig, sizeof xbig, 0}, {"y_test", "<i2", "(3, 1)", y16, sizeof y16, 0}};
        clfit_dataset d;
        ASSERT_OK(clfit_npz_load(put_npz("k.npz", keras, 4, deflated), "train", &d));
        ck_assert_int_eq(d.count, 3);
        ck_assert_int_eq(d.rows * d.cols, 2);
        ck_assert_int_eq(memcmp(d.features, xf, sizeof xf), 0);
        ck_assert(d.labels[0] == 2 && d.labels[1] == 0 && d.labels[2] == 1);
        clfit_dataset_free(&d);
        ASSERT_OK(clfit_npz_load(path, "test", &d));
        ck_assert_int_eq(d.cols, 1);
        ck_assert(d.features[0] == 1.5f && d.features[1] == -2.0f && d.features[2] == 3.0f);
        ck_assert(d.labels[0] == 1 && d.labels[2] == 0);
        clfit_dataset_free(&d);
        npy_member plain[2] = {{"x", "|u1", "(2, 2, 3)", img, sizeof img, 0}, {"y", "|u1", "(2,)", ylab, sizeof ylab, 0}};
        ASSERT_OK(clfit_npz_load(put_npz("p.npz", plain, 2, deflated), "train", &d));
        ck_assert_ptr_nonnull(d.images); /* images, scaled as IDX ones are */
        ck_assert_ptr_null(d.features);
        ck_assert(d.rows == 2 && d.cols == 3 && d.images[1] == 255 && d.labels[1] == 9);
        clfit_dataset_free(&d);
        ck_assert_int_eq(clfit_npz_load(path, "test", &d), CLFIT_ERR_ARG); /* no test arrays: none, quietly */
    }
}
END_TEST

/* np.asfortranarray's layout (the first index fastest) reads as the same rows. */
START_TEST(test_npz_fortran_order)
{
    static const float c_order[6] = {1, 2, 3, 4, 5, 6};   /* rows (1, 2), (3, 4), (5, 6) */
    static const float f_order[6] = {1, 3, 5, 2, 4, 6};   /* the same (3, 2) array, columns first */
    static const double f3[8] = {0, 4, 2, 6, 1, 5, 3, 7}; /* (2, 2, 2): x[i][j][k] = 4i + 2j + k */
    static const long long y[3] = {0, 1, 2}, y2[2] = {1, 0};
    npy_member m[2] = {{"x", "<f4", "(3, 2)", f_order, sizeof f_order, 1}, {"y", "<i8", "(3,)", y, sizeof y, 0}};
    clfit_dataset d;
    ASSERT_OK(clfit_npz_load(put_npz("f.npz", m, 2, 0), "train", &d));
    ck_assert_int_eq(memcmp(d.features, c_order, sizeof c_order), 0);
    clfit_dataset_free(&d);
    npy_member m3[2] = {{"x", "<f8", "(2, 2, 2)", f3, sizeof f3, 1}, {"y", "<i8", "(2,)", y2, sizeof y2, 0}};
    ASSERT_OK(clfit_npz_load(put_npz("f3.npz", m3, 2, 1), "train", &d));
    ck_assert_int_eq(d.cols, 4);
    for (int i = 0; i < 8; i++) ck_assert_msg(d.features[i] == (float)i, "feature %d: %g", i, (double)d.features[i]);
    clfit_dataset_free(&d);
}
END_TEST

/* y as values: a (3, 2) float array is two targets a row, and a (3,) one with a number
 * that is no class index marks its row in `values`, for a regression; labels stay 0. */
START_TEST(test_npz_values)
{
    static const float xf[6] = {1, 2, 3, 4, 5, 6}, y2[6] = {0.5f, -1, 2, 3, 250, 1e6f};
    static const long long ybig[3] = {0, 300, 1};
    npy_member m[2] = {{"x", "<f4", "(3, 2)", xf, sizeof xf, 0}, {"y", "<f4", "(3, 2)", y2, sizeof y2, 0}};
    clfit_dataset d;
    ASSERT_OK(clfit_npz_load(put_npz("v.npz", m, 2, 1), "train", &d));
    ck_assert_int_eq(d.ntargets, 2);
    ck_assert_int_eq(memcmp(d.targets, y2, sizeof y2), 0);
    ck_assert_int_eq(d.values, 1); /* rows of two values are no class indices */
    ck_assert(d.labels[0] == 0 && d.labels[2] == 0);
    clfit_dataset_free(&d);
    npy_member m1[2] = {{"x", "<f4", "(3, 2)", xf, sizeof xf, 0}, {"y", "<i8", "(3,)", ybig, sizeof ybig, 0}};
    ASSERT_OK(clfit_npz_load(put_npz("v1.npz", m1, 2, 0), "train", &d));
    ck_assert_int_eq(d.ntargets, 1);
    ck_assert_int_eq(d.values, 2);
    ck_assert(d.targets[1] == 300.0f && d.targets[2] == 1.0f);
    clfit_dataset_free(&d);
}
END_TEST

/* Each wrong archive or array: one message naming the file and the member. */
START_TEST(test_npz_bad)
{
    static const float xf[6] = {1, 2, 3, 4, 5, 6};
    static const long long y[3] = {0, 1, 2};
    static const double yinf[3] = {0, INFINITY, 1}, xinf[3] = {1, INFINITY, 2};
    npy_member m[2] = {{"x", "<f4", "(3, 2)", xf, sizeof xf, 0}, {"y", "<i8", "(3,)", y, sizeof y, 0}};
    m[0].descr = "<U4";
    expect_npz_fails(m, 2, "bad.npz: x.npy: dtype '<U4': clfit reads float32, float64, bool and integer arrays");
    m[0].descr = "<f4";
    m[0].shape = "(3, 3)";
    expect_npz_fails(m, 2, "x.npy: shape and dtype make 36 bytes, the member holds 24");
    m[0].shape = "(3, 2)";
    m[1].shape = "(2,)";
    m[1].bytes = 16;
    expect_npz_fails(m, 2, "x.npy has 3 examples, y.npy is not 3 labels");
    m[1].shape = "(3,)";
    m[1].bytes = sizeof y;
    m[1].descr = "<f8";
    m[1].data = yinf;
    expect_npz_fails(m, 2, "y.npy[1] is inf: not a finite float");
    m[1].descr = "<i8";
    m[1].data = y;
    npy_member x3[2] = {{"x", "<f8", "(3, 1)", xinf, sizeof xinf, 0}, m[1]};
    expect_npz_fails(x3, 2, "x.npy: example 1, feature 0 is inf: not a finite float");
    expect_npz_fails(m, 1, "x.npy without y.npy");
    npy_member other[1] = {{"data", "<f4", "(3, 2)", xf, sizeof xf, 0}};
    expect_npz_fails(other, 1, "no x_train.npy and y_train.npy, nor x.npy and y.npy");
    m[0].shape = "(3, 2";
    expect_npz_fails(m, 2, "x.npy: an unreadable shape");
    /* a truncated archive, and bytes that are no archive */
    clfit_dataset d;
    put_npz("ok.npz", (npy_member[2]){{"x", "<f4", "(3, 2)", xf, sizeof xf, 0}, {"y", "<i8", "(3,)", y, sizeof y, 0}}, 2, 1);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "head -c 120 '%s' > '%s/cut.npz'", path, test_dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/cut.npz", test_dir);
    ck_assert_int_ne(clfit_npz_load(path, "train", &d), CLFIT_OK);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "cut.npz: not a zip archive (.npz)"));
    ck_assert_int_ne(clfit_npz_load(put("text.npz", "x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n"), "train", &d), CLFIT_OK);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "text.npz: not a zip archive"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, test_dir_setup, test_dir_teardown);
    tcase_add_test(tc, test_spreadsheet_quirks);
    tcase_add_test(tc, test_regression_targets);
    tcase_add_test(tc, test_target_column);
    tcase_add_test(tc, test_known_classes);
    tcase_add_test(tc, test_no_target_column);
    tcase_add_test(tc, test_bad_cells);
    tcase_add_test(tc, test_not_a_file);
    tcase_add_test(tc, test_too_many_classes);
    tcase_add_test(tc, test_standardize);
    suite_add_tcase(s, tc);
    tc = tcase_create("npz");
    tcase_add_checked_fixture(tc, test_dir_setup, test_dir_teardown);
    tcase_add_test(tc, test_npz_layouts);
    tcase_add_test(tc, test_npz_fortran_order);
    tcase_add_test(tc, test_npz_values);
    tcase_add_test(tc, test_npz_bad);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
