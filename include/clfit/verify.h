/* clfit verify: every kernel and CLBlast call the trainer uses, run on a device against
 * the CPU reference on fresh random inputs, each output compared with clfit_compare under
 * a tolerance whose reason is stated. `clfit verify` prints these rows as a table; the
 * Check suites assert that they pass. */
#ifndef CLFIT_VERIFY_H
#define CLFIT_VERIFY_H

#include <stdint.h>

#include "clfit/cl.h"

typedef struct {
    const char *op;             /* the operation, e.g. "dense_forward" */
    char sizes[64];             /* e.g. "B=32 IN=784 OUT=128 relu" */
    char what[24];              /* the output compared, e.g. "dW" */
    const char *why;            /* the tolerance's reason, e.g. "2 gamma_K sum|a||b|" */
    double atol, rtol;
    double max_abs, max_rel;
    size_t n, failures, nonfinite, worst;
    double worst_got, worst_want;
    int pass;
    int skipped;                /* not run (pass set): the device cannot run it right, for a
                                   reason clfit knows and avoids in training; why says it */
} clfit_verify_row;

typedef void (*clfit_verify_report)(const clfit_verify_row *row, void *user);

/* One device operation of the registry (host/verify.c): its name, the kernels (and
 * CLBlast calls) it checks, their kernels/ file, the reference functions (host/ref.c,
 * host/model.c) it compares with, and the backends whose training step runs it (bit g:
 * clfit_gemm g; 0: none, verify alone). */
typedef struct {
    const char *name, *kernels, *source, *reference;
    unsigned backends;
} clfit_verify_op;

/* The operations, in the order clfit verify runs them: clfit_verify_op_at(0 ..
 * clfit_verify_nops - 1); NULL outside. */
extern const int clfit_verify_nops;
const clfit_verify_op *clfit_verify_op_at(int i);

/* Runs op once at dims (see clfit_verify_sizes for their meaning) with inputs drawn from
 * seed, and reports one row per output compared. Returns a status only when the run
 * itself fails (an OpenCL error); a wrong result is a row with pass == 0. */
clfit_status clfit_verify_run(clfit_cl *cl, const char *op, const int dims[4], uint64_t seed,
                              clfit_verify_report report, void *user);

/* The sizes clfit verify and the suites use for op, up to max of them, into dims; small
 * selects a few small ones (for Oclgrind). Returns how many. dims are (N, D, B) for
 * gather; (B, IN, OUT) for the dense and fused layers (IN unused by dense_bias_*), and
 * for fused_grad_adam a 4th, C: the classes of a last layer (OUT -> C) updated in the same
 * launch, 0 for none; (B, IN, H, C) for fused_forward_head and slice_step; (n) for adam
 * and optim; (B) for fused_head_stats; (B, C) for softmax_xent; (B, cols) for act. */
int clfit_verify_sizes(const char *op, int small, int dims[][4], int max);

/* op's sizes in a training step of model d at batch B (as clfit_verify_sizes' dims), up to
 * max: what the tuner checks a candidate at. 0 where d's step does not run op; -1 where
 * op's sizes do not follow the model (then its small sizes alone). */
int clfit_verify_step_sizes(const char *op, const clfit_model_desc *d, int B, int dims[][4], int max);

#endif
