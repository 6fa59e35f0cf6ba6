/* The tutorial's plots with cairo (see include/clfit/plot.h). A small toolkit first (a
 * canvas, images, text, axes), then one function per picture. */
#include "clfit/plot.h"

#include "clfit/io.h"

#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const double clfit_plot_blue[3] = {0.0, 0.0, 1.0};   /* matplotlib 'blue' */
const double clfit_plot_red[3] = {1.0, 0.0, 0.0};    /* matplotlib 'red' */
const double clfit_plot_grey[3] = {0.467, 0.467, 0.467}; /* the tutorial's "#777777" */
static const double black[3] = {0, 0, 0};
static const double orange[3] = {1.0, 0.498, 0.055}; /* matplotlib's second colour */
static const double steel[3] = {0.122, 0.467, 0.706}; /* and its first */

#define FONT "DejaVu Sans"

/* ---- canvas ---- */

typedef struct {
    cairo_surface_t *s;
    cairo_t *cr;
} canvas;

static clfit_status canvas_new(canvas *c, int w, int h)
{
    c->s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    c->cr = cairo_create(c->s);
    if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS) {
        clfit_status st = clfit_fail(CLFIT_ERR_NOMEM, "cairo: %s", cairo_status_to_string(cairo_status(c->cr)));
        cairo_destroy(c->cr);
        cairo_surface_destroy(c->s);
        return st;
    }
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    cairo_select_font_face(c->cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    return CLFIT_OK;
}

/* Writes the PNG to a temporary file beside path, then renames it into place. */
static clfit_status canvas_save(canvas *c, const char *path)
{
    clfit_status st = CLFIT_OK;
    cairo_surface_flush(c->s);
    cairo_status_t cs = cairo_status(c->cr);
    char *tmp = malloc(strlen(path) + 16);
    if (!tmp) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    else if (cs != CAIRO_STATUS_SUCCESS)
        st = clfit_fail(CLFIT_ERR_IO, "%s: drawing failed: %s", path, cairo_status_to_string(cs));
    else {
        sprintf(tmp, "%s.tmp.png", path);
        cs = cairo_surface_write_to_png(c->s, tmp);
        if (cs != CAIRO_STATUS_SUCCESS) {
            st = clfit_fail(CLFIT_ERR_IO, "%s: cannot write: %s", path,
                            cs == CAIRO_STATUS_WRITE_ERROR ? strerror(errno) : cairo_status_to_string(cs));
            unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            st = clfit_fail(CLFIT_ERR_IO, "%s: %s", path, strerror(errno));
            unlink(tmp);
        }
    }
    free(tmp);
    cairo_destroy(c->cr);
    cairo_surface_destroy(c->s);
    return st;
}

static void rgb(cairo_t *cr, const double c[3]) { cairo_set_source_rgb(cr, c[0], c[1], c[2]); }

/* ---- drawing ---- */

/* Image (rows x cols bytes) at (x, y), each pixel a scale x scale square, in "binary". */
static void draw_image(cairo_t *cr, const uint8_t *img, int rows, int cols, double x, double y,
                       int scale)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cols, rows);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    cairo_surface_flush(s);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            uint32_t g = 255 - img[r * cols + c];
            ((uint32_t *)(data + r * stride))[c] = g << 16 | g << 8 | g;
        }
    cairo_surface_mark_dirty(s);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, cols, rows);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
    /* a thin frame, as matplotlib's axes */
    rgb(cr, black);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x - 0.5, y - 0.5, cols * scale + 1, rows * scale + 1);
    cairo_stroke(cr);
}

enum { LEFT, CENTRE, RIGHT };

/* Text with its baseline-centre (CENTRE), left or right end at (x, y), rotated by deg. */
static void text(cairo_t *cr, double x, double y, const char *s, double size, int align,
                 const double col[3], double deg)
{
    cairo_text_extents_t e;
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &e);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, deg * M_PI / 180);
    double dx = align == LEFT ? 0 : align == CENTRE ? -e.x_advance / 2 : -e.x_advance;
    cairo_move_to(cr, dx, 0);
    rgb(cr, col);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

static void line(cairo_t *cr, double x0, double y0, double x1, double y1, const double col[3],
                 double width)
{
    rgb(cr, col);
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

/* A "nice" tick step for the range span with about n ticks. */
static double tick_step(double span, int n)
{
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* Axes box over r for data x0..x1, y0..y1, with ticks and labels. ydigits: decimals. */
static void axes(cairo_t *cr, clfit_rect r, double x0, double x1, double y0, double y1,
                 int xinteger, int ydigits, const char *xlabel, const char *title)
{
    rgb(cr, black);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, r.x + 0.5, r.y + 0.5, r.w, r.h);
    cairo_stroke(cr);
    char buf[32];
    double ys = tick_step(y1 - y0, 5);
    for (double v = ceil(y0 / ys) * ys; v <= y1 + 1e-9; v += ys) {
        double py = r.y + r.h - (v - y0) / (y1 - y0) * r.h;
        line(cr, r.x, py, r.x - 5, py, black, 1);
        snprintf(buf, sizeof buf, "%.*f", ydigits, fabs(v) < ys * 1e-6 ? 0.0 : v); /* no "-0.000" */
        text(cr, r.x - 8, py + 4, buf, 12, RIGHT, black, 0);
    }
    double xs = xinteger ? fmax(1, round(tick_step(x1 - x0, 8))) : tick_step(x1 - x0, 8);
    for (double v = ceil(x0 / xs) * xs; v <= x1 + 1e-9; v += xs) {
        double px = r.x + (v - x0) / (x1 - x0) * r.w;
        line(cr, px, r.y + r.h, px, r.y + r.h + 5, black, 1);
        snprintf(buf, sizeof buf, xinteger ? "%.0f" : "%g", v);
        text(cr, px, r.y + r.h + 20, buf, 12, CENTRE, black, 0);
    }
    if (xlabel) text(cr, r.x + r.w / 2, r.y + r.h + 40, xlabel, 13, CENTRE, black, 0);
    if (title) text(cr, r.x + r.w / 2, r.y - 12, title, 15, CENTRE, black, 0);
}

/* ---- the pictures ---- */

clfit_status clfit_plot_image(const char *path, const uint8_t *img, int rows, int cols,
                              const char *title)
{
    int scale = rows > cols ? 336 / rows : 336 / cols;
    if (scale < 1) scale = 1;
    int iw = cols * scale, ih = rows * scale;
    int W = 60 + iw + 110, H = 50 + ih + 40;
    canvas c;
    clfit_status st = canvas_new(&c, W, H);
    if (st) return st;
    cairo_t *cr = c.cr;
    double x = 50, y = 40;
    if (title) text(cr, x + iw / 2.0, 26, title, 15, CENTRE, black, 0);
    draw_image(cr, img, rows, cols, x, y, scale);
    /* axis ticks in pixel coordinates, as imshow shows them */
    char buf[16];
    for (int v = 0; v < (rows > cols ? rows : cols); v += 5) {
        snprintf(buf, sizeof buf, "%d", v);
        if (v < cols) {
            line(cr, x + (v + 0.5) * scale, y + ih, x + (v + 0.5) * scale, y + ih + 4, black, 1);
            text(cr, x + (v + 0.5) * scale, y + ih + 18, buf, 11, CENTRE, black, 0);
        }
        if (v < rows) {
            line(cr, x, y + (v + 0.5) * scale, x - 4, y + (v + 0.5) * scale, black, 1);
            text(cr, x - 7, y + (v + 0.5) * scale + 4, buf, 11, RIGHT, black, 0);
        }
    }
    /* the colour bar: 0 (white) at the bottom to 255 (black) at the top */
    double bx = x + iw + 25, bw = 20;
    cairo_pattern_t *g = cairo_pattern_create_linear(0, y + ih, 0, y);
    cairo_pattern_add_color_stop_rgb(g, 0, 1, 1, 1);
    cairo_pattern_add_color_stop_rgb(g, 1, 0, 0, 0);
    cairo_set_source(cr, g);
    cairo_rectangle(cr, bx, y, bw, ih);
    cairo_fill(cr);
    cairo_pattern_destroy(g);
    rgb(cr, black);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, bx - 0.5, y - 0.5, bw + 1, ih + 1);
    cairo_stroke(cr);
    for (int v = 0; v <= 250; v += 50) {
        double py = y + ih - v / 255.0 * ih;
        line(cr, bx + bw, py, bx + bw + 4, py, black, 1);
        snprintf(buf, sizeof buf, "%d", v);
        text(cr, bx + bw + 7, py + 4, buf, 11, LEFT, black, 0);
    }
    return canvas_save(&c, path);
}

#define CELL 112    /* an image in a grid: 28 x 28 at 4x */

static int grid_scale(int rows, int cols)
{
    int s = (rows > cols ? CELL / rows : CELL / cols);
    return s < 1 ? 1 : s;
}

clfit_status clfit_plot_samples(const char *path, const uint8_t *images, int rows, int cols,
                                const uint8_t *labels, int n, int gcols,
                                const char *const *names)
{
    if (n < 1 || gcols < 1) return clfit_fail(CLFIT_ERR_ARG, "plot samples: %d images in %d columns", n, gcols);
    int grows = (n + gcols - 1) / gcols, scale = grid_scale(rows, cols);
    int cw = CELL + 24, chh = CELL + 30;
    canvas c;
    clfit_status st = canvas_new(&c, 20 + gcols * cw, 20 + grows * chh);
    if (st) return st;
    for (int i = 0; i < n; i++) {
        double x = 20 + (i % gcols) * cw, y = 20 + (i / gcols) * chh;
        draw_image(c.cr, images + (size_t)i * rows * cols, rows, cols, x, y, scale);
        text(c.cr, x + cols * scale / 2.0, y + rows * scale + 18, names[labels[i]], 13, CENTRE, black, 0);
    }
    return canvas_save(&c, path);
}

/* Bars of probs (classes) in r, y from 0 to 1, the predicted one red and the true one blue
 * (blue wins where they are the same bar), with class indices under them. */
static void draw_bars(cairo_t *cr, clfit_rect r, const float *probs, int classes, int truth,
                      const char *const *names, int rotated_names)
{
    int predicted = 0;
    for (int k = 1; k < classes; k++) if (probs[k] > probs[predicted]) predicted = k;
    double bw = r.w / classes;
    for (int k = 0; k < classes; k++) {
        const double *col = k == truth ? clfit_plot_blue : k == predicted ? clfit_plot_red : clfit_plot_grey;
        double h = fmin(fmax(probs[k], 0), 1) * r.h;
        rgb(cr, col);
        cairo_rectangle(cr, r.x + k * bw + bw * 0.1, r.y + r.h - h, bw * 0.8, h);
        cairo_fill(cr);
        char buf[16];
        if (rotated_names)
            text(cr, r.x + (k + 0.5) * bw + 4, r.y + r.h + 12, names[k], 12, RIGHT, black, -45);
        else {
            snprintf(buf, sizeof buf, "%d", k);
            text(cr, r.x + (k + 0.5) * bw, r.y + r.h + 13, buf, 10, CENTRE, black, 0);
        }
    }
    rgb(cr, black);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, r.x + 0.5, r.y + 0.5, r.w, r.h);
    cairo_stroke(cr);
}

#define PAIR_W 340
#define PAIR_H 160

void clfit_plot_predictions_layout(int grows, int gcols, int i, clfit_rect *image,
                                   clfit_rect *label, clfit_rect *bars, int *width, int *height)
{
    double x = 50 + (i % gcols) * PAIR_W, y = 15 + (i / gcols) * PAIR_H;
    if (image) *image = (clfit_rect){x, y, CELL, CELL};
    if (label) *label = (clfit_rect){x - 45, y + CELL + 4, CELL + 90, 22};
    if (bars) *bars = (clfit_rect){x + CELL + 50, y, PAIR_W - CELL - 70, CELL};
    if (width) *width = 40 + gcols * PAIR_W;
    if (height) *height = 15 + grows * PAIR_H;
}

/* "Ankle boot 97% (Ankle boot)", as the tutorial's plot_image labels an image. */
static void prediction_label(char *buf, size_t size, const float *p, int classes, int truth,
                             const char *const *names, int *right)
{
    int best = 0;
    for (int k = 1; k < classes; k++) if (p[k] > p[best]) best = k;
    snprintf(buf, size, "%s %2.0f%% (%s)", names[best], 100.0 * p[best], names[truth]);
    *right = best == truth;
}

clfit_status clfit_plot_predictions(const char *path, const uint8_t *images, int rows, int cols,
                                    const float *probs, const uint8_t *labels, int classes,
                                    int grows, int gcols, const char *const *names)
{
    if (grows < 1 || gcols < 1) return clfit_fail(CLFIT_ERR_ARG, "plot predictions: %d x %d grid", grows, gcols);
    int W, H, scale = grid_scale(rows, cols);
    clfit_plot_predictions_layout(grows, gcols, 0, NULL, NULL, NULL, &W, &H);
    canvas c;
    clfit_status st = canvas_new(&c, W, H);
    if (st) return st;
    for (int i = 0; i < grows * gcols; i++) {
        clfit_rect im, lab, bars;
        clfit_plot_predictions_layout(grows, gcols, i, &im, &lab, &bars, NULL, NULL);
        const float *p = probs + (size_t)i * classes;
        char buf[96];
        int right;
        prediction_label(buf, sizeof buf, p, classes, labels[i], names, &right);
        draw_image(c.cr, images + (size_t)i * rows * cols, rows, cols, im.x, im.y, scale);
        text(c.cr, lab.x + lab.w / 2, lab.y + 16, buf, 11, CENTRE, right ? clfit_plot_blue : clfit_plot_red, 0);
        draw_bars(c.cr, bars, p, classes, labels[i], names, 0);
    }
    return canvas_save(&c, path);
}

clfit_status clfit_plot_probabilities(const char *path, const float *probs, int classes,
                                      int truth, const char *const *names, const char *title,
                                      clfit_rect *bars_out)
{
    canvas c;
    clfit_status st = canvas_new(&c, 560, 360);
    if (st) return st;
    clfit_rect r = {70, 45, 460, 240};
    axes(c.cr, r, 0, classes, 0, 1, 1, 1, NULL, title);
    /* the axes drew integer x ticks; the bars' own labels replace them */
    cairo_set_source_rgb(c.cr, 1, 1, 1);
    cairo_rectangle(c.cr, r.x - 10, r.y + r.h + 2, r.w + 20, 30);
    cairo_fill(c.cr);
    draw_bars(c.cr, r, probs, classes, truth, names, 1);
    if (bars_out) *bars_out = r;
    return canvas_save(&c, path);
}

/* ---- history ---- */

void clfit_history_write_row(void *file, long epoch, double loss, double accuracy,
                             double val_loss, double val_accuracy, double seconds)
{
    FILE *f = file;
    fprintf(f, "%ld,%.6f,%.6f,", epoch, loss, accuracy);
    if (isnan(val_loss)) fprintf(f, ",,");
    else fprintf(f, "%.6f,%.6f,", val_loss, val_accuracy);
    fprintf(f, "%.3f\n", seconds);
}

void clfit_history_free(clfit_history *h)
{
    free(h->epoch);
    memset(h, 0, sizeof *h);
}

clfit_status clfit_history_read(const char *path, clfit_history *h)
{
    memset(h, 0, sizeof *h);
    uint8_t *text;
    size_t len;
    clfit_status rst = clfit_read_regular(path, 64u << 20, "a history file", &text, &len);
    if (rst) return rst;
    FILE *f = fmemopen(text, len ? len : 1, "r");
    if (!f) { free(text); return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); }
    char line[512];
    clfit_status st = CLFIT_OK;
    if (!fgets(line, sizeof line, f) || (strcmp(line, CLFIT_HISTORY_HEADER) && strcmp(line, CLFIT_HISTORY_HEADER_MAE))) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: not a clfit history (expected the header "
                        "epoch,loss,accuracy,val_loss,val_accuracy,seconds or a regression's "
                        "epoch,loss,mae,val_loss,val_mae,seconds)", path);
        goto done;
    }
    h->mae = !strcmp(line, CLFIT_HISTORY_HEADER_MAE);
    int cap = 0, lineno = 1;
    h->has_val = 1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\0') continue;
        if (h->n == cap) {
            int c = cap ? cap * 2 : 64;
            double *block = realloc(h->epoch, (size_t)c * 6 * sizeof(double));
            if (!block) { st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); goto done; }
            /* one block of 6 columns, column j at block + j*c: move the old columns up */
            for (int j = 5; j >= 1; j--) memmove(block + (size_t)j * c, block + (size_t)j * cap, (size_t)h->n * sizeof(double));
            h->epoch = block;
            cap = c;
            h->loss = block + cap; h->accuracy = block + 2 * cap; h->val_loss = block + 3 * cap;
            h->val_accuracy = block + 4 * cap; h->seconds = block + 5 * cap;
        }
        double *col[6] = {h->epoch, h->loss, h->accuracy, h->val_loss, h->val_accuracy, h->seconds};
        char *p = line;
        for (int j = 0; j < 6; j++) {
            char *end;
            if (*p == ',' || *p == '\n' || *p == '\0') { /* empty: only the val_ columns may be */
                if (j != 3 && j != 4) {
                    st = clfit_fail(CLFIT_ERR_FORMAT, "%s:%d: column %d is empty", path, lineno, j + 1);
                    goto done;
                }
                col[j][h->n] = NAN;
                h->has_val = 0;
                end = p;
            } else {
                col[j][h->n] = strtod(p, &end);
                if (end == p) {
                    st = clfit_fail(CLFIT_ERR_FORMAT, "%s:%d: column %d is not a number", path, lineno, j + 1);
                    goto done;
                }
            }
            if (j < 5 && *end != ',') {
                st = clfit_fail(CLFIT_ERR_FORMAT, "%s:%d: expected 6 comma-separated columns", path, lineno);
                goto done;
            }
            p = end + 1;
        }
        h->n++;
    }
    if (h->n == 0) st = clfit_fail(CLFIT_ERR_FORMAT, "%s: no epochs", path);
done:
    fclose(f);
    free(text);
    if (st) clfit_history_free(h);
    return st;
}

/* One panel: train (and val) series against epochs. */
static void series_panel(cairo_t *cr, clfit_rect r, const clfit_history *h, const double *tr,
                         const double *val, const char *title, const char *name, int legend_below)
{
    double lo = 1e300, hi = -1e300;
    for (int i = 0; i < h->n; i++) {
        lo = fmin(lo, tr[i]); hi = fmax(hi, tr[i]);
        if (h->has_val) { lo = fmin(lo, val[i]); hi = fmax(hi, val[i]); }
    }
    double pad = (hi - lo) * 0.08 + 1e-6;
    lo -= pad; hi += pad;
    double x0 = h->epoch[0], x1 = h->epoch[h->n - 1];
    if (x1 <= x0) { x0 -= 0.5; x1 += 0.5; }
    axes(cr, r, x0, x1, lo, hi, 1, 3, "epoch", title);
    const double *ys[2] = {tr, val};
    const double *cols[2] = {steel, orange};
    for (int s = 0; s < (h->has_val ? 2 : 1); s++) {
        rgb(cr, cols[s]);
        cairo_set_line_width(cr, 2);
        for (int i = 0; i < h->n; i++) {
            double px = r.x + (h->epoch[i] - x0) / (x1 - x0) * r.w, py = r.y + r.h - (ys[s][i] - lo) / (hi - lo) * r.h;
            if (i == 0) cairo_move_to(cr, px, py); else cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
        for (int i = 0; i < h->n; i++) {
            double px = r.x + (h->epoch[i] - x0) / (x1 - x0) * r.w, py = r.y + r.h - (ys[s][i] - lo) / (hi - lo) * r.h;
            cairo_arc(cr, px, py, 3, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        /* legend, on a white box, in the corner the curves leave free */
        double ly = (legend_below ? r.y + r.h - 14 - 18 * ((h->has_val ? 2 : 1) - 1) : r.y + 16) + 18 * s;
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, r.x + r.w - 126, ly - 14, 122, 18);
        cairo_fill(cr);
        line(cr, r.x + r.w - 120, ly - 4, r.x + r.w - 100, ly - 4, cols[s], 2);
        char buf[48];
        snprintf(buf, sizeof buf, "%s%s", s ? "val_" : "", name);
        text(cr, r.x + r.w - 94, ly, buf, 12, LEFT, black, 0);
    }
}

clfit_status clfit_plot_history(const char *path, const clfit_history *h)
{
    if (h->n < 1) return clfit_fail(CLFIT_ERR_ARG, "plot history: no epochs");
    canvas c;
    clfit_status st = canvas_new(&c, 1040, 400);
    if (st) return st;
    series_panel(c.cr, (clfit_rect){80, 40, 420, 290}, h, h->loss, h->val_loss, h->mae ? "loss (mse)" : "loss", "loss", 0);
    series_panel(c.cr, (clfit_rect){590, 40, 420, 290}, h, h->accuracy, h->val_accuracy, h->mae ? "mae" : "accuracy",
                 h->mae ? "mae" : "accuracy", !h->mae);
    return canvas_save(&c, path);
}

/* ---- a regression's estimates against the truth ---- */

clfit_status clfit_plot_scatter(const char *path, const float *truth, const float *est, int n, int T,
                                const char *const *names, clfit_rect *area_out)
{
    if (n < 1 || T < 1) return clfit_fail(CLFIT_ERR_ARG, "plot scatter: no rows");
    double lo = 1e300, hi = -1e300;
    for (size_t i = 0; i < (size_t)n * T; i++) {
        lo = fmin(lo, fmin(truth[i], est[i]));
        hi = fmax(hi, fmax(truth[i], est[i]));
    }
    double pad = (hi - lo) * 0.05 + 1e-6;
    lo -= pad;
    hi += pad;
    canvas c;
    clfit_status st = canvas_new(&c, 560, 560);
    if (st) return st;
    clfit_rect r = {80, 45, 440, 440};
    axes(c.cr, r, lo, hi, lo, hi, 0, hi - lo < 10 ? 2 : 0, "true value", "estimated against true");
    text(c.cr, 22, r.y + r.h / 2, "estimate", 13, CENTRE, black, -90);
    line(c.cr, r.x, r.y + r.h, r.x + r.w, r.y, black, 1); /* y = x: a perfect estimate */
    static const double palette[4][3] = {{0.122, 0.467, 0.706}, {1.0, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                         {0.839, 0.153, 0.157}};
    for (int k = 0; k < T; k++) {
        rgb(c.cr, palette[k % 4]);
        for (int i = 0; i < n; i++) {
            double x = truth[(size_t)i * T + k], y = est[(size_t)i * T + k];
            cairo_arc(c.cr, r.x + (x - lo) / (hi - lo) * r.w, r.y + r.h - (y - lo) / (hi - lo) * r.h, 2.5, 0, 2 * M_PI);
            cairo_fill(c.cr);
        }
        if (names && T > 1 && k < 8) { /* a legend for several targets */
            double ly = r.y + 18 + 18 * k;
            cairo_arc(c.cr, r.x + 14, ly - 4, 4, 0, 2 * M_PI);
            cairo_fill(c.cr);
            text(c.cr, r.x + 24, ly, names[k], 12, LEFT, black, 0);
        }
    }
    if (area_out) *area_out = r;
    return canvas_save(&c, path);
}

/* ---- confusion matrix ---- */

clfit_status clfit_plot_confusion(const char *path, const int *counts, int classes,
                                  const char *const *names, clfit_rect *cells_out)
{
    int cs = classes <= 10 ? 48 : 480 / classes;
    if (cs < 12) cs = 12;
    double x0 = 130, y0 = 60, size = (double)cs * classes;
    canvas c;
    clfit_status st = canvas_new(&c, (int)(x0 + size + 110), (int)(y0 + size + 120));
    if (st) return st;
    cairo_t *cr = c.cr;
    int max = 1;
    for (int i = 0; i < classes * classes; i++) if (counts[i] > max) max = counts[i];
    char buf[32];
    for (int t = 0; t < classes; t++) {
        long row = 0;
        for (int p = 0; p < classes; p++) row += counts[t * classes + p];
        for (int p = 0; p < classes; p++) {
            int n = counts[t * classes + p];
            double f = sqrt((double)n / max); /* square root: small counts stay visible */
            cairo_set_source_rgb(cr, 1 - 0.9 * f, 1 - 0.6 * f, 1 - 0.2 * f);
            cairo_rectangle(cr, x0 + p * cs, y0 + t * cs, cs, cs);
            cairo_fill(cr);
            snprintf(buf, sizeof buf, "%d", n);
            if (cs >= 24) {
                static const double white[3] = {1, 1, 1};
                text(cr, x0 + (p + 0.5) * cs, y0 + (t + 0.5) * cs + 4, buf, cs >= 40 ? 11 : 8, CENTRE,
                     f > 0.6 ? white : black, 0);
            }
        }
        text(cr, x0 - 8, y0 + (t + 0.5) * cs + 4, names[t], 12, RIGHT, black, 0);
        snprintf(buf, sizeof buf, "%.1f%%", row ? 100.0 * counts[t * classes + t] / row : 0.0);
        text(cr, x0 + size + 10, y0 + (t + 0.5) * cs + 4, buf, 12, LEFT, black, 0);
    }
    for (int p = 0; p < classes; p++)
        text(cr, x0 + (p + 0.5) * cs + 4, y0 + size + 12, names[p], 12, RIGHT, black, -45);
    rgb(cr, black);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0 - 0.5, y0 - 0.5, size + 1, size + 1);
    cairo_stroke(cr);
    text(cr, x0 + size / 2, y0 - 30, "predicted (columns) against true (rows)", 14, CENTRE, black, 0);
    text(cr, x0 + size + 10, y0 - 8, "accuracy", 12, LEFT, black, 0);
    if (cells_out) *cells_out = (clfit_rect){x0, y0, size, size};
    return canvas_save(&c, path);
}
