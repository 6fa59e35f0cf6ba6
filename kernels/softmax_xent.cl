/* softmax_xent.cl: softmax cross-entropy from logits fused with its gradient, with the
 * loss sum and correct count accumulated on the device across calls.
 * Reference: softmax_xent_ref (host/ref.c). Test: tests/check_softmax_xent.c.
 * softmax_xent_row and softmax_xent_accumulate are shared with fused.cl (which the build
 * concatenates after this file). */
#ifndef SXE_WGS
#define SXE_WGS 64   /* must be a power of two */
#endif

/* One row: z (C logits), label y. Returns the row's loss log(sum exp z) - z_y; sets
 * *right to whether the first argmax is y; writes dz = (softmax - onehot) * inv_b unless
 * dz is NULL (dz may be the same memory as z). */
inline float softmax_xent_row(__global const float *z, int y, int C, __global float *dz,
                              float B, int *right)
{
    int argmax = 0;
    for (int c = 1; c < C; c++)
        if (z[c] > z[argmax]) argmax = c;
    float zmax = z[argmax];
    float sum = 0.0f;
    for (int c = 0; c < C; c++)
        sum += exp(z[c] - zmax);
    float loss = log(sum) - (z[y] - zmax);
    *right = argmax == y;
    if (dz) {
        for (int c = 0; c < C; c++) {
            float p = exp(z[c] - zmax) / sum;
            dz[c] = (p - (c == y ? 1.0f : 0.0f)) / B;
        }
    }
    return loss;
}

/* Mean squared error of one row z (C outputs) against its target row tv (C values), or
 * where tv is 0 against the one-hot label y: returns mean_c (z_c - t_c)^2, sets *right to
 * whether the first argmax is y and *aerr to mean_c |z_c - t_c| (the row's absolute error,
 * for mae), writes dz = 2 (z - t) / (C B) unless dz is NULL (mse_ref). */
inline float mse_row(__global const float *z, int y, __global const float *tv, int C, __global float *dz,
                     float B, int *right, float *aerr)
{
    int argmax = 0;
    for (int c = 1; c < C; c++)
        if (z[c] > z[argmax]) argmax = c;
    *right = argmax == y;
    float sq = 0.0f, ab = 0.0f;
    for (int c = 0; c < C; c++) {
        float d = z[c] - (tv ? tv[c] : (c == y ? 1.0f : 0.0f));
        sq += d * d;
        ab += fabs(d);
        if (dz) dz[c] = 2.0f * d / ((float)C * B);
    }
    *aerr = ab / (float)C;
    return sq / (float)C;
}

/* The loss of one row, by its kernel code (clfit_loss_code): 0 cross-entropy, 1 mean
 * squared error against the one-hot label y, 2 mean squared error against the row's
 * values tv (a regression model's; tv is read only then). *aerr: the row's mean absolute
 * error (mse_row), 0 for cross-entropy. */
inline float loss_row_of(int loss, __global const float *z, int y, __global const float *tv, int C,
                         __global float *dz, float B, int *right, float *aerr)
{
    *aerr = 0.0f;
    if (LOSS_OF(loss) == 0) return softmax_xent_row(z, y, C, dz, B, right);
    return mse_row(z, y, LOSS_OF(loss) == 2 ? tv : 0, C, dz, B, right, aerr);
}

/* Kahan's addition of x into acc[0], with acc[1] its compensation. */
inline void kahan_add(__global float *acc, float x)
{
    float y = x - acc[1];
    float s = acc[0] + y;
    acc[1] = (s - acc[0]) - y;
    acc[0] = s;
}

/* Combines the work-group's per-item loss and correct count (lsum, lcorrect: SXE_WGS
 * entries each) by a fixed tree, and lets item 0 add the totals to the accumulators:
 * loss_acc[0] the running sum, loss_acc[1] its Kahan compensation, correct_acc[0] the
 * count; with `values` (a regression's loss), labs's absolute errors instead of the count,
 * into loss_acc[2] (compensation loss_acc[3]). Called by every item of a single
 * work-group: no atomics, a fixed order, so the result is bit-reproducible. */
inline void softmax_xent_accumulate(__local float *lsum, __local int *lcorrect, __local float *labs, int values,
                                    __global float *loss_acc, __global int *correct_acc)
{
    int t = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = SXE_WGS / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            lsum[t] += lsum[t + stride];
            if (values) labs[t] += labs[t + stride];
            else lcorrect[t] += lcorrect[t + stride];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        kahan_add(loss_acc, lsum[0]);
        if (values) kahan_add(loss_acc + 2, labs[0]);
        else correct_acc[0] += lcorrect[0];
    }
}

/* logits (B,C), labels (B); dlogits (B,C) = the loss's gradient / denom unless want_grad ==
 * 0 (denom: B, or under data parallelism the global batch of which these B rows are a
 * slice). targets (B,C): the batch's values, read for loss code 2 alone (loss_acc then
 * has 4 floats: loss_row_of, softmax_xent_accumulate).
 * Launched as ONE work-group of SXE_WGS items: item t takes rows t, t+SXE_WGS, ... */
__kernel __attribute__((reqd_work_group_size(SXE_WGS, 1, 1)))
void softmax_xent(__global float *dlogits, __global float *loss_acc,
                  __global int *correct_acc, __global const float *logits,
                  __global const uchar *labels, __global const float *targets, int B, int C, int want_grad,
                  int denom, int loss)
{
    __local float lsum[SXE_WGS], labs[SXE_WGS];
    __local int lcorrect[SXE_WGS];
    int t = get_local_id(0);
    float my_loss = 0.0f, my_abs = 0.0f;
    int my_correct = 0;
    for (int b = t; b < B; b += SXE_WGS) {
        int right;
        float aerr;
        my_loss += loss_row_of(loss, logits + b * C, labels[b], targets + b * C, C,
                               want_grad ? dlogits + b * C : 0, (float)denom, &right, &aerr);
        my_correct += right;
        my_abs += aerr;
    }
    lsum[t] = my_loss;
    lcorrect[t] = my_correct;
    labs[t] = my_abs;
    softmax_xent_accumulate(lsum, lcorrect, labs, LOSS_OF(loss) == 2, loss_acc, correct_acc);
}
