/* Every device operation against the CPU reference (see include/clfit/verify.h).
 * Each case draws fresh inputs, runs the reference and the device, and reports one row per
 * output. The tolerances, with u = 2^-24 (FLT_EPSILON / 2):
 *  - exact: the same correctly rounded adds and multiplies in the same order (bias add,
 *    ReLU and its mask, the sequential bias-gradient sum, Adam's m and v);
 *  - GEMMs: any summation order of a length-K dot product is within gamma_K sum|a||b| of
 *    the exact value (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
 *    eq. 3.5; gamma_K = K u / (1 - K u)); reference and device each are, so they differ by
 *    at most twice that; the largest such bound over the output is used;
 *  - exp, log, sqrt may be 3 ulp off and division 2.5 (OpenCL 1.2, s7.4), which bounds
 *    the gather's x / 255, softmax and Adam's update;
 *  - what a fused kernel computes from an earlier result carries that result's bound
 *    through (stated at each). */
#include "clfit/verify.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/canary.h"
#include "clfit/compare.h"
#include "clfit/parts.h"
#include "clfit/ref.h"
#include "clfit/rng.h"
#include "clfit/train.h"

/* ReLU alone, as the launchers take an activation (kernels/act.cl) */
static const clfit_act_io relu_io = {.act = CLFIT_ACT_RELU};

#define U (FLT_EPSILON / 2)


/* ---- one case: its buffers, its rows ---- */

typedef struct {
    clfit_cl *cl;
    const char *op;
    char sizes[64];
    clfit_verify_report report;
    void *user;
    clfit_rng rng;
    cl_mem mem[64];
    int nmem;
    void *host[512];   /* train_step takes every backend and model in one case */
    int nhost;
    clfit_status st;
} vcase;

/* n zeroed floats (or bytes with hb), freed with the case; NULL after a failure. */
static void *track(vcase *c, void *p)
{
    if (!p || c->nhost == (int)(sizeof c->host / sizeof c->host[0])) {
        free(p);
        if (!c->st) c->st = clfit_fail(CLFIT_ERR_NOMEM, "verify: out of memory");
        return NULL;
    }
    return c->host[c->nhost++] = p;
}
static float *hf(vcase *c, size_t n) { return c->st ? NULL : track(c, calloc(n ? n : 1, sizeof(float))); }
static uint8_t *hb(vcase *c, size_t n) { return c->st ? NULL : track(c, calloc(n ? n : 1, 1)); }
static int *hi(vcase *c, size_t n) { return c->st ? NULL : track(c, calloc(n ? n : 1, sizeof(int))); }

/* A device buffer with a copy of src (bytes), or uninitialised if src is NULL. */
static cl_mem dev(vcase *c, const void *src, size_t bytes)
{
    if (c->st || c->nmem == (int)(sizeof c->mem / sizeof c->mem[0])) {
        if (!c->st) c->st = clfit_fail(CLFIT_ERR_NOMEM, "verify: too many buffers");
        return NULL;
    }
    cl_mem m = clfit_cl_buffer(c->cl, bytes, src, &c->st);
    if (m) c->mem[c->nmem++] = m;
    return m;
}
static void get(vcase *c, cl_mem m, void *dst, size_t bytes)
{
    if (!c->st) c->st = clfit_cl_read(c->cl, m, 0, bytes, dst);
}
static void run(vcase *c, clfit_status s)
{
    if (!c->st) c->st = s;
}
static void rnd(vcase *c, float *a, size_t n, float lo, float hi)
{
    if (a) for (size_t i = 0; i < n; i++) a[i] = lo + (hi - lo) * clfit_rng_uniform(&c->rng);
}
static void shuffled(vcase *c, int *order, int n)
{
    if (!order) return;
    for (int i = 0; i < n; i++) order[i] = i;
    clfit_rng_shuffle(&c->rng, order, n);
}

/* Compares and reports one output. */
static void cmp(vcase *c, const char *what, const float *got, const float *want, size_t n,
                double atol, double rtol, const char *why)
{
    if (c->st) return;
    clfit_compare_result r;
    clfit_verify_row row = {.op = c->op, .why = why, .atol = atol, .rtol = rtol};
    row.pass = clfit_compare(got, want, n, atol, rtol, &r);
    snprintf(row.sizes, sizeof row.sizes, "%s", c->sizes);
    snprintf(row.what, sizeof row.what, "%s", what);
    row.max_abs = r.max_abs;
    row.max_rel = r.max_rel;
    row.n = r.n;
    row.failures = r.failures;
    row.nonfinite = r.nonfinite;
    row.worst = r.worst;
    row.worst_got = n ? got[r.worst] : 0;
    row.worst_want = n ? want[r.worst] : 0;
    c->report(&row, c->user);
}

/* Reports the case as not run, and why (pass set: a known limit, avoided in training). */
static void skip(vcase *c, const char *why)
{
    if (c->st) return;
    clfit_verify_row row = {.op = c->op, .why = why, .pass = 1, .skipped = 1};
    snprintf(row.sizes, sizeof row.sizes, "%s", c->sizes);
    snprintf(row.what, sizeof row.what, "skipped");
    c->report(&row, c->user);
}

/* Whether a case whose one work-item makes `passes` loop passes is past the device's loop
 * cap (clfit/canary.h); then it is reported skipped. */
static int past_loop_cap(vcase *c, long passes)
{
    long cap = 0;
    if (clfit_canary_loop_cap(c->cl, &cap) || cap <= 0 || passes < cap) return 0;
    static char why[128];
    snprintf(why, sizeof why, "%ld loop passes a work-item: past the device's loop cap (%ld)", passes, cap);
    skip(c, why);
    return 1;
}

static clfit_status finish(vcase *c)
{
    for (int i = c->nmem - 1; i >= 0; i--) clReleaseMemObject(c->mem[i]);
    for (int i = 0; i < c->nhost; i++) free(c->host[i]);
    return c->st;
}

static void sizes(vcase *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->sizes, sizeof c->sizes, fmt, ap);
    va_end(ap);
}

/* ---- bounds ---- */

static double gamma_k(int k) { return k * U / (1 - k * U); }

/* 2 gamma_{K+1} max_ij (sum_k |a_ik||b_kj| + |c_j|): A (M,K) (stored (K,M) if ta), B (K,N)
 * (stored (N,K) if tb), c (N) or NULL. */
static double gemm_bound(const float *A, const float *Bm, const float *c, int M, int N, int K,
                         int ta, int tb)
{
    double worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = c ? fabs(c[j]) : 0.0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                double b = tb ? Bm[(size_t)j * K + k] : Bm[(size_t)k * N + j];
                s += fabs(a * b);
            }
            if (s > worst) worst = s;
        }
    return 2 * gamma_k(K + 1) * worst;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

/* A parameter array with a layer's weight (IN,OUT) and bias (OUT) at awkward offsets. */
static clfit_layer layer_at(int IN, int OUT, size_t *nparams)
{
    clfit_layer L = {.in = IN, .out = OUT, .w_off = 5};
    L.b_off = L.w_off + (size_t)IN * OUT + 3;
    *nparams = L.b_off + OUT + 2;
    return L;
}

/* ---- the cases ---- */

static void v_gather(vcase *c, int N, int D, int B)
{
    if (B > N) B = N;
    int start = N - B;
    sizes(c, "N=%d D=%d B=%d", N, D, B);
    uint8_t *img = hb(c, (size_t)N * D), *lab = hb(c, N), *y = hb(c, B), *ywant = hb(c, B);
    int *order = hi(c, N);
    float *want = hf(c, (size_t)B * D), *got = hf(c, (size_t)B * D), *yf = hf(c, B), *ywf = hf(c, B);
    if (c->st) return;
    for (size_t i = 0; i < (size_t)N * D; i++) img[i] = (uint8_t)clfit_rng_below(&c->rng, 256);
    for (int i = 0; i < N; i++) lab[i] = (uint8_t)clfit_rng_below(&c->rng, 10);
    shuffled(c, order, N);
    gather_batch_ref(want, ywant, img, lab, order + start, B, D);
    cl_mem di = dev(c, img, (size_t)N * D), dl = dev(c, lab, N), dord = dev(c, order, N * sizeof(int));
    cl_mem dall = dev(c, NULL, (size_t)N * D * 4), dx = dev(c, NULL, (size_t)B * D * 4), dy = dev(c, NULL, B);
    if (c->st) return;
    run(c, scale_images_cl(c->cl, dall, di, (size_t)N * D));
    run(c, gather_batch_cl(c->cl, dx, dy, dall, dl, dord, start, B, D));
    get(c, dx, got, (size_t)B * D * 4);
    get(c, dy, y, B);
    cmp(c, "x", got, want, (size_t)B * D, 0, 5 * U, "x/255: division 2.5 ulp");
    for (int b = 0; b < B; b++) { yf[b] = y[b]; ywf[b] = ywant[b]; }
    cmp(c, "labels", yf, ywf, B, 0, 0, "exact");
}

static void v_dense_bias_act(vcase *c, int B, int OUT)
{
    sizes(c, "B=%d OUT=%d", B, OUT);
    size_t np, n = (size_t)B * OUT;
    clfit_layer L = layer_at(1, OUT, &np);
    float *z = hf(c, n), *params = hf(c, np), *want = hf(c, n), *got = hf(c, n);
    if (c->st) return;
    rnd(c, params, np, -1, 1);
    for (int relu = 0; relu <= 1; relu++) {
        rnd(c, z, n, -2, 2);
        for (size_t i = 0; i < n; i++) want[i] = z[i] + params[L.b_off + i % OUT];
        if (relu) relu_forward_ref(want, want, (int)n);
        cl_mem dz = dev(c, z, n * 4), dp = dev(c, params, np * 4);
        if (c->st) return;
        run(c, dense_bias_act_cl(c->cl, dz, dp, L.b_off, B, OUT, relu ? &relu_io : NULL));
        get(c, dz, got, n * 4);
        cmp(c, relu ? "out relu" : "out", got, want, n, 0, 0, "exact: one add");
    }
}

static void v_dense_bias_grad(vcase *c, int B, int OUT)
{
    sizes(c, "B=%d OUT=%d", B, OUT);
    size_t np, n = (size_t)B * OUT;
    clfit_layer L = layer_at(1, OUT, &np);
    float *dout = hf(c, n), *want = hf(c, np), *got = hf(c, np), *ones = hf(c, B), *dw = hf(c, OUT);
    if (c->st) return;
    rnd(c, dout, n, -1, 1);
    rnd(c, want, np, -1, 1); /* entries outside the bias must be left alone */
    for (int b = 0; b < B; b++) ones[b] = 1.0f;
    dense_backward_ref(NULL, dw, want + L.b_off, dout, ones, dw, B, 1, OUT);
    memcpy(got, want, np * 4);
    for (int o = 0; o < OUT; o++) got[L.b_off + o] = NAN; /* must be overwritten */
    cl_mem dd = dev(c, dout, n * 4), dg = dev(c, got, np * 4);
    if (c->st) return;
    run(c, dense_bias_grad_cl(c->cl, dg, L.b_off, dd, B, OUT));
    get(c, dg, got, np * 4);
    cmp(c, "grads", got, want, np, 0, 0, "exact: the same order of adds");
}

static void v_dense_forward(vcase *c, int B, int IN, int OUT)
{
    sizes(c, "B=%d IN=%d OUT=%d", B, IN, OUT);
    size_t np, nin = (size_t)B * IN, nout = (size_t)B * OUT;
    clfit_layer L = layer_at(IN, OUT, &np);
    float *x = hf(c, nin), *params = hf(c, np), *want = hf(c, nout), *got = hf(c, nout);
    if (c->st) return;
    rnd(c, x, nin, 0, 1);
    rnd(c, params, np, -0.5f, 0.5f);
    double tol = gemm_bound(x, params + L.w_off, params + L.b_off, B, OUT, IN, 0, 0);
    for (int relu = 0; relu <= 1; relu++) {
        dense_forward_ref(want, x, params + L.w_off, params + L.b_off, B, IN, OUT);
        if (relu) relu_forward_ref(want, want, (int)nout);
        cl_mem dx = dev(c, x, nin * 4), dp = dev(c, params, np * 4), dout = dev(c, NULL, nout * 4);
        if (c->st) return;
        run(c, dense_forward_cl(c->cl, dout, dx, dp, &L, B, relu ? &relu_io : NULL));
        get(c, dout, got, nout * 4);
        cmp(c, relu ? "out relu" : "out", got, want, nout, tol, 0, "2 gamma_K sum|a||b|");
    }
}

static void v_dense_backward(vcase *c, int B, int IN, int OUT)
{
    sizes(c, "B=%d IN=%d OUT=%d", B, IN, OUT);
    size_t np, nin = (size_t)B * IN, nout = (size_t)B * OUT;
    clfit_layer L = layer_at(IN, OUT, &np);
    float *x = hf(c, nin), *params = hf(c, np), *dout = hf(c, nout), *want_g = hf(c, np),
          *got_g = hf(c, np), *want_dx = hf(c, nin), *got_dx = hf(c, nin);
    if (c->st) return;
    rnd(c, x, nin, 0, 1);
    rnd(c, params, np, -0.5f, 0.5f);
    rnd(c, dout, nout, -0.1f, 0.1f);
    dense_backward_ref(want_dx, want_g + L.w_off, want_g + L.b_off, dout, x, params + L.w_off, B, IN, OUT);
    cl_mem dx = dev(c, x, nin * 4), dp = dev(c, params, np * 4), dd = dev(c, dout, nout * 4);
    cl_mem dg = dev(c, got_g, np * 4), ddx = dev(c, NULL, nin * 4);
    if (c->st) return;
    run(c, dense_backward_cl(c->cl, ddx, dg, dd, dx, dp, &L, B));
    get(c, dg, got_g, np * 4);
    get(c, ddx, got_dx, nin * 4);
    cmp(c, "dW", got_g + L.w_off, want_g + L.w_off, (size_t)IN * OUT,
        gemm_bound(x, dout, NULL, IN, OUT, B, 1, 0), 0, "2 gamma_K sum|a||b|");
    cmp(c, "db", got_g + L.b_off, want_g + L.b_off, OUT, 0, 0, "exact: the same order of adds");
    cmp(c, "dX", got_dx, want_dx, nin, gemm_bound(dout, params + L.w_off, NULL, B, IN, OUT, 0, 1), 0,
        "2 gamma_K sum|a||b|");
    /* the rest of the gradient array (other tensors, padding) stays as it was: zero */
    float edges[5] = {got_g[0], got_g[L.w_off - 1], got_g[L.b_off - 1], got_g[np - 1], got_g[np - 2]};
    float zeros[5] = {0};
    cmp(c, "untouched", edges, zeros, 5, 0, 0, "exact");
}

/* The softmax tolerances for logits z (B,C) of magnitude up to zmax: the gradient within
 * (C+8) u / B (C roundings in the row sum, exp 3 ulp, division 2.5), the loss sum within
 * (C+8) u (1 + 2 zmax) per row plus B u |sum| (tree versus sequential sum). */
static double sxe_grad_tol(int B, int C) { return (C + 8) * 2 * U / B; }
static double sxe_loss_tol(int B, int C, double zmax, double loss)
{
    return B * (C + 8) * 2 * U * (1 + 2 * zmax) + B * 2 * U * fabs(loss);
}

static void v_softmax_xent(vcase *c, int B, int C)
{
    size_t n = (size_t)B * C;
    float *z = hf(c, n), *want = hf(c, n), *got = hf(c, n), *again = hf(c, n);
    uint8_t *y = hb(c, B);
    if (c->st) return;
    static const float scales[2] = {3.0f, 100.0f}; /* 100: exp overflows without the max */
    for (int s = 0; s < 2; s++) {
        sizes(c, "B=%d C=%d |z|<%g", B, C, scales[s]);
        rnd(c, z, n, -scales[s], scales[s]);
        for (int b = 0; b < B; b++) y[b] = (uint8_t)clfit_rng_below(&c->rng, C);
        float loss;
        int correct;
        softmax_xent_ref(want, &loss, &correct, z, y, B, C);
        double ltol = sxe_loss_tol(B, C, scales[s], loss);
        cl_mem dz = dev(c, z, n * 4), dy = dev(c, y, B), dg = dev(c, NULL, n * 4);
        cl_mem dloss = dev(c, (float[2]){0, 0}, 8), dcor = dev(c, (int[1]){0}, 4);
        if (c->st) return;
        float acc[2], f[2], w[2];
        int cor;
        for (int call = 1; call <= 2; call++) {
            /* the second call, in evaluation mode, accumulates and writes no gradient */
            run(c, softmax_xent_cl(c->cl, call == 1 ? dg : NULL, dloss, dcor, dz, dy, B, C, B));
            get(c, dloss, acc, 8);
            get(c, dcor, &cor, 4);
            f[0] = (float)((double)acc[0] - acc[1]);
            f[1] = (float)cor;
            w[0] = call * loss;
            w[1] = (float)(call * correct);
            cmp(c, call == 1 ? "loss sum" : "loss sum x2", &f[0], &w[0], 1, call * ltol, 0, "exp/log 3 ulp, sum order");
            cmp(c, call == 1 ? "correct" : "correct x2", &f[1], &w[1], 1, 0, 0, "exact");
            if (call == 1) {
                get(c, dg, got, n * 4);
                cmp(c, "dlogits", got, want, n, sxe_grad_tol(B, C), 0, "(C+8) u / B");
            }
        }
        get(c, dg, again, n * 4);
        cmp(c, "dlogits kept", again, got, n, 0, 0, "exact");
    }
    /* a regression's mse against values t (loss code 2): the loss, the absolute errors in
     * loss_acc[2..3] (no correct count), the gradient 2 (z - t) / (C B) */
    sizes(c, "B=%d C=%d values", B, C);
    float *t = hf(c, n);
    if (c->st) return;
    rnd(c, z, n, -3, 3);
    rnd(c, t, n, -3, 3);
    float loss, abs_sum, acc[4];
    int correct, cor;
    mse_ref(want, &loss, &correct, &abs_sum, z, y, t, B, C);
    cl_mem dz = dev(c, z, n * 4), dy = dev(c, y, B), dt = dev(c, t, n * 4), dg = dev(c, NULL, n * 4);
    cl_mem dloss = dev(c, (float[4]){0, 0, 0, 0}, 16), dcor = dev(c, (int[1]){7}, 4);
    if (c->st) return;
    run(c, loss_cl(c->cl, 2, dg, dloss, dcor, dz, dy, dt, B, C, B));
    get(c, dloss, acc, 16);
    get(c, dcor, &cor, 4);
    get(c, dg, got, n * 4);
    float f[3] = {(float)((double)acc[0] - acc[1]), (float)((double)acc[2] - acc[3]), (float)cor};
    float w[3] = {loss, abs_sum, 7};
    /* each row's sum of C squares (or absolutes) rounds C times, then the tree's B */
    double tol = (double)(B + C) * 2 * U * (fabs(loss) + fabs(abs_sum) + 1);
    cmp(c, "mse sum", &f[0], &w[0], 1, tol, 0, "(B+C) u, sum order");
    cmp(c, "abs error sum", &f[1], &w[1], 1, tol, 0, "(B+C) u, sum order");
    cmp(c, "correct untouched", &f[2], &w[2], 1, 0, 0, "exact");
    cmp(c, "dlogits", got, want, n, 4 * U * 6 / ((double)C * B), 2 * U, "2 roundings");
}

/* Adam over `steps` steps from zero moments, as the standalone kernel runs it. */
static void v_adam(vcase *c, int n)
{
    sizes(c, "n=%d, 3 steps", n);
    clfit_adam_cfg cfg = CLFIT_ADAM_KERAS;
    size_t bytes = (size_t)n * 4;
    float *p = hf(c, n), *m = hf(c, n), *v = hf(c, n), *g = hf(c, n), *got = hf(c, n);
    if (c->st) return;
    rnd(c, p, n, -1, 1);
    cl_mem dp = dev(c, p, bytes), dm = dev(c, m, bytes), dv = dev(c, v, bytes), dg = dev(c, NULL, bytes);
    double max_update = 0;
    for (int t = 1; t <= 3 && !c->st; t++) {
        rnd(c, g, n, -1e-2f, 1e-2f);
        g[0] = 0.0f; /* a zero gradient, as in the padding */
        run(c, clfit_cl_write(c->cl, dg, 0, bytes, g));
        float alpha = adam_alpha(cfg.lr, cfg.beta1, cfg.beta2, t);
        for (int i = 0; i < n; i++) {
            float before = p[i];
            adam_ref(p + i, m + i, v + i, g + i, 1, alpha, cfg.beta1, cfg.beta2, cfg.eps);
            if (fabs(p[i] - before) > max_update) max_update = fabs(p[i] - before);
        }
        run(c, adam_cl(c->cl, dp, dm, dv, dg, n, alpha, &cfg));
    }
    get(c, dm, got, bytes);
    cmp(c, "m", got, m, n, 0, 0, "exact: FP_CONTRACT OFF");
    get(c, dv, got, bytes);
    cmp(c, "v", got, v, n, 0, 0, "exact: FP_CONTRACT OFF");
    get(c, dp, got, bytes);
    cmp(c, "param", got, p, n, 3 * 16 * U * max_update, 3 * 2 * U, "sqrt 3 ulp, div 2.5, per step");
}

/* Evaluation's end of a batch: fused_head_stats adds B rows' losses and right counts to
 * accumulators that already hold an epoch's part, as batch_stats_ref: the same float
 * additions in the same order, so exact. */
static void v_fused_head_stats(vcase *c, int B)
{
    sizes(c, "B=%d", B);
    if (past_loop_cap(c, (long)B + 1)) return; /* one work-item adds every row */
    float *loss = hf(c, (size_t)B), acc[2], got[2];
    int *right = hi(c, (size_t)B), correct, got_correct;
    if (c->st) return;
    rnd(c, loss, (size_t)B, 0, 3);
    for (int b = 0; b < B; b++) right[b] = loss[b] < 1.0f;
    rnd(c, acc, 1, 100, 1000);
    rnd(c, acc + 1, 1, -1e-5f, 1e-5f);
    correct = B * 3;
    cl_mem dl = dev(c, loss, (size_t)B * 4), dr = dev(c, right, (size_t)B * 4), da = dev(c, acc, sizeof acc),
           dc = dev(c, &correct, sizeof correct);
    if (c->st) return;
    run(c, fused_head_stats_cl(c->cl, dl, dr, B, da, dc, 0));
    batch_stats_ref(acc, &correct, loss, right, B);
    get(c, da, got, sizeof got);
    get(c, dc, &got_correct, sizeof got_correct);
    cmp(c, "loss sum", &got[0], &acc[0], 1, 0, 0, "exact: the same additions");
    cmp(c, "compensation", &got[1], &acc[1], 1, 0, 0, "exact: the same additions");
    float gc = (float)got_correct, wc = (float)correct;
    cmp(c, "correct", &gc, &wc, 1, 0, 0, "exact");
}

/* Every activation, without and with dropout: dense_bias_act (z kept, act(z), the mask),
 * act_backward and fused_act_backward (through the mask, then act' at z) against
 * act_forward_ref, dropout_forward_ref and act_backward_ref, on (B, cols). The masks are
 * integers (exact); the activations' exp, tanh and erf carry OpenCL's 4 ulp (and a few
 * operations around them, whose inputs' rounding the function amplifies by at most |z|). */
static void v_act(vcase *c, int B, int cols)
{
    size_t n = (size_t)B * cols, bytes = n * 4, np;
    clfit_layer L = layer_at(1, cols, &np);
    float *params = hf(c, np), *acc = hf(c, n), *z = hf(c, n), *h = hf(c, n), *d = hf(c, n), *dw = hf(c, n),
          *got = hf(c, n);
    if (c->st) return;
    rnd(c, params, np, -1, 1);
    rnd(c, acc, n, -3, 3);
    rnd(c, d, n, -1, 1);
    for (size_t i = 0; i < n; i += 5) acc[i] = -params[L.b_off + i % cols]; /* z exactly 0 at some */
    cl_mem dp = dev(c, params, np * 4), dout = dev(c, NULL, bytes), dpre = dev(c, NULL, bytes), dd = dev(c, NULL, bytes);
    for (int a = 0; a < CLFIT_ACT_COUNT && !c->st; a++)
        for (int drop = 0; drop <= 1 && !c->st; drop++) {
            float rate = drop ? 0.3f : 0.0f;
            sizes(c, "B=%d cols=%d %s%s", B, cols, clfit_acts[a].name, drop ? " dropout 0.3" : "");
            clfit_act_io io = clfit_act_train(a, dpre, rate, 0x1234567890abcdefull, 2, 77);
            for (size_t i = 0; i < n; i++) z[i] = acc[i] + params[L.b_off + i % cols];
            act_forward_ref(a, h, z, (int)n);
            if (drop) dropout_forward_ref(h, B, cols, rate, 0x1234567890abcdefull, 2, 77, 0);
            run(c, clfit_cl_write(c->cl, dout, 0, bytes, acc));
            run(c, dense_bias_act_cl(c->cl, dout, dp, L.b_off, B, cols, &io));
            get(c, dpre, got, bytes);
            cmp(c, "z kept", got, z, n, 0, 0, "exact: one add");
            get(c, dout, got, bytes);
            double scale = drop ? 1.0 / 0.7 : 1.0;
            cmp(c, "out", got, h, n, 1e-6 * scale, 8 * 4 * U, "exp/tanh/erf 4 ulp, |z| <= 3");
            /* backward: d through the mask, then act' at z */
            memcpy(dw, d, bytes);
            if (drop)
                for (size_t i = 0; i < n; i++)
                    dw[i] = dropout_uniform_ref(0x1234567890abcdefull, 2, 77, (int)(i / cols), (int)(i % cols), cols) >= rate
                                ? dw[i] * (float)(1.0 / 0.7) : 0.0f;
            act_backward_ref(a, dw, dw, z, (int)n);
            for (int fused = 0; fused <= 1 && !c->st; fused++) {
                run(c, clfit_cl_write(c->cl, dd, 0, bytes, d));
                if (fused) run(c, fused_act_backward_cl(c->cl, dd, dout, B, cols, &io));
                else run(c, act_backward_cl(c->cl, dd, dd, dout, (int)n, &io));
                get(c, dd, got, bytes);
                cmp(c, fused ? "dz (fused)" : "dz", got, dw, n, 2e-6 * scale, 8 * 4 * U, "exp/tanh/erf 4 ulp, |z| <= 3");
            }
        }
}

/* Every optimizer from a gradient in memory (optim_cl) against clfit_ref_optim_step, each
 * with weight decay, and with L2 (weights only) and clipping (clipped every step: the sum of
 * squares in the same 64-partial order), 3 steps of a model with n hidden units: the
 * moments and parameters within sqrt's 3 ulp and the divisions' 2.5 per step. */
static void v_optim(vcase *c, int n)
{
    clfit_model_desc d = {.input = 7, .nhidden = 1, .hidden = {n}, .classes = 3};
    clfit_status st;
    for (int kind = 0; kind < CLFIT_OPT_COUNT && !c->st; kind++)
        for (int extra = 0; extra <= 1 && !c->st; extra++) {
            clfit_model *m = clfit_model_new(&d, 9, &st);
            if (!m) { run(c, st); return; }
            size_t np = m->nparams, bytes = np * 4;
            clfit_optim *o = &m->opt;
            o->kind = (clfit_opt_kind)kind;
            o->momentum = kind >= CLFIT_OPT_SGD ? 0.9f : 0.0f;
            o->nesterov = kind == CLFIT_OPT_SGD;
            o->weight_decay = 0.01f;
            if (extra) { o->l2 = 0.5f; o->clipnorm = 0.05f; }
            sizes(c, "n=%zu %s%s, 3 steps", np, clfit_opt_names[kind], extra ? " l2 clip" : " wd");
            float *g = hf(c, np), *got = hf(c, np);
            cl_int wr[4] = {(cl_int)m->layer[0].w_off, (cl_int)(m->layer[0].w_off + 7 * n), (cl_int)m->layer[1].w_off,
                            (cl_int)(m->layer[1].w_off + 3 * n)};
            cl_mem dp = dev(c, m->params, bytes), dm = dev(c, m->m, bytes), dv = dev(c, m->v, bytes), dg = dev(c, NULL, bytes),
                   dwr = dev(c, wr, sizeof wr), dpart = dev(c, NULL, 65 * 4);
            if (c->st) { clfit_model_free(m); return; }
            for (int t = 1; t <= 3 && !c->st; t++) {
                rnd(c, g, np, -1e-1f, 1e-1f);
                run(c, clfit_cl_write(c->cl, dg, 0, bytes, g));
                m->step = t;
                run(c, optim_cl(c->cl, dp, dm, dv, dg, np, &m->adam, o, 0.01f, t, 16, dwr, 2, dpart));
                clfit_ref_optim_step(m, g, 0.01f, 16);
            }
            get(c, dm, got, bytes);
            /* RMSprop's buffer sums terms g / (sqrt(v) + eps) of up to 1/sqrt(1 - rho) = 3.2
             * each, with cancellation; each term carries sqrt's 3 ulp and the division's 2.5,
             * and with clipping the coefficient's own (sqrt, divide) in g but not in eps. The
             * bound 3 steps x 3.2 x 64 ulp absolute is wider than that count (about 11 ulp a
             * term): one seed (1796250544766640, clipped gradients of 2e-5 where eps is 2% of
             * sqrt(v)) measured 1.6e-5, 28 ulp of a term, and why it exceeds the count is not
             * yet explained. The parameters move by lr times that. */
            double mtol = kind == CLFIT_OPT_RMSPROP ? 3 * 3.2 * 128 * U : 1e-7;
            cmp(c, "m", got, m->m, np, mtol, 3 * 8 * U,
                kind == CLFIT_OPT_RMSPROP ? "g/a: sqrt, div, clip; 3 steps" : "sqrt 3 ulp, div 2.5, per step");
            get(c, dv, got, bytes);
            cmp(c, "v", got, m->v, np, 1e-9, 3 * 8 * U, "sqrt 3 ulp, div 2.5, per step");
            get(c, dp, got, bytes);
            cmp(c, "param", got, m->params, np, kind == CLFIT_OPT_RMSPROP ? 1e-7 + 0.01 * mtol : 1e-7, 3 * 8 * U,
                "sqrt 3 ulp, div 2.5, per step");
            clfit_model_free(m);
        }
}

/* Checks a fused Adam update of the n parameters at p0 (before) with moments m0, v0 and
 * reference gradient g (within gtol of the device's): m and v against the reference's,
 * carrying gtol; the parameters against the Adam step computed here from the device's
 * own m and v (so the gradient's error does not count twice). got_* are the device's. */
static void check_fused_adam(vcase *c, const char *name, const float *p0, const float *m0,
                             const float *v0, const float *g, double gtol, size_t n,
                             const float *got_p, const float *got_m, const float *got_v,
                             float alpha, const clfit_adam_cfg *cfg)
{
    float *wm = hf(c, n), *wv = hf(c, n), *wp = hf(c, n);
    if (c->st) return;
    double gmax = max_abs(g, n), upd = 0;
    for (size_t i = 0; i < n; i++) {
        wm[i] = cfg->beta1 * m0[i] + (1.0f - cfg->beta1) * g[i];
        wv[i] = cfg->beta2 * v0[i] + (1.0f - cfg->beta2) * g[i] * g[i];
        float step = alpha * got_m[i] / (sqrtf(got_v[i]) + cfg->eps);
        wp[i] = p0[i] - step;
        if (fabs(step) > upd) upd = fabs(step);
    }
    char what[24];
    snprintf(what, sizeof what, "%s m", name);
    cmp(c, what, got_m, wm, n, (1 - cfg->beta1) * gtol, 4 * U, "(1-b1) x gradient bound");
    snprintf(what, sizeof what, "%s v", name);
    cmp(c, what, got_v, wv, n, (1 - cfg->beta2) * (2 * gmax * gtol + gtol * gtol), 4 * U,
        "(1-b2) x 2|g| gradient bound");
    snprintf(what, sizeof what, "%s param", name);
    cmp(c, what, got_p, wp, n, 16 * U * upd, 2 * U, "Adam step from device m, v");
}

/* Inputs (N,IN) read through order[start..start+B) when with_order, and their rows
 * gathered into x (B,IN) for the reference. */
static void rows_through_order(vcase *c, float *data, int *order, int N, int B, int IN,
                               float *x, int with_order, int *start)
{
    *start = with_order ? N - B : 0;
    if (!with_order) return;
    shuffled(c, order, N);
    for (int b = 0; b < B; b++)
        memcpy(x + (size_t)b * IN, data + (size_t)order[*start + b] * IN, (size_t)IN * 4);
}

/* The batch's rows as the forward launch gathered them (xg): a copy, the same bits. */
static void check_gathered(vcase *c, cl_mem dxg, const float *x, int B, int IN)
{
    float *got = hf(c, (size_t)B * IN);
    if (c->st) return;
    get(c, dxg, got, (size_t)B * IN * 4);
    if (!c->st) cmp(c, "gathered rows", got, x, (size_t)B * IN, 0, 0, "exact: a copy");
}

static void v_fused_forward(vcase *c, int B, int IN, int OUT)
{
    size_t np, nout = (size_t)B * OUT;
    int N = B + 5;
    clfit_layer L = layer_at(IN, OUT, &np);
    float *data = hf(c, (size_t)N * IN), *x = hf(c, (size_t)B * IN), *params = hf(c, np),
          *want = hf(c, nout), *got = hf(c, nout);
    int *order = hi(c, N);
    if (c->st) return;
    rnd(c, params, np, -0.5f, 0.5f);
    for (int with_order = 0; with_order <= 1; with_order++) {
        int start, relu = with_order; /* the layer 0 form and a plain one */
        sizes(c, "B=%d IN=%d OUT=%d%s", B, IN, OUT, with_order ? " order" : "");
        rnd(c, data, (size_t)N * IN, 0, 1);
        memcpy(x, data, (size_t)B * IN * 4);
        rows_through_order(c, data, order, N, B, IN, x, with_order, &start);
        dense_forward_ref(want, x, params + L.w_off, params + L.b_off, B, IN, OUT);
        if (relu) relu_forward_ref(want, want, (int)nout);
        /* without the order, exactly B rows: Oclgrind then sees any read past them */
        cl_mem dd = dev(c, data, (size_t)(with_order ? N : B) * IN * 4), dord = dev(c, order, N * sizeof(int));
        cl_mem dp = dev(c, params, np * 4), dout = dev(c, NULL, nout * 4), dxg = dev(c, NULL, (size_t)B * IN * 4);
        if (c->st) return;
        run(c, fused_forward_cl(c->cl, dout, dd, with_order ? dord : NULL, start, with_order ? dxg : NULL, dp, &L, B,
                                relu ? &relu_io : NULL));
        get(c, dout, got, nout * 4);
        cmp(c, relu ? "out relu" : "out", got, want, nout,
            gemm_bound(x, params + L.w_off, params + L.b_off, B, OUT, IN, 0, 0), 0, "2 gamma_K sum|a||b|");
        if (with_order) check_gathered(c, dxg, x, B, IN);
    }
}

/* The last hidden layer and the last layer (fused_forward_head), checked stage by stage,
 * each against the reference applied to the device's own input to that stage, so that no
 * error counts twice and no near-tie flips a decision between the two: h against x, the
 * logits against the device's h, the row's loss, correctness and dlogits against the
 * device's logits, dh against the device's dlogits masked by the device's h. */
static void v_fused_forward_head(vcase *c, int B, int IN, int H, int C)
{
    size_t np0, nh = (size_t)B * H, nz = (size_t)B * C;
    int N = B + 5;
    clfit_layer L0 = layer_at(IN, H, &np0), L1 = {.in = H, .out = C, .w_off = np0 + 7};
    L1.b_off = L1.w_off + (size_t)H * C + 1;
    size_t np = L1.b_off + C + 3;
    float *data = hf(c, (size_t)N * IN), *x = hf(c, (size_t)B * IN), *params = hf(c, np), *wt = hf(c, (size_t)H * C),
          *h = hf(c, nh), *z = hf(c, nz), *dz = hf(c, nz), *dh = hf(c, nh), *dw = hf(c, (size_t)H * C), *db = hf(c, C),
          *lrow = hf(c, B), *rrow = hf(c, B), *got_h = hf(c, nh), *got_z = hf(c, nz), *got_dz = hf(c, nz),
          *got_dh = hf(c, nh), *got_l = hf(c, B), *got_r = hf(c, B);
    int *order = hi(c, N), *got_ri = hi(c, B);
    uint8_t *labels = hb(c, N), *y = hb(c, B);
    if (c->st) return;
    rnd(c, params, np, -0.5f, 0.5f);
    const float *W1 = params + L1.w_off, *b1 = params + L1.b_off;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < C; k++) wt[(size_t)k * H + j] = W1[(size_t)j * C + k];
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)clfit_rng_below(&c->rng, C);
    for (int with_order = 0; with_order <= 1; with_order++) {
        int start;
        sizes(c, "B=%d IN=%d H=%d C=%d%s", B, IN, H, C, with_order ? " order" : "");
        rnd(c, data, (size_t)N * IN, 0, 1);
        memcpy(x, data, (size_t)B * IN * 4);
        rows_through_order(c, data, order, N, B, IN, x, with_order, &start);
        if (!with_order) for (int i = 0; i < N; i++) order[i] = i; /* the labels' order */
        for (int b = 0; b < B; b++) y[b] = labels[order[start + b]];
        dense_forward_ref(h, x, params + L0.w_off, params + L0.b_off, B, IN, H);
        relu_forward_ref(h, h, (int)nh);
        cl_mem dd = dev(c, data, (size_t)(with_order ? N : B) * IN * 4), dord = dev(c, order, N * sizeof(int)),
               dp = dev(c, params, np * 4), dwt = dev(c, wt, (size_t)H * C * 4), dl = dev(c, labels, N),
               dhb = dev(c, NULL, nh * 4), dzb = dev(c, NULL, nz * 4), ddz = dev(c, NULL, nz * 4),
               ddh = dev(c, NULL, nh * 4), dlr = dev(c, NULL, (size_t)B * 4), drr = dev(c, NULL, (size_t)B * 4),
               dxg = dev(c, NULL, (size_t)B * IN * 4);
        if (c->st) return;
        for (int train = 0; train <= 1; train++) {
            clfit_head_io io = {.layer = &L1, .wt = dwt, .logits = dzb, .dlogits = train ? ddz : NULL, .dh = ddh,
                                .loss_row = dlr, .right_row = drr, .labels = dl, .order = dord, .start = start};
            /* training the layer 0 form gathers the batch's rows, as the trainer does */
            cl_mem xg = with_order && train ? dxg : NULL;
            run(c, fused_forward_head_cl(c->cl, dhb, dd, with_order ? dord : NULL, start, xg, dp, &L0, B, &io));
            if (xg) check_gathered(c, dxg, x, B, IN);
            get(c, dhb, got_h, nh * 4);
            get(c, dzb, got_z, nz * 4);
            get(c, dlr, got_l, (size_t)B * 4);
            get(c, drr, got_ri, (size_t)B * 4);
            if (c->st) return;
            cmp(c, train ? "h" : "h (eval)", got_h, h, nh,
                gemm_bound(x, params + L0.w_off, params + L0.b_off, B, H, IN, 0, 0), 0, "2 gamma_K sum|a||b|");
            /* the logits from the device's h */
            dense_forward_ref(z, got_h, W1, b1, B, H, C);
            cmp(c, train ? "logits" : "logits (eval)", got_z, z, nz, gemm_bound(got_h, W1, b1, B, C, H, 0, 0), 0,
                "2 gamma_K sum|a||b|");
            /* each row's loss and correctness from the device's logits */
            double ltol = 0;
            for (int b = 0; b < B; b++) {
                float l;
                int right;
                softmax_xent_ref(NULL, &l, &right, got_z + (size_t)b * C, y + b, 1, C);
                lrow[b] = l;
                rrow[b] = (float)right;
                got_r[b] = (float)got_ri[b];
                double t = sxe_loss_tol(1, C, max_abs(got_z + (size_t)b * C, C), l);
                if (t > ltol) ltol = t;
            }
            cmp(c, train ? "row loss" : "row loss (eval)", got_l, lrow, B, ltol, 0, "exp/log 3 ulp");
            cmp(c, train ? "row right" : "row right (eval)", got_r, rrow, B, 0, 0, "exact: the same argmax");
            if (!train) continue;
            float loss;
            int correct;
            softmax_xent_ref(dz, &loss, &correct, got_z, y, B, C);
            get(c, ddz, got_dz, nz * 4);
            get(c, ddh, got_dh, nh * 4);
            if (c->st) return;
            cmp(c, "dlogits", got_dz, dz, nz, sxe_grad_tol(B, C), 0, "(C+8) u / B");
            /* dh from the device's dlogits, masked by the device's h */
            dense_backward_ref(dh, dw, db, got_dz, got_h, W1, B, H, C);
            relu_backward_ref(dh, dh, got_h, (int)nh);
            cmp(c, "dh", got_dh, dh, nh, gemm_bound(got_dz, W1, NULL, B, H, C, 0, 1), 0, "2 gamma_K sum|a||b|");
        }
    }
}

static void v_fused_backward_data(vcase *c, int B, int IN, int OUT)
{
    sizes(c, "B=%d IN=%d OUT=%d", B, IN, OUT);
    size_t np, nin = (size_t)B * IN, nout = (size_t)B * OUT;
    clfit_layer L = layer_at(IN, OUT, &np);
    float *inp = hf(c, nin), *dout = hf(c, nout), *params = hf(c, np), *want = hf(c, nin),
          *got = hf(c, nin), *dw = hf(c, (size_t)IN * OUT), *db = hf(c, OUT);
    if (c->st) return;
    rnd(c, inp, nin, -1, 1);
    relu_forward_ref(inp, inp, (int)nin);
    rnd(c, dout, nout, -0.1f, 0.1f);
    rnd(c, params, np, -0.5f, 0.5f);
    dense_backward_ref(want, dw, db, dout, inp, params + L.w_off, B, IN, OUT);
    relu_backward_ref(want, want, inp, (int)nin);
    cl_mem di = dev(c, inp, nin * 4), dd = dev(c, dout, nout * 4), dp = dev(c, params, np * 4),
           dx = dev(c, NULL, nin * 4);
    if (c->st) return;
    run(c, fused_backward_data_cl(c->cl, dx, dd, di, dp, &L, B, NULL));
    get(c, dx, got, nin * 4);
    cmp(c, "dinp", got, want, nin, gemm_bound(dout, params + L.w_off, NULL, B, IN, OUT, 0, 1), 0,
        "2 gamma_K sum|a||b|");
}

/* The last layer's update in the same launch as layer L's gradient (fused_grad_adam with a
 * head): W1 (OUT,C), b1 from h (B,OUT) and dlogits (B,C), wt rewritten with the new W1,
 * and the rows' losses added to the accumulators. */
static void check_head_update(vcase *c, int B, int H, int C, const clfit_layer *L, cl_mem dp, cl_mem dd,
                              cl_mem dord, int start, cl_mem ddo, float *params, float *m, float *v, size_t np,
                              float alpha, const clfit_adam_cfg *cfg)
{
    clfit_layer L1 = {.in = H, .out = C, .w_off = L->b_off + L->out + 11};
    L1.b_off = L1.w_off + (size_t)H * C + 2;
    if (L1.b_off + C > np) { c->st = clfit_fail(CLFIT_ERR_ARG, "verify: no room for the head"); return; }
    size_t nhc = (size_t)H * C;
    float *h = hf(c, (size_t)B * H), *dz = hf(c, (size_t)B * C), *lrow = hf(c, B), *g = hf(c, nhc + C),
          *got_p = hf(c, np), *got_m = hf(c, np), *got_v = hf(c, np), *got_wt = hf(c, nhc), *want_wt = hf(c, nhc);
    int *rrow = hi(c, B);
    if (c->st) return;
    rnd(c, h, (size_t)B * H, -1, 1);
    relu_forward_ref(h, h, B * H);
    rnd(c, dz, (size_t)B * C, -0.1f, 0.1f);
    rnd(c, lrow, B, 0, 3);
    int correct = 0;
    for (int b = 0; b < B; b++) correct += rrow[b] = (int)clfit_rng_below(&c->rng, 2);
    dense_backward_ref(NULL, g, g + nhc, dz, h, params + L1.w_off, B, H, C);
    cl_mem dp2 = dev(c, params, np * 4), dm2 = dev(c, m, np * 4), dv2 = dev(c, v, np * 4),
           dwt = dev(c, NULL, nhc * 4), dh = dev(c, h, (size_t)B * H * 4), ddz = dev(c, dz, (size_t)B * C * 4),
           dlr = dev(c, lrow, (size_t)B * 4), drr = dev(c, rrow, (size_t)B * 4),
           dla = dev(c, (float[2]){1.5f, 0}, 8), dca = dev(c, (int[1]){3}, 4);
    if (c->st) return;
    clfit_head_update head = {.layer = &L1, .wt = dwt, .h = dh, .dlogits = ddz, .loss_row = dlr, .right_row = drr,
                              .loss_acc = dla, .correct_acc = dca};
    run(c, fused_grad_adam_cl(c->cl, dp2, dm2, dv2, NULL, dd, dord, start, ddo, L, B, alpha, cfg, &head));
    get(c, dp2, got_p, np * 4);
    get(c, dm2, got_m, np * 4);
    get(c, dv2, got_v, np * 4);
    get(c, dwt, got_wt, nhc * 4);
    float acc[2];
    int cor;
    get(c, dla, acc, 8);
    get(c, dca, &cor, 4);
    if (c->st) return;
    check_fused_adam(c, "W1", params + L1.w_off, m + L1.w_off, v + L1.w_off, g, gemm_bound(h, dz, NULL, H, C, B, 1, 0),
                     nhc, got_p + L1.w_off, got_m + L1.w_off, got_v + L1.w_off, alpha, cfg);
    check_fused_adam(c, "b1", params + L1.b_off, m + L1.b_off, v + L1.b_off, g + nhc,
                     2 * gamma_k(B) * B * max_abs(dz, (size_t)B * C), C, got_p + L1.b_off, got_m + L1.b_off,
                     got_v + L1.b_off, alpha, cfg);
    for (int j = 0; j < H; j++)
        for (int k = 0; k < C; k++) want_wt[(size_t)k * H + j] = got_p[L1.w_off + (size_t)j * C + k];
    cmp(c, "wt", got_wt, want_wt, nhc, 0, 0, "exact: the new W1, transposed");
    double sum = 0, asum = 0;
    for (int b = 0; b < B; b++) { sum += lrow[b]; asum += fabs(lrow[b]); }
    float f[2] = {(float)((double)acc[0] - acc[1]), (float)cor}, w[2] = {(float)(1.5 + sum), (float)(3 + correct)};
    cmp(c, "loss sum", &f[0], &w[0], 1, (B + 2) * 2 * U * (asum + 1.5), 0, "a sum of B floats");
    cmp(c, "correct", &f[1], &w[1], 1, 0, 0, "exact");
    /* the layer's own update is as without the head (dp: that run's result) */
    float *again = hf(c, np);
    get(c, dp, again, np * 4);
    if (c->st) return;
    cmp(c, "W with head", got_p + L->w_off, again + L->w_off, (size_t)L->in * L->out, 0, 0, "exact: the same code");
}

static void v_fused_grad_adam(vcase *c, int B, int IN, int OUT, int C)
{
    clfit_adam_cfg cfg = CLFIT_ADAM_KERAS;
    size_t np0, nout = (size_t)B * OUT;
    int N = B + 5;
    clfit_layer L = layer_at(IN, OUT, &np0);
    size_t np = np0 + 16 + (size_t)OUT * C + C; /* room for a head after the layer */
    float *data = hf(c, (size_t)N * IN), *x = hf(c, (size_t)B * IN), *dout = hf(c, nout),
          *params = hf(c, np), *m = hf(c, np), *v = hf(c, np), *g = hf(c, np), *got_p = hf(c, np),
          *got_m = hf(c, np), *got_v = hf(c, np);
    int *order = hi(c, N);
    if (c->st) return;
    float alpha = adam_alpha(cfg.lr, cfg.beta1, cfg.beta2, 5);
    for (int with_order = 0; with_order <= 1; with_order++) {
        int start;
        sizes(c, "B=%d IN=%d OUT=%d%s", B, IN, OUT, with_order ? " order" : "");
        rnd(c, data, (size_t)N * IN, 0, 1);
        memcpy(x, data, (size_t)B * IN * 4);
        rows_through_order(c, data, order, N, B, IN, x, with_order, &start);
        rnd(c, dout, nout, -0.1f, 0.1f);
        rnd(c, params, np, -0.5f, 0.5f);
        rnd(c, m, np, -1e-3f, 1e-3f);
        rnd(c, v, np, 0, 1e-5f);
        dense_backward_ref(NULL, g + L.w_off, g + L.b_off, dout, x, params + L.w_off, B, IN, OUT);
        cl_mem dd = dev(c, data, (size_t)(with_order ? N : B) * IN * 4), dord = dev(c, order, N * sizeof(int)),
               ddo = dev(c, dout, nout * 4), dp = dev(c, params, np * 4), dm = dev(c, m, np * 4),
               dv = dev(c, v, np * 4);
        if (c->st) return;
        run(c, fused_grad_adam_cl(c->cl, dp, dm, dv, NULL, dd, with_order ? dord : NULL, start, ddo, &L, B,
                                  alpha, &cfg, NULL));
        get(c, dp, got_p, np * 4);
        get(c, dm, got_m, np * 4);
        get(c, dv, got_v, np * 4);
        check_fused_adam(c, "W", params + L.w_off, m + L.w_off, v + L.w_off, g + L.w_off,
                         gemm_bound(x, dout, NULL, IN, OUT, B, 1, 0), (size_t)IN * OUT,
                         got_p + L.w_off, got_m + L.w_off, got_v + L.w_off, alpha, &cfg);
        check_fused_adam(c, "b", params + L.b_off, m + L.b_off, v + L.b_off, g + L.b_off,
                         2 * gamma_k(B) * B * max_abs(dout, nout), OUT, got_p + L.b_off,
                         got_m + L.b_off, got_v + L.b_off, alpha, &cfg);
        /* the bytes around the layer stay as they were */
        float edges[4] = {got_p[0], got_p[L.w_off - 1], got_p[L.b_off - 1], got_p[np - 1]};
        float want_e[4] = {params[0], params[L.w_off - 1], params[L.b_off - 1], params[np - 1]};
        cmp(c, "untouched", edges, want_e, 4, 0, 0, "exact");
        /* data parallelism's form: the gradient stored at the parameters' indices, no Adam */
        float *got_g = hf(c, np), *again_p = hf(c, np);
        cl_mem dg = dev(c, got_g, np * 4);
        if (c->st) return;
        run(c, fused_grad_adam_cl(c->cl, dp, dm, dv, dg, dd, with_order ? dord : NULL, start, ddo, &L, B, alpha, &cfg,
                                  NULL));
        get(c, dg, got_g, np * 4);
        get(c, dp, again_p, np * 4);
        if (c->st) return;
        cmp(c, "dW to memory", got_g + L.w_off, g + L.w_off, (size_t)IN * OUT, gemm_bound(x, dout, NULL, IN, OUT, B, 1, 0),
            0, "2 gamma_K sum|a||b|");
        cmp(c, "db to memory", got_g + L.b_off, g + L.b_off, OUT, 2 * gamma_k(B) * B * max_abs(dout, nout), 0,
            "sum of B floats");
        cmp(c, "no Adam", again_p, got_p, np, 0, 0, "exact: the weights stay");
        if (C > 0) {
            sizes(c, "B=%d IN=%d OUT=%d C=%d%s", B, IN, OUT, C, with_order ? " order" : "");
            check_head_update(c, B, OUT, C, &L, dp, dd, with_order ? dord : NULL, start, ddo, params, m, v, np,
                              alpha, &cfg);
        }
    }
}

/* The groups' partial logits (G, maxB, C) of B rows summed as slice_step sums them: in
 * group order, as float. */
static void slice_logits(float *z, const float *part, int G, int maxB, int B, int C)
{
    for (int b = 0; b < B; b++)
        for (int k = 0; k < C; k++) {
            float s = part[(size_t)b * C + k];
            for (int q = 1; q < G; q++) s += part[((size_t)q * maxB + b) * C + k];
            z[(size_t)b * C + k] = s;
        }
}

/* The one-launch step (slice_step), three launches as a trainer makes them: the forward
 * pass of batch 1 (B rows); batch 1's end (loss, dlogits, dh, gradients, Adam) with batch
 * 2's forward pass (B2 = B - 2 rows, the short last batch of an epoch); batch 2's end in
 * evaluation mode (loss only, no update). Checked stage by stage against the reference
 * applied to the device's own input to that stage, as for fused_forward_head: h against
 * x; the logits (the partials summed here in the kernel's order) against the device's h;
 * the loss, dlogits and every group's copy of them against those logits; dh against the
 * device's dlogits and h; each gradient from the device's dh, h and dlogits; batch 2's h
 * against the device's new weights. */
static void v_slice_step(vcase *c, int B, int IN, int H, int C)
{
    clfit_adam_cfg cfg = CLFIT_ADAM_KERAS;
    int B2 = B > 2 ? B - 2 : B, N = B + B2 + 5, maxB = B + 3, G = slice_groups(c->cl, H);
    sizes(c, "B=%d,%d IN=%d H=%d C=%d G=%d", B, B2, IN, H, C, G);
    size_t np0, nh = (size_t)maxB * H, nz = (size_t)maxB * C, npart = (size_t)G * nz;
    clfit_layer L0 = layer_at(IN, H, &np0), L1 = {.in = H, .out = C, .w_off = np0 + 3};
    L1.b_off = L1.w_off + (size_t)H * C + 2;
    size_t np = L1.b_off + C + 1;
    float *data = hf(c, (size_t)N * IN), *x1 = hf(c, (size_t)B * IN), *x2 = hf(c, (size_t)B2 * IN),
          *params = hf(c, np), *m = hf(c, np), *v = hf(c, np), *g = hf(c, np), *h = hf(c, nh), *z = hf(c, nz),
          *z2 = hf(c, nz), *dz = hf(c, nz), *dh = hf(c, nh), *got_h = hf(c, nh), *got_h2 = hf(c, nh),
          *got_part = hf(c, 2 * npart), *got_dl = hf(c, npart), *got_dh = hf(c, nh), *got_p = hf(c, np),
          *got_m = hf(c, np), *got_v = hf(c, np), *again = hf(c, np);
    int *order = hi(c, N);
    uint8_t *labels = hb(c, N), *y1 = hb(c, B), *y2 = hb(c, B2);
    if (c->st) return;
    rnd(c, data, (size_t)N * IN, 0, 1);
    rnd(c, params, np, -0.5f, 0.5f);
    rnd(c, m, np, -1e-3f, 1e-3f);
    rnd(c, v, np, 0, 1e-5f);
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)clfit_rng_below(&c->rng, C);
    shuffled(c, order, N);
    int start1 = 2, start2 = 2 + B; /* rows order[start1 ..), then order[start2 ..) */
    for (int b = 0; b < B; b++) {
        memcpy(x1 + (size_t)b * IN, data + (size_t)order[start1 + b] * IN, (size_t)IN * 4);
        y1[b] = labels[order[start1 + b]];
    }
    for (int b = 0; b < B2; b++) {
        memcpy(x2 + (size_t)b * IN, data + (size_t)order[start2 + b] * IN, (size_t)IN * 4);
        y2[b] = labels[order[start2 + b]];
    }
    cl_mem dd = dev(c, data, (size_t)N * IN * 4), dlab = dev(c, labels, N), dord = dev(c, order, N * sizeof(int)),
           dp = dev(c, params, np * 4), dm = dev(c, m, np * 4), dv = dev(c, v, np * 4),
           drows = dev(c, NULL, 2 * (size_t)maxB * sizeof(int)), dh_ = dev(c, NULL, nh * 4), ddh = dev(c, NULL, nh * 4),
           dpart = dev(c, NULL, 2 * npart * 4), ddl = dev(c, NULL, npart * 4), dlr = dev(c, NULL, (size_t)maxB * 4),
           drr = dev(c, NULL, (size_t)maxB * 4), dla = dev(c, (float[2]){1.5f, 0}, 8), dca = dev(c, (int[1]){3}, 4);
    if (c->st) return;
    clfit_slice_io io = {.l0 = &L0, .l1 = &L1, .params = dp, .m = dm, .v = dv, .x = dd, .labels = dlab, .rows = drows,
                         .h = dh_, .dh = ddh, .part = dpart, .dl = ddl, .loss_row = dlr, .right_row = drr,
                         .loss_acc = dla, .correct_acc = dca, .maxB = maxB};
    const float *W0 = params + L0.w_off, *b0 = params + L0.b_off, *W1 = params + L1.w_off;
    float alpha = adam_alpha(cfg.lr, cfg.beta1, cfg.beta2, 5);

    /* launch 1: batch 1's forward pass */
    run(c, slice_step_cl(c->cl, &io, dord, start1, B, 0, 0, 1, 0.0f, &cfg));
    get(c, dh_, got_h, nh * 4);
    get(c, dpart, got_part, 2 * npart * 4);
    if (c->st) return;
    dense_forward_ref(h, x1, W0, b0, B, IN, H);
    relu_forward_ref(h, h, B * H);
    cmp(c, "h", got_h, h, (size_t)B * H, gemm_bound(x1, W0, b0, B, H, IN, 0, 0), 0, "2 gamma_K sum|a||b|");
    slice_logits(z, got_part, G, maxB, B, C);
    float *zref = hf(c, nz);
    if (c->st) return;
    dense_forward_ref(zref, got_h, W1, params + L1.b_off, B, H, C);
    cmp(c, "logits", z, zref, (size_t)B * C, gemm_bound(got_h, W1, params + L1.b_off, B, C, H, 0, 0), 0,
        "2 gamma_K sum|a||b|");

    /* launch 2: batch 1's end with Adam, batch 2's forward pass */
    run(c, slice_step_cl(c->cl, &io, dord, start2, B2, 1, B, 1, alpha, &cfg));
    float acc[2];
    int cor;
    get(c, ddl, got_dl, npart * 4);
    get(c, ddh, got_dh, nh * 4);
    get(c, dp, got_p, np * 4);
    get(c, dm, got_m, np * 4);
    get(c, dv, got_v, np * 4);
    get(c, dh_, got_h2, nh * 4);
    get(c, dla, acc, 8);
    get(c, dca, &cor, 4);
    if (c->st) return;
    float loss;
    int correct;
    softmax_xent_ref(dz, &loss, &correct, z, y1, B, C);
    cmp(c, "dlogits", got_dl, dz, (size_t)B * C, sxe_grad_tol(B, C), 0, "(C+8) u / B");
    for (int q = 1; q < G; q++)
        cmp(c, "dlogits copies", got_dl + (size_t)q * nz, got_dl, (size_t)B * C, 0, 0, "exact: the same code");
    float f[2] = {(float)((double)acc[0] - acc[1]), (float)cor}, w[2] = {1.5f + loss, (float)(3 + correct)};
    cmp(c, "loss sum", &f[0], &w[0], 1, sxe_loss_tol(B, C, max_abs(z, (size_t)B * C), loss) + 4 * U * 1.5, 0,
        "exp/log 3 ulp, sum order");
    cmp(c, "correct", &f[1], &w[1], 1, 0, 0, "exact");
    /* dh from the device's dlogits, masked by the device's h */
    float *scratch = hf(c, (size_t)H * C + C);
    if (c->st) return;
    dense_backward_ref(dh, scratch, scratch + (size_t)H * C, got_dl, got_h, W1, B, H, C);
    relu_backward_ref(dh, dh, got_h, B * H);
    cmp(c, "dh", got_dh, dh, (size_t)B * H, gemm_bound(got_dl, W1, NULL, B, H, C, 0, 1), 0, "2 gamma_K sum|a||b|");
    /* the gradients from the device's dh, h and dlogits, and Adam */
    dense_backward_ref(NULL, g + L0.w_off, g + L0.b_off, got_dh, x1, W0, B, IN, H);
    dense_backward_ref(NULL, g + L1.w_off, g + L1.b_off, got_dl, got_h, W1, B, H, C);
    struct { const char *name; size_t off, n; double gtol; } upd[] = {
        {"W0", L0.w_off, (size_t)IN * H, gemm_bound(x1, got_dh, NULL, IN, H, B, 1, 0)},
        {"b0", L0.b_off, H, 2 * gamma_k(B) * B * max_abs(got_dh, (size_t)B * H)},
        {"W1", L1.w_off, (size_t)H * C, gemm_bound(got_h, got_dl, NULL, H, C, B, 1, 0)},
        {"b1", L1.b_off, C, 2 * gamma_k(B) * B * max_abs(got_dl, (size_t)B * C)},
    };
    for (int u = 0; u < 4; u++) {
        size_t o = upd[u].off;
        check_fused_adam(c, upd[u].name, params + o, m + o, v + o, g + o, upd[u].gtol, upd[u].n, got_p + o,
                         got_m + o, got_v + o, alpha, &cfg);
    }
    float edges[4] = {got_p[0], got_p[L0.w_off - 1], got_p[L1.w_off - 1], got_p[np - 1]};
    float want_e[4] = {params[0], params[L0.w_off - 1], params[L1.w_off - 1], params[np - 1]};
    cmp(c, "untouched", edges, want_e, 4, 0, 0, "exact");
    /* batch 2's forward pass ran with the new weights */
    const float *nW0 = got_p + L0.w_off, *nb0 = got_p + L0.b_off, *nW1 = got_p + L1.w_off, *nb1 = got_p + L1.b_off;
    dense_forward_ref(h, x2, nW0, nb0, B2, IN, H);
    relu_forward_ref(h, h, B2 * H);
    cmp(c, "h batch 2", got_h2, h, (size_t)B2 * H, gemm_bound(x2, nW0, nb0, B2, H, IN, 0, 0), 0, "2 gamma_K sum|a||b|");

    /* launch 3: batch 2's end in evaluation mode: its loss, its logits in dl, no update */
    get(c, dpart, got_part, 2 * npart * 4);
    run(c, slice_step_cl(c->cl, &io, NULL, 0, 0, 0, B2, 0, 0.0f, &cfg));
    get(c, ddl, got_dl, npart * 4);
    get(c, dp, again, np * 4);
    get(c, dla, acc, 8);
    get(c, dca, &cor, 4);
    if (c->st) return;
    slice_logits(z2, got_part + npart, G, maxB, B2, C);
    dense_forward_ref(zref, got_h2, nW1, nb1, B2, H, C);
    cmp(c, "logits batch 2", z2, zref, (size_t)B2 * C, gemm_bound(got_h2, nW1, nb1, B2, C, H, 0, 0), 0,
        "2 gamma_K sum|a||b|");
    cmp(c, "logits (eval)", got_dl, z2, (size_t)B2 * C, 0, 0, "exact: the same sums");
    cmp(c, "params (eval)", again, got_p, np, 0, 0, "exact: no update");
    float loss2;
    int correct2;
    softmax_xent_ref(NULL, &loss2, &correct2, z2, y2, B2, C);
    float f2[2] = {(float)((double)acc[0] - acc[1]), (float)cor},
          w2[2] = {1.5f + loss + loss2, (float)(3 + correct + correct2)};
    cmp(c, "loss sum (eval)", &f2[0], &w2[0], 1,
        sxe_loss_tol(B, C, max_abs(z, (size_t)B * C), loss) + sxe_loss_tol(B2, C, max_abs(z2, (size_t)B2 * C), loss2) +
            8 * U * (1.5 + fabs(loss) + fabs(loss2)), 0, "exp/log 3 ulp, sum order");
    cmp(c, "correct (eval)", &f2[1], &w2[1], 1, 0, 0, "exact");
}

/* ---- whole training steps: every part on every backend that runs it ---- */

/* The models a train_step case runs (dims give the batch and widths): between them every
 * activation, dropout, both losses, Adam, AdamW and SGD (momentum, Nesterov) with weight
 * decay, L2 and clipping, one and two hidden layers and none. Not RMSprop: its update
 * g / (sqrt(v) + eps) turns a gradient's rounding where sqrt(v) is near eps into a large
 * part of the update (measured up to 4e-5 on the weights at 784-128-10 in 3 steps, against
 * 1e-5 for the others), so a whole step has no bound stated for it here; the optim row
 * checks its kernel from one gradient, and tests/check_train.c its steps on small models. */
typedef struct {
    int nhidden, second;        /* hidden layers; the second one's width */
    clfit_act act[2];
    float dropout[2];
    clfit_loss loss;
    clfit_opt_kind opt;
    float momentum, weight_decay, l2, clipnorm;
    int nesterov;
    int regression;             /* mse against random values instead of the one-hot label */
} step_model;
static const step_model step_models[] = {
    {1, 0, {CLFIT_ACT_RELU}, {0}, CLFIT_LOSS_XENT, CLFIT_OPT_ADAM, 0, 0, 0, 0, 0, 0}, /* the tutorial's */
    {2, 9, {CLFIT_ACT_GELU, CLFIT_ACT_TANH}, {0.3f, 0.2f}, CLFIT_LOSS_XENT, CLFIT_OPT_ADAMW, 0, 0.05f, 0, 0.5f, 0, 0},
    {2, 6, {CLFIT_ACT_SILU, CLFIT_ACT_SIGMOID}, {0, 0.4f}, CLFIT_LOSS_MSE, CLFIT_OPT_SGD, 0.9f, 0, 0.01f, 0, 1, 0},
    {1, 0, {CLFIT_ACT_LEAKY_RELU}, {0.25f}, CLFIT_LOSS_XENT, CLFIT_OPT_ADAM, 0, 1e-3f, 0, 0, 0, 0},
    {1, 0, {CLFIT_ACT_LINEAR}, {0}, CLFIT_LOSS_MSE, CLFIT_OPT_ADAM, 0, 0, 0.1f, 0.05f, 0, 0},
    {0, 0, {0}, {0}, CLFIT_LOSS_XENT, CLFIT_OPT_SGD, 0, 0, 0, 0, 0, 0},
    /* L2 (scikit-learn's alpha) inside the fused Adam and AdamW kernels: no clipping */
    {1, 0, {CLFIT_ACT_RELU}, {0}, CLFIT_LOSS_XENT, CLFIT_OPT_ADAM, 0, 0, 0.05f, 0, 0, 0},
    {2, 7, {CLFIT_ACT_TANH, CLFIT_ACT_RELU}, {0, 0}, CLFIT_LOSS_XENT, CLFIT_OPT_ADAMW, 0, 0.02f, 0.3f, 0, 0, 0},
    /* regressions: the tutorial's shape, a deep one with decay and clipping, a linear one */
    {1, 0, {CLFIT_ACT_RELU}, {0}, CLFIT_LOSS_MSE, CLFIT_OPT_ADAM, 0, 0, 0, 0, 0, 1},
    {2, 5, {CLFIT_ACT_TANH, CLFIT_ACT_RELU}, {0, 0.2f}, CLFIT_LOSS_MSE, CLFIT_OPT_ADAMW, 0, 0.05f, 0, 0.5f, 0, 1},
    {0, 0, {0}, {0}, CLFIT_LOSS_MSE, CLFIT_OPT_SGD, 0.9f, 0, 0.01f, 0, 0, 1},
};

/* Three steps (B, B, then 3 rows: a short last batch) of model `sm` with IN inputs, H units
 * in the first hidden layer and C classes, on backend g (clfit_trainer) and on the CPU
 * reference (clfit_ref_train_step), from the same weights, shuffled rows and dropout
 * masks. The two differ only by rounding (GEMM order, exp/log/erf/sqrt ulps, ~1e-7
 * relative per operation); Adam divides by sqrt(v), so a gradient's rounding difference dg
 * moves an update by up to lr dg / (|g| + eps): over 3 steps well below lr 1e-2 = 1e-5 per
 * weight (tests/check_train.c measures the same over more steps), the atol used; the
 * optimizer's buffers get that bound scaled to their own size; the loss sum rtol 1e-5.
 * The correct count is exact but for rows whose reference logits have their top two
 * within TIE_MARGIN: weights 1e-5 apart move a logit, a sum over up to 128 hidden units of
 * activations of order 1, by up to ~1e-3, and 1e-2 leaves a margin of 10; each such row
 * may count right on one side and wrong on the other (seen on llvmpipe: 6 against 5, its
 * tanh rounding differently from the host's). */
#define TIE_MARGIN 1e-2f

static void train_step_case(vcase *c, int g, const step_model *sm, int B, int IN, int H, int C)
{
    clfit_model_desc d = {.input = IN, .nhidden = sm->nhidden, .hidden = {H, sm->second}, .classes = C,
                          .loss = sm->loss, .regression = sm->regression};
    for (int l = 0; l < sm->nhidden; l++) {
        d.act[l] = sm->act[l];
        d.dropout[l] = sm->dropout[l];
    }
    clfit_optim o;
    clfit_optim_defaults(&o);
    o.kind = sm->opt;
    o.momentum = sm->momentum;
    o.nesterov = sm->nesterov;
    o.weight_decay = sm->weight_decay;
    o.l2 = sm->l2;
    o.clipnorm = sm->clipnorm;
    if (clfit_backend_refuses(g, &d, &o, 1)) return;
    char parts[96] = "";
    int n = 0;
    for (int l = 0; l < sm->nhidden; l++)
        n += snprintf(parts + n, sizeof parts - n, "%s%s", l ? "," : "", clfit_acts[sm->act[l]].name);
    if (sm->nhidden && (sm->dropout[0] > 0 || sm->dropout[1] > 0)) n += snprintf(parts + n, sizeof parts - n, " drop");
    snprintf(parts + n, sizeof parts - n, "%s %s%s", sm->regression ? " values" : sm->loss == CLFIT_LOSS_MSE ? " mse" : "",
             clfit_opt_names[sm->opt], sm->l2 > 0 ? " l2" : "");
    sizes(c, "%s B=%d %d-%d-%d %s", clfit_gemm_names[g], B, IN, sm->nhidden ? H : C, C, parts);

    int N = 2 * B + 3;
    uint8_t *img = hb(c, (size_t)N * IN), *lab = hb(c, N), *y = hb(c, B);
    int *order = hi(c, N);
    float *x = hf(c, (size_t)B * IN), *tv = hf(c, (size_t)N * C), *ty = hf(c, (size_t)B * C);
    if (c->st) return;
    for (size_t i = 0; i < (size_t)N * IN; i++) img[i] = (uint8_t)clfit_rng_below(&c->rng, 256);
    for (int i = 0; i < N; i++) lab[i] = (uint8_t)clfit_rng_below(&c->rng, C);
    rnd(c, tv, (size_t)N * C, -2, 3);
    shuffled(c, order, N);
    clfit_dataset ds = {.count = N, .rows = 1, .cols = IN, .images = img, .labels = lab,
                        .targets = sm->regression ? tv : NULL, .ntargets = sm->regression ? C : 0};
    uint64_t seed = clfit_rng_next(&c->rng);
    clfit_status st;
    clfit_model *ref = clfit_model_new(&d, seed, &st), *got = ref ? clfit_model_new(&d, seed, &st) : NULL;
    if (got) ref->opt = got->opt = o;
    clfit_ref_work *w = got ? clfit_ref_work_new(ref, B, &st) : NULL;
    clfit_trainer *t = w ? clfit_trainer_new(c->cl, got, B, (clfit_gemm)g, &st) : NULL;
    clfit_device_data dd = {0};
    int have_data = 0;
    if (t && !(st = clfit_device_data_upload(c->cl, &ds, &dd))) have_data = 1;
    if (have_data) st = clfit_device_data_set_order(c->cl, &dd, order);
    float ref_loss = 0, ref_abs = 0;
    int ref_correct = 0, ties = 0;
    if (w) clfit_ref_work_targets(w, ty);
    for (int start = 0; have_data && !st && start < N; start += B) {
        int b = N - start < B ? N - start : B;
        float l;
        int right;
        gather_batch_ref(x, y, img, lab, order + start, b, IN);
        for (int r = 0; r < b; r++) memcpy(ty + (size_t)r * C, tv + (size_t)order[start + r] * C, (size_t)C * sizeof *ty);
        st = clfit_ref_train_step(ref, w, x, y, b, ref->adam.lr, &l, &right);
        ref_loss += l;
        ref_correct += right;
        ref_abs += clfit_ref_work_abs_sum(w);
        if (!st) ties += clfit_ref_work_near_ties(w, ref, b, TIE_MARGIN);
    }
    /* the full batches in one call, as an epoch takes them (own's fused_steps where its SPL
     * says so), then the short one */
    if (have_data && !st) st = clfit_trainer_steps(t, &dd, 0, B, N / B, NULL);
    if (have_data && !st && N % B) st = clfit_trainer_step(t, &dd, N / B * B, N % B);
    double sum = 0;
    double correct = 0;
    if (have_data && !st) st = clfit_trainer_read_stats(t, &sum, &correct);
    if (have_data && !st) st = clfit_trainer_download(t, got);
    if (!t || !w || !got || !ref) run(c, st ? st : CLFIT_ERR_NOMEM);
    else run(c, st);
    if (!c->st) {
        float dev_loss = (float)sum, dev_correct = (float)correct, want_correct = (float)ref_correct;
        cmp(c, "loss sum", &dev_loss, &ref_loss, 1, 1e-6, 1e-5, "rounding, 3 steps");
        if (sm->regression) cmp(c, "abs error sum", &dev_correct, &ref_abs, 1, 1e-6, 1e-5, "rounding, 3 steps");
        else if (!ties) cmp(c, "correct", &dev_correct, &want_correct, 1, 0, 0, "exact");
        else cmp(c, "correct", &dev_correct, &want_correct, 1, (double)ties, 0, "exact but for near-ties");
        cmp(c, "weights", got->params, ref->params, ref->nparams, 1e-5, 0, "lr 1e-2 of an update");
        cmp(c, "optimizer m", got->m, ref->m, ref->nparams, 1e-6, 1e-4, "the same, its size");
        cmp(c, "optimizer v", got->v, ref->v, ref->nparams, 1e-8, 1e-4, "the same, its size");
    }
    if (have_data) clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    clfit_ref_work_free(w);
    clfit_model_free(got);
    clfit_model_free(ref);
}

static void v_train_step(vcase *c, int B, int IN, int H, int C)
{
    for (int g = 0; g < CLFIT_GEMM_COUNT && !c->st; g++)
        for (size_t k = 0; k < sizeof step_models / sizeof *step_models && !c->st; k++)
            train_step_case(c, g, &step_models[k], B, IN, H, C);
}

/* ---- the registry: one row per device operation ---- */

/* each v_ with the dims as clfit_verify_sizes gives them */
static void r_gather(vcase *c, const int *d) { v_gather(c, d[0], d[1], d[2]); }
static void r_dense_bias_act(vcase *c, const int *d) { v_dense_bias_act(c, d[0], d[2]); }
static void r_dense_bias_grad(vcase *c, const int *d) { v_dense_bias_grad(c, d[0], d[2]); }
static void r_dense_forward(vcase *c, const int *d) { v_dense_forward(c, d[0], d[1], d[2]); }
static void r_dense_backward(vcase *c, const int *d) { v_dense_backward(c, d[0], d[1], d[2]); }
static void r_softmax_xent(vcase *c, const int *d) { v_softmax_xent(c, d[0], d[1]); }
static void r_adam(vcase *c, const int *d) { v_adam(c, d[0]); }
static void r_fused_forward(vcase *c, const int *d) { v_fused_forward(c, d[0], d[1], d[2]); }
static void r_fused_forward_head(vcase *c, const int *d) { v_fused_forward_head(c, d[0], d[1], d[2], d[3]); }
static void r_fused_backward_data(vcase *c, const int *d) { v_fused_backward_data(c, d[0], d[1], d[2]); }
static void r_fused_grad_adam(vcase *c, const int *d) { v_fused_grad_adam(c, d[0], d[1], d[2], d[3]); }
/* On a device with a loop cap (clfit/canary.h), the slice the trainer would use there for
 * these sizes (clfit_loop_fit), for this case alone */
static void r_slice_step(vcase *c, const int *d)
{
    long cap = 0;
    clfit_params keep = c->cl->p, p = keep;
    int changed = 0;
    if (!clfit_canary_loop_cap(c->cl, &cap) && cap > 0 && clfit_slice_passes(&p, d[1], d[2], d[3], d[0] + 3) >= cap) {
        clfit_model_desc md = {.input = d[1], .nhidden = 1, .hidden = {d[2]}, .classes = d[3]};
        p.v[CLFIT_P_BACKEND] = CLFIT_GEMM_SLICE;
        if (clfit_loop_fit(cap, c->cl->info.max_wg, &md, d[0] + 3, &p, NULL, 0)) {
            p.v[CLFIT_P_BACKEND] = keep.v[CLFIT_P_BACKEND];
            changed = !clfit_cl_set_params(c->cl, &p);
        }
    }
    v_slice_step(c, d[0], d[1], d[2], d[3]);
    if (changed) clfit_cl_set_params(c->cl, &keep);
}
static void r_act(vcase *c, const int *d) { v_act(c, d[0], d[1]); }
static void r_fused_head_stats(vcase *c, const int *d) { v_fused_head_stats(c, d[0]); }
static void r_train_step(vcase *c, const int *d) { v_train_step(c, d[0], d[1], d[2], d[3]); }
static void r_optim(vcase *c, const int *d) { v_optim(c, d[0]); }

/* The sizes: batches 1, 7, 32, 93; widths 1, 10, 33, 128, 784, 1000; for fused_grad_adam
 * the 4th is the classes of a head updated in the same launch (0: none). */
static const int layers[][4] = {{1, 784, 128, 10}, {7, 33, 10, 10}, {32, 784, 128, 10}, {93, 1000, 33, 33},
                                {32, 128, 10, 0}, {7, 1, 1, 2}, {93, 10, 1000, 0}, {1, 128, 10, 10}};
/* {37, 40, ...}: fused_grad_adam in passes of KC rows and fused_forward_head in passes of KF
 * inputs, the last ones short, where KC is 16 or 32 and KF 32 */
static const int layers_small[][4] = {{1, 7, 3, 2}, {7, 33, 10, 10}, {3, 1, 5, 0}, {37, 40, 21, 3}};
static const int gather[][4] = {{100, 784, 32}, {100, 784, 7}, {1000, 33, 93}, {5, 1, 1}, {60, 1000, 32}};
static const int gather_small[][4] = {{20, 33, 7}, {5, 1, 1}};
static const int head[][4] = {{32, 784, 128, 10}, {1, 784, 128, 10}, {7, 33, 10, 10}, {93, 1000, 33, 33},
                              {93, 7, 100, 2}, {1000, 20, 128, 10}, {5, 3, 1, 1}};
static const int head_small[][4] = {{7, 33, 10, 10}, {1, 5, 7, 2}, {3, 16, 17, 3}, {37, 40, 21, 3}};
static const int vec[][4] = {{1}, {7}, {93}, {1000}, {4096}, {93000}, {101770}};
static const int vec_small[][4] = {{1}, {7}, {93}};
static const int sxe[][4] = {{1, 2}, {7, 10}, {32, 10}, {93, 33}, {1000, 10}, {32, 128}};
static const int sxe_small[][4] = {{1, 2}, {7, 10}, {93, 10}};
static const int actsz[][4] = {{1, 1}, {7, 33}, {32, 128}, {93, 1000}, {128, 512}};
static const int actsz_small[][4] = {{1, 1}, {7, 33}, {3, 17}};
static const int optimsz[][4] = {{1}, {10}, {128}, {1000}};
static const int optimsz_small[][4] = {{1}, {10}};
static const int stepsz[][4] = {{7, 20, 13, 4}, {16, 33, 17, 10}, {32, 784, 128, 10}};
static const int stepsz_small[][4] = {{5, 9, 8, 3}};

/* A model's own shapes for an operation (the tuner checks a candidate at them): into
 * dims (at most max), given its layers and batch B; returns how many. */
typedef struct {
    const clfit_model_desc *d;
    const clfit_layer *layer;
    int nl, B;
    size_t np;
} step_shape;
typedef int (*shapes_fn)(const step_shape *s, int dims[][4], int max);

#define ROW4(a, b, c_, e) (n < max ? (dims[n][0] = (a), dims[n][1] = (b), dims[n][2] = (c_), dims[n][3] = (e), n++) : n)
static int s_gather(const step_shape *s, int dims[][4], int max)
{
    int n = 0;
    ROW4(s->B + 5, s->d->input, s->B, 0);
    return n;
}
static int s_layers(const step_shape *s, int dims[][4], int max) /* every layer */
{
    int n = 0;
    for (int l = 0; l < s->nl; l++) ROW4(s->B, s->layer[l].in, s->layer[l].out, 0);
    return n;
}
static int s_batch(const step_shape *s, int dims[][4], int max)
{
    int n = 0;
    ROW4(s->B, 0, 0, 0);
    return n;
}
static int s_softmax_xent(const step_shape *s, int dims[][4], int max)
{
    int n = 0;
    ROW4(s->B, s->d->classes, 0, 0);
    return n;
}
static int s_params(const step_shape *s, int dims[][4], int max) /* every parameter */
{
    int n = 0;
    ROW4((int)s->np, 0, 0, 0);
    return n;
}
static int s_head(const step_shape *s, int dims[][4], int max) /* the last hidden layer with the last layer */
{
    int n = 0;
    if (s->nl >= 2) ROW4(s->B, s->layer[s->nl - 2].in, s->layer[s->nl - 2].out, s->d->classes);
    return n;
}
static int s_fused_forward(const step_shape *s, int dims[][4], int max) /* the hidden layers before the last */
{
    int n = 0;
    for (int l = 0; l < s->nl - 2; l++) ROW4(s->B, s->layer[l].in, s->layer[l].out, 0);
    return n;
}
static int s_fused_backward_data(const step_shape *s, int dims[][4], int max) /* into each deep hidden layer */
{
    int n = 0;
    for (int l = 1; l < s->nl - 1; l++) ROW4(s->B, s->layer[l].in, s->layer[l].out, 0);
    return n;
}
static int s_fused_grad_adam(const step_shape *s, int dims[][4], int max) /* layer 0's launch updates the last */
{
    int n = 0;
    for (int l = 0; l < s->nl - 1; l++) ROW4(s->B, s->layer[l].in, s->layer[l].out, l == 0 ? s->d->classes : 0);
    return n;
}
static int s_act(const step_shape *s, int dims[][4], int max) /* each hidden layer's output */
{
    int n = 0;
    for (int l = 0; l < s->nl - 1; l++) ROW4(s->B, s->layer[l].out, 0, 0);
    return n;
}
#undef ROW4

#define BK(g) (1u << CLFIT_GEMM_##g)
#define SIZES(full, small) full, (int)(sizeof full / sizeof *full), small, (int)(sizeof small / sizeof *small)

/* The operations, in the order clfit verify runs them. A new one: its v_ above, a row here
 * (docs/extending.md). `backends`: the backends whose training step runs it, which the
 * tuner checks on a candidate at the step's shapes (`shapes`) and the small sizes. */
static const struct {
    clfit_verify_op info;
    void (*run)(vcase *c, const int *d);
    shapes_fn shapes;
    const int (*sizes)[4];
    int nsizes;
    const int (*small)[4];
    int nsmall;
} ops[] = {
    {{"gather", "gather_batch", "gather.cl", "gather_batch_ref", BK(CLBLAST)}, r_gather, s_gather,
     SIZES(gather, gather_small)},
    {{"dense_bias_act", "dense_bias_act", "dense.cl", "dense_forward_ref", BK(CLBLAST)}, r_dense_bias_act, s_layers,
     SIZES(layers, layers_small)},
    {{"dense_bias_grad", "dense_bias_grad", "dense.cl", "dense_backward_ref", BK(CLBLAST)}, r_dense_bias_grad,
     s_layers, SIZES(layers, layers_small)},
    {{"dense_forward", "CLBlast SGEMM + dense_bias_act", "dense.cl", "dense_forward_ref", BK(CLBLAST)},
     r_dense_forward, s_layers, SIZES(layers, layers_small)},
    {{"dense_backward", "CLBlast SGEMM x2 + dense_bias_grad", "dense.cl", "dense_backward_ref", BK(CLBLAST)},
     r_dense_backward, s_layers, SIZES(layers, layers_small)},
    {{"softmax_xent", "softmax_xent", "softmax_xent.cl", "softmax_xent_ref", BK(CLBLAST)}, r_softmax_xent,
     s_softmax_xent, SIZES(sxe, sxe_small)},
    {{"adam", "adam_update", "adam.cl", "adam_ref", BK(CLBLAST)}, r_adam, s_params, SIZES(vec, vec_small)},
    {{"fused_forward", "fused_forward", "fused.cl", "dense_forward_ref, act_forward_ref", BK(OWN)}, r_fused_forward,
     s_fused_forward, SIZES(layers, layers_small)},
    {{"fused_forward_head", "fused_forward_head", "fused.cl", "dense_forward_ref, softmax_xent_ref", BK(OWN)},
     r_fused_forward_head, s_head, SIZES(head, head_small)},
    {{"fused_backward_data", "fused_backward_data", "fused.cl", "dense_backward_ref, act_backward_ref", BK(OWN)},
     r_fused_backward_data, s_fused_backward_data, SIZES(layers, layers_small)},
    {{"fused_grad_adam", "fused_grad_adam", "fused.cl", "dense_backward_ref, adam_ref", BK(OWN)}, r_fused_grad_adam,
     s_fused_grad_adam, SIZES(layers, layers_small)},
    {{"fused_head_stats", "fused_head_stats", "fused.cl", "batch_stats_ref", BK(OWN)}, r_fused_head_stats,
     s_batch, SIZES(vec, vec_small)},
    {{"slice_step", "slice_step", "slice.cl", "clfit_ref_train_step", BK(SLICE)}, r_slice_step, s_head,
     SIZES(head, head_small)},
    {{"act", "dense_bias_act, act_backward, fused_act_backward", "act.cl, fused.cl",
      "act_forward_ref, dropout_forward_ref, act_backward_ref", BK(CLBLAST) | BK(OWN)},
     r_act, s_act, SIZES(actsz, actsz_small)},
    {{"optim", "optim_update, grad_sumsq, grad_clip_coef", "optim.cl", "clfit_ref_optim_step",
      BK(CLBLAST) | BK(OWN)},
     r_optim, NULL, SIZES(optimsz, optimsz_small)},
    {{"train_step", "every kernel of a step", "(all)", "clfit_ref_train_step", 0}, r_train_step, NULL,
     SIZES(stepsz, stepsz_small)},
};
#undef BK
#undef SIZES

const int clfit_verify_nops = (int)(sizeof ops / sizeof ops[0]);

const clfit_verify_op *clfit_verify_op_at(int i)
{
    return i >= 0 && i < clfit_verify_nops ? &ops[i].info : NULL;
}

static int op_find(const char *op)
{
    for (int i = 0; i < clfit_verify_nops; i++)
        if (!strcmp(ops[i].info.name, op)) return i;
    return -1;
}

clfit_status clfit_verify_run(clfit_cl *cl, const char *op, const int d[4], uint64_t seed,
                              clfit_verify_report report, void *user)
{
    int i = op_find(op);
    if (i < 0) return clfit_fail(CLFIT_ERR_ARG, "verify: no operation \"%s\"", op);
    vcase c = {.cl = cl, .op = op, .report = report, .user = user};
    clfit_rng_seed(&c.rng, seed);
    ops[i].run(&c, d);
    clfit_status st = finish(&c);
    if (!st) st = clfit_cl_finish(cl);
    return st;
}

int clfit_verify_sizes(const char *op, int small, int dims[][4], int max)
{
    int i = op_find(op);
    if (i < 0 || max < 1) return 0;
    int n = small ? ops[i].nsmall : ops[i].nsizes;
    if (n > max) n = max;
    memcpy(dims, small ? ops[i].small : ops[i].sizes, (size_t)n * sizeof *dims);
    return n;
}

int clfit_verify_step_sizes(const char *op, const clfit_model_desc *d, int B, int dims[][4], int max)
{
    int i = op_find(op);
    clfit_layer layer[CLFIT_MAX_LAYERS];
    step_shape s = {.d = d, .layer = layer, .B = B};
    if (i < 0 || clfit_model_layout(d, layer, &s.nl, &s.np)) return 0;
    return ops[i].shapes ? ops[i].shapes(&s, dims, max) : -1;
}
