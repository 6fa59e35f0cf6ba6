/* adam.cl: one Adam update over every parameter of the model (one flat array).
 * Reference: adam_ref (host/ref.c), Keras' formulation; alpha = adam_alpha(lr, b1, b2, t)
 * is computed on the host for each step. Test: tests/check_adam.c. */
#ifndef WGS
#define WGS 64
#endif

__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void adam_update(__global float *param, __global float *m, __global float *v,
                 __global const float *grad, int n, float alpha, float beta1, float beta2,
                 float eps)
{
#pragma OPENCL FP_CONTRACT OFF /* round m, v and the step as the reference does; the
                                  pragma is scoped to this body, not the whole program */
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= alpha * mi / (sqrt(vi) + eps);
}
