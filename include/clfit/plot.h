/* clfit plots: the tutorial's pictures as PNG files, drawn with cairo. Images use the
 * tutorial's grey-on-white colour map (matplotlib's "binary": 0 white, 255 black) with
 * nearest-neighbour scaling; right predictions are labelled blue and wrong ones red, the
 * predicted class's bar red and the true class's bar blue, as the tutorial draws them.
 * Files are written to a temporary name and renamed into place. */
#ifndef CLFIT_PLOT_H
#define CLFIT_PLOT_H

#include <stdint.h>

#include "clfit/status.h"

typedef struct {
    double x, y, w, h;
} clfit_rect;

/* The tutorial's colours, 0..1 RGB: right (blue), wrong (red), other bars (grey). */
extern const double clfit_plot_blue[3], clfit_plot_red[3], clfit_plot_grey[3];

/* One image (rows x cols bytes), large, with a colour bar from 0 to 255. */
clfit_status clfit_plot_image(const char *path, const uint8_t *img, int rows, int cols,
                              const char *title);

/* n images (each rows x cols) in a grid of gcols columns, each with its class name under it. */
clfit_status clfit_plot_samples(const char *path, const uint8_t *images, int rows, int cols,
                                const uint8_t *labels, int n, int gcols,
                                const char *const *names);

/* grows x gcols pairs: image i (rows x cols) with "Predicted NN% (True)" under it (blue
 * when right, red when wrong), beside the bar chart of probs[i*classes ..]. */
clfit_status clfit_plot_predictions(const char *path, const uint8_t *images, int rows, int cols,
                                    const float *probs, const uint8_t *labels, int classes,
                                    int grows, int gcols, const char *const *names);

/* Where pair i of a grows x gcols predictions plot draws its image, its label and its
 * bars, and the whole picture's size in pixels. */
void clfit_plot_predictions_layout(int grows, int gcols, int i, clfit_rect *image,
                                   clfit_rect *label, clfit_rect *bars, int *width, int *height);

/* One image's probabilities (classes of them) as bars, with the class names rotated on the
 * x axis; the bar of `predicted` red, of `truth` blue. *bars_out (if not NULL) receives the
 * plotting area: bar c spans x + w*c/classes .. x + w*(c+1)/classes. */
clfit_status clfit_plot_probabilities(const char *path, const float *probs, int classes,
                                      int truth, const char *const *names, const char *title,
                                      clfit_rect *bars_out);

/* Training history, one row per epoch (has_val: the val_ columns are present). */
typedef struct {
    int n, has_val;
    int mae;            /* a regression's: accuracy and val_accuracy hold the mae */
    double *epoch, *loss, *accuracy, *val_loss, *val_accuracy, *seconds;  /* owned */
} clfit_history;

/* The history CSV as `clfit train --history` writes it, one row per epoch; a NaN val_
 * value leaves its field empty. */
#define CLFIT_HISTORY_HEADER "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
/* A regression's: its loss is the mse, its metric the mae. */
#define CLFIT_HISTORY_HEADER_MAE "epoch,loss,mae,val_loss,val_mae,seconds\n"
void clfit_history_write_row(void *file, long epoch, double loss, double accuracy,
                             double val_loss, double val_accuracy, double seconds);

/* Reads the CSV `clfit train --history` writes (header
 * epoch,loss,accuracy,val_loss,val_accuracy,seconds; val fields may be empty). */
clfit_status clfit_history_read(const char *path, clfit_history *h);
void clfit_history_free(clfit_history *h);

/* A regression's estimates est (n,T) against the true values truth (n,T): one point per
 * row and target (a colour each, named in a legend when T > 1), over the y = x line of a
 * perfect estimate; both axes the same range. *area_out (if not NULL) receives the axes. */
clfit_status clfit_plot_scatter(const char *path, const float *truth, const float *est, int n, int T,
                                const char *const *names, clfit_rect *area_out);

/* Two panels, loss and accuracy (a regression's mae) per epoch, training and (if any)
 * validation. */
clfit_status clfit_plot_history(const char *path, const clfit_history *h);

/* The classes x classes confusion matrix counts[true * classes + predicted], cells shaded
 * by count, class names on both axes, and each class's accuracy at the right. *cells_out
 * (if not NULL) receives the matrix area. */
clfit_status clfit_plot_confusion(const char *path, const int *counts, int classes,
                                  const char *const *names, clfit_rect *cells_out);

#endif
