/* softmax_xent_cl (kernels/softmax_xent.cl, host/softmax_xent.c) against softmax_xent_ref:
 * gradient, loss sum, correct count, accumulation across calls, evaluation mode; through
 * clfit_verify_run (host/verify.c states each tolerance). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"softmax_xent", "softmax_xent", NULL},
    };
    return run_verify_suite("softmax_xent", cases, sizeof cases / sizeof cases[0]);
}
