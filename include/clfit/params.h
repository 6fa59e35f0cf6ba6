/* clfit's tunables: every parameter of the training step that changes its speed but not
 * its results on a device (which backend runs the step; the fused kernels' vector width,
 * work-group sizes and register blocks; the small kernels' work-group sizes), listed once
 * with each one's search space (host/params.c), as CLBlast's tuner lists its kernels'
 * parameters; and the built-in defaults per device class, used until a device is tuned.
 * The tuner (clfit/tune.h) searches these; the program is built with them as -D options. */
#ifndef CLFIT_PARAMS_H
#define CLFIT_PARAMS_H

#include <stddef.h>

#include "clfit/model.h"
#include "clfit/status.h"

/* How a training step runs on the device:
 *  CLBLAST: the products through CLBlastSgemm, then the small kernels (dense.cl, act.cl,
 *           softmax_xent.cl, gather.cl) and one Adam kernel over all parameters;
 *  OWN:     clfit's fused kernels (fused.cl), shaped for CPUs: two launches a step, with
 *           few work-items that each own a block of rows. Needs a hidden layer;
 *  SLICE:   one launch a step (slice.cl), shaped for GPUs: each work-group owns a slice of
 *           the hidden units and their parameters. Needs exactly one hidden layer. */
typedef enum { CLFIT_GEMM_CLBLAST, CLFIT_GEMM_OWN, CLFIT_GEMM_SLICE } clfit_gemm;
#define CLFIT_GEMM_COUNT 3
extern const char *const clfit_gemm_names[CLFIT_GEMM_COUNT]; /* "clblast", "own", "slice" */

typedef enum {
    CLFIT_P_BACKEND,    /* clfit_gemm: which backend runs the step */
    CLFIT_P_VW,         /* fused kernels: float vector width */
    CLFIT_P_FWGS,       /* fused_forward(_head), fused_backward_data: work-group size */
    CLFIT_P_RB,         /* fused_forward(_head): rows per work-item */
    CLFIT_P_CB,         /* fused_forward(_head): VW-column vectors per block */
    CLFIT_P_GWGS,       /* fused_grad_adam: work-group size */
    CLFIT_P_RG,         /* fused_grad_adam: weight rows per work-item */
    CLFIT_P_CG,         /* fused_grad_adam: VW-column vectors per register tile */
    CLFIT_P_TR,         /* fused_grad_adam: register tiles per work-item along the weight rows */
    CLFIT_P_TC,         /* fused_grad_adam: register tiles per work-item along the columns */
    CLFIT_P_KC,         /* fused_grad_adam: batch rows per pass over a work-item's tiles */
    CLFIT_P_TF,         /* fused_forward_head: blocks of RB rows per work-item */
    CLFIT_P_KF,         /* fused_forward_head: inputs per pass over a work-item's row blocks */
    CLFIT_P_SPL,        /* own: training steps a launch (1: two launches a step; more: fused_steps) */
    CLFIT_P_SXE_WGS,    /* softmax_xent: its one work-group's size (power of 2) */
    CLFIT_P_WGS,        /* element-wise kernels (gather, bias, ReLU, Adam, scale_images) */
    CLFIT_P_HS,         /* slice_step: hidden units per work-group */
    CLFIT_P_SWGS,       /* slice_step: work-group size */
    CLFIT_P_KS,         /* slice_step: work-items per sum of the forward pass */
    CLFIT_P_COUNT
} clfit_param_id;

typedef struct {
    int v[CLFIT_P_COUNT];
} clfit_params;

/* The most floats fused_grad_adam's work-item keeps between its passes over the batch
 * (TR * TC * RG * CG * VW), and fused_forward_head's between its passes over the inputs
 * (TF * RB * CB * VW): 32 KB, an L1 cache; clfit_cl_set_params refuses more. */
#define CLFIT_PRIVATE_FLOATS 8192

/* One tunable: its name (the -D name, the key in the tuning database and in $CLFIT_TUNE),
 * what it shapes, the backend it matters to (-1: both), its search space, and for one
 * added after tuning databases were written, the value that runs its kernels as they were
 * before it (what an entry without it stands for; 0: none, such an entry is refused). */
typedef struct {
    const char *name;
    const char *what;
    int backend;
    int n;
    int values[12];
    int before;
} clfit_tunable;
extern const clfit_tunable clfit_tunables[CLFIT_P_COUNT];

/* The device classes that have built-in defaults. A CPU is AVX-512 when PoCL names its
 * target so (pthread-skylake-avx512-...) or, on other implementations, when its native
 * float vector width is 16; other CPUs (AVX2, and narrower) share the AVX2 defaults. */
typedef enum {
    CLFIT_CLASS_CPU_AVX2,
    CLFIT_CLASS_CPU_AVX512,
    CLFIT_CLASS_GPU_NVIDIA,
    CLFIT_CLASS_GPU_OTHER,
    CLFIT_CLASS_COUNT
} clfit_device_class;
extern const char *const clfit_device_class_names[CLFIT_CLASS_COUNT]; /* "cpu-avx2", ... */

/* The built-in defaults of a device class. */
void clfit_params_default(clfit_device_class c, clfit_params *p);

/* Whether tunable id is a -D option of the program (the backend and SPL are the host's:
 * programs that differ in them alone are one). */
int clfit_param_in_program(int id);

/* Index of name in clfit_tunables (case-sensitive), or -1. */
int clfit_param_find(const char *name);

/* Whether value is in tunable id's search space. */
int clfit_param_allowed(int id, int value);

/* Whether tunable id shapes the step that backend runs. */
int clfit_param_matters(int id, int backend);

/* Whether tunable id is a work-group size (FWGS, GWGS, SXE_WGS, WGS, SWGS). */
int clfit_param_is_wg(int id);

/* The largest value of tunable id's search space that is at most limit (limit 0: no
 * limit, the value v itself); 0 if none is. */
int clfit_param_fit(int id, int v, size_t limit);

/* Lowers each work-group size of p that is above limit (a device's largest work-group;
 * 0: none) to the largest value of its space within it. */
void clfit_params_fit_wg(clfit_params *p, size_t limit);

/* Applies "NAME=VALUE,NAME=VALUE" (VALUE a number, or clblast/own/slice for BACKEND) onto *p.
 * Each name must be a tunable and each value in its search space; on error *p is
 * unchanged and the message names the bad item. `what` names the source in messages
 * ("CLFIT_TUNE", "--params"). */
clfit_status clfit_params_parse(const char *s, const char *what, clfit_params *p);

/* "own VW=8 FWGS=16 RB=4 CB=2 GWGS=16 RG=4 CG=1 SXE_WGS=64": the backend, then the
 * tunables that matter to it. Returns buf. */
char *clfit_params_format(const clfit_params *p, char *buf, size_t size);
/* "VW=8 FWGS=16 ... WGS=64": every kernel tunable, whichever backend (for verify, which
 * runs the kernels of both). Returns buf. */
char *clfit_params_format_all(const clfit_params *p, char *buf, size_t size);

#endif
