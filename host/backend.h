/* The trainer's backends: how one training step runs on the device. host/train.c holds
 * what every backend shares (the parameters, optimizer state, activations, the statistics,
 * the optimizer's step from a gradient in memory) and calls the backend through this table;
 * each backend is one file:
 *   host/backend_clblast.c  CLBlast's SGEMMs + small kernels; every model, every optimizer
 *   host/backend_own.c      the fused kernels (fused.cl); fused Adam/AdamW, the others through
 *                           the gradient in memory
 *   host/backend_slice.c    one launch a step (slice.cl): one hidden layer, the tutorial's parts
 * Not part of the public API. A new backend: docs/extending.md. */
#ifndef CLFIT_BACKEND_H
#define CLFIT_BACKEND_H

#include "clfit/cl.h"
#include "clfit/train.h"

struct clfit_trainer {
    clfit_cl *cl;
    const struct clfit_backend *be;
    const char *cannot_train;              /* why the backend cannot train this model's optimizer, or NULL */
    clfit_model_desc desc;
    int nlayers;
    clfit_layer layer[CLFIT_MAX_LAYERS];
    size_t nparams;
    clfit_adam_cfg adam;
    clfit_optim opt;
    int fused_opt;                         /* clfit_optim_fused: own applies Adam in its kernels */
    uint64_t dropout_seed;
    int row0;                   /* the step's global batch row of this batch's row 0 (clfit_trainer_grad) */
    float lr;                              /* the next step's learning rate (clfit_trainer_set_lr) */
    long step;
    int max_batch;
    /* all owned: */
    cl_mem params, grads, m, v;            /* grads: the gradient in memory (made when first needed) */
    cl_mem wt;                             /* own: the last layer's weights transposed (C,H) */
    cl_mem loss_row, right_row;            /* own, slice: each row's loss and correctness (max_batch) */
    cl_mem rows, part, dl;                 /* slice: see clfit_slice_io */
    cl_mem wr, clip_part;                  /* optim_cl's weight ranges (L2) and partial sums (clipping) */
    int nwr;
    int groups;                            /* slice: G, the work-groups of its launch */
    /* slice: the step whose forward pass has run and whose end (loss, and with grad its
     * update) the next launch does; pend_x and pend_labels are retained */
    int pend_B, pend_grad, cur;
    cl_mem pend_x, pend_labels;
    cl_mem x, y;                           /* the gathered batch: (B,input) float (clblast, own), (B)
                                              uchar (clblast) */
    cl_mem ty;                             /* clblast, a regression's: the batch's values (B,classes) */
    /* own's fused_steps (several steps a launch), in two halves used by turns: each step's
     * alpha and keep (2 * SPL floats: while one half is being written the other may still
     * be read), the host's copy of them and the events of their writes, the launch's
     * counters (nctr ints for steps_groups work-groups; a launch zeroes the other half's);
     * the failure flag (1 int), and the steps launched since it was last read */
    cl_mem step_par[2], ctr[2], flag;
    float *step_host;
    cl_event step_ev[2];
    int step_half, nctr, steps_groups, steps_unchecked;
    cl_mem act[CLFIT_MAX_LAYERS + 1];      /* act[l+1]: layer l's output (B,out); act[0] = x */
    cl_mem dact[CLFIT_MAX_LAYERS + 1];     /* gradients of act[l], l >= 1 */
    cl_mem pre[CLFIT_MAX_LAYERS + 1];      /* pre[l+1]: hidden layer l's activation input, where its
                                              derivative needs it (clfit_acts[].needs_input) */
    cl_mem loss_acc, correct_acc;          /* 4 floats (loss sum, compensation; a regression's absolute
                                              error sum, compensation), 1 int */
};

/* One backend. The batch has been checked (rows inside the data, B <= max_batch, the
 * inputs' width) before step, grad and eval are called. */
typedef struct clfit_backend {
    const char *name;
    /* Why this backend cannot run model d (o NULL), or train it with optimizer o over
     * `ranks` processes (o set; ranks > 1: data parallelism); NULL when it can. */
    const char *(*refuses)(const clfit_model_desc *d, const clfit_optim *o, int ranks);
    /* Its own buffers, after the shared ones are made; m is the model being uploaded. */
    clfit_status (*init)(clfit_trainer *t, const clfit_model *m);
    /* One training step on rows [start, start+B) of dd's order; t->step counts it. */
    clfit_status (*step)(clfit_trainer *t, const clfit_device_data *dd, int start, int B);
    /* n steps of B rows from start, step s at learning rate lr[s] (lr NULL: t->lr for all);
     * NULL: step is called n times. */
    clfit_status (*steps)(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int n, const float *lr);
    /* The gradient of those rows into t->grads, dlogits over denom, adding their loss;
     * NULL: the backend cannot leave its gradient in memory. */
    clfit_status (*grad)(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom);
    /* After the parameters changed outside the backend (clfit_trainer_apply's step from
     * t->grads); NULL: nothing to do. */
    clfit_status (*applied)(clfit_trainer *t);
    /* The forward pass and loss alone (evaluation), adding to the statistics. */
    clfit_status (*eval)(clfit_trainer *t, const clfit_device_data *dd, int start, int B);
    /* Ends any enqueued half-step, so that statistics, logits and weights are whole; NULL:
     * the backend leaves none. */
    clfit_status (*flush)(clfit_trainer *t);
    /* The buffer holding the last batch's logits (B, classes). */
    cl_mem (*logits)(const clfit_trainer *t);
} clfit_backend;

extern const clfit_backend clfit_backend_clblast, clfit_backend_own, clfit_backend_slice;

/* Shared by the backends (host/train.c). */

/* Hidden layer l's activation and dropout as the kernels take them: in training (want_grad)
 * with the dropout of the step being taken (t->step + 1), in evaluation none. */
clfit_act_io clfit_trainer_layer_act(const clfit_trainer *t, int l, int want_grad);

/* The optimizer's step from the gradient in t->grads over a batch of B (every optimizer, L2,
 * clipping), counted as step t->step + 1; then the backend's applied. */
clfit_status clfit_trainer_apply_grads(clfit_trainer *t, int B);

/* clfit_trainer_steps as n calls of the backend's step (each at lr[s] where lr is not NULL),
 * for a backend without steps or one that cannot run these steps its own way. */
clfit_status clfit_trainer_steps_each(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int n,
                                      const float *lr);

/* t->grads, zeroed (its padding between layers is never written), made if not yet made. */
clfit_status clfit_trainer_need_grads(clfit_trainer *t);

#endif
