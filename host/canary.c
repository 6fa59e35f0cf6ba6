/* Known device defects, detected by canaries, and what clfit does about them (see
 * include/clfit/canary.h). As CLBlast keeps device-specific workarounds, clfit keeps a
 * small kernel per known defect, runs it once per device and driver, and caches what it
 * found beside the tuning database (canaries/, one file per device and driver).
 *
 * The loop cap: Mesa's gallivm (llvmpipe, under rusticl) ends every loop of one shader
 * invocation once the invocation has made LP_MAX_TGSI_LOOP_ITERATIONS (65,535) passes in
 * all its loops together; past it, each loop runs once. A kernel's results are then wrong
 * without any error. tests/outside/loop_cap.c is the minimal reproducer. */
#include "clfit/canary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/cache.h"
#include "internal.h"

#define CANARY_FORMAT "clfit canaries 1"
#define PROBE 100000 /* the probe's loop passes: above any cap worth knowing */
#define EVAL_ROWS 1000 /* evaluation's batches (host/fit.c's EVAL_BATCH) */

static const char probe_src[] =
    "__kernel void loop_probe(__global const int *ones, __global int *out, int n)\n"
    "{\n"
    "    int c = 0;\n"
    "    for (int i = 0; i < n; i++) c += ones[i & 7];\n" /* a load a pass: no closed form */
    "    out[get_global_id(0)] = c;\n"
    "}\n";

/* Runs the probe on cl's device: the passes one work-item made of PROBE into *passes. */
static clfit_status run_probe(clfit_cl *cl, long *passes)
{
    cl_int e;
    const char *src = probe_src;
    cl_program prog = clCreateProgramWithSource(cl->ctx, 1, &src, NULL, &e);
    if (e != CL_SUCCESS) return clfit_fail(e, "loop probe: clCreateProgramWithSource: %s", clfit_status_name(e));
    clfit_status st = CLFIT_OK;
    cl_kernel k = NULL;
    cl_mem ones = NULL, out = NULL;
    if ((e = clBuildProgram(prog, 1, &cl->info.device, "", NULL, NULL)) != CL_SUCCESS) {
        st = clfit_fail(e, "loop probe: clBuildProgram: %s", clfit_status_name(e));
        goto done;
    }
    k = clCreateKernel(prog, "loop_probe", &e);
    if (e != CL_SUCCESS) { st = clfit_fail(e, "loop probe: clCreateKernel: %s", clfit_status_name(e)); goto done; }
    cl_int host_ones[8] = {1, 1, 1, 1, 1, 1, 1, 1}, n = PROBE, got = 0;
    if (!(ones = clfit_cl_buffer(cl, sizeof host_ones, host_ones, &st))) goto done;
    if (!(out = clfit_cl_buffer(cl, sizeof got, NULL, &st))) goto done;
    size_t one = 1;
    if ((e = clSetKernelArg(k, 0, sizeof ones, &ones)) || (e = clSetKernelArg(k, 1, sizeof out, &out)) ||
        (e = clSetKernelArg(k, 2, sizeof n, &n)) ||
        (e = clEnqueueNDRangeKernel(cl->queue, k, 1, NULL, &one, &one, 0, NULL, NULL))) {
        st = clfit_fail(e, "loop probe: %s", clfit_status_name(e));
        goto done;
    }
    if ((st = clfit_cl_read(cl, out, 0, sizeof got, &got))) goto done;
    *passes = got;
done:
    if (out) clReleaseMemObject(out);
    if (ones) clReleaseMemObject(ones);
    if (k) clReleaseKernel(k);
    clReleaseProgram(prog);
    return st;
}

/* The cache file of cl's device and driver, and the key its first line must be. */
static int canary_path(const clfit_cl *cl, char *path, size_t psize, char *key, size_t ksize)
{
    char dir[4096];
    if (!clfit_cache_dir("canaries", dir, sizeof dir)) return 0;
    snprintf(key, ksize, "%s\nplatform %s\ndevice %s\ndriver %s\n", CANARY_FORMAT, cl->info.platform_name,
             cl->info.name, cl->info.driver);
    unsigned long long h = clfit_fnv1a(CLFIT_FNV_START, key, strlen(key));
    return snprintf(path, psize, "%s/%016llx.txt", dir, h) < (int)psize;
}

clfit_status clfit_canary_loop_cap(clfit_cl *cl, long *cap)
{
    if (cl->loop_cap >= 0) { *cap = cl->loop_cap; return CLFIT_OK; }
    char path[4400], key[1024];
    int have = canary_path(cl, path, sizeof path, key, sizeof key);
    size_t len;
    char *text = have ? clfit_cache_read(path, 4096, &len) : NULL;
    long found = -1;
    if (text && !strncmp(text, key, strlen(key))) {
        char *end;
        const char *v = text + strlen(key);
        if (!strncmp(v, "loop_cap ", 9)) {
            long c = strtol(v + 9, &end, 10);
            if (end != v + 9 && *end == '\n' && c >= 0 && c < PROBE) found = c;
        }
    }
    free(text);
    if (found < 0) {
        long passes = 0;
        clfit_status st = run_probe(cl, &passes);
        if (st) return st;
        found = passes >= PROBE ? 0 : passes; /* 0: no cap */
        if (found < 1 && passes < PROBE) found = 1;
        if (have) {
            char buf[1200];
            int n = snprintf(buf, sizeof buf, "%sloop_cap %ld\n", key, found);
            clfit_cache_write(path, buf, (size_t)n); /* best effort: probed again next time */
        }
    }
    cl->loop_cap = found;
    *cap = found;
    return CLFIT_OK;
}

/* ---- each kernel's loop passes ---- */

static long cdiv(long a, long b) { return b > 0 ? (a + b - 1) / b : a; }

/* softmax_xent_row's passes for C classes: the max, the sum, the gradient */
static long row_passes(long C) { return 3 * C + 1; }

long clfit_slice_passes(const clfit_params *p, long IN, long H, long C, long B)
{
    long HS = p->v[CLFIT_P_HS], SWGS = p->v[CLFIT_P_SWGS], KS = p->v[CLFIT_P_KS];
    long KSE = KS < SWGS ? KS : SWGS, hs = HS < H ? HS : H, G = cdiv(H, HS), per = SWGS / KSE;
    long np = IN * hs + hs + hs * C + C;
    long n = cdiv(B * C, SWGS) * G;           /* 1: step t-1's logits */
    n += cdiv(B, SWGS) * row_passes(C) + B;   /* its losses, add_stats */
    n += cdiv(B * hs, SWGS) * (1 + C);        /* 2: dh */
    n += cdiv(np, SWGS) * (1 + B);            /* 3: the gradients and Adam */
    n += cdiv(B, SWGS);                       /* 4: the rows, */
    n += cdiv(B * hs, per) * (1 + cdiv(IN, KSE) + KSE); /* h */
    n += cdiv(B * C, SWGS) * (1 + hs);        /* 5: the partial logits */
    return n;
}

/* slice_step in evaluation (stages 1, 4 and 5: no gradients) at B rows */
static long slice_eval_passes(const clfit_params *p, long IN, long H, long C, long B)
{
    long HS = p->v[CLFIT_P_HS], SWGS = p->v[CLFIT_P_SWGS], KS = p->v[CLFIT_P_KS];
    long KSE = KS < SWGS ? KS : SWGS, hs = HS < H ? HS : H, G = cdiv(H, HS), per = SWGS / KSE;
    return cdiv(B * C, SWGS) * G + cdiv(B, SWGS) * row_passes(C) + B + cdiv(B, SWGS) +
           cdiv(B * hs, per) * (1 + cdiv(IN, KSE) + KSE) + cdiv(B * C, SWGS) * (1 + hs);
}

/* The own backend's worst kernel for layer sizes in -> out at batch B (C classes, H the
 * last hidden layer's width): fused_forward(_head)'s sum over the inputs and the head's
 * loops; fused_grad_adam's sums over the rows (a weight tile, the bias tile, the head's
 * rows of W1 over every class, add_stats). */
static long own_passes(const clfit_params *p, const clfit_model_desc *d, long B, const char **kernel)
{
    long VW = p->v[CLFIT_P_VW], C = d->classes, worst = 0;
    long H = d->nhidden ? d->hidden[d->nhidden - 1] : 0;
    for (int l = 0; l < d->nhidden; l++) {
        long in = l ? d->hidden[l - 1] : d->input, out = d->hidden[l];
        long rows = p->v[CLFIT_P_RB] * (l == d->nhidden - 1 ? p->v[CLFIT_P_TF] : 1);
        long fwd = in + 2 + (l == d->nhidden - 1 ? cdiv(H, VW) + rows * C * (cdiv(H, 16) + cdiv(H, VW) + 2) : 0);
        if (l == 0) fwd += rows * (cdiv(in, VW) + 1); /* gather_rows */
        int passes = B > p->v[CLFIT_P_KC];
        long tiles = passes ? (long)p->v[CLFIT_P_TR] * p->v[CLFIT_P_TC] : 1;
        long grad = tiles * (B + 1) + (passes ? 2 * tiles * (cdiv(B, p->v[CLFIT_P_KC]) + 1) : 0);
        long headp = B * (1 + C) + C * (1 + VW) + B; /* the head's, with layer 0's launch */
        if (l == 0 && headp > grad) grad = headp;
        long bias = (passes ? p->v[CLFIT_P_TC] : 1) * p->v[CLFIT_P_CG] * (B + 1);
        long bwd = cdiv(out, 16) * 16 + 8;       /* fused_backward_data, deep models */
        if (grad < bias) grad = bias;
        if (fwd > worst) { worst = fwd; *kernel = l == d->nhidden - 1 ? "fused_forward_head" : "fused_forward"; }
        if (grad > worst) { worst = grad; *kernel = "fused_grad_adam"; }
        if (l > 0 && bwd > worst) { worst = bwd; *kernel = "fused_backward_data"; }
    }
    return worst;
}

/* CLBlast's step: its SGEMMs' loops are short (over K / its tile), clfit's small kernels:
 * dense_bias_grad's sum over the rows, softmax_xent's rows per item, the optimizer's
 * partial sums (grad_sumsq: a 64th of the parameters each) */
static long clblast_passes(const clfit_params *p, const clfit_model_desc *d, long B, long nparams,
                           const char **kernel)
{
    long sxe = cdiv(B, p->v[CLFIT_P_SXE_WGS]) * (row_passes(d->classes) + 1) + p->v[CLFIT_P_SXE_WGS];
    long bias = B + 1, sumsq = cdiv(nparams, 64) + 64;
    long worst = sxe;
    *kernel = "softmax_xent";
    if (bias > worst) { worst = bias; *kernel = "dense_bias_grad"; }
    if (sumsq > worst) { worst = sumsq; *kernel = "grad_sumsq"; }
    return worst;
}

long clfit_step_passes(const clfit_params *p, const clfit_model_desc *d, int batch, const char **kernel)
{
    const char *k = "";
    long n, nparams = 0, in = d->input;
    for (int l = 0; l <= d->nhidden; l++) {
        long out = l < d->nhidden ? d->hidden[l] : d->classes;
        nparams += in * out + out;
        in = out;
    }
    switch (p->v[CLFIT_P_BACKEND]) {
    case CLFIT_GEMM_SLICE:
        k = "slice_step";
        n = d->nhidden == 1 ? clfit_slice_passes(p, d->input, d->hidden[0], d->classes, batch) : 0;
        if (d->nhidden == 1) { /* evaluation's launches, at its larger batches */
            long e = slice_eval_passes(p, d->input, d->hidden[0], d->classes, batch > EVAL_ROWS ? batch : EVAL_ROWS);
            if (e > n) n = e;
        }
        break;
    case CLFIT_GEMM_OWN: n = own_passes(p, d, batch, &k); break;
    default: n = clblast_passes(p, d, batch, nparams, &k); break;
    }
    if (kernel) *kernel = k;
    return n;
}

/* The slice tunables nearest to p's (fewest steps through the spaces) whose passes stay
 * below cap with work-groups of at most max_wg; 0 if none does. */
static int fit_slice(clfit_params *p, const clfit_model_desc *d, int batch, long cap, size_t max_wg)
{
    const clfit_tunable *ths = &clfit_tunables[CLFIT_P_HS], *tsw = &clfit_tunables[CLFIT_P_SWGS],
                        *tks = &clfit_tunables[CLFIT_P_KS];
    int bh = -1, bs = -1, bk = -1, bestd = 1 << 30;
    int ih0 = 0, is0 = 0, ik0 = 0;
    for (int i = 0; i < ths->n; i++) if (ths->values[i] == p->v[CLFIT_P_HS]) ih0 = i;
    for (int i = 0; i < tsw->n; i++) if (tsw->values[i] == p->v[CLFIT_P_SWGS]) is0 = i;
    for (int i = 0; i < tks->n; i++) if (tks->values[i] == p->v[CLFIT_P_KS]) ik0 = i;
    for (int ih = 0; ih < ths->n; ih++)
        for (int is = 0; is < tsw->n; is++)
            for (int ik = 0; ik < tks->n; ik++) {
                if (max_wg && (size_t)tsw->values[is] > max_wg) continue;
                clfit_params q = *p;
                q.v[CLFIT_P_HS] = ths->values[ih];
                q.v[CLFIT_P_SWGS] = tsw->values[is];
                q.v[CLFIT_P_KS] = tks->values[ik];
                if (clfit_step_passes(&q, d, batch, NULL) >= cap) continue;
                int dist = abs(ih - ih0) + abs(is - is0) + abs(ik - ik0);
                if (dist < bestd) { bestd = dist; bh = ih; bs = is; bk = ik; }
            }
    if (bh < 0) return 0;
    p->v[CLFIT_P_HS] = ths->values[bh];
    p->v[CLFIT_P_SWGS] = tsw->values[bs];
    p->v[CLFIT_P_KS] = tks->values[bk];
    return 1;
}

int clfit_loop_fit(long cap, size_t max_wg, const clfit_model_desc *d, int batch, clfit_params *p, char *why,
                   size_t wsize)
{
    if (why && wsize) why[0] = '\0';
    if (cap <= 0) return 1;
    const char *k;
    long n = clfit_step_passes(p, d, batch, &k);
    if (n < cap) return 1;
    if (p->v[CLFIT_P_BACKEND] == CLFIT_GEMM_SLICE) {
        clfit_params q = *p;
        if (fit_slice(&q, d, batch, cap, max_wg)) {
            if (why)
                snprintf(why, wsize, "HS=%d SWGS=%d KS=%d instead of HS=%d SWGS=%d KS=%d: slice_step's %ld loop passes "
                                     "a work-item are past the device's loop cap (%ld)",
                         q.v[CLFIT_P_HS], q.v[CLFIT_P_SWGS], q.v[CLFIT_P_KS], p->v[CLFIT_P_HS], p->v[CLFIT_P_SWGS],
                         p->v[CLFIT_P_KS], n, cap);
            *p = q;
            return 1;
        }
    }
    if (why)
        snprintf(why, wsize, "%s's %ld loop passes a work-item at batch %d are past the device's loop cap (%ld)", k, n,
                 batch, cap);
    return 0;
}
