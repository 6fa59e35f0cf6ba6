/* Dense layers on OpenCL (kernels/dense.cl, host/dense.c: CLBlast's SGEMM plus the bias,
 * ReLU and bias-gradient kernels) against dense_forward_ref, relu_forward_ref and
 * dense_backward_ref, through clfit_verify_run (host/verify.c states each tolerance).
 * The CLBlast cases are tagged so that the Oclgrind run skips them. */
#include "testutil.h"

int main(void)
{
    static const verify_case cases[] = {
        {"bias_act", "dense_bias_act", NULL},
        {"bias_grad", "dense_bias_grad", NULL},
        {"gemm", "dense_forward", "clblast"},
        {"gemm_backward", "dense_backward", "clblast"},
    };
    return run_verify_suite("dense", cases, sizeof cases / sizeof cases[0]);
}
