/* clfit fit / evaluate / predict: the training loop of Keras' Model.fit on the OpenCL path.
 * The training set is uploaded once; each epoch's shuffled order is uploaded and the
 * whole epoch enqueued without waiting; loss and accuracy are read back only when the
 * caller's progress callback is due. */
#ifndef CLFIT_FIT_H
#define CLFIT_FIT_H

#include "clfit/cl.h"
#include "clfit/data.h"
#include "clfit/model.h"
#include "clfit/train.h"

typedef struct {
    long epoch, epochs;         /* 1-based epoch number, and the last epoch of this run */
    int step, steps;            /* steps done in this epoch, and per epoch */
    double loss, accuracy;      /* running means over the epoch so far (as Keras shows) */
    int has_val;                /* val_ fields valid (epoch end with a validation split) */
    double val_loss, val_accuracy;
    double seconds;             /* since the epoch started */
    int epoch_done;             /* 1 on the call that ends an epoch */
    double setup_seconds;       /* clfit_fit's time before its first epoch (buffers, upload) */
} clfit_progress;

/* Called during an epoch (every refresh_seconds, at most) and once at its end. At the
 * end, m holds the weights after the epoch (so that the callback can save them);
 * during the epoch m is NULL. A non-zero return stops training with that status. */
typedef clfit_status (*clfit_progress_fn)(const clfit_progress *p, const clfit_model *m,
                                          void *user);

typedef struct {
    int epochs;                 /* epochs to run now */
    int batch;                  /* examples per step; the last step of an epoch may be short */
    int shuffle;                /* shuffle the training examples every epoch */
    uint64_t seed;              /* shuffling seed: epoch e's order depends on (seed, e) only */
    double validation_split;    /* hold out the last fraction of the set, as Keras does */
    long initial_epoch;         /* epochs done before (resume) */
    double refresh_seconds;     /* > 0: progress during epochs; 0: only at epoch ends */
    clfit_gemm gemm;            /* how each step runs on the device */
    clfit_progress_fn progress;
    void *user;
} clfit_fit_opts;

/* Trains m in place on train. Stops with CLFIT_ERR_NUMERIC (naming the epoch and step)
 * when the loss becomes NaN or infinite, as Keras' TerminateOnNaN; m then keeps the
 * weights of the last completed epoch. */
clfit_status clfit_fit(clfit_cl *cl, clfit_model *m, const clfit_dataset *train,
                       const clfit_fit_opts *o);

/* Mean loss and accuracy of m over all of d. */
clfit_status clfit_evaluate(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d,
                            clfit_gemm gemm, double *loss, double *accuracy);

/* Softmax probabilities (n, classes) of m for examples idx[0..n) of d. */
clfit_status clfit_predict(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d,
                           clfit_gemm gemm, const int *idx, int n, float *probs);

/* The permutation of 0..n-1 used for epoch `epoch` (1-based) with `seed`. */
void clfit_epoch_order(uint64_t seed, long epoch, int *order, int n);

#endif
