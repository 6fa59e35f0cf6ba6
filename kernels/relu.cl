/* relu.cl: ReLU's backward pass (its forward is fused into dense_bias_act).
 * Reference: relu_backward_ref (host/ref.c). Test: tests/check_relu.c. */
#ifndef WGS
#define WGS 64
#endif

/* dinp[i] = out[i] > 0 ? dout[i] : 0, where out is the ReLU's output; dinp may be dout. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void relu_backward(__global float *dinp, __global const float *dout,
                   __global const float *out, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}
