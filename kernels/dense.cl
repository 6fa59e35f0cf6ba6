/* dense.cl: the non-GEMM halves of a dense layer. The products themselves (xW, x^T dy,
 * dy W^T) go through CLBlast, see host/dense.c. References: dense_forward_ref,
 * relu_forward_ref, dense_backward_ref (host/ref.c). Test: tests/check_dense.c. */
#ifndef WGS
#define WGS 64
#endif

/* out is (B,OUT), already holding x.W; bias is params[bias_off .. +OUT).
 * z = out + bias, stored in pre unless pre is NULL (the backward pass of an activation
 * whose derivative needs its input); out = act(z) (act.cl), then with rate > 0 dropout
 * (act.cl's dropout_apply, element gid). One work-item per element. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void dense_bias_act(__global float *out, __global const float *params, int bias_off, int B,
                    int OUT, int act, __global float *pre, float rate, float scale, uint4 key, int layer,
                    uint e0)
{
    int gid = get_global_id(0);
    if (gid >= B * OUT) return;
    float z = out[gid] + params[bias_off + gid % OUT];
    if (pre) pre[gid] = z;
    z = act_apply(act, z);
    if (DROPS(rate)) z = dropout_apply(z, rate, scale, key, layer, e0 + (uint)gid);
    out[gid] = z;
}

/* dout is (B,OUT); dbias = grads[bias_off .. +OUT) = sum over b of dout[b, o].
 * One work-item per column, summing rows in order 0..B-1: a fixed order, so the result
 * is the same from run to run and equals the reference's sequential float sum. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void dense_bias_grad(__global float *grads, int bias_off, __global const float *dout, int B,
                     int OUT)
{
    int o = get_global_id(0);
    if (o >= OUT) return;
    float acc = 0.0f;
    for (int b = 0; b < B; b++)
        acc += dout[b * OUT + o];
    grads[bias_off + o] = acc;
}
