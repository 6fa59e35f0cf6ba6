/* adam.cl: one Adam update over every parameter of the model (one flat array).
 * Reference: adam_ref (host/ref.c), Keras' formulation; alpha = adam_alpha(lr, b1, b2, t)
 * is computed on the host for each step. Test: tests/check_adam.c.
 * adam_one is shared with fused.cl (concatenated after this file). */
#ifndef WGS
#define WGS 64
#endif

/* One parameter: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= alpha m / (sqrt(v) + eps).
 * The moments' last multiply-add is an explicit fma, as in adam_ref: a compiler may not
 * contract anything else here (a product feeding a division or an fma argument), so every
 * device rounds m and v exactly as the reference does. */
inline void adam_one(__global float *p, __global float *m, __global float *v, float g,
                     float alpha, float beta1, float beta2, float eps)
{
    float mi = fma(beta1, *m, (1.0f - beta1) * g);
    float vi = fma(beta2, *v, (1.0f - beta2) * g * g);
    *m = mi;
    *v = vi;
    *p -= alpha * mi / (sqrt(vi) + eps);
}

/* AdamW's (PyTorch's): p *= keep (= 1 - lr wd) first, then Adam. The decay is a statement of
 * its own, so that no compiler contracts it with the update (OpenCL C contracts within an
 * expression only): the reference's two roundings. keep = 1 is adam_one exactly. */
inline void adamw_one(__global float *p, __global float *m, __global float *v, float g,
                      float alpha, float beta1, float beta2, float eps, float keep)
{
    float pk = *p * keep;
    *p = pk;
    adam_one(p, m, v, g, alpha, beta1, beta2, eps);
}

__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void adam_update(__global float *param, __global float *m, __global float *v,
                 __global const float *grad, int n, float alpha, float beta1, float beta2,
                 float eps)
{
    int i = get_global_id(0);
    if (i >= n) return;
    adam_one(param + i, m + i, v + i, grad[i], alpha, beta1, beta2, eps);
}
