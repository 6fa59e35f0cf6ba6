/* clfit OpenCL path: device discovery and choice, one context with one in-order queue
 * (with profiling only while a profiler is attached), the program built from kernels/ (the
 * .cl files; embedded at build time, or read from $CLFIT_KERNEL_DIR) with the tunables of
 * clfit/params.h as -D options, compiled programs cached per device and driver, and the
 * launchers, each the twin of a *_ref in clfit/ref.h.
 * Launchers only enqueue: they never wait, so a caller can queue a whole epoch.
 * Who owns what: clfit_cl owns its context, queue, program and kernels; the caller owns
 * every cl_mem it passes to a launcher. */
#ifndef CLFIT_CL_H
#define CLFIT_CL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>

#include "clfit/model.h"
#include "clfit/params.h"
#include "clfit/profile.h"
#include "clfit/status.h"

/* The kernels clfit builds: the one list (kernel name, the tunable that sets its
 * work-group size, its file in kernels/), from which the enum CLFIT_K_<NAME>,
 * clfit_kernel_names, the work-group table and the program's files come: CMakeLists.txt
 * reads the files from here, in the order they first appear, and concatenates them so
 * into one program (a file may use what the files before it define). A new kernel is a
 * row here. ONE: a work-group of one work-item, whatever the tunables. */
#define CLFIT_KERNEL_LIST(X)                                                            \
    X(SCALE_IMAGES, scale_images, WGS, gather)                                          \
    X(GATHER_BATCH, gather_batch, WGS, gather)                                          \
    X(GATHER_TARGETS, gather_targets, WGS, gather)                                      \
    X(ACT_BACKWARD, act_backward, WGS, act)                                             \
    X(DENSE_BIAS_ACT, dense_bias_act, WGS, dense)                                       \
    X(DENSE_BIAS_GRAD, dense_bias_grad, WGS, dense)                                     \
    X(SOFTMAX_XENT, softmax_xent, SXE_WGS, softmax_xent)                                \
    X(ADAM_UPDATE, adam_update, WGS, adam)                                              \
    X(GRAD_SUMSQ, grad_sumsq, WGS, optim)                                               \
    X(GRAD_CLIP_COEF, grad_clip_coef, WGS, optim)                                       \
    X(OPTIM_UPDATE, optim_update, WGS, optim)                                           \
    X(FUSED_FORWARD, fused_forward, FWGS, fused)                                        \
    X(FUSED_FORWARD_HEAD, fused_forward_head, FWGS, fused)                              \
    X(FUSED_HEAD_STATS, fused_head_stats, FWGS, fused)                                  \
    X(FUSED_BACKWARD_DATA, fused_backward_data, FWGS, fused)                            \
    X(FUSED_GRAD_ADAM, fused_grad_adam, GWGS, fused)                                    \
    X(FUSED_ACT_BACKWARD, fused_act_backward, FWGS, fused)                              \
    X(FUSED_STEPS, fused_steps, ONE, fused)                                             \
    X(HEAD_TRANSPOSE, head_transpose, WGS, fused)                                       \
    X(SLICE_STEP, slice_step, SWGS, slice)                                              \
    X(PEAK_FMA4, peak_fma4, WGS, peak)                                                  \
    X(PEAK_FMA8, peak_fma8, WGS, peak)                                                  \
    X(PEAK_FMA16, peak_fma16, WGS, peak)

#define CLFIT_K_ENUM_(id, name, wg, file) CLFIT_K_##id,
enum { CLFIT_KERNEL_LIST(CLFIT_K_ENUM_) CLFIT_K_COUNT };
#undef CLFIT_K_ENUM_
extern const char *const clfit_kernel_names[CLFIT_K_COUNT];

typedef struct {
    int index;                  /* global index across platforms, as CLFIT_DEVICE takes it */
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[128];
    char name[256];
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_mem;
    char c_version[64];         /* "OpenCL C 1.2 ..." */
    char vendor[128];           /* CL_DEVICE_VENDOR */
    char driver[128];           /* CL_DRIVER_VERSION */
    cl_uint vendor_id;          /* CL_DEVICE_VENDOR_ID (0x10de: NVIDIA) */
    cl_uint vector_width;       /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT */
    size_t max_wg;              /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_ulong local_mem;         /* CL_DEVICE_LOCAL_MEM_SIZE */
} clfit_device_info;

/* Lists every device of every platform. *list is malloc'd (caller frees). A machine with
 * no platform gives CLFIT_ERR_NODEVICE. */
clfit_status clfit_cl_devices(clfit_device_info **list, int *count);

/* Picks a device: selector is a global index ("1") or a case-insensitive substring of the
 * device or platform name ("pocl", "H100"); NULL means $CLFIT_DEVICE, and if that is unset
 * the first GPU, else the first device. Sets *chosen to an index into list. */
clfit_status clfit_cl_pick(const clfit_device_info *list, int count, const char *selector,
                           int *chosen);

/* The class whose built-in defaults a device starts from (see clfit/params.h). */
clfit_device_class clfit_cl_device_class(const clfit_device_info *d);

/* The model family a program is compiled for (kernels/act.cl's ACT_ONLY, NO_DROPOUT,
 * LOSS_ONLY): the one activation of every hidden layer (-1: any, chosen per launch),
 * whether any layer may drop (0: none, the dropout code is left out) and the loss (-1:
 * any). Compiling the choices in leaves one activation's code in each kernel. */
typedef struct {
    int act, drops, loss;
} clfit_family;
#define CLFIT_FAMILY_ANY ((clfit_family){-1, 1, -1})

/* The family of the models with description d (CLFIT_FAMILY_ANY for d NULL), and whether a
 * program compiled for family f runs them. */
clfit_family clfit_family_of(const clfit_model_desc *d);
int clfit_family_runs(clfit_family f, const clfit_model_desc *d);

/* A program built with one set of tunables, and its kernels. */
typedef struct {
    cl_program program;
    cl_kernel kernel[CLFIT_K_COUNT];
    clfit_params asked;         /* the tunables asked for */
    clfit_params p;             /* those it was built with: asked, with the work-group sizes
                                   the device's kernels could not run lowered */
    char limits[512];           /* what was lowered and why ("WGS 64 -> 32: scale_images
                                   allows 32; ..."), or "" */
    clfit_family family;
    unsigned long used;         /* when it was last made current (least recent is replaced) */
} clfit_built;
#define CLFIT_BUILT_SLOTS 4

typedef struct clfit_cl {
    clfit_device_info info;
    clfit_device_class cls;     /* the device's class (its built-in defaults) */
    cl_context ctx;
    cl_command_queue queue;     /* in-order; CL_QUEUE_PROFILING_ENABLE while prof is set */
    int queue_profiling;
    cl_program program;         /* the current program and kernels: one of built[] */
    cl_kernel kernel[CLFIT_K_COUNT];
    clfit_built built[CLFIT_BUILT_SLOTS]; /* the last few programs built (owned), so that the
                                             tuner can switch between them without a build */
    unsigned long clock;
    clfit_params p;             /* the tunables the program was built with, and the backend */
    const char *limits;         /* the current program's clfit_built.limits */
    long loop_cap;              /* the device's loop cap (clfit/canary.h): -1 not probed yet, 0 none */
    clfit_family family;        /* the model family it was compiled for (clfit_cl_set_family) */
    int program_cached;         /* the program came from the binary cache */
    double build_seconds;       /* the last build's wall time */
    char *build_log;            /* with $CLFIT_VERBOSE: the last build's log (owned), else NULL */
    clfit_profiler *prof;       /* NULL: no events are created (see clfit/profile.h) */
} clfit_cl;

/* Opens the device chosen by clfit_cl_pick(selector), creates the context and queue and
 * builds the program with the device class's defaults, overridden by $CLFIT_TUNE
 * ("RB=8,CB=1"). Work-group sizes the device's kernels cannot run are lowered as
 * clfit_cl_set_params lowers them. On a build failure the
 * message holds the device's build log. Returns NULL and sets *st on failure. */
clfit_cl *clfit_cl_open(const char *selector, clfit_status *st);

/* The same with the given parameters instead of the class defaults ($CLFIT_TUNE still
 * overrides them). */
clfit_cl *clfit_cl_open_params(const char *selector, const clfit_params *p, clfit_status *st);

/* Makes the program built with p current: one of the last CLFIT_BUILT_SLOTS built if it
 * has the same kernel tunables (the backend alone needs no build), else a new build. Each
 * value must be in its search space (else CLFIT_ERR_ARG). A work-group size above what the
 * device allows (CL_DEVICE_MAX_WORK_GROUP_SIZE), or above what a built kernel allows
 * (CL_KERNEL_WORK_GROUP_SIZE, which on GPUs falls as a kernel needs more registers; or a
 * size whose local memory the device lacks), is lowered to the largest value of its space
 * that fits and the program rebuilt: cl->p is then what runs and cl->limits says what was
 * lowered and why ("" when nothing was). If the build fails, the previous program stays and
 * an error is returned. Compiled programs are cached
 * in the cache directory (clfit/cache.h), keyed by platform, device, driver, build
 * options and sources: a second run compiles nothing. The compiler's warnings are
 * suppressed (-w) unless $CLFIT_VERBOSE is set, which also keeps the build log. */
clfit_status clfit_cl_set_params(clfit_cl *cl, const clfit_params *p);

/* Compiles the current tunables' program for the family of models d (NULL: any model), as
 * clfit_cl_set_params builds (or finds among the last built). Trainers refuse models
 * outside cl's family (clfit_family_runs). */
clfit_status clfit_cl_set_family(clfit_cl *cl, const clfit_model_desc *d);
clfit_status clfit_cl_use_family(clfit_cl *cl, clfit_family f); /* the same with the family itself */

/* clfit_cl_open_params with the program compiled for d's family (d NULL: any model). */
clfit_cl *clfit_cl_open_for(const char *selector, const clfit_params *p, const clfit_model_desc *d,
                            clfit_status *st);

/* A hash of the kernels' sources (embedded, or $CLFIT_KERNEL_DIR's): part of the keys of
 * what is cached about them. 0 if they cannot be read. */
unsigned long long clfit_cl_sources_hash(void);

/* Releases in reverse order of creation; NULL is fine. */
void clfit_cl_close(clfit_cl *cl);

/* A device buffer of `bytes`, copied from host if host is not NULL. NULL on failure. */
cl_mem clfit_cl_buffer(clfit_cl *cl, size_t bytes, const void *host, clfit_status *st);

/* Blocking copies between host and device, with offsets in bytes. */
clfit_status clfit_cl_write(clfit_cl *cl, cl_mem buf, size_t offset, size_t bytes,
                            const void *host);
clfit_status clfit_cl_read(clfit_cl *cl, cl_mem buf, size_t offset, size_t bytes, void *host);

/* Fills bytes of buf from offset with zeros (enqueued, not waited for). */
clfit_status clfit_cl_zero(clfit_cl *cl, cl_mem buf, size_t offset, size_t bytes);

/* Attaches a profiler (not owned) to cl, or detaches with NULL; the queue is replaced by
 * one with profiling enabled while a profiler is attached (after waiting for it), so that
 * runs without one pay nothing. Records the offset between the device's and the host's
 * clocks for the trace (through a marker, else a one-byte fill; without either the
 * trace's device track is left unaligned and the profiler's notes say so). */
clfit_status clfit_cl_set_profiler(clfit_cl *cl, clfit_profiler *p);

/* Waits for everything queued. */
clfit_status clfit_cl_finish(clfit_cl *cl);

/* ---- launchers: the *_cl twins of the references in clfit/ref.h ---- */

/* A hidden layer's activation and, in training, its dropout, as the kernels take them
 * (kernels/act.cl). A launcher given NULL for one applies no activation (linear). */
typedef struct {
    int act;            /* clfit_act */
    cl_mem pre;         /* (B,out): the forward pass stores the activation's input z there,
                           the backward pass reads it; NULL: not kept (relu, linear,
                           leaky_relu: their derivative follows from the output) */
    float rate, scale;  /* dropout rate and 1/(1-rate); rate 0: no dropout */
    cl_uint4 key;       /* seed (low, high word), optimizer step (low, high) */
    int layer;          /* hidden layer index: part of the mask's counter */
    cl_uint e0;         /* the mask's number of this launch's element 0: row0 * cols, where
                           row0 is the row of the step's whole batch that row 0 is (a
                           process's slice under data parallelism; 0 otherwise) */
} clfit_act_io;

/* An activation alone: no kept input, no dropout. */
clfit_act_io clfit_act_only(int act);
/* act with dropout `rate` of hidden layer `layer` at optimizer step `step` with `seed`
 * (dropout_uniform_ref's numbering), keeping z in pre (may be NULL). */
clfit_act_io clfit_act_train(int act, cl_mem pre, float rate, uint64_t seed, int layer, long step);

/* C (M,N) = alpha op(A) op(B) + beta C, row-major, offsets and leading dimensions in
 * floats; op(X) is X or X^T. Through CLBlastSgemm. */
clfit_status gemm_cl(clfit_cl *cl, int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, cl_mem A, size_t a_off, size_t lda, cl_mem B, size_t b_off,
                     size_t ldb, float beta, cl_mem C, size_t c_off, size_t ldc);

/* x[i] = images[i] / 255 (bytes to floats), i < n: done once per dataset upload. */
clfit_status scale_images_cl(clfit_cl *cl, cl_mem x, cl_mem images, size_t n);

/* x (B,D) = data[order[start+b]], y (B) = labels[order[start+b]], from the scaled dataset
 * data (N,D); with scale_images_cl before it, the twin of gather_batch_ref. */
clfit_status gather_batch_cl(clfit_cl *cl, cl_mem x, cl_mem y, cl_mem data, cl_mem labels,
                             cl_mem order, int start, int B, int D);

/* ty (B,T) = targets[order[start+b]]: a regression's values (N,T) for the batch's rows
 * (gather_batch_ref's rows). */
clfit_status gather_targets_cl(clfit_cl *cl, cl_mem ty, cl_mem targets, cl_mem order, int start, int B, int T);

/* out (B,layer->out) = inp (B,layer->in) . W + b, then the activation and dropout of a
 * (NULL: none); W and b are read from params at layer->w_off and layer->b_off. */
clfit_status dense_forward_cl(clfit_cl *cl, cl_mem out, cl_mem inp, cl_mem params,
                              const clfit_layer *layer, int B, const clfit_act_io *a);

/* The bias + activation half of dense_forward_cl alone (kernel dense_bias_act). */
clfit_status dense_bias_act_cl(clfit_cl *cl, cl_mem out, cl_mem params, size_t bias_off,
                               int B, int OUT, const clfit_act_io *a);

/* dinp (n) = the gradient at the activation's input from dout (n = B*cols, the gradient at
 * the layer's output after dropout): through a's dropout mask, then act' at a->pre (or at
 * out, the layer's output, where a->pre is NULL). dinp may be dout. (act_backward_ref) */
clfit_status act_backward_cl(clfit_cl *cl, cl_mem dinp, cl_mem dout, cl_mem out, int n,
                             const clfit_act_io *a);

/* The bias-gradient half of dense_backward_cl alone (kernel dense_bias_grad):
 * grads[bias_off + o] = sum over b of dout[b, o], summed in order b = 0..B-1. */
clfit_status dense_bias_grad_cl(clfit_cl *cl, cl_mem grads, size_t bias_off, cl_mem dout,
                                int B, int OUT);

/* grads[layer->w_off..] = inp^T dout, grads[layer->b_off..] = column sums of dout, and,
 * unless dinp is NULL, dinp (B,in) = dout W^T. */
clfit_status dense_backward_cl(clfit_cl *cl, cl_mem dinp, cl_mem grads, cl_mem dout,
                               cl_mem inp, cl_mem params, const clfit_layer *layer, int B);

/* Softmax cross-entropy of logits (B,C) against labels (B uchar): adds the batch's loss
 * sum to loss_acc (2 floats: sum, Kahan compensation) and its correct count to
 * correct_acc (1 int), and writes dlogits (B,C) = (softmax - onehot)/denom unless dlogits
 * is NULL (denom: B, or the global batch these rows are a slice of, >= B). */
clfit_status softmax_xent_cl(clfit_cl *cl, cl_mem dlogits, cl_mem loss_acc,
                             cl_mem correct_acc, cl_mem logits, cl_mem labels, int B, int C, int denom);
/* The same for any loss by its kernel code (clfit_loss_code: mse_ref's gradient over denom
 * for mse). Code 2, a regression's mse, reads targets (B,C: the batch's values) and adds
 * the rows' mean absolute errors to loss_acc[2] (compensation loss_acc[3]) instead of a
 * correct count; targets may be NULL otherwise. */
clfit_status loss_cl(clfit_cl *cl, int loss, cl_mem dlogits, cl_mem loss_acc, cl_mem correct_acc,
                     cl_mem logits, cl_mem labels, cl_mem targets, int B, int C, int denom);

/* The optimizer step of clfit_ref_optim_step over n parameters from the gradient grad
 * (read only) at learning rate lr and step (already counted) `step`: L2 on the weights,
 * whose ranges wr (nw pairs of float offsets [begin, end)) a device buffer holds; the
 * clip by global norm (two small launches first, into part: 65 floats); the optimizer.
 * wr and part may be NULL when l2 and clipnorm are 0. */
clfit_status optim_cl(clfit_cl *cl, cl_mem param, cl_mem m, cl_mem v, cl_mem grad, size_t n,
                      const clfit_adam_cfg *adam, const clfit_optim *o, float lr, long step, int B,
                      cl_mem wr, int nw, cl_mem part);

/* act_backward_cl in the fused kernels' vectors: d (B,cols) in place. */
clfit_status fused_act_backward_cl(clfit_cl *cl, cl_mem d, cl_mem out, int B, int cols, const clfit_act_io *a);

/* wt (C,H) = the last layer's W1 (H,C) transposed, from params (after an update that
 * fused_grad_adam did not make). */
clfit_status head_transpose_cl(clfit_cl *cl, cl_mem wt, cl_mem params, const clfit_layer *last);

/* One Adam update of n floats with the step size alpha = adam_alpha(lr, b1, b2, t). */
clfit_status adam_cl(clfit_cl *cl, cl_mem param, cl_mem m, cl_mem v, cl_mem grad, size_t n,
                     float alpha, const clfit_adam_cfg *cfg);

/* ---- the fused "own" step (kernels/fused.cl); each names its references ---- */

/* out (B,L->out) = drop(act(inp (B,L->in) . W + b)) with a's activation and dropout
 * (NULL: linear) (dense_forward_ref, act_forward_ref, dropout_forward_ref).
 * Row b of inp is inp[order[start+b]] when order is not NULL (the batch read straight
 * from the dataset), else inp[b]. With xg not NULL (B,L->in), the batch's rows are also
 * copied there, side by side (for fused_grad_adam_cl to read without the order). */
clfit_status fused_forward_cl(clfit_cl *cl, cl_mem out, cl_mem inp, cl_mem order, int start, cl_mem xg,
                              cl_mem params, const clfit_layer *L, int B, const clfit_act_io *a);

/* The last layer's inputs and outputs, per row, for fused_forward_head_cl. */
typedef struct {
    const clfit_layer *layer;       /* the last layer (H -> C) */
    cl_mem wt;                      /* its weights transposed, (C,H) floats */
    cl_mem logits;                  /* (B,C) */
    cl_mem dlogits;                 /* (B,C), or NULL in evaluation (no gradients) */
    cl_mem dh;                      /* (B,H): the gradient at the hidden layer's ReLU input */
    cl_mem loss_row, right_row;     /* (B) floats, (B) ints: each row's loss and correctness */
    cl_mem labels, order;           /* row b's label: labels[order[start + b]] */
    cl_mem targets;                 /* loss code 2: the dataset's values (N,C), row b's at
                                       order[start + b]; NULL otherwise */
    int start;
    int denom;                      /* dlogits over this (0: B): the global batch of a slice */
    int loss;                       /* the loss's kernel code (clfit_loss_code); with 2,
                                       right_row holds each row's absolute error's bits */
    const clfit_act_io *act;        /* the hidden layer's activation and dropout (NULL: relu) */
} clfit_head_io;

/* The last hidden layer L (inp (B,L->in) -> h (B,L->out), ReLU; rows through order, and
 * copied to xg unless it is NULL, as in fused_forward_cl) and then, row by row, the last layer: logits, each row's softmax
 * cross-entropy and correctness, and unless io->dlogits is NULL the gradients dlogits and
 * dh (dense_forward_ref, relu_forward_ref, softmax_xent_ref, dense_backward_ref,
 * relu_backward_ref). Reads the last layer's weights from io->wt. */
clfit_status fused_forward_head_cl(clfit_cl *cl, cl_mem h, cl_mem inp, cl_mem order, int start, cl_mem xg,
                                   cl_mem params, const clfit_layer *L, int B,
                                   const clfit_head_io *io);

/* Adds the B rows' losses (in row order) and right counts to the accumulators (loss_acc:
 * 2 floats, sum and Kahan compensation; correct_acc: 1 int), as fused_grad_adam_cl does
 * with a head; for evaluation. With values (a regression's), the absolute errors in
 * right_row instead of the counts, to loss_acc[2] and [3]. */
clfit_status fused_head_stats_cl(clfit_cl *cl, cl_mem loss_row, cl_mem right_row, int B,
                                 cl_mem loss_acc, cl_mem correct_acc, int values);

/* dinp (B,L->in) = (dout (B,L->out) . W^T) back through the dropout and activation a of
 * the layer whose output inp is (at a->pre, or inp where a->pre is NULL; a NULL: relu). */
clfit_status fused_backward_data_cl(clfit_cl *cl, cl_mem dinp, cl_mem dout, cl_mem inp,
                                    cl_mem params, const clfit_layer *L, int B, const clfit_act_io *a);

/* What fused_grad_adam_cl does besides layer L when head is not NULL: the last layer's own
 * update from h and dlogits (dense_backward_ref + adam_ref; wt rewritten with the new
 * weights) and the batch's loss added to the accumulators. */
typedef struct {
    const clfit_layer *layer;       /* the last layer (H -> C) */
    cl_mem wt, h, dlogits, loss_row, right_row, loss_acc, correct_acc;
    int values;                     /* a regression's loss: right_row holds absolute errors */
} clfit_head_update;

/* The gradient of layer L's W and b from inp (B,in) and dout (B,out), applied at once by
 * Adam with step size alpha to params, m and v (dense_backward_ref + adam_ref); or, with
 * gout not NULL, stored in gout at the parameters' indices instead (no Adam; with head,
 * wt left as it is). inp's rows go through order as in fused_forward_cl. With head, in the
 * same launch, the last layer's update and the batch's loss (see clfit_head_update). */
clfit_status fused_grad_adam_cl(clfit_cl *cl, cl_mem params, cl_mem m, cl_mem v, cl_mem gout, cl_mem inp,
                                cl_mem order, int start, cl_mem dout, const clfit_layer *L,
                                int B, float alpha, const clfit_adam_cfg *cfg,
                                const clfit_head_update *head);
/* The same with AdamW's decoupled decay: each parameter p *= keep (= 1 - lr wd) before its
 * Adam step, and L2 (scikit-learn's alpha): each weight's (not bias's) gradient + l2c p
 * first, l2c = l2 / B, as clfit_ref_optim_step (fused_grad_adam_cl is keep = 1, l2c = 0).
 * With gout the gradients are stored without the L2 (the optimizer adds it after the sum). */
clfit_status fused_grad_adamw_cl(clfit_cl *cl, cl_mem params, cl_mem m, cl_mem v, cl_mem gout, cl_mem inp,
                                 cl_mem order, int start, cl_mem dout, const clfit_layer *L,
                                 int B, float alpha, float keep, float l2c, const clfit_adam_cfg *cfg,
                                 const clfit_head_update *head);

/* Whether the device runs fused_steps: a CPU (its work-groups share memory through coherent
 * caches) without a loop cap (clfit/canary.h: it would end fused_steps' waits early).
 * Elsewhere the program is built without it (-DSTEPS=0: it takes Mesa's compiler a quarter
 * of the program's build) and cl->kernel[CLFIT_K_FUSED_STEPS] is NULL. */
int clfit_cl_runs_steps(clfit_cl *cl);

/* The work-groups of a fused_steps_cl launch: the device's compute units (PoCL's CPU
 * threads), at most 64, or $CLFIT_STEPS_GROUPS (tests); fused_steps_check_env refuses a
 * $CLFIT_STEPS_GROUPS that is not a whole number from 1 to 64. And the ints of the
 * counters a launch of nsteps steps takes. */
int fused_steps_groups(const clfit_cl *cl);
clfit_status fused_steps_check_env(void);
size_t fused_steps_counters(int G, int nsteps);

/* nsteps training steps with Adam of a one-hidden-layer model in one launch (fused_steps):
 * step s is fused_forward_head_cl on rows start + s * B of io's order (gathered into xg,
 * with gradients; its blocks as at TF = 1), then fused_grad_adamw_cl for layer 0 from xg
 * with the head's update, at step_par[2s] (alpha) and step_par[2s + 1] (keep), the same
 * bits as those 2 * nsteps launches. Its G work-groups share each phase's work through
 * counters (ctr: fused_steps_counters(G, nsteps) zeros; ctr_next, nctr ints, is zeroed for
 * the next launch) and wait for each other's items, never for each other to start; for
 * CPUs (their coherent caches; the atomics' acquire-release order). flag (1 int) is set when a wait
 * gave up (the steps are then not whole). No dropout (io->act's rate 0). */
clfit_status fused_steps_cl(clfit_cl *cl, cl_mem h, cl_mem inp, cl_mem xg, cl_mem params, cl_mem m, cl_mem v,
                            const clfit_layer *L, int B, const clfit_head_io *io, const clfit_head_update *head,
                            float l2c, const clfit_adam_cfg *cfg, cl_mem step_par, int nsteps, int G, cl_mem ctr,
                            cl_mem ctr_next, int nctr, cl_mem flag);

/* ---- the one-launch step (kernels/slice.cl) ---- */

/* The buffers of a one-hidden-layer model's one-launch step (slice_step_cl); each (maxB,..)
 * buffer holds up to maxB rows. */
typedef struct {
    const clfit_layer *l0, *l1;     /* the hidden layer (IN -> H) and the last (H -> C) */
    cl_mem params, m, v;
    cl_mem x, labels;               /* the dataset: (N,IN) floats, (N) labels */
    cl_mem rows;                    /* (2,maxB) ints: each step's dataset rows */
    cl_mem h, dh;                   /* (maxB,H) */
    cl_mem part;                    /* (2,G,maxB,C): each group's partial logits */
    cl_mem dl;                      /* (G,maxB,C): each group's dlogits (logits in evaluation) */
    cl_mem loss_row, right_row;     /* (maxB) floats, ints */
    cl_mem loss_acc, correct_acc;   /* 2 floats (sum, compensation), 1 int */
    int maxB;
} clfit_slice_io;

/* G, the number of work-groups (slices of the hidden layer) for H hidden units. */
int slice_groups(const clfit_cl *cl, int H);

/* One launch: with Bp > 0 it finishes the step whose rows and partial logits the launch
 * before left (rows[cur^1], part[cur^1]): loss and correct count added, and with
 * want_grad the gradients applied by Adam with step size alpha; with B > 0 it runs the
 * forward pass of rows order[start .. start+B) into h, rows[cur] and part[cur]. The next
 * launch takes cur^1. (dense_forward_ref, relu_*_ref, softmax_xent_ref,
 * dense_backward_ref, adam_ref.) */
clfit_status slice_step_cl(clfit_cl *cl, const clfit_slice_io *io, cl_mem order, int start, int B,
                           int cur, int Bp, int want_grad, float alpha, const clfit_adam_cfg *cfg);

/* ---- the device's arithmetic peak (kernels/peak.cl) ---- */

/* GFLOP/s of independent fma chains on float4, float8 and float16 vectors (gflops[0..2]),
 * each run long enough to take ~0.2 s on every compute unit; *best is the fastest and
 * *width its vector width. Fails (CLFIT_ERR_NUMERIC) if the kernel's output is not what
 * the chains compute, i.e. if it did not run. */
clfit_status clfit_peak_gflops(clfit_cl *cl, double gflops[3], double *best, int *width);

#endif
