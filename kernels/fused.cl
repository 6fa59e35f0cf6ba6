/* fused.cl: clfit's own training step ("--gemm own"): dense layers computed with float16
 * vectors and a block of rows x columns per work-item, with the small operations fused
 * into the products:
 *   fused_forward        out = act(in W + b); layer 0 reads its rows straight from the
 *                        dataset through the epoch order (no gather pass)
 *   fused_head           last layer + softmax cross-entropy + its gradient + the gradient
 *                        of the last hidden layer + the last layer's Adam update, in one
 *                        work-group
 *   fused_backward_data  the gradient of a hidden layer from the one above (deep MLPs)
 *   fused_grad_adam      dW = in^T dout, db = colsum(dout), and Adam applied to W and b in
 *                        registers: the gradient never goes to memory
 * References: dense_forward_ref, relu_*_ref, softmax_xent_ref, dense_backward_ref,
 * adam_ref (host/ref.c). Launchers: host/fused.c. Test: tests/check_fused.c.
 * Needs softmax_xent.cl (softmax_xent_row, softmax_xent_accumulate) and adam.cl (adam_one)
 * earlier in the program (CMakeLists.txt lists the order).
 * Tunables (-D): FWGS work-group size; RB x CB the forward's block (rows x 16-column
 * tiles) per work-item; RG the gradient's weight rows per work-item. */
#ifndef FWGS
#define FWGS 16
#endif
#ifndef RB
#define RB 4
#endif
#ifndef CB
#define CB 4
#endif
#ifndef RG
#define RG 4
#endif
#define VW 16       /* one float16 */

/* 16 floats from p[c0 ..), zero past column n. */
inline float16 load16(__global const float *p, int c0, int n)
{
    if (c0 + VW <= n) return vload16(0, p + c0);
    float t[VW];
    for (int i = 0; i < VW; i++) t[i] = c0 + i < n ? p[c0 + i] : 0.0f;
    return vload16(0, t);
}

/* Stores the first min(16, n - c0) lanes of v at p[c0 ..). */
inline void store16(__global float *p, int c0, int n, float16 v)
{
    if (c0 + VW <= n) { vstore16(v, 0, p + c0); return; }
    float t[VW];
    vstore16(v, 0, t);
    for (int i = 0; c0 + i < n; i++) p[c0 + i] = t[i];
}

/* Row r of a layer's input: in[order[start + r]] when reading the dataset, else in[r]. */
inline __global const float *input_row(__global const float *in, __global const int *order,
                                       int start, int r, int IN)
{
    return in + (size_t)(order ? order[start + r] : r) * IN;
}

/* ---- forward ---- */

/* out (B,OUT) = act(in (B,IN) . W (IN,OUT) + b). One work-item: rows r0 .. r0+RB-1 (loads
 * clamped to row B-1) and columns c0 .. c0+16*CB-1. Global size:
 * ceil(B/RB) * ceil(OUT/(16*CB)), rounded up to FWGS. order may be NULL. */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_forward(__global float *out, __global const float *in, __global const int *order,
                   int start, __global const float *params, int w_off, int b_off, int B,
                   int IN, int OUT, int relu)
{
    int cgroups = (OUT + VW * CB - 1) / (VW * CB);
    int gid = get_global_id(0);
    int r0 = (gid / cgroups) * RB, c0 = (gid % cgroups) * VW * CB;
    if (r0 >= B) return;
    __global const float *W = params + w_off;
    __global const float *x[RB];
    float16 acc[RB][CB];
#pragma unroll
    for (int r = 0; r < RB; r++) {
        x[r] = input_row(in, order, start, min(r0 + r, B - 1), IN);
#pragma unroll
        for (int j = 0; j < CB; j++) acc[r][j] = 0.0f;
    }
    if (c0 + VW * CB <= OUT) {
        for (int k = 0; k < IN; k++) {
            float16 w[CB];
#pragma unroll
            for (int j = 0; j < CB; j++) w[j] = vload16(0, W + (size_t)k * OUT + c0 + VW * j);
#pragma unroll
            for (int r = 0; r < RB; r++) {
                float xr = x[r][k];
#pragma unroll
                for (int j = 0; j < CB; j++) acc[r][j] += xr * w[j];
            }
        }
    } else { /* the last, partial column group */
        for (int k = 0; k < IN; k++) {
            float16 w[CB];
#pragma unroll
            for (int j = 0; j < CB; j++) w[j] = load16(W + (size_t)k * OUT, c0 + VW * j, OUT);
#pragma unroll
            for (int r = 0; r < RB; r++) {
                float xr = x[r][k];
#pragma unroll
                for (int j = 0; j < CB; j++) acc[r][j] += xr * w[j];
            }
        }
    }
#pragma unroll
    for (int j = 0; j < CB; j++) {
        int c = c0 + VW * j;
        if (c >= OUT) break;
        float16 bias = load16(params + b_off, c, OUT);
#pragma unroll
        for (int r = 0; r < RB; r++) {
            if (r0 + r >= B) break;
            float16 z = acc[r][j] + bias;
            if (relu) z = select((float16)0.0f, z, z > 0.0f); /* NaN -> 0, as relu_forward_ref */
            store16(out + (size_t)(r0 + r) * OUT, c, OUT, z);
        }
    }
}

/* ---- the last layer: loss, gradients that need whole rows, and its update ---- */

/* Sum of a float16's lanes, pairwise. */
inline float sum16(float16 a)
{
    float8 b = a.lo + a.hi;
    float4 c = b.lo + b.hi;
    float2 d = c.lo + c.hi;
    return d.x + d.y;
}

/* h (B,H) is the last hidden layer's output; W (H,C), b (C) the last layer.
 *   logits (B,C) = h W + b
 *   the batch's loss sum and correct count go to the accumulators (as softmax_xent)
 * and when want_grad:
 *   dlogits (B,C) = (softmax - onehot) / B
 *   dh (B,H) = (dlogits W^T) where h > 0, else 0  (the gradient at the ReLU's input)
 *   then, W being no longer needed, dW = h^T dlogits and db = colsum(dlogits) are applied
 *   to W and b by Adam (step size alpha).
 * Labels are read through the epoch order: labels[order[start + b]].
 * wt (C,H) is scratch: W transposed first, so that every product runs along H in float16.
 * ONE work-group of SXE_WGS items: item t takes rows t, t+SXE_WGS, ..., then (class,
 * 16-column) pieces of dW. Needs adam.cl (adam_one) earlier in the program. */
__kernel __attribute__((reqd_work_group_size(SXE_WGS, 1, 1)))
void fused_head(__global float *logits, __global float *dlogits, __global float *dh,
                __global float *loss_acc, __global int *correct_acc,
                __global const float *h, __global float *params, __global float *m,
                __global float *v, __global float *wt, int w_off, int b_off,
                __global const uchar *labels, __global const int *order, int start, int B,
                int H, int C, int want_grad, float alpha, float beta1, float beta2, float eps)
{
    __local float lsum[SXE_WGS];
    __local int lcorrect[SXE_WGS];
    int t = get_local_id(0);
    __global float *W = params + w_off;
    for (int i = t; i < H * C; i += SXE_WGS) {
        int j = i / C, c = i - j * C;
        wt[c * H + j] = W[i];
    }
    barrier(CLK_GLOBAL_MEM_FENCE);
    float my_loss = 0.0f;
    int my_correct = 0;
    for (int b = t; b < B; b += SXE_WGS) {
        __global const float *hb = h + (size_t)b * H;
        for (int c = 0; c < C; c++) {
            float16 acc = 0.0f;
            for (int j0 = 0; j0 < H; j0 += VW)
                acc += load16(hb, j0, H) * load16(wt + c * H, j0, H);
            logits[b * C + c] = params[b_off + c] + sum16(acc);
        }
        int right;
        my_loss += softmax_xent_row(logits + b * C, labels[order[start + b]], C,
                                    want_grad ? dlogits + b * C : 0, (float)B, &right);
        my_correct += right;
        if (!want_grad) continue;
        __global const float *dz = dlogits + b * C;
        for (int j0 = 0; j0 < H; j0 += VW) {
            float16 s = 0.0f;
            for (int c = 0; c < C; c++) s += dz[c] * load16(wt + c * H, j0, H);
            float16 hv = load16(hb, j0, H);
            store16(dh + (size_t)b * H, j0, H, select((float16)0.0f, s, hv > 0.0f));
        }
    }
    lsum[t] = my_loss;
    lcorrect[t] = my_correct;
    softmax_xent_accumulate(lsum, lcorrect, loss_acc, correct_acc);
    if (!want_grad) return;
    barrier(CLK_GLOBAL_MEM_FENCE); /* every row's dlogits and dh done: W may change now */
    int jtiles = (H + VW - 1) / VW;
    for (int u = t; u < C * jtiles; u += SXE_WGS) {
        int c = u / jtiles, j0 = (u - c * jtiles) * VW;
        float16 g = 0.0f;
        for (int b = 0; b < B; b++) g += dlogits[b * C + c] * load16(h + (size_t)b * H, j0, H);
        float gl[VW];
        vstore16(g, 0, gl);
        for (int k = 0; k < VW && j0 + k < H; k++) {
            int i = (j0 + k) * C + c;
            adam_one(W + i, m + w_off + i, v + w_off + i, gl[k], alpha, beta1, beta2, eps);
        }
    }
    for (int c = t; c < C; c += SXE_WGS) {
        float g = 0.0f;
        for (int b = 0; b < B; b++) g += dlogits[b * C + c];
        adam_one(params + b_off + c, m + b_off + c, v + b_off + c, g, alpha, beta1, beta2, eps);
    }
}

/* dinp (B,IN) = (dout (B,OUT) . W^T) where inp > 0, else 0: the gradient at the input of
 * the ReLU that produced inp, for MLPs with more than one hidden layer. One work-item per
 * element; global size B*IN rounded up to FWGS. */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_backward_data(__global float *dinp, __global const float *dout,
                         __global const float *inp, __global const float *params, int w_off,
                         int B, int IN, int OUT)
{
    int gid = get_global_id(0);
    if (gid >= B * IN) return;
    int b = gid / IN, i = gid - b * IN;
    __global const float *W = params + w_off + (size_t)i * OUT;
    float s = 0.0f;
    if (inp[gid] > 0.0f)
        for (int o = 0; o < OUT; o++)
            s += dout[b * OUT + o] * W[o];
    dinp[gid] = s;
}

/* ---- weight gradients with Adam applied in place ---- */

/* Adam (Keras; see adam.cl) on lanes 0 .. min(16, n-c0)-1 of p, m, v at [c0 ..). */
inline void adam16(__global float *p, __global float *m, __global float *v, int c0, int n,
                   float16 g, float alpha, float beta1, float beta2, float eps)
{
#pragma OPENCL FP_CONTRACT OFF
    float16 mi = beta1 * load16(m, c0, n) + (1.0f - beta1) * g;
    float16 vi = beta2 * load16(v, c0, n) + (1.0f - beta2) * g * g;
    float16 pi = load16(p, c0, n) - alpha * mi / (sqrt(vi) + eps);
    store16(m, c0, n, mi);
    store16(v, c0, n, vi);
    store16(p, c0, n, pi);
}

/* dW (IN,OUT) = in^T (IN,B) . dout (B,OUT), then Adam on those weights. One work-item:
 * weight rows i0 .. i0+RG-1 and columns c0 .. c0+15. The work-items of the extra last
 * row-tile compute db = column sums of dout instead and update the bias. in's rows go
 * through order when it is not NULL. Global size: (ceil(IN/RG) + 1) * ceil(OUT/16). */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_grad_adam(__global float *params, __global float *m, __global float *v,
                     __global const float *in, __global const int *order, int start,
                     __global const float *dout, int w_off, int b_off, int B, int IN, int OUT,
                     float alpha, float beta1, float beta2, float eps)
{
    int ctiles = (OUT + VW - 1) / VW, rtiles = (IN + RG - 1) / RG;
    int gid = get_global_id(0);
    int rt = gid / ctiles, c0 = (gid % ctiles) * VW;
    if (rt > rtiles) return;
    if (rt == rtiles) { /* the bias */
        float16 db = 0.0f;
        for (int b = 0; b < B; b++)
            db += load16(dout + (size_t)b * OUT, c0, OUT);
        adam16(params + b_off, m + b_off, v + b_off, c0, OUT, db, alpha, beta1, beta2, eps);
        return;
    }
    int i0 = rt * RG;
    float16 acc[RG];
#pragma unroll
    for (int r = 0; r < RG; r++) acc[r] = 0.0f;
    if (i0 + RG <= IN) {
        for (int b = 0; b < B; b++) {
            float16 d = load16(dout + (size_t)b * OUT, c0, OUT);
            __global const float *x = input_row(in, order, start, b, IN) + i0;
#pragma unroll
            for (int r = 0; r < RG; r++) acc[r] += x[r] * d;
        }
    } else { /* the last, partial row tile */
        for (int b = 0; b < B; b++) {
            float16 d = load16(dout + (size_t)b * OUT, c0, OUT);
            __global const float *x = input_row(in, order, start, b, IN);
            for (int r = 0; r < RG && i0 + r < IN; r++) acc[r] += x[i0 + r] * d;
        }
    }
#pragma unroll
    for (int r = 0; r < RG; r++) {
        if (i0 + r >= IN) break;
        size_t row = w_off + (size_t)(i0 + r) * OUT;
        adam16(params + row, m + row, v + row, c0, OUT, acc[r], alpha, beta1, beta2, eps);
    }
}
