/* fused.cl: clfit's own training step (backend "own"): dense layers computed with float
 * vectors of VW lanes and a block of rows x columns per work-item, with the small
 * operations fused into the products. A step of a one-hidden-layer model is two launches:
 *   fused_forward_head   h = relu(in W + b) for whole rows, then per row the last layer's
 *                        logits, the softmax cross-entropy loss and its gradient dlogits,
 *                        and dh (the gradient at the hidden layer's ReLU); layer 0 reads
 *                        its rows straight from the dataset through the epoch order
 *   fused_grad_adam      dW = in^T dout, db = colsum(dout), and Adam applied to W and b in
 *                        registers (the gradient never goes to memory); in the launch for
 *                        layer 0 also the last layer's own update and the batch's loss
 * and for deeper models, per extra hidden layer:
 *   fused_forward        out = act(in W + b)
 *   fused_backward_data  the gradient of a hidden layer from the one above
 * In evaluation, fused_head_stats adds the rows' losses up instead of fused_grad_adam.
 * References: dense_forward_ref, relu_*_ref, softmax_xent_ref, dense_backward_ref,
 * adam_ref (host/ref.c). Launchers: host/fused.c. Test: tests/check_fused.c.
 * Needs softmax_xent.cl (softmax_xent_row) and adam.cl (adam_one) earlier in the program
 * (CMakeLists.txt lists the order).
 *
 * Tunables (-D; their search spaces are listed once, in host/params.c): VW the vector width;
 * FWGS the forward's work-group size and RB x CB its block (rows x VW-column vectors) per
 * work-item; GWGS the gradient's work-group size and RG x CG its block (weight rows x
 * VW-column vectors). None of them changes a result: every output is one sequential sum in
 * a fixed order, each step an explicit fma, and the sums along H of the last layer use 16
 * partial sums combined by one fixed tree whatever VW is. So any tuning gives the same bits
 * on a device, and the tuner only chooses speed.
 *
 * The last layer's weights W1 (H,C) are also kept transposed in wt (C,H), so that its
 * products run along H in vectors: the host fills wt when a trainer is made, and the
 * launch that updates W1 rewrites it. */
#ifndef VW
#define VW 16
#endif
#ifndef WGS
#define WGS 64
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
#ifndef TR
#define TR 1
#endif
#ifndef TC
#define TC 1
#endif
#ifndef KC
#define KC 1024
#endif
#ifndef TF
#define TF 1
#endif
#ifndef KF
#define KF 1024
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

/* Copies rows r0 .. r0+n-1 (those below B) of a batch read through the order,
 * in[order[start + r]], to row r of xg (B,IN): the batch's rows side by side, which
 * fused_grad_adam then reads instead of the dataset's rows scattered through the epoch's
 * order (the same values: no result changes). */
inline void gather_rows(__global float *xg, __global const float *in, __global const int *order, int start,
                        int r0, int n, int B, int IN)
{
    for (int r = r0; r < r0 + n && r < B; r++) {
        __global const float *src = input_row(in, order, start, r, IN);
        __global float *dst = xg + (size_t)r * IN;
        for (int k = 0; k < IN; k += VW) storev(dst, k, IN, loadv(src, k, IN));
    }
}

/* ---- activations and dropout on vectors (act.cl's act_apply, act_grad, dropout_apply) ---- */

/* act.cl's activations on vectors: act_applyv, act_gradv */
DEFINE_ACT(floatv, v)

#if VW == 1
typedef uint uintv;
#define LANES 0u
#define TO_FLOATV(x) convert_float(x)
#else
typedef CAT(uint, VW) uintv;
#define TO_FLOATV(x) CAT(convert_float, VW)(x)
#if VW == 2
#define LANES (uint2)(0, 1)
#elif VW == 4
#define LANES (uint4)(0, 1, 2, 3)
#elif VW == 8
#define LANES (uint8)(0, 1, 2, 3, 4, 5, 6, 7)
#else
#define LANES (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#endif
#endif

/* Dropout of the lanes of x that are columns c0 .. of row `row` of a (., n) layer output:
 * element row * n + c, as dropout_apply numbers them, with Philox4x32-10 run on every lane
 * at once (the same integers as dropout_u). */
inline floatv dropv(floatv x, int row, int c0, int n, float rate, float scale, uint4 key, int layer, uint e0)
{
    uintv e = (uintv)(e0 + (uint)(row * n + c0)) + LANES;
    uintv c0v = e >> 2, c1v = (uintv)((uint)layer), c2v = (uintv)key.z, c3v = (uintv)key.w;
    uint k0 = key.x, k1 = key.y;
    for (int r = 0; r < 10; r++) {
        uintv hi0 = mul_hi((uintv)0xD2511F53u, c0v), lo0 = (uintv)0xD2511F53u * c0v;
        uintv hi1 = mul_hi((uintv)0xCD9E8D57u, c2v), lo1 = (uintv)0xCD9E8D57u * c2v;
        c0v = hi1 ^ c1v ^ (uintv)k0;
        c1v = lo1;
        c2v = hi0 ^ c3v ^ (uintv)k1;
        c3v = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    uintv w3 = e & 3u;
#if VW == 1
    uintv w4[4] = {c0v, c1v, c2v, c3v}; /* indexing, as act.cl's dropout_u */
    uintv w = w4[w3];
#else
    uintv w = select(select(c2v, c3v, w3 == 3u), select(c0v, c1v, w3 == 1u), w3 < 2u);
#endif
    floatv u = TO_FLOATV(w >> 8) * (1.0f / 16777216.0f);
#if VW == 1
    return u >= rate ? x * scale : 0.0f;
#else
    return select((floatv)0.0f, x * scale, u >= rate);
#endif
}

/* ---- forward ---- */

/* acc (RB x CB vectors) += rows x[0 .. RB-1] (IN,) . W (IN,OUT) over k = k0 .. k1-1, for
 * columns c0 .. c0+VW*CB-1: fma(x_k, w_k, acc) for each k in order. Always inlined: a call
 * would keep acc in memory. */
inline __attribute__((always_inline)) void forward_acc(floatv acc[RB][CB], __global const float *x[RB],
                                                       __global const float *W, int k0, int k1, int c0, int OUT)
{
    if (c0 + VW * CB <= OUT) {
        for (int k = k0; k < k1; k++) {
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
        for (int k = k0; k < k1; k++) {
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
}

/* Rows r0 .. r0+RB-1 (stores only below B), columns c0 .. c0+VW*CB-1 of out (B,OUT) from
 * their sums acc: + bias (z, stored in pre unless pre is NULL), then the activation, then
 * with rate > 0 the dropout of layer `layer` keyed by key (dropv). */
inline __attribute__((always_inline)) void forward_out(floatv acc[RB][CB], __global float *out,
                                                       __global const float *bias, int r0, int c0, int B,
                                                       int OUT, int act, __global float *pre, float rate,
                                                       float scale, uint4 key, int layer, uint e0)
{
#pragma unroll
    for (int j = 0; j < CB; j++) {
        int c = c0 + VW * j;
        if (c >= OUT) break;
        floatv b = loadv(bias, c, OUT);
#pragma unroll
        for (int r = 0; r < RB; r++) {
            if (r0 + r >= B) break;
            floatv z = acc[r][j] + b;
            if (pre) storev(pre + (size_t)(r0 + r) * OUT, c, OUT, z);
            z = act_applyv(act, z);
            if (DROPS(rate)) z = dropv(z, r0 + r, c, OUT, rate, scale, key, layer, e0);
            storev(out + (size_t)(r0 + r) * OUT, c, OUT, z);
        }
    }
}

/* Rows r0 .. r0+RB-1 (loads clamped to row B-1, stores only below B) and columns
 * c0 .. c0+VW*CB-1 of out (B,OUT) = drop(act(in (B,IN) . W (IN,OUT) + bias)). Each output is
 * fma(x_k, w_k, acc) for k = 0 .. IN-1 in order, then forward_out. */
inline void forward_block(__global float *out, __global const float *in, __global const int *order,
                          int start, __global const float *W, __global const float *bias, int r0,
                          int c0, int B, int IN, int OUT, int act, __global float *pre, float rate,
                          float scale, uint4 key, int layer, uint e0)
{
    __global const float *x[RB];
    floatv acc[RB][CB];
#pragma unroll
    for (int r = 0; r < RB; r++) {
        x[r] = input_row(in, order, start, min(r0 + r, B - 1), IN);
#pragma unroll
        for (int j = 0; j < CB; j++) acc[r][j] = 0.0f;
    }
    forward_acc(acc, x, W, 0, IN, c0, OUT);
    forward_out(acc, out, bias, r0, c0, B, OUT, act, pre, rate, scale, key, layer, e0);
}

/* Rows r0 .. r0+TF*RB-1 of out (B,OUT), every column, as TF blocks of RB rows: for each
 * column group the sums along IN go KF inputs at a time, each pass through all TF row
 * blocks (their sums kept in private memory between passes), so that the KF rows of W a
 * pass reads stay in the L1 cache for all of them instead of streaming from L2 for every
 * RB rows. Each output is forward_block's fma chain over k = 0 .. IN-1 in order. */
inline void forward_rows(__global float *out, __global const float *in, __global const int *order, int start,
                         __global const float *W, __global const float *bias, int r0, int B, int IN, int OUT,
                         int act, __global float *pre, float rate, float scale, uint4 key, int layer, uint e0)
{
    __global const float *x[TF][RB];
    for (int t = 0; t < TF; t++)
#pragma unroll
        for (int r = 0; r < RB; r++) x[t][r] = input_row(in, order, start, min(r0 + t * RB + r, B - 1), IN);
    floatv part[TF][RB][CB];
    for (int c0 = 0; c0 < OUT; c0 += VW * CB) {
        for (int k0 = 0; k0 < IN; k0 += KF) {
            int k1 = min(IN, k0 + KF);
            for (int t = 0; t < TF && r0 + t * RB < B; t++) {
                floatv acc[RB][CB];
#pragma unroll
                for (int r = 0; r < RB; r++)
#pragma unroll
                    for (int j = 0; j < CB; j++) acc[r][j] = k0 ? part[t][r][j] : 0.0f;
                forward_acc(acc, x[t], W, k0, k1, c0, OUT);
#pragma unroll
                for (int r = 0; r < RB; r++)
#pragma unroll
                    for (int j = 0; j < CB; j++) part[t][r][j] = acc[r][j];
            }
        }
        for (int t = 0; t < TF && r0 + t * RB < B; t++)
            forward_out(part[t], out, bias, r0 + t * RB, c0, B, OUT, act, pre, rate, scale, key, layer, e0);
    }
}

/* out (B,OUT) = drop(act(in (B,IN) . W (IN,OUT) + b)): a hidden layer that does not feed
 * the last one (deep models). One work-item: forward_block at rows (gid / cgroups) * RB and
 * columns (gid % cgroups) * VW * CB. Global size ceil(B/RB) * ceil(OUT/(VW*CB)), rounded up
 * to FWGS. order may be NULL (then row r is in[r]); pre may be NULL. With xg not NULL the
 * work-items of the first column group also copy their rows to xg (gather_rows). */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_forward(__global float *out, __global const float *in, __global const int *order,
                   int start, __global float *xg, __global const float *params, int w_off, int b_off, int B,
                   int IN, int OUT, int act, __global float *pre, float rate, float scale, uint4 key,
                   int layer, uint e0)
{
    int cgroups = (OUT + VW * CB - 1) / (VW * CB);
    int gid = get_global_id(0);
    int r0 = (gid / cgroups) * RB, c0 = (gid % cgroups) * VW * CB;
    if (r0 >= B) return;
    if (xg && c0 == 0) gather_rows(xg, in, order, start, r0, RB, B, IN);
    forward_block(out, in, order, start, params + w_off, params + b_off, r0, c0, B, IN, OUT, act, pre, rate,
                  scale, key, layer, e0);
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

/* The last hidden layer and the last layer, row by row. h (B,H) = relu(in W + b) as
 * fused_forward computes it, but one work-item owns RB * TF whole rows (rows gid * RB * TF
 * ..), going along H in VW*CB-column blocks (TF > 1: forward_rows, the sums in passes of KF
 * inputs). Then, for each of its rows b, with the last layer's
 * W1 (H,C) read as wt (C,H) and its bias b1 at params[b1_off]:
 *   logits[b] (C) = b1 + h[b] W1             (dot16 along H)
 *   loss_row[b], right_row[b]: the row's softmax cross-entropy and whether its first argmax
 *   is the label labels[lorder[lstart + b]] (fused_grad_adam or fused_head_stats add them);
 *   for a regression's loss (code 2) against the values targets (N,C) at row
 *   lorder[lstart + b], right_row[b] then holding the bits of the row's absolute error
 * and when want_grad:
 *   dlogits[b] (C) = (softmax - onehot) / denom (B, or the global batch of a slice)
 *   dh[b] (H) = the gradient at the activation's input: dlogits[b] W1^T back through the
 *   dropout's mask and the activation (at z from pre, or at h where pre is NULL: relu,
 *   linear and leaky_relu, whose derivative h's sign gives)
 * The loss is clfit_loss `loss` (loss_row in softmax_xent.cl). Global size ceil(B/(RB*TF)),
 * rounded up to FWGS. order may be NULL (then row r is in[r]). With xg not NULL each
 * work-item also copies its rows to xg (gather_rows). */
#define FORWARD_HEAD_PARAMS                                                                                  \
    __global float *h, __global const float *in, __global const int *order, int start, __global float *xg,       \
        __global const float *params, int w_off, int b_off, int B, int IN, int H, __global const float *wt,      \
        int b1_off, int C, __global float *logits, __global float *dlogits, __global float *dh,                  \
        __global float *loss_row, __global int *right_row, __global const uchar *labels,                          \
        __global const float *targets, __global const int *lorder, int lstart, int want_grad, int denom, int act, \
        __global float *pre, float rate, float scale, uint4 key, int layer, uint e0, int loss
#define FORWARD_HEAD_ARGS                                                                                        \
    h, in, order, start, xg, params, w_off, b_off, B, IN, H, wt, b1_off, C, logits, dlogits, dh, loss_row,       \
        right_row, labels, targets, lorder, lstart, want_grad, denom, act, pre, rate, scale, key, layer, e0, loss

/* fused_forward_head's end for row b, from its h: the logits, the row's loss and
 * correctness, and with want_grad dlogits and dh */
inline __attribute__((always_inline)) void head_row(int b, FORWARD_HEAD_PARAMS)
{
    __global const float *hb = h + (size_t)b * H;
    for (int c = 0; c < C; c++) logits[b * C + c] = params[b1_off + c] + dot16(hb, wt + c * H, H);
    int right, row = lorder[lstart + b];
    float aerr;
    loss_row[b] = loss_row_of(loss, logits + b * C, labels[row], targets + (size_t)row * C, C,
                              want_grad ? dlogits + b * C : 0, (float)denom, &right, &aerr);
    right_row[b] = LOSS_OF(loss) == 2 ? as_int(aerr) : right;
    if (!want_grad) return;
    __global const float *dz = dlogits + b * C;
    for (int j0 = 0; j0 < H; j0 += VW) {
        floatv s = 0.0f;
        for (int c = 0; c < C; c++) s = fma((floatv)dz[c], loadv(wt + c * H, j0, H), s);
        if (DROPS(rate)) s = dropv(s, b, j0, H, rate, scale, key, layer, e0);
        floatv zv = loadv(pre ? pre + (size_t)b * H : hb, j0, H);
        storev(dh + (size_t)b * H, j0, H, act_gradv(act, s, zv));
    }
}

/* fused_forward_head's work-item `item`: rows item * RB * TF .. */
inline __attribute__((always_inline)) void forward_head_item(int item, FORWARD_HEAD_PARAMS)
{
    int r0 = item * RB * TF;
    if (r0 >= B) return;
    if (xg) gather_rows(xg, in, order, start, r0, RB * TF, B, IN);
    if (TF == 1)
        for (int c0 = 0; c0 < H; c0 += VW * CB)
            forward_block(h, in, order, start, params + w_off, params + b_off, r0, c0, B, IN, H, act, pre, rate,
                          scale, key, layer, e0);
    else
        forward_rows(h, in, order, start, params + w_off, params + b_off, r0, B, IN, H, act, pre, rate, scale, key,
                     layer, e0);
    /* the rows just written are this work-item's own: read back in program order */
    for (int r = 0; r < RB * TF && r0 + r < B; r++) head_row(r0 + r, FORWARD_HEAD_ARGS);
}

__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_forward_head(FORWARD_HEAD_PARAMS)
{
    forward_head_item(get_global_id(0), FORWARD_HEAD_ARGS);
}

/* dinp (B,IN) = the gradient at the input of hidden layer `act`'s activation, for MLPs
 * with more than one hidden layer: (dout (B,OUT) . W^T), back through the dropout of the
 * layer whose output inp (B,IN) is (rate > 0) and then its activation (at z from pre, or at
 * inp itself where pre is NULL; see act.cl). One work-item: rows r0 .. r0+RB-1 of one
 * column i; each sum is the dot16 order (16 partial sums along OUT combined by one fixed
 * tree), whatever VW and RB are. Global size ceil(B/RB) * IN, rounded up to FWGS. */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_backward_data(__global float *dinp, __global const float *dout,
                         __global const float *inp, __global const float *params, int w_off,
                         int B, int IN, int OUT, int act, __global const float *pre, float rate, float scale,
                         uint4 key, int layer, uint e0)
{
    int gid = get_global_id(0);
    int r0 = (gid / IN) * RB, i = gid % IN;
    if (r0 >= B) return;
    __global const float *W = params + w_off + (size_t)i * OUT;
    floatv part[RB][NPART];
#pragma unroll
    for (int r = 0; r < RB; r++)
#pragma unroll
        for (int q = 0; q < NPART; q++) part[r][q] = 0.0f;
    for (int j0 = 0; j0 < OUT; j0 += 16) {
#pragma unroll
        for (int q = 0; q < NPART; q++) {
            floatv w = loadv(W, j0 + q * VW, OUT);
#pragma unroll
            for (int r = 0; r < RB; r++) {
                int b = min(r0 + r, B - 1);
                part[r][q] = fma(loadv(dout + (size_t)b * OUT, j0 + q * VW, OUT), w, part[r][q]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RB; r++) {
        int b = r0 + r;
        if (b >= B) break;
#pragma unroll
        for (int s2 = NPART / 2; s2 > 0; s2 /= 2)
#pragma unroll
            for (int q = 0; q < s2; q++) part[r][q] += part[r][q + s2];
        float d = sumv(part[r][0]);
        size_t e = (size_t)b * IN + i;
        if (DROPS(rate)) d = dropout_apply(d, rate, scale, key, layer, e0 + (uint)e);
        dinp[e] = act_grad(act, d, pre ? pre[e] : inp[e]);
    }
}

/* act_backward (act.cl) in vectors: d (B,cols) = act'(z) * (d through the dropout's mask),
 * in place, z from pre (or out, the layer's output, where pre is NULL). One work-item: VW
 * columns of one row. Global size B * ceil(cols/VW), rounded up to FWGS. */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_act_backward(__global float *d, __global const float *out, int B, int cols, int act,
                        __global const float *pre, float rate, float scale, uint4 key, int layer,
                        uint e0)
{
    int per = (cols + VW - 1) / VW, gid = get_global_id(0);
    int b = gid / per, c0 = (gid % per) * VW;
    if (b >= B) return;
    __global float *row = d + (size_t)b * cols;
    floatv g = loadv(row, c0, cols);
    if (DROPS(rate)) g = dropv(g, b, c0, cols, rate, scale, key, layer, e0);
    floatv z = loadv((pre ? pre : out) + (size_t)b * cols, c0, cols);
    storev(row, c0, cols, act_gradv(act, g, z));
}

/* wt (C,H) = W1^T, W1 (H,C) at params[w1_off]: rebuilt after an update made outside
 * fused_grad_adam (another optimizer, or data parallelism). One work-item per element. */
__kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))
void head_transpose(__global float *wt, __global const float *params, int w1_off, int H, int C)
{
    int gid = get_global_id(0);
    if (gid >= H * C) return;
    int c = gid / H, j = gid - c * H;
    wt[gid] = params[w1_off + j * C + c];
}

/* ---- the batch's loss, and the last layer's update ---- */

/* Adds the B rows' losses (in row order) and right counts to the accumulators: loss_acc[0]
 * the running sum, loss_acc[1] its Kahan compensation, correct_acc[0] the count; with
 * `values` (a regression's loss) right_row holds each row's absolute error (its bits),
 * added to loss_acc[2] (compensation loss_acc[3]) instead of the count. One work-item, a
 * fixed order: bit-reproducible. */
inline void add_stats(__global const float *loss_row, __global const int *right_row, int B, int values,
                      __global float *loss_acc, __global int *correct_acc)
{
    float sum = 0.0f, abs_sum = 0.0f;
    int right = 0;
    for (int b = 0; b < B; b++) {
        sum += loss_row[b];
        if (values) abs_sum += as_float(right_row[b]);
        else right += right_row[b];
    }
    kahan_add(loss_acc, sum);
    if (values) kahan_add(loss_acc + 2, abs_sum);
    else correct_acc[0] += right;
}

/* The last layer's update from h (B,H) and dlogits (B,C), by work-item t of
 * ceil(H/VW) + 1: t < ceil(H/VW) applies Adam to rows j0 = t*VW .. j0+VW-1 of W1 (dW1[j][c]
 * = sum over b of dlogits[b][c] h[b][j], fma in row order, VW rows at once) and copies them
 * into wt's columns j0 ..; the last applies Adam to b1 (db1[c] = sum over b of
 * dlogits[b][c]) and adds the batch's loss (add_stats; head 2: a regression's). */
inline void head_update(int t, int head, __global float *params, __global float *m, __global float *v,
                        __global float *gout, __global float *wt, int w1_off, int b1_off, int H, int C, int B,
                        __global const float *h, __global const float *dlogits,
                        __global const float *loss_row, __global const int *right_row,
                        __global float *loss_acc, __global int *correct_acc, float alpha,
                        float beta1, float beta2, float eps, float keep, float l2c)
{
    int jtiles = (H + VW - 1) / VW;
    if (t < jtiles) {
        int j0 = t * VW;
        for (int c = 0; c < C; c++) {
            floatv g = 0.0f;
            for (int b = 0; b < B; b++) g = fma((floatv)dlogits[b * C + c], loadv(h + (size_t)b * H, j0, H), g);
            float gl[VW];
            VSTORE(g, gl);
            for (int k = 0; k < VW && j0 + k < H; k++) {
                int i = w1_off + (j0 + k) * C + c;
                if (gout) { /* the gradient alone, for a sum across processes */
                    gout[i] = gl[k];
                    continue;
                }
                float g = l2c != 0.0f ? fma(l2c, params[i], gl[k]) : gl[k]; /* L2 on the weights */
                adamw_one(params + i, m + i, v + i, g, alpha, beta1, beta2, eps, keep);
                wt[c * H + j0 + k] = params[i];
            }
        }
    } else if (t == jtiles) {
        for (int c = 0; c < C; c++) {
            float g = 0.0f;
            for (int b = 0; b < B; b++) g += dlogits[b * C + c];
            int i = b1_off + c;
            if (gout) gout[i] = g;
            else adamw_one(params + i, m + i, v + i, g, alpha, beta1, beta2, eps, keep);
        }
        add_stats(loss_row, right_row, B, head == 2, loss_acc, correct_acc);
    }
}

/* Evaluation's end of a batch: the rows' losses added up (add_stats). One work-item. */
__kernel __attribute__((reqd_work_group_size(FWGS, 1, 1)))
void fused_head_stats(__global const float *loss_row, __global const int *right_row, int B,
                      __global float *loss_acc, __global int *correct_acc, int values)
{
    if (get_global_id(0) == 0) add_stats(loss_row, right_row, B, values, loss_acc, correct_acc);
}

/* ---- weight gradients with Adam applied in place ---- */

/* Adam (Keras; see adam.cl) on lanes 0 .. min(VW, n-c0)-1 of p, m, v at [c0 ..), after
 * AdamW's decay p *= keep (a statement of its own, as adamw_one; keep = 1: none). */
inline void adamv(__global float *p, __global float *m, __global float *v, int c0, int n,
                  floatv g, float alpha, float beta1, float beta2, float eps, float keep)
{
    floatv mi = fma((floatv)beta1, loadv(m, c0, n), (1.0f - beta1) * g);
    floatv vi = fma((floatv)beta2, loadv(v, c0, n), (1.0f - beta2) * g * g);
    floatv pk = loadv(p, c0, n) * keep;
    floatv pi = pk - alpha * mi / (sqrt(vi) + eps);
    storev(m, c0, n, mi);
    storev(v, c0, n, vi);
    storev(p, c0, n, pi);
}

/* acc (RG x CG vectors) += in^T dout over batch rows b0 .. b1-1, for the register tile of
 * weight rows i0 .. i0+RG-1 and columns c0 .. c0+VW*CG-1: fma(x_b, dout_b, acc) for each b
 * in order. in's rows go through order when it is not NULL. */
/* always inlined: a call would keep acc in memory, an fma's load and store each */
inline __attribute__((always_inline)) void grad_tile_rows(floatv acc[RG][CG], __global const float *in, __global const int *order, int start,
                      __global const float *dout, int b0, int b1, int i0, int c0, int IN, int OUT)
{
    if (i0 + RG <= IN && c0 + VW * CG <= OUT) {
        for (int b = b0; b < b1; b++) {
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
        for (int b = b0; b < b1; b++) {
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
}

/* grad_tile_rows, its loops compiled twice: through the order, and with order NULL known
 * (no test of it, no index load a row: in's rows then one stride apart) */
inline __attribute__((always_inline)) void grad_tile(floatv acc[RG][CG], __global const float *in, __global const int *order, int start,
                      __global const float *dout, int b0, int b1, int i0, int c0, int IN, int OUT)
{
    if (order) grad_tile_rows(acc, in, order, start, dout, b0, b1, i0, c0, IN, OUT);
    else grad_tile_rows(acc, in, 0, 0, dout, b0, b1, i0, c0, IN, OUT);
}

/* The register tile at weight rows i0 .. and columns c0 .. done: Adam on those weights (L2
 * first where l2c is not 0), or with gout the gradient stored at its parameters' index. */
inline __attribute__((always_inline)) void tile_update(floatv acc[RG][CG], __global float *params, __global float *m, __global float *v,
                        __global float *gout, int w_off, int i0, int c0, int IN, int OUT, float alpha,
                        float beta1, float beta2, float eps, float keep, float l2c)
{
#pragma unroll
    for (int r = 0; r < RG; r++) {
        if (i0 + r >= IN) break;
        size_t row = w_off + (size_t)(i0 + r) * OUT;
#pragma unroll
        for (int j = 0; j < CG; j++) {
            int c = c0 + VW * j;
            if (c >= OUT) break;
            if (gout) {
                storev(gout + row, c, OUT, acc[r][j]);
                continue;
            }
            /* L2 on the weights: g + l2c p, before the update (optim_grad's fma) */
            floatv g = l2c != 0.0f ? fma((floatv)l2c, loadv(params + row, c, OUT), acc[r][j]) : acc[r][j];
            adamv(params + row, m + row, v + row, c, OUT, g, alpha, beta1, beta2, eps, keep);
        }
    }
}

/* dW (IN,OUT) = in^T (IN,B) . dout (B,OUT), then Adam on those weights. The weights are cut
 * into register tiles of RG rows x VW*CG columns. With B <= KC a work-item owns one tile
 * and goes over the batch once, the sums in registers. With B > KC it owns TR x TC tiles
 * (TR along the rows, TC along the columns: a super-tile) and goes over the batch KC rows
 * at a time, each pass through all its tiles (their sums kept in private memory between
 * passes), so that the KC rows of in and dout a pass reads stay in the L1 cache for all of
 * them instead of streaming from L2 for each. Each dW is fma(x_b, dout_b, acc) for b = 0
 * .. B-1 in order whatever TR, TC and KC are; each db a plain sum in that order. The
 * work-items of the extra last row of super-tiles compute db = column sums of dout instead
 * (a super-tile's columns each) and update the bias. in's rows go through order when it is not
 * NULL. With head (2: a regression's loss), ceil(H/VW) + 1 more work-items after those do
 * head_update for the last layer (its weights at w1_off, bias at b1_off). With gout not
 * NULL, no Adam: every gradient is stored in gout at its parameter's index (for a sum
 * across processes; wt is then left as it is). Global size, with tr = TR and tc = TC where
 * B > KC, else 1: (ceil(ceil(IN/RG)/tr) + 1) * ceil(ceil(OUT/(VW*CG))/tc) (+ ceil(H/VW) + 1
 * with head), rounded up to GWGS. */
#define GRAD_ADAM_PARAMS                                                                                     \
    __global float *params, __global float *m, __global float *v, __global float *gout, __global const float *in, \
        __global const int *order, int start, __global const float *dout, int w_off, int b_off, int B, int IN,    \
        int OUT, float alpha, float beta1, float beta2, float eps, float keep, float l2c, int head,               \
        __global float *wt, int w1_off, int b1_off, int H, int C, __global const float *h,                        \
        __global const float *dlogits, __global const float *loss_row, __global const int *right_row,            \
        __global float *loss_acc, __global int *correct_acc
#define GRAD_ADAM_ARGS                                                                                       \
    params, m, v, gout, in, order, start, dout, w_off, b_off, B, IN, OUT, alpha, beta1, beta2, eps, keep, l2c, \
        head, wt, w1_off, b1_off, H, C, h, dlogits, loss_row, right_row, loss_acc, correct_acc

/* fused_grad_adam's grid of super-tiles: (sr, sc), sr rows of them (and one more of the
 * bias) by sc columns, as grad_adam_item numbers them */
inline int2 grad_grid(int B, int IN, int OUT)
{
    int ctiles = (OUT + VW * CG - 1) / (VW * CG), rtiles = (IN + RG - 1) / RG;
    int passes = B > KC, tr = passes ? TR : 1, tc = passes ? TC : 1;
    return (int2)((rtiles + tr - 1) / tr, (ctiles + tc - 1) / tc);
}

/* fused_grad_adam's work-item gid (fused_steps runs the same items, several a work-item) */
inline __attribute__((always_inline)) void grad_adam_item(int gid, GRAD_ADAM_PARAMS)
{
    int ctiles = (OUT + VW * CG - 1) / (VW * CG), rtiles = (IN + RG - 1) / RG;
    int passes = B > KC, tr = passes ? TR : 1, tc = passes ? TC : 1;
    int sc = (ctiles + tc - 1) / tc, sr = (rtiles + tr - 1) / tr;
    int srow = gid / sc, scol = gid % sc;
    if (srow > sr) {
        if (head)
            head_update(gid - (sr + 1) * sc, head, params, m, v, gout, wt, w1_off, b1_off, H, C, B, h, dlogits,
                        loss_row, right_row, loss_acc, correct_acc, alpha, beta1, beta2, eps, keep, l2c);
        return;
    }
    if (srow == sr) { /* the bias */
        for (int j = 0; j < tc * CG; j++) {
            int c = (scol * tc * CG + j) * VW;
            if (c >= OUT) break;
            floatv db = 0.0f;
            for (int b = 0; b < B; b++) db += loadv(dout + (size_t)b * OUT, c, OUT);
            if (gout) storev(gout + b_off, c, OUT, db);
            else adamv(params + b_off, m + b_off, v + b_off, c, OUT, db, alpha, beta1, beta2, eps, keep);
        }
        return;
    }
    if (!passes) { /* one tile, one pass: its sums stay in registers */
        int rt = srow, ct = scol;
        if (rt < rtiles && ct < ctiles) {
            floatv acc[RG][CG];
#pragma unroll
            for (int r = 0; r < RG; r++)
#pragma unroll
                for (int j = 0; j < CG; j++) acc[r][j] = 0.0f;
            grad_tile(acc, in, order, start, dout, 0, B, rt * RG, ct * VW * CG, IN, OUT);
            tile_update(acc, params, m, v, gout, w_off, rt * RG, ct * VW * CG, IN, OUT, alpha, beta1, beta2, eps,
                        keep, l2c);
        }
        return;
    }
    floatv part[TR * TC][RG][CG];
    for (int b0 = 0; b0 < B; b0 += KC) {
        int b1 = min(B, b0 + KC);
        for (int t = 0; t < TR * TC; t++) {
            int rt = srow * TR + t / TC, ct = scol * TC + t % TC;
            if (rt >= rtiles || ct >= ctiles) continue;
            floatv acc[RG][CG];
#pragma unroll
            for (int r = 0; r < RG; r++)
#pragma unroll
                for (int j = 0; j < CG; j++) acc[r][j] = b0 ? part[t][r][j] : 0.0f;
            grad_tile(acc, in, order, start, dout, b0, b1, rt * RG, ct * VW * CG, IN, OUT);
#pragma unroll
            for (int r = 0; r < RG; r++)
#pragma unroll
                for (int j = 0; j < CG; j++) part[t][r][j] = acc[r][j];
        }
    }
    for (int t = 0; t < TR * TC; t++) {
        int rt = srow * TR + t / TC, ct = scol * TC + t % TC;
        if (rt >= rtiles || ct >= ctiles) continue;
        tile_update(part[t], params, m, v, gout, w_off, rt * RG, ct * VW * CG, IN, OUT, alpha, beta1, beta2, eps,
                    keep, l2c);
    }
}

__kernel __attribute__((reqd_work_group_size(GWGS, 1, 1)))
void fused_grad_adam(GRAD_ADAM_PARAMS)
{
    grad_adam_item(get_global_id(0), GRAD_ADAM_ARGS);
}

/* ---- several steps in one launch, for CPUs ---- */

#ifndef STEPS
#define STEPS 1
#endif
#if STEPS /* the host leaves it out where it cannot run (clfit_cl_runs_steps) */

/* fused_steps runs each step in phases; a phase's items are shared out among the launch's
 * G work-groups (one work-item each), and the next phase starts once all of them are done.
 * Each phase has, per work-group, a claim counter (how much of that work-group's contiguous
 * share has been taken) and a done counter, each on a cache line of its own (STEPS_LINE
 * ints). A work-group takes chunks of its own share first (its counter stays in its core's
 * cache), then what is left of the others' shares, then waits for the phase's items to be
 * done. A work-group that runs late (a thread the system has set aside, or one that
 * starts after the others have finished, as on a device that runs work-groups one after
 * another) finds its share taken and passes on: no work-group waits for another to arrive,
 * only for items another has taken to be finished. OpenCL 1.2 orders no memory across the
 * work-groups of a launch (Oclgrind reports every such access as a race, and the tests run
 * it there with one work-group): this relies on PoCL's atomics, which are acquire-release,
 * on a CPU, whose caches are coherent (clfit_cl_runs_steps). */
#define STEPS_LINE 16

/* The most passes of a wait for a phase's items (seconds of spinning) before the launch is
 * given up (flag[0] set: a device whose atomics or memory do not behave as a CPU's would
 * otherwise never end it; a loop cap, as llvmpipe's, ends the wait early the same way). */
#define STEPS_SPIN_LIMIT (1L << 33)

/* The next chunk of up to ch of a phase's n items for work-group g, from its own share, then
 * from work-group g+1's, and so on (*h: how many shares have run out for it): the count
 * (0: none left) and the first item in *first. claim: the phase's G counters. */
inline int steps_claim(volatile __global int *claim, int G, int g, int n, int ch, int *h, int *first)
{
    for (; *h < G; (*h)++) {
        int o = (g + *h) % G;
        int lo = (int)((long)o * n / G), size = (int)((long)(o + 1) * n / G) - lo;
        int c = atomic_add(claim + o * STEPS_LINE, ch);
        if (c < size) {
            *first = lo + c;
            return min(ch, size - c);
        }
    }
    return 0;
}

/* Waits until the phase's n items are done (the sum of its G done counters); nonzero when
 * the wait was given up (flag[0] then set). */
inline int steps_wait(volatile __global int *done, int G, int n, volatile __global int *flag)
{
    long spins = 0;
    int sum = -1;
    while (sum < n && !flag[0] && spins < STEPS_SPIN_LIMIT) {
        sum = 0;
        for (int o = 0; o < G; o++) sum += done[o * STEPS_LINE];
        spins++;
    }
    if (sum < n) {
        atomic_xchg(flag, 1);
        return 1;
    }
    atomic_add(done + (G - 1) * STEPS_LINE, 0); /* acquire: the items' writes after it */
    return 0;
}

/* grad_adam_item's items in column-major order, on grid (grad_grid): item i of
 * fused_steps' phase 3 is this gid, so that consecutive items go down a column of
 * super-tiles (its bias last) and a contiguous share of them is whole columns of the
 * weights; the head's items after */
inline int grad_item_by_column(int i, int2 grid)
{
    int sr = grid.x, sc = grid.y;
    if (i >= (sr + 1) * sc) return i; /* the head's */
    return (i % (sr + 1)) * sc + i / (sr + 1);
}

/* Runs phase k of step s: BODY(i) for each item i the work-group takes of the n, in chunks
 * of ch, then waits for all n (returns from the kernel if the wait is given up). */
#define STEPS_PHASE(s, k, n, ch, BODY)                                                          \
    do {                                                                                       \
        volatile __global int *claim_ = ctr + STEPS_LINE * 2 * G * ((s) * 3 + (k));             \
        int h_ = 0, first_, cnt_;                                                              \
        while ((cnt_ = steps_claim(claim_, G, g, (n), (ch), &h_, &first_)) > 0) {              \
            for (int i = first_; i < first_ + cnt_; i++) BODY;                                 \
            atomic_add(claim_ + (G + g) * STEPS_LINE, cnt_);                                   \
        }                                                                                      \
        if (steps_wait(claim_ + G * STEPS_LINE, G, (n), flag)) return;                         \
    } while (0)

/* nsteps training steps of a one-hidden-layer model with Adam, in one launch. Step s takes
 * the B rows at start + s * B of the epoch's order in three phases:
 *   1. h: the forward's blocks (forward_block: RB rows by VW * CB columns) in column-major
 *      order, so that a contiguous share of them is whole columns of h; then the rows
 *      gathered into xg, RB rows an item
 *   2. each row's end (head_row: logits, loss, dlogits, dh), a row an item
 *   3. fused_grad_adam's items for layer 0 in column-major order (grad_item_by_column),
 *      with the last layer's update, at alpha and keep from step_par[2s], step_par[2s + 1]
 * Where the columns divide among the work-groups, a work-group's own shares of h and of
 * the gradient are the same columns of W0, whose weights and Adam moments then stay in
 * its core's cache from step to step. Every output is computed by the same code as in
 * fused_forward_head (TF = 1) and fused_grad_adam, so the steps give the same bits as 2 *
 * nsteps launches of them. No dropout. ctr: zeros, 2 counters of STEPS_LINE ints a
 * work-group a phase, 3 phases a step; ctr_next (nctr ints) is zeroed here for the next
 * launch. flag[0]: set when a wait was given up. Global size G, work-groups of 1. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void fused_steps(__global float *h, __global const float *in, __global const int *order, int start0,
                 __global float *xg, __global float *params, __global float *m, __global float *v, int w_off,
                 int b_off, int B, int IN, int H, __global float *wt, int w1_off, int b1_off, int C,
                 __global float *logits, __global float *dlogits, __global float *dh, __global float *loss_row,
                 __global int *right_row, __global const uchar *labels, __global const float *targets, int act,
                 __global float *pre, int loss, float beta1, float beta2, float eps, float l2c, int head,
                 __global float *loss_acc, __global int *correct_acc, __global const float *step_par, int nsteps,
                 volatile __global int *ctr, __global int *ctr_next, int nctr, volatile __global int *flag)
{
    int G = get_num_groups(0), g = get_group_id(0);
    for (int i = (int)((long)g * nctr / G); i < (int)((long)(g + 1) * nctr / G); i++) ctr_next[i] = 0;
    int nrb = (B + RB - 1) / RB, ncg = (H + VW * CB - 1) / (VW * CB), nf = nrb * ncg;
    int2 grid = grad_grid(B, IN, H);
    int ng = (grid.x + 1) * grid.y + (head ? (H + VW - 1) / VW + 1 : 0); /* fused_grad_adam's items */
    __global const float *W0 = params + w_off, *bias0 = params + b_off;
    for (int s = 0; s < nsteps; s++) {
        int start = start0 + s * B;
        STEPS_PHASE(s, 0, nf + nrb, 1,
                    i < nf ? forward_block(h, in, order, start, W0, bias0, (i % nrb) * RB, (i / nrb) * VW * CB, B,
                                           IN, H, act, pre, 0.0f, 1.0f, (uint4)0, 0, 0u)
                           : gather_rows(xg, in, order, start, (i - nf) * RB, RB, B, IN));
        STEPS_PHASE(s, 1, B, 1,
                    head_row(i, h, in, order, start, xg, params, w_off, b_off, B, IN, H, wt, b1_off, C, logits,
                             dlogits, dh, loss_row, right_row, labels, targets, order, start, 1, B, act, pre, 0.0f,
                             1.0f, (uint4)0, 0, 0u, loss));
        float alpha = step_par[2 * s], keep = step_par[2 * s + 1];
        STEPS_PHASE(s, 2, ng, 2,
                    grad_adam_item(grad_item_by_column(i, grid), params, m, v, 0, xg, 0, 0, dh, w_off, b_off, B,
                                   IN, H, alpha, beta1, beta2, eps, keep, l2c, head, wt, w1_off, b1_off, H, C, h,
                                   dlogits, loss_row, right_row, loss_acc, correct_acc));
    }
}
#endif /* STEPS */
