/* Every optimizer from a gradient in memory (kernels/optim.cl: optim_update, grad_sumsq,
 * grad_clip_coef) against clfit_ref_optim_step, with weight decay, L2 and clipping, through
 * clfit_verify_run (host/verify.c states each tolerance). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"adam, adamw, sgd, rmsprop", "optim", NULL},
    };
    return run_verify_suite("optim", cases, sizeof cases / sizeof cases[0]);
}
