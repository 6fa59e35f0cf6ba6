/* act.cl: the hidden layers' activations and dropout, shared by every backend's kernels
 * (dense.cl's bias + activation, act_backward below, fused.cl's vector forms). The numbers
 * are clfit_act's (include/clfit/model.h): 0 relu, 1 linear, 2 tanh, 3 sigmoid, 4 gelu
 * (exact), 5 leaky_relu (0.01), 6 silu. References: act_forward_ref, act_backward_ref,
 * dropout_uniform_ref (host/ref.c). Test: tests/check_act.c.
 * A new activation is a case in DEFINE_ACT below (see docs/extending.md). */

#ifndef WGS
#define WGS 64
#endif

/* The model family as a compile-time choice, where the host knows it (clfit_cl_set_family):
 * ACT_ONLY, every hidden layer's activation; NO_DROPOUT, no layer drops; LOSS_ONLY, the
 * loss. Then the kernels' rate and loss arguments are not read, act is ACT_ONLY or linear
 * (1: the last layer's, and the product alone that the host asks for), and the compiler
 * keeps those two activations' code alone. Absent, the arguments choose. */
#ifdef ACT_ONLY
#define ACT_OF(act) ((act) == 1 ? 1 : ACT_ONLY)
#else
#define ACT_OF(act) (act)
#endif
#ifdef NO_DROPOUT
#define DROPS(rate) 0
#else
#define DROPS(rate) ((rate) > 0.0f)
#endif
#ifdef LOSS_ONLY
#define LOSS_OF(loss) LOSS_ONLY
#else
#define LOSS_OF(loss) (loss)
#endif

/* act(z) and d * act'(z) for one scalar or vector type T, defined once for float here and
 * for fused.cl's float vectors there (DEFINE_ACT(floatv, v)): OpenCL's built-ins and select
 * take either. ReLU is a select (NaN -> 0, as relu_forward_ref), and its derivative too (d
 * where z > 0, no multiply). The derivative's z is the activation's input; relu, linear and
 * leaky_relu may be given their output instead (it has the input's sign). */
#define DEFINE_ACT(T, SUFFIX)                                                                       \
    inline T act_apply##SUFFIX(int act, T z)                                                        \
    {                                                                                               \
        switch (ACT_OF(act)) {                                                                            \
        case 0: return select((T)0.0f, z, z > (T)0.0f);                                             \
        case 2: return tanh(z);                                                                     \
        case 3: return 1.0f / (1.0f + exp(-z));                                                     \
        case 4: return 0.5f * z * (1.0f + erf(z * 0.70710678118654752f));                           \
        case 5: return select(0.01f * z, z, z > (T)0.0f);                                           \
        case 6: return z / (1.0f + exp(-z));                                                        \
        default: return z;                                                                          \
        }                                                                                           \
    }                                                                                               \
    inline T act_grad##SUFFIX(int act, T d, T z)                                                    \
    {                                                                                               \
        switch (ACT_OF(act)) {                                                                            \
        case 0: return select((T)0.0f, d, z > (T)0.0f);                                             \
        case 2: { T t = tanh(z); return d * (1.0f - t * t); }                                       \
        case 3: { T s = 1.0f / (1.0f + exp(-z)); return d * (s * (1.0f - s)); }                     \
        case 4: return d * (0.5f * (1.0f + erf(z * 0.70710678118654752f)) +                         \
                            z * 0.39894228040143268f * exp(-0.5f * z * z));                         \
        case 5: return d * select((T)0.01f, (T)1.0f, z > (T)0.0f);                                  \
        case 6: { T s = 1.0f / (1.0f + exp(-z)); return d * (s * (1.0f + z * (1.0f - s))); }        \
        default: return d;                                                                          \
        }                                                                                           \
    }

DEFINE_ACT(float, )

/* Dropout's uniform number for element e of layer `layer` at the step whose number's low
 * and high words are key.z, key.w, with the seed in key.x (low) and key.y (high):
 * Philox4x32-10, counter (e/4, layer, step), word e%4, top 24 bits / 2^24. Integer
 * arithmetic only: the same on every device as dropout_uniform_ref. */
inline float dropout_u(uint4 key, int layer, uint e)
{
    uint c0 = e >> 2, c1 = (uint)layer, c2 = key.z, c3 = key.w, k0 = key.x, k1 = key.y;
    for (int r = 0; r < 10; r++) {
        uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    /* the word by indexing, not a chain of ?: (which Oclgrind 21.10 evaluated wrongly here:
     * a quarter of its masks differed from every other device's) */
    uint w4[4] = {c0, c1, c2, c3};
    uint w = w4[e & 3];
    return (float)(w >> 8) * (1.0f / 16777216.0f);
}

/* x kept (times scale = 1/(1-rate)) or dropped (0) for element e */
inline float dropout_apply(float x, float rate, float scale, uint4 key, int layer, uint e)
{
    return dropout_u(key, layer, e) >= rate ? x * scale : 0.0f;
}

/* dinp[i] = act'(z[i]) * (the gradient at the dropout's output, through its mask)
 * for i < n = B * cols: the backward pass of a hidden layer's activation and dropout
 * (rate 0: none), z its input. dinp may be dout. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void act_backward(__global float *dinp, __global const float *dout, __global const float *z, int n, int act,
                  float rate, float scale, uint4 key, int layer, uint e0)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float d = dout[i];
    if (DROPS(rate)) d = dropout_apply(d, rate, scale, key, layer, e0 + (uint)i);
    dinp[i] = act_grad(act, d, z[i]);
}
