/* Known device defects, detected by small kernels (canaries) when a device is first used
 * and cached per device and driver beside the tuning database, and the tunables kept clear
 * of them. The one known so far: a cap on the loop passes of one work-item (Mesa's
 * llvmpipe under rusticl: 65,535 passes over all of an invocation's loops together, past
 * which each loop runs once and the kernel's results are silently wrong). clfit estimates
 * each kernel's passes a work-item at the model's sizes (an upper bound, from the loops in
 * kernels/) and keeps them below the cap: the one-launch step's slice shaped to fit, a
 * backend that cannot fit not used there. Implementation: host/canary.c. */
#ifndef CLFIT_CANARY_H
#define CLFIT_CANARY_H

#include "clfit/cl.h"
#include "clfit/model.h"
#include "clfit/params.h"

/* The device's loop cap (passes a work-item), 0 when it has none: probed once per device
 * and driver (a kernel whose one loop makes 100,000 passes), then cached. */
clfit_status clfit_canary_loop_cap(clfit_cl *cl, long *cap);

/* The most loop passes one work-item of p's backend makes in a training step of model d at
 * batch, or in evaluation's batches of 1,000 (every loop of its kernel together), and in
 * *kernel (may be NULL) that kernel. */
long clfit_step_passes(const clfit_params *p, const clfit_model_desc *d, int batch, const char **kernel);

/* slice_step's passes a work-item for a step of B rows of IN inputs, H hidden units and C
 * classes (both halves: the end of one step and the start of the next). */
long clfit_slice_passes(const clfit_params *p, long IN, long H, long C, long B);

/* Keeps p's step below a loop cap (cap 0: none, nothing changes): for the one-launch step,
 * the slice tunables nearest p's that fit (work-groups of at most max_wg, 0: any). Returns
 * 1 when p's backend fits (why: what was changed, or ""), 0 when it cannot (why: which
 * kernel, its passes and the cap). */
int clfit_loop_fit(long cap, size_t max_wg, const clfit_model_desc *d, int batch, clfit_params *p, char *why,
                   size_t wsize);

#endif
