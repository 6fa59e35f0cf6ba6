/* clfit's own fused training step (kernels/fused.cl, host/fused.c) against the references
 * it fuses: dense_forward_ref + relu, softmax_xent_ref + dense_backward_ref, adam_ref,
 * batch_stats_ref;
 * through clfit_verify_run (host/verify.c states each tolerance and how a fused Adam update
 * is checked without counting the gradient's error twice). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"forward", "fused_forward", NULL},
        {"forward_head", "fused_forward_head", NULL},
        {"backward_data", "fused_backward_data", NULL},
        {"grad_adam", "fused_grad_adam", NULL},
        {"head_stats", "fused_head_stats", NULL},
    };
    return run_verify_suite("fused", cases, sizeof cases / sizeof cases[0]);
}
