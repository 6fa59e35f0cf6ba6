/* Dense layers on OpenCL: the GEMMs through CLBlast, the bias, ReLU and bias gradient
 * through kernels/dense.cl. Twins of dense_forward_ref / dense_backward_ref. */
#include <clblast_c.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

clfit_status gemm_cl(clfit_cl *cl, int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, cl_mem A, size_t a_off, size_t lda, cl_mem B, size_t b_off,
                     size_t ldb, float beta, cl_mem C, size_t c_off, size_t ldc)
{
    /* One CLBlast call may queue several kernels and returns the last one's event: with a
     * profiler, a marker before the call dates its start (see clfit_profiler_add). */
    cl_event before = NULL, ev = NULL;
    if (cl->prof) CL_CHECK(clEnqueueMarkerWithWaitList, cl->queue, 0, NULL, &before);
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor,
                                       trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       trans_b ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       M, N, K, alpha, A, a_off, lda, B, b_off, ldb, beta, C,
                                       c_off, ldc, &cl->queue, cl->prof ? &ev : NULL);
    if (s != CLBlastSuccess) {
        if (before) clReleaseEvent(before);
        return clfit_fail(s, "CLBlastSgemm(%c%c, M=%zu N=%zu K=%zu): %s", trans_a ? 'T' : 'N',
                          trans_b ? 'T' : 'N', M, N, K, clfit_status_name(s));
    }
    if (cl->prof) {
        char name[64];
        snprintf(name, sizeof name, "CLBlastSgemm %c%c %zux%zux%zu", trans_a ? 'T' : 'N',
                 trans_b ? 'T' : 'N', M, N, K);
        clfit_work w = {2.0 * M * N * K, 4.0 * (M * K + K * N + M * N)};
        clfit_profiler_add(cl->prof, name, w, before, ev);
    }
    return CLFIT_OK;
}

clfit_act_io clfit_act_only(int act)
{
    clfit_act_io a;
    memset(&a, 0, sizeof a);
    a.act = act;
    return a;
}

clfit_act_io clfit_act_train(int act, cl_mem pre, float rate, uint64_t seed, int layer, long step)
{
    clfit_act_io a = clfit_act_only(act);
    a.pre = pre;
    a.rate = rate;
    a.scale = rate > 0.0f ? (float)(1.0 / (1.0 - (double)rate)) : 1.0f;
    a.key.s[0] = (cl_uint)seed;
    a.key.s[1] = (cl_uint)(seed >> 32);
    a.key.s[2] = (cl_uint)(uint64_t)step;
    a.key.s[3] = (cl_uint)((uint64_t)step >> 32);
    a.layer = layer;
    return a;
}

clfit_status dense_bias_act_cl(clfit_cl *cl, cl_mem out, cl_mem params, size_t bias_off,
                               int B, int OUT, const clfit_act_io *ai)
{
    clfit_act_io lin = clfit_act_only(CLFIT_ACT_LINEAR), *x = ai ? (clfit_act_io *)ai : &lin;
    int off = (int)bias_off;
    clfit_arg a[] = {CLFIT_ARG(out), CLFIT_ARG(params), CLFIT_ARG(off), CLFIT_ARG(B), CLFIT_ARG(OUT),
                     CLFIT_ARG(x->act), CLFIT_ARG(x->pre), CLFIT_ARG(x->rate), CLFIT_ARG(x->scale),
                     CLFIT_ARG(x->key), CLFIT_ARG(x->layer), CLFIT_ARG(x->e0)};
    clfit_work w = {(double)B * OUT * (x->act == CLFIT_ACT_LINEAR ? 1 : 2), 4.0 * (2.0 * B * OUT + OUT)};
    return clfit_cl_launch(cl, CLFIT_K_DENSE_BIAS_ACT, (size_t)B * OUT, (size_t)CLP(cl, WGS), 12, a, w);
}

clfit_status act_backward_cl(clfit_cl *cl, cl_mem dinp, cl_mem dout, cl_mem out, int n,
                             const clfit_act_io *x)
{
    cl_mem z = x->pre ? x->pre : out;
    clfit_arg a[] = {CLFIT_ARG(dinp), CLFIT_ARG(dout), CLFIT_ARG(z), CLFIT_ARG(n), CLFIT_ARG(x->act),
                     CLFIT_ARG(x->rate), CLFIT_ARG(x->scale), CLFIT_ARG(x->key), CLFIT_ARG(x->layer), CLFIT_ARG(x->e0)};
    clfit_work w = {2.0 * n, 12.0 * n};
    return clfit_cl_launch(cl, CLFIT_K_ACT_BACKWARD, (size_t)n, (size_t)CLP(cl, WGS), 10, a, w);
}

clfit_status dense_bias_grad_cl(clfit_cl *cl, cl_mem grads, size_t bias_off, cl_mem dout,
                                int B, int OUT)
{
    int off = (int)bias_off;
    clfit_arg a[] = {CLFIT_ARG(grads), CLFIT_ARG(off), CLFIT_ARG(dout), CLFIT_ARG(B),
                     CLFIT_ARG(OUT)};
    clfit_work w = {(double)B * OUT, 4.0 * ((double)B * OUT + OUT)};
    return clfit_cl_launch(cl, CLFIT_K_DENSE_BIAS_GRAD, (size_t)OUT, (size_t)CLP(cl, WGS), 5, a, w);
}

clfit_status dense_forward_cl(clfit_cl *cl, cl_mem out, cl_mem inp, cl_mem params,
                              const clfit_layer *L, int B, const clfit_act_io *a)
{
    /* inp is (B,in), W is (in,out), out is (B,out): out = inp W */
    clfit_status st = gemm_cl(cl, 0, 0, B, L->out, L->in, 1.0f, inp, 0, L->in, params,
                              L->w_off, L->out, 0.0f, out, 0, L->out);
    if (st) return st;
    return dense_bias_act_cl(cl, out, params, L->b_off, B, L->out, a);
}

clfit_status dense_backward_cl(clfit_cl *cl, cl_mem dinp, cl_mem grads, cl_mem dout,
                               cl_mem inp, cl_mem params, const clfit_layer *L, int B)
{
    /* dW (in,out) = inp^T (in,B) . dout (B,out) */
    clfit_status st = gemm_cl(cl, 1, 0, L->in, L->out, B, 1.0f, inp, 0, L->in, dout, 0,
                              L->out, 0.0f, grads, L->w_off, L->out);
    if (!st) st = dense_bias_grad_cl(cl, grads, L->b_off, dout, B, L->out);
    if (st || !dinp) return st;
    /* dinp (B,in) = dout (B,out) . W^T (out,in) */
    return gemm_cl(cl, 0, 1, B, L->in, L->out, 1.0f, dout, 0, L->out, params, L->w_off,
                   L->out, 0.0f, dinp, 0, L->in);
}
