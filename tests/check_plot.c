/* The pictures (host/plot.c): each writes a valid PNG of the expected size, and pixels are
 * where they must be: image values in the grey-on-white map, labels blue when the
 * prediction is right and red when it is wrong, the predicted bar red and the true one
 * blue. The PNGs are read back with cairo. Also the history CSV reader. */
#include <cairo.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "clfit/plot.h"
#include "testutil.h"

static char path[300];

static void make_dir(void)
{
    test_dir_setup();
    snprintf(path, sizeof path, "%s/p.png", test_dir);
}

/* Reads path back; checks its size. The caller destroys the surface. */
static cairo_surface_t *load(int w, int h)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, "%s: %s", path,
                  cairo_status_to_string(cairo_surface_status(s)));
    ck_assert_int_eq(cairo_image_surface_get_width(s), w);
    ck_assert_int_eq(cairo_image_surface_get_height(s), h);
    return s;
}

static void pixel(cairo_surface_t *s, int x, int y, int *r, int *g, int *b)
{
    const unsigned char *d = cairo_image_surface_get_data(s);
    uint32_t v = *(const uint32_t *)(d + y * cairo_image_surface_get_stride(s) + 4 * x);
    *r = v >> 16 & 255; *g = v >> 8 & 255; *b = v & 255;
}

/* Counts the pixels in rect that are clearly blue, clearly red. */
static void count_colours(cairo_surface_t *s, clfit_rect rc, int *blue, int *red)
{
    *blue = *red = 0;
    for (int y = (int)rc.y; y < (int)(rc.y + rc.h); y++)
        for (int x = (int)rc.x; x < (int)(rc.x + rc.w); x++) {
            int r, g, b;
            pixel(s, x, y, &r, &g, &b);
            *blue += b > 150 && r < 100 && g < 100;
            *red += r > 150 && b < 100 && g < 100;
        }
}

static const char *const names[10] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"};

/* A 28x28 image whose pixel (r, c) is r*9 (0 at the top, 243 at the bottom). */
static void gradient_image(uint8_t *img)
{
    for (int r = 0; r < 28; r++)
        for (int c = 0; c < 28; c++) img[r * 28 + c] = (uint8_t)(r * 9);
}

START_TEST(test_image)
{
    uint8_t img[28 * 28];
    gradient_image(img);
    ASSERT_OK(clfit_plot_image(path, img, 28, 28, "title"));
    cairo_surface_t *s = load(506, 426);
    /* the image starts at (50, 40), 12 pixels per pixel: nearest-neighbour, 0 is white */
    int r, g, b;
    pixel(s, 50 + 6, 40 + 6, &r, &g, &b);            /* row 0: value 0 */
    ck_assert(r == 255 && g == 255 && b == 255);
    pixel(s, 50 + 100, 40 + 27 * 12 + 6, &r, &g, &b); /* row 27: 243 -> grey 12 */
    ck_assert(r == 12 && g == 12 && b == 12);
    pixel(s, 50 + 100, 40 + 10 * 12 + 1, &r, &g, &b); /* row 10, near a cell edge: 90 -> 165 */
    ck_assert_int_eq(r, 165);
    /* the colour bar: black at its top, white at its bottom */
    pixel(s, 50 + 336 + 35, 42, &r, &g, &b);
    ck_assert_int_lt(r, 10);
    pixel(s, 50 + 336 + 35, 40 + 334, &r, &g, &b);
    ck_assert_int_gt(r, 245);
    cairo_surface_destroy(s);
}
END_TEST

START_TEST(test_samples)
{
    uint8_t img[25 * 28 * 28], labels[25];
    for (int i = 0; i < 25; i++) { gradient_image(img + i * 784); labels[i] = i % 10; }
    ASSERT_OK(clfit_plot_samples(path, img, 28, 28, labels, 25, 5, names));
    cairo_surface_t *s = load(20 + 5 * 136, 20 + 5 * 142);
    /* every cell's bottom row is dark, its top row white */
    int r, g, b;
    for (int i = 0; i < 25; i++) {
        int x = 20 + (i % 5) * 136 + 50, y = 20 + (i / 5) * 142;
        pixel(s, x, y + 2, &r, &g, &b);
        ck_assert_int_eq(r, 255);
        pixel(s, x, y + 110, &r, &g, &b);
        ck_assert_int_lt(r, 20);
    }
    cairo_surface_destroy(s);
}
END_TEST

START_TEST(test_predictions_colours)
{
    /* pair 0: predicted 2 and true 2 (right); pair 1: predicted 3, true 5 (wrong) */
    uint8_t img[2 * 784], labels[2] = {2, 5};
    gradient_image(img);
    gradient_image(img + 784);
    float probs[20] = {0};
    probs[2] = 0.9f; probs[7] = 0.1f;
    probs[10 + 3] = 0.6f; probs[10 + 5] = 0.3f; probs[10 + 0] = 0.1f;
    ASSERT_OK(clfit_plot_predictions(path, img, 28, 28, probs, labels, 10, 1, 2, names));
    int W, H;
    clfit_rect im[2], lab[2], bars[2];
    for (int i = 0; i < 2; i++) clfit_plot_predictions_layout(1, 2, i, &im[i], &lab[i], &bars[i], &W, &H);
    cairo_surface_t *s = load(W, H);
    int blue, red;
    count_colours(s, lab[0], &blue, &red);
    ck_assert_msg(blue > 20 && red == 0, "right prediction's label: %d blue, %d red pixels", blue, red);
    count_colours(s, lab[1], &blue, &red);
    ck_assert_msg(red > 20 && blue == 0, "wrong prediction's label: %d blue, %d red pixels", blue, red);
    /* bars: the middle of bar k at a tenth of its height above the axis */
    int r, g, b;
#define BAR(i, k) pixel(s, (int)(bars[i].x + bars[i].w * ((k) + 0.5) / 10), (int)(bars[i].y + bars[i].h * 0.95), &r, &g, &b)
    BAR(0, 2);
    ck_assert_msg(b > 200 && r < 50, "right: the true (and predicted) bar is blue");
    BAR(1, 3);
    ck_assert_msg(r > 200 && b < 50, "wrong: the predicted bar is red");
    BAR(1, 5);
    ck_assert_msg(b > 200 && r < 50, "wrong: the true bar is blue");
    BAR(1, 0);
    ck_assert_msg(r > 100 && r < 140 && r == g && g == b, "other bars grey (#777777)");
    BAR(1, 8);
    ck_assert_msg(r == 255 && g == 255 && b == 255, "a zero bar is not drawn");
#undef BAR
    cairo_surface_destroy(s);
}
END_TEST

START_TEST(test_probabilities)
{
    float probs[10] = {0.05f, 0, 0, 0, 0, 0.2f, 0, 0.7f, 0.05f, 0};
    clfit_rect r;
    ASSERT_OK(clfit_plot_probabilities(path, probs, 10, 5, names, "test[0]", &r));
    cairo_surface_t *s = load(560, 360);
    int pr, pg, pb;
    pixel(s, (int)(r.x + r.w * 7.5 / 10), (int)(r.y + r.h - 5), &pr, &pg, &pb);
    ck_assert_msg(pr > 200 && pb < 50, "predicted bar red");
    pixel(s, (int)(r.x + r.w * 5.5 / 10), (int)(r.y + r.h - 5), &pr, &pg, &pb);
    ck_assert_msg(pb > 200 && pr < 50, "true bar blue");
    /* the class names are drawn below the axis: some dark pixels there */
    int dark = 0;
    for (int y = (int)(r.y + r.h + 5); y < 350; y++)
        for (int x = 0; x < 560; x++) { pixel(s, x, y, &pr, &pg, &pb); dark += pr < 80; }
    ck_assert_int_gt(dark, 100);
    cairo_surface_destroy(s);
}
END_TEST

START_TEST(test_confusion)
{
    int counts[100] = {0};
    for (int t = 0; t < 10; t++) { counts[t * 10 + t] = 900; counts[t * 10 + (t + 1) % 10] = 100; }
    clfit_rect r;
    ASSERT_OK(clfit_plot_confusion(path, counts, 10, names, &r));
    cairo_surface_t *s = load(130 + 480 + 110, 60 + 480 + 120);
    /* a corner of each cell: the diagonal darkest, empty cells white */
    int dr, dg, db, er, eg, eb, mr, mg, mb;
    pixel(s, (int)r.x + 3, (int)r.y + 3, &dr, &dg, &db);               /* (0,0): 900 */
    pixel(s, (int)r.x + 48 + 3, (int)r.y + 3, &mr, &mg, &mb);           /* (0,1): 100 */
    pixel(s, (int)r.x + 5 * 48 + 3, (int)r.y + 3, &er, &eg, &eb);       /* (0,5): 0 */
    ck_assert(er == 255 && eg == 255 && eb == 255);
    ck_assert_int_lt(dr, mr);
    ck_assert_int_lt(mr, er);
    cairo_surface_destroy(s);
}
END_TEST

static void write_text(const char *name, const char *body)
{
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    FILE *f = fopen(path, "w");
    fputs(body, f);
    fclose(f);
}

START_TEST(test_history)
{
    clfit_history h;
    write_text("h.csv", CLFIT_HISTORY_HEADER "1,0.5,0.8,0.45,0.82,1.2\n2,0.4,0.85,0.41,0.84,1.1\n");
    ASSERT_OK(clfit_history_read(path, &h));
    ck_assert_int_eq(h.n, 2);
    ck_assert_int_eq(h.has_val, 1);
    ck_assert(h.val_accuracy[1] == 0.84 && h.seconds[0] == 1.2);
    snprintf(path, sizeof path, "%s/h.png", test_dir);
    ASSERT_OK(clfit_plot_history(path, &h));
    cairo_surface_destroy(load(1040, 400));
    clfit_history_free(&h);
    /* without validation: empty val_ fields, as train writes them */
    FILE *f = fopen((snprintf(path, sizeof path, "%s/w.csv", test_dir), path), "w");
    fputs(CLFIT_HISTORY_HEADER, f);
    clfit_history_write_row(f, 1, 0.5, 0.8, NAN, NAN, 1.25);
    fclose(f);
    ASSERT_OK(clfit_history_read(path, &h));
    ck_assert_int_eq(h.has_val, 0);
    ck_assert(h.loss[0] == 0.5);
    clfit_history_free(&h);
    /* malformed files: one clear error each */
    write_text("x.csv", "a,b,c\n1,2,3\n");
    ck_assert_int_eq(clfit_history_read(path, &h), CLFIT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "not a clfit history"));
    write_text("y.csv", CLFIT_HISTORY_HEADER "1,0.5,zero,,,1\n");
    ck_assert_int_eq(clfit_history_read(path, &h), CLFIT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), ":2: column 3 is not a number"));
    write_text("z.csv", CLFIT_HISTORY_HEADER);
    ck_assert_int_eq(clfit_history_read(path, &h), CLFIT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "no epochs"));
    ck_assert_int_eq(clfit_history_read("/nonexistent.csv", &h), CLFIT_ERR_IO);
}
END_TEST

START_TEST(test_unwritable)
{
    uint8_t img[784] = {0};
    ck_assert_int_eq(clfit_plot_image("/nonexistent/dir/p.png", img, 28, 28, NULL), CLFIT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "/nonexistent/dir/p.png"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_checked_fixture(tc, make_dir, test_dir_teardown);
    tcase_add_test(tc, test_image);
    tcase_add_test(tc, test_samples);
    tcase_add_test(tc, test_predictions_colours);
    tcase_add_test(tc, test_probabilities);
    tcase_add_test(tc, test_confusion);
    tcase_add_test(tc, test_history);
    tcase_add_test(tc, test_unwritable);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
