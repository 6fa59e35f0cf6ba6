/* The one-launch step shaped for GPUs (kernels/slice.cl, host/slice.c) against the
 * references it fuses: dense_forward_ref + relu, softmax_xent_ref + dense_backward_ref,
 * adam_ref; three launches as a trainer makes them (forward; end with Adam and the next
 * forward, short; end in evaluation), through clfit_verify_run (host/verify.c states each
 * tolerance). The sizes include G = 1 and G > 1 groups, a last group with fewer than HS
 * units, and batches above the work-group size. */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"step", "slice_step", NULL},
    };
    return run_verify_suite("slice", cases, sizeof cases / sizeof cases[0]);
}
