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
    double loss, accuracy;      /* running means over the epoch so far (as Keras shows); a
                                   regression model's `accuracy` is its mean absolute error */
    int has_val;                /* val_ fields valid (epoch end with a validation split) */
    double val_loss, val_accuracy;
    double seconds;             /* since the epoch started */
    int epoch_done;             /* 1 on the call that ends an epoch */
    double setup_seconds;       /* clfit_fit's time before its first epoch (buffers, upload) */
    double comm_seconds;        /* data parallelism: the epoch's time in sum_floats */
} clfit_progress;

/* Called during an epoch (every refresh_seconds, at most) and once at its end. At the
 * end, m holds the weights after the epoch (so that the callback can save them);
 * during the epoch m is NULL. A non-zero return stops training with that status;
 * CLFIT_STOPPED at an epoch's end stops it early without error (early stopping). */
typedef clfit_status (*clfit_progress_fn)(const clfit_progress *p, const clfit_model *m,
                                          void *user);

/* Data parallelism across processes (clfit train under mpirun): what clfit_fit needs from
 * the processes together, supplied by the caller (the command line implements it with
 * MPI), so that the library needs no MPI. Every process calls each at the same points;
 * each returns a status, and a process whose call fails stops with it. */
typedef struct {
    int rank, size;
    /* buf (n floats) := the sum of every process's buf, added in rank order: the same
     * bits on every process, and from run to run */
    clfit_status (*sum_floats)(float *buf, size_t n, void *user);
    clfit_status (*sum_doubles)(double *buf, int n, void *user);
    /* buf (n floats) := rank 0's */
    clfit_status (*broadcast)(float *buf, size_t n, void *user);
    /* fails, naming the ranks that differ, unless v is the same on every process */
    clfit_status (*same)(uint64_t v, const char *what, void *user);
    void *user;
} clfit_collective;

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
    /* NULL, or size > 1: data parallelism. Each process takes its contiguous slice of
     * every global batch (`batch`, which must divide by size) in the same epoch order,
     * computes the gradient of its slice's summed loss over the global batch, the
     * gradients are summed (sum_floats), and every process takes the same Adam step. The
     * weights start as rank 0's; at each epoch's end they must agree (same). Loss,
     * accuracy and validation are the whole global batch's and set's. Needs the clblast or
     * own backend (slice applies Adam inside its one launch), and progress only at epoch
     * ends. */
    const clfit_collective *coll;
} clfit_fit_opts;

/* Trains m in place on train. Stops with CLFIT_ERR_NUMERIC (naming the epoch and step)
 * when the loss becomes NaN or infinite, as Keras' TerminateOnNaN; m then keeps the
 * weights of the last completed epoch. */
clfit_status clfit_fit(clfit_cl *cl, clfit_model *m, const clfit_dataset *train,
                       const clfit_fit_opts *o);

/* Mean loss and accuracy of m over all of d (a regression model: mse and mean absolute
 * error; d must have its target values). */
clfit_status clfit_evaluate(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d,
                            clfit_gemm gemm, double *loss, double *accuracy);
/* The same shared among processes (coll: NULL or size 1 is one process): each evaluates
 * its contiguous share of d, and the sums are added (sum_doubles); every process gets the
 * whole set's figures. */
clfit_status clfit_evaluate_shared(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d, clfit_gemm gemm,
                                   const clfit_collective *coll, double *loss, double *accuracy);

/* Softmax probabilities (n, classes) of m for examples idx[0..n) of d; for an mse model its
 * outputs as they are (the one-hot target's estimate). */
clfit_status clfit_predict(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d,
                           clfit_gemm gemm, const int *idx, int n, float *probs);

/* The permutation of 0..n-1 used for epoch `epoch` (1-based) with `seed`. */
void clfit_epoch_order(uint64_t seed, long epoch, int *order, int n);

#endif
