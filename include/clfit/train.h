/* clfit OpenCL trainer: a model's parameters, gradients, Adam moments and activations
 * living on the device, and the training step built from the *_cl launchers.
 * Steps only enqueue; loss and accuracy accumulate on the device until read. */
#ifndef CLFIT_TRAIN_H
#define CLFIT_TRAIN_H

#include "clfit/cl.h"
#include "clfit/data.h"
#include "clfit/model.h"

/* A dataset uploaded to the device once: x (N,D) float, the pixels already scaled by
 * 1/255 on the device, and labels (N) uchar, shared (reference-counted) between views;
 * and this view's order: n ints, indices into the N examples, through which batches are
 * read (the epoch's permutation, or a subset). */
typedef struct {
    cl_mem x, labels;               /* one reference each, owned */
    cl_mem targets;                 /* a table's values (N,T), or NULL: one reference, owned */
    cl_mem order;                   /* owned */
    int n, D, T;
} clfit_device_data;

/* Uploads d: a table's features as they are, or image bytes scaled to floats on the device
 * (scale_images_cl); with the identity order. On failure nothing is left allocated. */
clfit_status clfit_device_data_upload(clfit_cl *cl, const clfit_dataset *d,
                                      clfit_device_data *out);
/* A view of src's examples first .. first+n-1 (in src's current index space, i.e. the
 * original example numbers when src is an upload), sharing its images and labels. */
clfit_status clfit_device_data_view(clfit_cl *cl, const clfit_device_data *src, int first,
                                    int n, clfit_device_data *out);
/* Replaces the order (n ints, each in 0..n-1) once the work enqueued before has run (a
 * blocking write: `order` may be changed as soon as this returns). */
clfit_status clfit_device_data_set_order(clfit_cl *cl, clfit_device_data *dd, const int *order);
void clfit_device_data_free(clfit_device_data *dd);

typedef struct clfit_trainer clfit_trainer;

/* Why backend g (clfit_gemm) cannot run model d (o NULL: evaluation alone), or train it
 * with optimizer o over `ranks` processes (ranks > 1: data parallelism); NULL when it can.
 * Each backend says its own (host/backend_*.c). */
const char *clfit_backend_refuses(int g, const clfit_model_desc *d, const clfit_optim *o, int ranks);

/* g when it can (clfit_backend_refuses is NULL), else own where own can, else clblast,
 * which runs every model; *why (why may be NULL) is g's refusal, or NULL. */
int clfit_backend_choose(int g, const clfit_model_desc *d, const clfit_optim *o, int ranks, const char **why);

/* Times `steps` training steps (after `warmup` untimed ones, then a wait) of a fresh
 * model of description d at batch B on random data; returns microseconds per step. */
clfit_status clfit_time_steps(clfit_cl *cl, const clfit_model_desc *d, int B, clfit_gemm gemm,
                              int warmup, int steps, double *us_per_step);

/* Uploads m's parameters and Adam state; buffers sized for batches up to max_batch. */
clfit_trainer *clfit_trainer_new(clfit_cl *cl, const clfit_model *m, int max_batch,
                                 clfit_gemm gemm, clfit_status *st);
void clfit_trainer_free(clfit_trainer *t);

/* One training step on the batch dd->order[start .. start+B): gather, forward (with each
 * hidden layer's activation and dropout), the loss (accumulating loss and correct count),
 * backward, the optimizer (fused Adam, or from the gradient in memory for the others, L2,
 * clipping and weight decay). Enqueue only.
 * The slice backend runs a step's end (loss, backward, Adam) in the launch of the next
 * step or evaluation batch on the same data; reading the stats, logits or weights, or
 * resetting the stats, runs it first, so the caller sees whole steps. */
clfit_status clfit_trainer_step(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B);

/* n training steps, step s on rows [start + s B, start + (s+1) B) of dd's order, at
 * learning rate lr[s] (lr NULL: the trainer's, clfit_trainer_set_lr; otherwise the trainer's
 * is lr[n-1] after). The same bits as n calls of clfit_trainer_step (each after
 * clfit_trainer_set_lr(lr[s])); the own backend runs several of them a launch where its
 * tunable SPL says so (fused_steps, CPUs). */
clfit_status clfit_trainer_steps(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int n,
                                 const float *lr);

/* Data parallelism's two halves of a step (the clblast and own backends; own's fused
 * kernels then store the gradient instead of applying Adam): clfit_trainer_grad computes the gradient of rows [start, start+B) with
 * dlogits over denom (the global batch these rows are a slice of; B may be 0: a zero
 * gradient) and adds their loss; row0 is the row of that global batch they start at, so
 * that their dropout masks are the ones one process would draw for them; clfit_trainer_read_grads copies it out (nparams floats,
 * clfit_trainer_nparams); clfit_trainer_apply writes a gradient back (the sum over every
 * slice) and takes Adam's step with it. */
clfit_status clfit_trainer_grad(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int row0,
                                int denom);
clfit_status clfit_trainer_read_grads(clfit_trainer *t, float *grads);
clfit_status clfit_trainer_apply(clfit_trainer *t, const float *grads, int B);

/* The learning rate of the steps that follow (the schedule's; clfit_optim_lr): the model's
 * lr until set. */
void clfit_trainer_set_lr(clfit_trainer *t, float lr);
/* Optimizer steps taken so far (the model's at the start, plus this trainer's). */
long clfit_trainer_step_count(const clfit_trainer *t);

/* Forward pass and loss only (evaluation) on the same batch; enqueue only. */
clfit_status clfit_trainer_eval(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B);

/* Zeroes the loss/correct accumulators (enqueued). */
clfit_status clfit_trainer_reset_stats(clfit_trainer *t);

/* Waits, then reads the accumulated loss sum and the metric's: the correct count, or for a
 * regression model the sum of the rows' mean absolute errors. */
clfit_status clfit_trainer_read_stats(clfit_trainer *t, double *loss_sum, double *metric_sum);

/* Waits, then copies the logits (B,classes) of the last step or eval. */
clfit_status clfit_trainer_read_logits(clfit_trainer *t, float *logits, int B);

/* Waits, then copies parameters, Adam moments and step count back into m. */
clfit_status clfit_trainer_download(clfit_trainer *t, clfit_model *m);

#endif
