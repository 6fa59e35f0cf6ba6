/* adam_cl (kernels/adam.cl, host/adam.c) against adam_ref over three steps, through
 * clfit_verify_run (host/verify.c states each tolerance: m and v exact). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"adam", "adam", NULL},
    };
    return run_verify_suite("adam", cases, sizeof cases / sizeof cases[0]);
}
