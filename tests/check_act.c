/* The activations and dropout (kernels/act.cl: dense_bias_act's forward, act_backward, and
 * fused.cl's fused_act_backward) against act_forward_ref, dropout_forward_ref and
 * act_backward_ref, through clfit_verify_run (host/verify.c states each tolerance). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"every activation, with and without dropout", "act", NULL},
    };
    return run_verify_suite("act", cases, sizeof cases / sizeof cases[0]);
}
