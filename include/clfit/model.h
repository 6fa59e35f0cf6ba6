/* clfit model: a multilayer perceptron described by its widths (input, hidden..., classes),
 * its parameters in one flat array, Adam's state, and the CPU reference training step.
 * Layer l maps width[l] -> width[l+1] with y = xW + b; every layer but the last is
 * followed by ReLU; the last produces logits. */
#ifndef CLFIT_MODEL_H
#define CLFIT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

#define CLFIT_MAX_LAYERS 8
/* The largest model clfit builds: inputs per example, hidden width, classes (labels are
 * bytes), and parameters in all (the kernels index them with int). */
#define CLFIT_MAX_INPUT (1 << 20)
#define CLFIT_MAX_WIDTH 65536
#define CLFIT_MAX_CLASSES 256
#define CLFIT_MAX_PARAMS (1 << 28)
#define CLFIT_MAX_BATCH 65536
/* Every tensor in the flat parameter array starts on a multiple of this many floats
 * (256 bytes), so that any tensor can become an aligned sub-buffer or vector load. The
 * padding between tensors is zero and has zero gradient, so Adam leaves it at zero. */
#define CLFIT_PARAM_ALIGN 64

typedef struct {
    int input;                          /* e.g. 784 for 28x28 images */
    int nhidden;                        /* number of hidden layers, 0..CLFIT_MAX_LAYERS-1 */
    int hidden[CLFIT_MAX_LAYERS - 1];   /* their widths, e.g. {128} */
    int classes;                        /* e.g. 10 */
} clfit_model_desc;

typedef struct {
    int in, out;        /* weight is (in,out): index [i*out + o], input index first */
    size_t w_off;       /* offset of the weight in the flat parameter array, in floats */
    size_t b_off;       /* offset of the bias (out floats) */
} clfit_layer;

typedef struct {
    float lr, beta1, beta2, eps;        /* Keras defaults: 0.001, 0.9, 0.999, 1e-7 */
} clfit_adam_cfg;

#define CLFIT_ADAM_KERAS ((clfit_adam_cfg){0.001f, 0.9f, 0.999f, 1e-7f})

typedef struct {
    clfit_model_desc desc;
    int nlayers;
    clfit_layer layer[CLFIT_MAX_LAYERS];
    size_t nparams;         /* length of params, m, v, including alignment padding */
    float *params;          /* owned */
    float *m, *v;           /* Adam's first and second moments, owned */
    long step;              /* Adam steps taken so far */
    clfit_adam_cfg adam;
} clfit_model;

/* Checks a description (widths >= 1, layer count) and fills the layer table. */
clfit_status clfit_model_layout(const clfit_model_desc *d, clfit_layer *layer, int *nlayers,
                                size_t *nparams);

/* Floating-point operations of one training step at batch B, counted as the bench
 * reports them: 2*B*in*out for each layer's forward product and for its weight gradient,
 * the same again for the input gradient of every layer but the first, and 12 per
 * parameter for Adam. (784-128-10 at batch 32: 13.09 M in the GEMMs, 1.22 M in Adam.) */
double clfit_model_step_flops(const clfit_model_desc *d, int B, double *gemm_flops,
                              double *adam_flops);

/* A new model with Glorot-uniform weights (limit sqrt(6/(fan_in+fan_out)), Glorot &
 * Bengio 2010, Keras' glorot_uniform) drawn from clfit_rng seeded with `seed`, zero biases,
 * zero Adam state, Keras' Adam defaults. Returns NULL and sets *st (if given) on failure. */
clfit_model *clfit_model_new(const clfit_model_desc *d, uint64_t seed, clfit_status *st);

void clfit_model_free(clfit_model *m);

/* ---- CPU reference training path ---- */

/* Scratch for the reference forward/backward at batch sizes up to max_batch. */
typedef struct clfit_ref_work clfit_ref_work;
clfit_ref_work *clfit_ref_work_new(const clfit_model *m, int max_batch, clfit_status *st);
void clfit_ref_work_free(clfit_ref_work *w);

/* Forward pass of x (B,input) through params (laid out as m's), then the loss against y.
 * Returns the loss summed over the batch in *loss_sum and the correct count in *correct.
 * Unless grads is NULL, also runs the backward pass and writes the gradient of the *mean*
 * loss into grads (nparams floats; padding set to zero). If logits is not NULL it
 * receives the (B,classes) logits. */
clfit_status clfit_ref_forward_backward(const clfit_model *m, clfit_ref_work *w,
                                        const float *params, const float *x, const uint8_t *y,
                                        int B, float *grads, float *logits, float *loss_sum,
                                        int *correct);

/* One training step on the CPU: forward_backward on m->params, then adam_ref over every
 * parameter at step m->step + 1. */
clfit_status clfit_ref_train_step(clfit_model *m, clfit_ref_work *w, const float *x,
                                  const uint8_t *y, int B, float *loss_sum, int *correct);

#endif
