/* relu_backward_cl (kernels/relu.cl, host/relu.c) against relu_backward_ref, in place and
 * not, through clfit_verify_run (host/verify.c states each tolerance). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"backward", "relu_backward", NULL},
    };
    return run_verify_suite("relu", cases, sizeof cases / sizeof cases[0]);
}
