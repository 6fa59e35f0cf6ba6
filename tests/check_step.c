/* Whole training steps on every backend that runs them (host/train.c and the backends)
 * against clfit_ref_train_step, for models that between them take every part: the
 * activations, dropout, both losses, the optimizers with decay, L2 and clipping; through
 * clfit_verify_run (host/verify.c's train_step states the tolerances, and why RMSprop is
 * checked in check_optim and check_train instead). */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"train_step", "train_step", NULL},
    };
    return run_verify_suite("step", cases, sizeof cases / sizeof cases[0]);
}
