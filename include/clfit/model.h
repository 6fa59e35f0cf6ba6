/* clfit model: a multilayer perceptron described by its widths (input, hidden..., classes),
 * each hidden layer's activation and dropout, its loss, its optimizer (with weight decay,
 * L2, clipping and a learning-rate schedule), its parameters in one flat array, the
 * optimizer's state, and the CPU reference training step.
 * Layer l maps width[l] -> width[l+1] with y = xW + b; every layer but the last is
 * followed by its activation (ReLU by default) and, in training, its dropout; the last
 * produces the outputs (logits for cross-entropy). The parts' names and defaults are
 * listed once, in host/parts.c (clfit/parts.h). */
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

/* The hidden layers' activations: one row each (its CLFIT_ACT_ name, the name the command
 * line and the model file use, a line for --help and summary, and whether its derivative
 * needs its input z rather than its output), from which the enum and clfit_acts
 * (clfit/parts.h) are made. The numbers are the device's too (kernels/act.cl's cases); 0 is
 * ReLU, so that a zeroed description is the tutorial's model. */
#define CLFIT_ACT_LIST(X)                                                                           \
    X(RELU, relu, "max(x, 0)", 0)                                                                   \
    X(LINEAR, linear, "x (no activation)", 0)                                                       \
    X(TANH, tanh, "tanh(x)", 1)                                                                     \
    X(SIGMOID, sigmoid, "1 / (1 + exp(-x))", 1)                                                     \
    X(GELU, gelu, "x Phi(x), exact (erf), PyTorch's default", 1)                                    \
    X(LEAKY_RELU, leaky_relu, "x, or 0.01 x below 0 (PyTorch's default slope)", 0)                 \
    X(SILU, silu, "x sigmoid(x)", 1)

#define CLFIT_ACT_ENUM_(id, name, what, needs_input) CLFIT_ACT_##id,
typedef enum { CLFIT_ACT_LIST(CLFIT_ACT_ENUM_) CLFIT_ACT_COUNT } clfit_act;
#undef CLFIT_ACT_ENUM_

/* The loss of the last layer's outputs against the labels. */
typedef enum {
    CLFIT_LOSS_XENT = 0,    /* sparse softmax cross-entropy from logits */
    CLFIT_LOSS_MSE = 1,     /* mean squared error, mean over outputs and rows (Keras' mse):
                               against the one-hot label, or a regression model's values */
    CLFIT_LOSS_COUNT
} clfit_loss;

typedef struct {
    int input;                          /* e.g. 784 for 28x28 images */
    int nhidden;                        /* number of hidden layers, 0..CLFIT_MAX_LAYERS-1 */
    int hidden[CLFIT_MAX_LAYERS - 1];   /* their widths, e.g. {128} */
    int classes;                        /* e.g. 10 */
    /* zero-initialised means the tutorial's model: ReLU, no dropout, cross-entropy */
    clfit_act act[CLFIT_MAX_LAYERS - 1];  /* each hidden layer's activation */
    float dropout[CLFIT_MAX_LAYERS - 1];  /* each hidden layer's dropout rate, [0, 1) */
    clfit_loss loss;
    /* 1: a regression model: its `classes` outputs estimate a table's numeric target
     * columns (loss mse against their values; evaluation reports mse and mae). */
    int regression;
} clfit_model_desc;

/* The loss as the kernels number it (kernels/softmax_xent.cl's loss_row_of): 0
 * cross-entropy, 1 mse against the one-hot label, 2 mse against a regression's values. */
int clfit_loss_code(const clfit_model_desc *d);

/* Whether d is the tutorial's family: ReLU everywhere, no dropout, cross-entropy. */
int clfit_model_desc_plain(const clfit_model_desc *d);

typedef struct {
    int in, out;        /* weight is (in,out): index [i*out + o], input index first */
    size_t w_off;       /* offset of the weight in the flat parameter array, in floats */
    size_t b_off;       /* offset of the bias (out floats) */
} clfit_layer;

typedef struct {
    float lr, beta1, beta2, eps;        /* Keras defaults: 0.001, 0.9, 0.999, 1e-7 */
} clfit_adam_cfg;

#define CLFIT_ADAM_KERAS ((clfit_adam_cfg){0.001f, 0.9f, 0.999f, 1e-7f})

typedef enum {
    CLFIT_OPT_ADAM = 0,     /* Keras' Adam (eps after the bias correction; see adam_ref) */
    CLFIT_OPT_ADAMW = 1,    /* Adam with decoupled weight decay: p -= lr wd p first (PyTorch) */
    CLFIT_OPT_SGD = 2,      /* PyTorch's SGD: momentum buffer, optional Nesterov */
    CLFIT_OPT_RMSPROP = 3,  /* PyTorch's RMSprop: rho, eps outside the root, optional momentum */
    CLFIT_OPT_COUNT
} clfit_opt_kind;

typedef enum {
    CLFIT_SCHED_CONSTANT = 0,
    CLFIT_SCHED_EXPONENTIAL = 1,    /* lr gamma^(epoch-1), per epoch (PyTorch's ExponentialLR) */
    CLFIT_SCHED_COSINE = 2,         /* linear warm-up, then cosine towards 0 at the end, per step
                                       (PyTorch's LinearLR then CosineAnnealingLR) */
    CLFIT_SCHED_PLATEAU = 3,        /* lr *= factor after `patience` epochs without a better
                                       val_loss (train loss without validation) */
    CLFIT_SCHED_COUNT
} clfit_sched_kind;

/* The optimizer beyond Adam's four numbers (m->adam: lr is every optimizer's base learning
 * rate; beta1/beta2/eps are Adam's and AdamW's, eps RMSprop's too), with the state that a
 * resume needs. Zero-initialised it is plain Adam at a constant rate. */
typedef struct {
    clfit_opt_kind kind;
    float momentum;         /* SGD and RMSprop (0: none) */
    int nesterov;           /* SGD: Nesterov momentum (needs momentum > 0) */
    float rho;              /* RMSprop's decay of the mean square (Keras 0.9) */
    float weight_decay;     /* AdamW: decoupled; the others: added to the gradient, wd p (PyTorch) */
    float l2;               /* scikit-learn's alpha: loss += l2/(2B) sum W^2 over the weights (not
                               biases), so the gradient gains l2 W / B */
    float clipnorm;         /* > 0: the gradient scaled to this global norm when above it */
    clfit_sched_kind sched;
    float warmup_epochs;    /* cosine: linear warm-up epochs (may be fractional) */
    float gamma;            /* exponential: factor per epoch */
    float factor;           /* plateau: factor on each reduction (0.1) */
    int patience;           /* plateau: epochs without improvement before one (10) */
    long sched_epochs;      /* cosine: the epochs the schedule spans (set by the first fit) */
    long sched_steps;       /* cosine: steps per epoch it was planned with */
    /* plateau's state */
    float lr_scale;         /* the product of the reductions so far (1 at the start) */
    double best;            /* the best monitored loss so far (inf at the start) */
    int bad_epochs;         /* epochs since it improved */
} clfit_optim;

/* Plain Adam, constant rate, no decay or clipping: the tutorial's */
void clfit_optim_defaults(clfit_optim *o);

/* Whether o is what the fused Adam kernels do by themselves: Adam without weight decay, or
 * AdamW; with or without L2; no clipping (any schedule: the rate is the host's per step).
 * The slice backend takes plain Adam alone (no L2 either). */
int clfit_optim_fused(const clfit_optim *o);
/* Whether o is plain Adam: fused, and no decay or L2 either (what adam_cl and the slice
 * backend apply by themselves). */
int clfit_optim_plain_adam(const clfit_optim *o);

/* The learning rate of optimizer step `step` (1-based) of epoch `epoch` (1-based), with
 * steps_per_epoch steps an epoch: base lr through the schedule (see clfit_sched_kind). */
float clfit_optim_lr(const clfit_optim *o, float lr, long epoch, long step, long steps_per_epoch);

/* The plateau schedule's end-of-epoch update with the monitored loss (lr: the base rate). */
void clfit_optim_epoch_end(clfit_optim *o, float lr, double monitored);

typedef struct {
    clfit_model_desc desc;
    int nlayers;
    clfit_layer layer[CLFIT_MAX_LAYERS];
    size_t nparams;         /* length of params, m, v, including alignment padding */
    float *params;          /* owned */
    float *m, *v;           /* Adam's first and second moments, owned */
    long step;              /* optimizer steps taken so far */
    clfit_adam_cfg adam;    /* lr (every optimizer's), Adam's betas and eps */
    clfit_optim opt;        /* which optimizer, decay, clipping, schedule */
    uint64_t dropout_seed;  /* the dropout masks' key (the model's seed) */
    /* What a table's model keeps of its data (include/clfit/table.h), NULL otherwise:
     * the standardisation of its inputs (desc.input floats each), applied before the
     * first layer by evaluate, predict and export; its classes' names (desc.classes). */
    float *norm_mean, *norm_std;
    char **class_names;
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

/* A new regression model's start: the last layer's bias set to the mean of each target
 * over the n rows of targets (n x classes values, the training rows), so that training
 * begins at the targets' level rather than 0 (a target far from 0, e.g. a price, would
 * otherwise spend its first epochs on the offset alone). */
void clfit_model_center_outputs(clfit_model *m, const float *targets, int n);

/* The optimizer's step on every parameter with the mean loss's gradient grads (nparams
 * floats; modified: L2 and clipping are applied to it), at the step's learning rate lr:
 * L2 (weights only), then the global-norm clip, then the optimizer. m->step is the step
 * this is (already incremented). Moments: m->m (Adam's m, or the momentum buffer),
 * m->v (the mean square). */
void clfit_ref_optim_step(clfit_model *m, float *grads, float lr, int B);

/* ---- CPU reference training path ---- */

/* Scratch for the reference forward/backward at batch sizes up to max_batch. */
typedef struct clfit_ref_work clfit_ref_work;
clfit_ref_work *clfit_ref_work_new(const clfit_model *m, int max_batch, clfit_status *st);
void clfit_ref_work_free(clfit_ref_work *w);
/* A regression model's targets for the calls that follow: the batch's values (B,classes,
 * row b for x's row b), read by the calls below in place of y's one-hot labels; NULL
 * again: none. The caller keeps them alive. */
void clfit_ref_work_targets(clfit_ref_work *w, const float *targets);
/* A regression's last call's sum over its rows of each row's mean absolute error (mae's,
 * as the device accumulates it); 0 for a classifier. */
float clfit_ref_work_abs_sum(const clfit_ref_work *w);
/* How many of the last call's B rows of m's logits have their two largest within margin
 * of each other: the rows whose argmax a rounding-sized change to the weights can flip. */
int clfit_ref_work_near_ties(const clfit_ref_work *w, const clfit_model *m, int B, float margin);

/* Forward pass of x (B,input) through params (laid out as m's), then the loss against y.
 * Returns the loss summed over the batch in *loss_sum and the correct count in *correct.
 * Unless grads is NULL, also runs the backward pass and writes the gradient of the *mean*
 * loss into grads (nparams floats; padding set to zero). If logits is not NULL it
 * receives the (B,classes) logits. */
clfit_status clfit_ref_forward_backward(const clfit_model *m, clfit_ref_work *w,
                                        const float *params, const float *x, const uint8_t *y,
                                        int B, float *grads, float *logits, float *loss_sum,
                                        int *correct);

/* The same in training: each hidden layer's dropout (mask for optimizer step `step`, row
 * row0 + b of its batch) applied after its activation. */
clfit_status clfit_ref_forward_backward_train(const clfit_model *m, clfit_ref_work *w,
                                              const float *params, const float *x, const uint8_t *y,
                                              int B, long step, int row0, float *grads, float *loss_sum,
                                              int *correct);

/* One training step on the CPU at learning rate lr (the schedule's, clfit_optim_lr):
 * forward_backward_train on m->params with step m->step + 1's dropout, then
 * clfit_ref_optim_step. */
clfit_status clfit_ref_train_step(clfit_model *m, clfit_ref_work *w, const float *x,
                                  const uint8_t *y, int B, float lr, float *loss_sum, int *correct);

#endif
