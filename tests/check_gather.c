/* scale_images_cl + gather_batch_cl (kernels/gather.cl, host/gather.c) against
 * gather_batch_ref, through clfit_verify_run (host/verify.c states each tolerance). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"gather", "gather", NULL},
    };
    return run_verify_suite("gather", cases, sizeof cases / sizeof cases[0]);
}
