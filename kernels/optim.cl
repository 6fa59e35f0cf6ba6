/* optim.cl: every optimizer's update over the model's flat parameter array, from a
 * gradient in memory (the clblast backend's, or own's gradient-to-memory form), with L2
 * (weights only), clipping by the global norm and weight decay. Fused Adam without these
 * stays in adam.cl and fused.cl. Reference: clfit_ref_optim_step (host/model.c: adam_ref,
 * sgd_ref, rmsprop_ref in host/ref.c). Launchers: host/optim.c. Test: tests/check_optim.c.
 * Needs adam.cl (adam_one) earlier in the program. */
#ifndef WGS
#define WGS 64
#endif

/* The gradient of parameter i with L2: + l2c p[i] (l2c = l2 / B) when i lies in one of the
 * nw weight ranges wr[2k] .. wr[2k+1]-1 (biases carry no L2, as scikit-learn's alpha). */
inline float optim_grad(__global const float *grad, __global const float *p, int i, __global const int *wr,
                        int nw, float l2c)
{
    float g = grad[i];
    if (l2c > 0.0f)
        for (int k = 0; k < nw; k++)
            if (i >= wr[2 * k] && i < wr[2 * k + 1]) return fma(l2c, p[i], g);
    return g;
}

/* 64 partial sums of squares of the gradient (with L2): part[q] = sum over i = q, q+64,
 * ... of g_i^2, one fma each in order. 64 work-items whatever WGS is, so the sum is the
 * same under every tuning. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void grad_sumsq(__global float *part, __global const float *grad, __global const float *p, int n,
                __global const int *wr, int nw, float l2c)
{
    int q = get_global_id(0);
    if (q >= 64) return;
    float s = 0.0f;
    for (int i = q; i < n; i += 64) {
        float g = optim_grad(grad, p, i, wr, nw, l2c);
        s = fma(g, g, s);
    }
    part[q] = s;
}

/* part[64] = clipnorm / (sqrt(sum of part[0..63] in order) + 1e-6): PyTorch's
 * clip_grad_norm_ coefficient (applied when below 1). One work-item. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void grad_clip_coef(__global float *part, float clipnorm)
{
    if (get_global_id(0) != 0) return;
    float s = 0.0f;
    for (int q = 0; q < 64; q++) s += part[q];
    part[64] = clipnorm / (sqrt(s) + 1e-6f);
}

/* One optimizer step of parameter i (see clfit_opt_kind): g = the gradient with L2, times
 * the clip coefficient part[64] when clip and it is below 1; then
 *   0 adam     g += wd p; Adam (adam_one) with step size alpha
 *   1 adamw    p *= keep (= 1 - lr wd); Adam
 *   2 sgd      g += wd p; m = momentum m + g; step g, m or (nesterov) g + momentum m; p -= lr step
 *   3 rmsprop  g += wd p; v = rho v + (1-rho) g^2; a = sqrt(v) + eps; with momentum
 *              m = momentum m + g/a, p -= lr m; else p -= lr g / a */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void optim_update(__global float *p, __global float *m, __global float *v, __global const float *grad, int n,
                  int kind, float lr, float alpha, float beta1, float beta2, float eps, float momentum,
                  int nesterov, float rho, float wd, float keep, float l2c, __global const int *wr, int nw,
                  int clip, __global const float *part)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float g = optim_grad(grad, p, i, wr, nw, l2c);
    if (clip) {
        float c = part[64];
        if (c < 1.0f) g *= c;
    }
    if (kind == 1) {
        if (wd > 0.0f) p[i] *= keep;
    } else if (wd > 0.0f) {
        g = fma(wd, p[i], g);
    }
    if (kind <= 1) {
        adam_one(p + i, m + i, v + i, g, alpha, beta1, beta2, eps);
    } else if (kind == 2) {
        if (momentum > 0.0f) {
            float b = fma(momentum, m[i], g);
            m[i] = b;
            g = nesterov ? fma(momentum, b, g) : b;
        }
        p[i] -= lr * g;
    } else {
        float vi = fma(rho, v[i], (1.0f - rho) * g * g);
        v[i] = vi;
        float a = sqrt(vi) + eps;
        if (momentum > 0.0f) {
            float b = fma(momentum, m[i], g / a);
            m[i] = b;
            p[i] -= lr * b;
        } else {
            p[i] -= lr * g / a;
        }
    }
}
