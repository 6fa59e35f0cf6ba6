/* softmax_xent.cl: softmax cross-entropy from logits fused with its gradient, with the
 * loss sum and correct count accumulated on the device across calls.
 * Reference: softmax_xent_ref (host/ref.c). Test: tests/check_softmax_xent.c. */
#ifndef SXE_WGS
#define SXE_WGS 64   /* must be a power of two */
#endif

/* logits (B,C), labels (B); dlogits (B,C) = (softmax - onehot) / B unless want_grad == 0.
 * Launched as ONE work-group of SXE_WGS items: item t takes rows t, t+SXE_WGS, ...; the
 * per-item sums are combined by a fixed tree in local memory, and item 0 adds the batch's
 * totals to the accumulators. No atomics: a single group and an in-order queue make the
 * update race-free, and the fixed order makes it bit-reproducible.
 * loss_acc[0] is the running loss sum, loss_acc[1] its Kahan compensation;
 * correct_acc[0] the running count of rows whose first argmax equals the label. */
__kernel __attribute__((reqd_work_group_size(SXE_WGS, 1, 1)))
void softmax_xent(__global float *dlogits, __global float *loss_acc,
                  __global int *correct_acc, __global const float *logits,
                  __global const uchar *labels, int B, int C, int want_grad)
{
    __local float lsum[SXE_WGS];
    __local int lcorrect[SXE_WGS];
    int t = get_local_id(0);
    float my_loss = 0.0f;
    int my_correct = 0;
    for (int b = t; b < B; b += SXE_WGS) {
        __global const float *z = logits + b * C;
        int y = labels[b];
        int argmax = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > z[argmax]) argmax = c;
        float zmax = z[argmax];
        float sum = 0.0f;
        for (int c = 0; c < C; c++)
            sum += exp(z[c] - zmax);
        my_loss += log(sum) - (z[y] - zmax);
        my_correct += argmax == y;
        if (want_grad) {
            for (int c = 0; c < C; c++) {
                float p = exp(z[c] - zmax) / sum;
                dlogits[b * C + c] = (p - (c == y ? 1.0f : 0.0f)) / (float)B;
            }
        }
    }
    lsum[t] = my_loss;
    lcorrect[t] = my_correct;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = SXE_WGS / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            lsum[t] += lsum[t + stride];
            lcorrect[t] += lcorrect[t + stride];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        /* Kahan summation keeps an epoch's running float sum accurate. */
        float y = lsum[0] - loss_acc[1];
        float s = loss_acc[0] + y;
        loss_acc[1] = (s - loss_acc[0]) - y;
        loss_acc[0] = s;
        correct_acc[0] += lcorrect[0];
    }
}
