/* Launchers for kernels/fused.cl, clfit's own training step (see include/clfit/cl.h). */
#include "internal.h"

clfit_status fused_forward_cl(clfit_cl *cl, cl_mem out, cl_mem inp, cl_mem order, int start,
                              cl_mem params, const clfit_layer *L, int B, int relu)
{
    int w = (int)L->w_off, b = (int)L->b_off;
    size_t cols = (size_t)CLP(cl, VW) * CLP(cl, CB), rb = (size_t)CLP(cl, RB);
    size_t items = (B + rb - 1) / rb * ((L->out + cols - 1) / cols);
    clfit_arg a[] = {CLFIT_ARG(out), CLFIT_ARG(inp), CLFIT_ARG(order), CLFIT_ARG(start),
                     CLFIT_ARG(params), CLFIT_ARG(w), CLFIT_ARG(b), CLFIT_ARG(B),
                     CLFIT_ARG(L->in), CLFIT_ARG(L->out), CLFIT_ARG(relu)};
    clfit_work wk = {2.0 * B * L->in * L->out,
                     4.0 * ((double)L->in * L->out + (double)B * (L->in + L->out))};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_FORWARD, items, (size_t)CLP(cl, FWGS), 11, a, wk);
}

clfit_status fused_head_cl(clfit_cl *cl, cl_mem logits, cl_mem dlogits, cl_mem dh,
                           cl_mem loss_acc, cl_mem correct_acc, cl_mem h, cl_mem params,
                           cl_mem m, cl_mem v, cl_mem wt, const clfit_layer *L,
                           cl_mem labels, cl_mem order, int start, int B, float alpha,
                           const clfit_adam_cfg *cfg)
{
    int want_grad = dlogits != NULL;
    /* in evaluation the gradient buffers are never touched; any valid buffer will do */
    cl_mem dl = want_grad ? dlogits : logits, d = want_grad ? dh : logits;
    int w = (int)L->w_off, b = (int)L->b_off;
    clfit_arg a[] = {CLFIT_ARG(logits), CLFIT_ARG(dl), CLFIT_ARG(d), CLFIT_ARG(loss_acc),
                     CLFIT_ARG(correct_acc), CLFIT_ARG(h), CLFIT_ARG(params), CLFIT_ARG(m),
                     CLFIT_ARG(v), CLFIT_ARG(wt), CLFIT_ARG(w), CLFIT_ARG(b), CLFIT_ARG(labels),
                     CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(B), CLFIT_ARG(L->in),
                     CLFIT_ARG(L->out), CLFIT_ARG(want_grad), CLFIT_ARG(alpha),
                     CLFIT_ARG(cfg->beta1), CLFIT_ARG(cfg->beta2), CLFIT_ARG(cfg->eps)};
    /* logits, and with the gradient: dh, dW (2BHC each), softmax (~8 per logit), Adam */
    double H = L->in, C = L->out, n = H * C + C;
    clfit_work wk = {want_grad ? 6.0 * B * H * C + 8.0 * B * C + 12 * n : 2.0 * B * H * C + 3.0 * B * C,
                     4.0 * (B * H * (want_grad ? 2 : 1) + n * (want_grad ? 7 : 1) + 2.0 * B * C)};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_HEAD, (size_t)CLP(cl, SXE_WGS), (size_t)CLP(cl, SXE_WGS), 23, a, wk);
}

clfit_status fused_backward_data_cl(clfit_cl *cl, cl_mem dinp, cl_mem dout, cl_mem inp,
                                    cl_mem params, const clfit_layer *L, int B)
{
    int w = (int)L->w_off;
    clfit_arg a[] = {CLFIT_ARG(dinp), CLFIT_ARG(dout), CLFIT_ARG(inp), CLFIT_ARG(params),
                     CLFIT_ARG(w), CLFIT_ARG(B), CLFIT_ARG(L->in), CLFIT_ARG(L->out)};
    clfit_work wk = {2.0 * B * L->in * L->out, 4.0 * ((double)L->in * L->out + (double)B * (2 * L->in + L->out))};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_BACKWARD_DATA, (size_t)B * L->in, (size_t)CLP(cl, FWGS), 8, a, wk);
}

clfit_status fused_grad_adam_cl(clfit_cl *cl, cl_mem params, cl_mem m, cl_mem v, cl_mem inp,
                                cl_mem order, int start, cl_mem dout, const clfit_layer *L,
                                int B, float alpha, const clfit_adam_cfg *cfg)
{
    int w = (int)L->w_off, b = (int)L->b_off;
    /* (ceil(in/RG) weight row-tiles + 1 bias row-tile) * ceil(out/(VW*CG)) */
    size_t rg = (size_t)CLP(cl, RG), cols = (size_t)CLP(cl, VW) * CLP(cl, CG);
    size_t items = ((L->in + rg - 1) / rg + 1) * ((L->out + cols - 1) / cols);
    clfit_arg a[] = {CLFIT_ARG(params), CLFIT_ARG(m), CLFIT_ARG(v), CLFIT_ARG(inp),
                     CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(dout), CLFIT_ARG(w),
                     CLFIT_ARG(b), CLFIT_ARG(B), CLFIT_ARG(L->in), CLFIT_ARG(L->out),
                     CLFIT_ARG(alpha), CLFIT_ARG(cfg->beta1), CLFIT_ARG(cfg->beta2),
                     CLFIT_ARG(cfg->eps)};
    /* the product, the bias sums and Adam's 12 operations per parameter; p, m, v read and
     * written, the inputs and output gradients read */
    double n = (double)L->in * L->out + L->out;
    clfit_work wk = {2.0 * B * L->in * L->out + (double)B * L->out + 12 * n,
                     24 * n + 4.0 * B * (L->in + L->out)};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_GRAD_ADAM, items, (size_t)CLP(cl, GWGS), 16, a, wk);
}
