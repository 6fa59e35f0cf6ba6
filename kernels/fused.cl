/* fused.cl: clfit's own training step (backend "own"): dense layers computed with float
 * vectors of VW lanes and a block of rows x columns per work-item, with the small
 * operations fused into the products:
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
 *
 * Tunables (-D; their search spaces are listed once, in host/tune.c): VW the vector width;
 * FWGS the forward's work-group size and RB x CB its block (rows x VW-column vectors) per
 * work-item; GWGS the gradient's work-group size and RG x CG its block (weight rows x
 * VW-column vectors); SXE_WGS fused_head's one work-group. None of them changes a result:
 * every output is one sequential sum in a fixed order, each step an explicit fma, and the
 * head's sums along H use 16 partial sums combined by one fixed tree whatever VW is. So
 * any tuning gives the same bits on a device, and the tuner only chooses speed. */
#ifndef VW
#define VW 16
#endif
#ifndef FWGS
#define FWGS 16
#endif
#ifndef RB
#define RB 4
#endif
#ifndef CB
#define CB 4
#endif
#ifndef GWGS
#define GWGS 16
#endif
#ifndef RG
#define RG 4
#endif
#ifndef CG
#define CG 1
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#if VW == 1
typedef float floatv;
#define VLOAD(p) (*(p))
#define VSTORE(x, p) (*(p) = (x))
#elif VW == 2 || VW == 4 || VW == 8 || VW == 16
typedef CAT(float, VW) floatv;
#define VLOAD(p) CAT(vload, VW)(0, (p))
#define VSTORE(x, p) CAT(vstore, VW)((x), 0, (p))
#else
#error "VW must be 1, 2, 4, 8 or 16"
#endif

/* VW floats from p[c0 ..), zero past column n. */
inline floatv loadv(__global const float *p, int c0, int n)
{
    if (c0 + VW <= n) return VLOAD(p + c0);
    float t[VW];
    for (int i = 0; i < VW; i++) t[i] = c0 + i < n ? p[c0 + i] : 0.0f;
    return VLOAD(t);
}

/* Stores the first min(VW, n - c0) lanes of x at p[c0 ..). */
inline void storev(__global float *p, int c0, int n, floatv x)
{
    if (c0 + VW <= n) { VSTORE(x, p + c0); return; }
    float t[VW];
    VSTORE(x, t);
    for (int i = 0; c0 + i < n; i++) p[c0 + i] = t[i];
}

/* The sum of a vector's lanes, pairwise: lane i with lane i + VW/2, and so on. */
inline float sumv(floatv a)
{
#if VW == 16
    float8 b = a.lo + a.hi;
    float4 c = b.lo + b.hi;
    float2 d = c.lo + c.hi;
    return d.x + d.y;
#elif VW == 8
    float4 c = a.lo + a.hi;
    float2 d = c.lo + c.hi;
    return d.x + d.y;
#elif VW == 4
    float2 d = a.lo + a.hi;
    return d.x + d.y;
#elif VW == 2
    return a.x + a.y;
#else
    return a;
#endif
}

/* Row r of a layer's input: in[order[start + r]] when reading the dataset, else in[r]. */
inline __global const float *input_row(__global const float *in, __global const int *order,
                                       int start, int r, int IN)
{
    return in + (size_t)(order ? order[start + r] : r) * IN;
}

/* ---- forward ---- */

/* out (B,OUT) = act(in (B,IN) . W (IN,OUT) + b). One work-item: rows r0 .. r0+RB-1 (loads
 * clamped to row B-1) and columns c0 .. c0+VW*CB-1. Global size:
 * ceil(B/RB) * ceil(OUT/(VW*CB)), rounded up to FWGS. order may be NULL. Each output is
 * fma(x_k, w_k, acc) for k = 0 .. IN-1 in order, then + b. */
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
    floatv acc[RB][CB];
#pragma unroll
    for (int r = 0; r < RB; r++) {
        x[r] = input_row(in, order, start, min(r0 + r, B - 1), IN);
#pragma unroll
        for (int j = 0; j < CB; j++) acc[r][j] = 0.0f;
    }
    if (c0 + VW * CB <= OUT) {
        for (int k = 0; k < IN; k++) {
            floatv w[CB];
#pragma unroll
            for (int j = 0; j < CB; j++) w[j] = VLOAD(W + (size_t)k * OUT + c0 + VW * j);
#pragma unroll
            for (int r = 0; r < RB; r++) {
                floatv xr = x[r][k];
#pragma unroll
                for (int j = 0; j < CB; j++) acc[r][j] = fma(xr, w[j], acc[r][j]);
            }
        }
    } else { /* the last, partial column group */
        for (int k = 0; k < IN; k++) {
            floatv w[CB];
#pragma unroll
            for (int j = 0; j < CB; j++) w[j] = loadv(W + (size_t)k * OUT, c0 + VW * j, OUT);
#pragma unroll
            for (int r = 0; r < RB; r++) {
                floatv xr = x[r][k];
#pragma unroll
                for (int j = 0; j < CB; j++) acc[r][j] = fma(xr, w[j], acc[r][j]);
            }
        }
    }
#pragma unroll
    for (int j = 0; j < CB; j++) {
        int c = c0 + VW * j;
        if (c >= OUT) break;
        floatv bias = loadv(params + b_off, c, OUT);
#pragma unroll
        for (int r = 0; r < RB; r++) {
            if (r0 + r >= B) break;
            floatv z = acc[r][j] + bias;
            if (relu) z = select((floatv)0.0f, z, z > 0.0f); /* NaN -> 0, as relu_forward_ref */
            storev(out + (size_t)(r0 + r) * OUT, c, OUT, z);
        }
    }
}

/* ---- the last layer: loss, gradients that need whole rows, and its update ---- */

/* Adam (Keras; see adam.cl) on lanes 0 .. min(VW, n-c0)-1 of p, m, v at [c0 ..). */
inline void adamv(__global float *p, __global float *m, __global float *v, int c0, int n,
                  floatv g, float alpha, float beta1, float beta2, float eps)
{
    floatv mi = fma((floatv)beta1, loadv(m, c0, n), (1.0f - beta1) * g);
    floatv vi = fma((floatv)beta2, loadv(v, c0, n), (1.0f - beta2) * g * g);
    floatv pi = loadv(p, c0, n) - alpha * mi / (sqrt(vi) + eps);
    storev(m, c0, n, mi);
    storev(v, c0, n, vi);
    storev(p, c0, n, pi);
}

/* 16 / VW vectors: 16 partial sums along H, whatever VW is */
#define NPART (16 / VW)

/* a (H) . b (H): partial sum s (0..15) takes elements s, s+16, s+32, ... in order; the 16
 * are combined pairwise (s with s+8, then s+4, ...): the same tree for every VW. */
inline float dot16(__global const float *a, __global const float *b, int H)
{
    floatv part[NPART];
#pragma unroll
    for (int q = 0; q < NPART; q++) part[q] = 0.0f;
    for (int j0 = 0; j0 < H; j0 += 16) {
#pragma unroll
        for (int q = 0; q < NPART; q++)
            part[q] = fma(loadv(a, j0 + q * VW, H), loadv(b, j0 + q * VW, H), part[q]);
    }
#pragma unroll
    for (int s = NPART / 2; s > 0; s /= 2)
#pragma unroll
        for (int q = 0; q < s; q++) part[q] += part[q + s];
    return sumv(part[0]);
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
 * wt (C,H) is scratch: W transposed first, so that every product runs along H in vectors.
 * ONE work-group of SXE_WGS items: item t takes rows t, t+SXE_WGS, ..., then (class,
 * VW-column) pieces of dW. Needs adam.cl (adam_one) earlier in the program. */
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
        for (int c = 0; c < C; c++)
            logits[b * C + c] = params[b_off + c] + dot16(hb, wt + c * H, H);
        int right;
        my_loss += softmax_xent_row(logits + b * C, labels[order[start + b]], C,
                                    want_grad ? dlogits + b * C : 0, (float)B, &right);
        my_correct += right;
        if (!want_grad) continue;
        __global const float *dz = dlogits + b * C;
        for (int j0 = 0; j0 < H; j0 += VW) {
            floatv s = 0.0f;
            for (int c = 0; c < C; c++) s = fma((floatv)dz[c], loadv(wt + c * H, j0, H), s);
            floatv hv = loadv(hb, j0, H);
            storev(dh + (size_t)b * H, j0, H, select((floatv)0.0f, s, hv > 0.0f));
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
        floatv g = 0.0f;
        for (int b = 0; b < B; b++) g = fma((floatv)dlogits[b * C + c], loadv(h + (size_t)b * H, j0, H), g);
        float gl[VW];
        VSTORE(g, gl);
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
            s = fma(dout[b * OUT + o], W[o], s);
    dinp[gid] = s;
}

/* ---- weight gradients with Adam applied in place ---- */

/* dW (IN,OUT) = in^T (IN,B) . dout (B,OUT), then Adam on those weights. One work-item:
 * weight rows i0 .. i0+RG-1 and columns c0 .. c0+VW*CG-1. The work-items of the extra last
 * row-tile compute db = column sums of dout instead and update the bias. in's rows go
 * through order when it is not NULL. Global size:
 * (ceil(IN/RG) + 1) * ceil(OUT/(VW*CG)), rounded up to GWGS. Each dW is
 * fma(x_b, dout_b, acc) for b = 0 .. B-1 in order; each db a plain sum in that order. */
__kernel __attribute__((reqd_work_group_size(GWGS, 1, 1)))
void fused_grad_adam(__global float *params, __global float *m, __global float *v,
                     __global const float *in, __global const int *order, int start,
                     __global const float *dout, int w_off, int b_off, int B, int IN, int OUT,
                     float alpha, float beta1, float beta2, float eps)
{
    int ctiles = (OUT + VW * CG - 1) / (VW * CG), rtiles = (IN + RG - 1) / RG;
    int gid = get_global_id(0);
    int rt = gid / ctiles, c0 = (gid % ctiles) * VW * CG;
    if (rt > rtiles) return;
    if (rt == rtiles) { /* the bias */
        for (int j = 0; j < CG; j++) {
            int c = c0 + VW * j;
            if (c >= OUT) break;
            floatv db = 0.0f;
            for (int b = 0; b < B; b++) db += loadv(dout + (size_t)b * OUT, c, OUT);
            adamv(params + b_off, m + b_off, v + b_off, c, OUT, db, alpha, beta1, beta2, eps);
        }
        return;
    }
    int i0 = rt * RG;
    floatv acc[RG][CG];
#pragma unroll
    for (int r = 0; r < RG; r++)
#pragma unroll
        for (int j = 0; j < CG; j++) acc[r][j] = 0.0f;
    if (i0 + RG <= IN && c0 + VW * CG <= OUT) {
        for (int b = 0; b < B; b++) {
            floatv d[CG];
#pragma unroll
            for (int j = 0; j < CG; j++) d[j] = VLOAD(dout + (size_t)b * OUT + c0 + VW * j);
            __global const float *x = input_row(in, order, start, b, IN) + i0;
#pragma unroll
            for (int r = 0; r < RG; r++) {
                floatv xr = x[r];
#pragma unroll
                for (int j = 0; j < CG; j++) acc[r][j] = fma(xr, d[j], acc[r][j]);
            }
        }
    } else { /* a partial tile: the last rows or the last columns */
        for (int b = 0; b < B; b++) {
            floatv d[CG];
#pragma unroll
            for (int j = 0; j < CG; j++) d[j] = loadv(dout + (size_t)b * OUT, c0 + VW * j, OUT);
            __global const float *x = input_row(in, order, start, b, IN);
#pragma unroll
            for (int r = 0; r < RG; r++) {
                floatv xr = i0 + r < IN ? x[i0 + r] : 0.0f;
#pragma unroll
                for (int j = 0; j < CG; j++) acc[r][j] = fma(xr, d[j], acc[r][j]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RG; r++) {
        if (i0 + r >= IN) break;
        size_t row = w_off + (size_t)(i0 + r) * OUT;
#pragma unroll
        for (int j = 0; j < CG; j++) {
            int c = c0 + VW * j;
            if (c >= OUT) break;
            adamv(params + row, m + row, v + row, c, OUT, acc[r][j], alpha, beta1, beta2, eps);
        }
    }
}
