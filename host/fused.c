/* Launchers for kernels/fused.cl, clfit's own training step (see include/clfit/cl.h). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

static const clfit_act_io *or_default(const clfit_act_io *a, clfit_act_io *buf, int act)
{
    if (a) return a;
    *buf = clfit_act_only(act);
    return buf;
}

clfit_status fused_forward_cl(clfit_cl *cl, cl_mem out, cl_mem inp, cl_mem order, int start, cl_mem xg,
                              cl_mem params, const clfit_layer *L, int B, const clfit_act_io *ai)
{
    clfit_act_io buf;
    const clfit_act_io *x = or_default(ai, &buf, CLFIT_ACT_LINEAR);
    int w = (int)L->w_off, b = (int)L->b_off;
    size_t cols = (size_t)CLP(cl, VW) * CLP(cl, CB), rb = (size_t)CLP(cl, RB);
    size_t items = (B + rb - 1) / rb * ((L->out + cols - 1) / cols);
    clfit_arg a[] = {CLFIT_ARG(out), CLFIT_ARG(inp), CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(xg),
                     CLFIT_ARG(params), CLFIT_ARG(w), CLFIT_ARG(b), CLFIT_ARG(B),
                     CLFIT_ARG(L->in), CLFIT_ARG(L->out), CLFIT_ARG(x->act), CLFIT_ARG(x->pre),
                     CLFIT_ARG(x->rate), CLFIT_ARG(x->scale), CLFIT_ARG(x->key), CLFIT_ARG(x->layer), CLFIT_ARG(x->e0)};
    clfit_work wk = {2.0 * B * L->in * L->out,
                     4.0 * ((double)L->in * L->out + (double)B * (L->in + L->out))};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_FORWARD, items, (size_t)CLP(cl, FWGS), 18, a, wk);
}

clfit_status fused_forward_head_cl(clfit_cl *cl, cl_mem h, cl_mem inp, cl_mem order, int start, cl_mem xg,
                                   cl_mem params, const clfit_layer *L, int B,
                                   const clfit_head_io *io)
{
    int want_grad = io->dlogits != NULL, denom = io->denom > 0 ? io->denom : B;
    clfit_act_io buf;
    const clfit_act_io *x = or_default(io->act, &buf, CLFIT_ACT_RELU);
    /* in evaluation the gradient buffers are never touched; any valid buffer will do */
    cl_mem dl = want_grad ? io->dlogits : io->logits, d = want_grad ? io->dh : io->logits;
    cl_mem tv = io->targets ? io->targets : io->logits; /* read for loss code 2 alone */
    int w = (int)L->w_off, b = (int)L->b_off, b1 = (int)io->layer->b_off, C = io->layer->out;
    size_t rb = (size_t)CLP(cl, RB) * CLP(cl, TF); /* rows a work-item */
    clfit_arg a[] = {CLFIT_ARG(h), CLFIT_ARG(inp), CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(xg),
                     CLFIT_ARG(params), CLFIT_ARG(w), CLFIT_ARG(b), CLFIT_ARG(B), CLFIT_ARG(L->in), CLFIT_ARG(L->out),
                     CLFIT_ARG(io->wt), CLFIT_ARG(b1), CLFIT_ARG(C), CLFIT_ARG(io->logits), CLFIT_ARG(dl),
                     CLFIT_ARG(d), CLFIT_ARG(io->loss_row), CLFIT_ARG(io->right_row), CLFIT_ARG(io->labels),
                     CLFIT_ARG(tv), CLFIT_ARG(io->order), CLFIT_ARG(io->start), CLFIT_ARG(want_grad), CLFIT_ARG(denom),
                     CLFIT_ARG(x->act), CLFIT_ARG(x->pre), CLFIT_ARG(x->rate), CLFIT_ARG(x->scale),
                     CLFIT_ARG(x->key), CLFIT_ARG(x->layer), CLFIT_ARG(x->e0), CLFIT_ARG(io->loss)};
    /* the hidden layer's product; the logits, and with gradients dh (2BHC each); softmax */
    double H = L->out, n = (double)L->in * L->out;
    clfit_work wk = {2.0 * B * n + (want_grad ? 4.0 : 2.0) * B * H * C + 8.0 * B * C,
                     4.0 * (n + (double)B * (L->in + H * (want_grad ? 2 : 1)) + H * C + 3.0 * B * C)};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_FORWARD_HEAD, ((size_t)B + rb - 1) / rb, (size_t)CLP(cl, FWGS), 33,
                           a, wk);
}

clfit_status fused_head_stats_cl(clfit_cl *cl, cl_mem loss_row, cl_mem right_row, int B,
                                 cl_mem loss_acc, cl_mem correct_acc, int values)
{
    clfit_arg a[] = {CLFIT_ARG(loss_row), CLFIT_ARG(right_row), CLFIT_ARG(B), CLFIT_ARG(loss_acc),
                     CLFIT_ARG(correct_acc), CLFIT_ARG(values)};
    clfit_work wk = {(double)B, 8.0 * B};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_HEAD_STATS, 1, (size_t)CLP(cl, FWGS), 6, a, wk);
}

clfit_status fused_backward_data_cl(clfit_cl *cl, cl_mem dinp, cl_mem dout, cl_mem inp,
                                    cl_mem params, const clfit_layer *L, int B, const clfit_act_io *ai)
{
    clfit_act_io buf;
    const clfit_act_io *x = or_default(ai, &buf, CLFIT_ACT_RELU);
    int w = (int)L->w_off;
    size_t rb = (size_t)CLP(cl, RB);
    clfit_arg a[] = {CLFIT_ARG(dinp), CLFIT_ARG(dout), CLFIT_ARG(inp), CLFIT_ARG(params),
                     CLFIT_ARG(w), CLFIT_ARG(B), CLFIT_ARG(L->in), CLFIT_ARG(L->out), CLFIT_ARG(x->act),
                     CLFIT_ARG(x->pre), CLFIT_ARG(x->rate), CLFIT_ARG(x->scale), CLFIT_ARG(x->key),
                     CLFIT_ARG(x->layer), CLFIT_ARG(x->e0)};
    clfit_work wk = {2.0 * B * L->in * L->out, 4.0 * ((double)L->in * L->out + (double)B * (2 * L->in + L->out))};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_BACKWARD_DATA, ((size_t)B + rb - 1) / rb * L->in, (size_t)CLP(cl, FWGS),
                           15, a, wk);
}

clfit_status fused_act_backward_cl(clfit_cl *cl, cl_mem d, cl_mem out, int B, int cols, const clfit_act_io *x)
{
    size_t vw = (size_t)CLP(cl, VW);
    clfit_arg a[] = {CLFIT_ARG(d), CLFIT_ARG(out), CLFIT_ARG(B), CLFIT_ARG(cols), CLFIT_ARG(x->act),
                     CLFIT_ARG(x->pre), CLFIT_ARG(x->rate), CLFIT_ARG(x->scale), CLFIT_ARG(x->key), CLFIT_ARG(x->layer), CLFIT_ARG(x->e0)};
    clfit_work wk = {2.0 * B * cols, 12.0 * B * cols};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_ACT_BACKWARD, (size_t)B * ((cols + vw - 1) / vw), (size_t)CLP(cl, FWGS), 11,
                           a, wk);
}

clfit_status head_transpose_cl(clfit_cl *cl, cl_mem wt, cl_mem params, const clfit_layer *last)
{
    int w1 = (int)last->w_off, H = last->in, C = last->out;
    clfit_arg a[] = {CLFIT_ARG(wt), CLFIT_ARG(params), CLFIT_ARG(w1), CLFIT_ARG(H), CLFIT_ARG(C)};
    clfit_work wk = {0, 8.0 * H * C};
    return clfit_cl_launch(cl, CLFIT_K_HEAD_TRANSPOSE, (size_t)H * C, (size_t)CLP(cl, WGS), 5, a, wk);
}

clfit_status fused_grad_adam_cl(clfit_cl *cl, cl_mem params, cl_mem m, cl_mem v, cl_mem gout, cl_mem inp,
                                cl_mem order, int start, cl_mem dout, const clfit_layer *L,
                                int B, float alpha, const clfit_adam_cfg *cfg,
                                const clfit_head_update *head)
{
    return fused_grad_adamw_cl(cl, params, m, v, gout, inp, order, start, dout, L, B, alpha, 1.0f, 0.0f, cfg, head);
}

clfit_status fused_grad_adamw_cl(clfit_cl *cl, cl_mem params, cl_mem m, cl_mem v, cl_mem gout, cl_mem inp,
                                 cl_mem order, int start, cl_mem dout, const clfit_layer *L,
                                 int B, float alpha, float keep, float l2c, const clfit_adam_cfg *cfg,
                                 const clfit_head_update *head)
{
    int w = (int)L->w_off, b = (int)L->b_off, with_head = head ? 1 + !!head->values : 0;
    /* without a head its arguments are unused: any valid buffer will do */
    cl_mem wt = head ? head->wt : params, h = head ? head->h : params, dl = head ? head->dlogits : params,
           lr = head ? head->loss_row : params, rr = head ? head->right_row : params,
           la = head ? head->loss_acc : params, ca = head ? head->correct_acc : params;
    int w1 = head ? (int)head->layer->w_off : 0, b1 = head ? (int)head->layer->b_off : 0;
    int H = head ? head->layer->in : 0, C = head ? head->layer->out : 0;
    /* (ceil(ceil(in/RG)/tr) rows of super-tiles + 1 of the bias) * ceil(ceil(out/(VW*CG))/tc),
     * then ceil(H/VW) + 1 for the head; super-tiles of TR x TC where the batch takes more
     * than one pass of KC rows, else one tile a work-item */
    size_t rg = (size_t)CLP(cl, RG), vw = (size_t)CLP(cl, VW), cols = vw * CLP(cl, CG);
    int passes = B > CLP(cl, KC);
    size_t tr = passes ? (size_t)CLP(cl, TR) : 1, tc = passes ? (size_t)CLP(cl, TC) : 1;
    size_t srows = ((L->in + rg - 1) / rg + tr - 1) / tr, scols = ((L->out + cols - 1) / cols + tc - 1) / tc;
    size_t items = (srows + 1) * scols + (head ? (H + vw - 1) / vw + 1 : 0);
    clfit_arg a[] = {CLFIT_ARG(params), CLFIT_ARG(m), CLFIT_ARG(v), CLFIT_ARG(gout), CLFIT_ARG(inp), CLFIT_ARG(order),
                     CLFIT_ARG(start), CLFIT_ARG(dout), CLFIT_ARG(w), CLFIT_ARG(b), CLFIT_ARG(B),
                     CLFIT_ARG(L->in), CLFIT_ARG(L->out), CLFIT_ARG(alpha), CLFIT_ARG(cfg->beta1),
                     CLFIT_ARG(cfg->beta2), CLFIT_ARG(cfg->eps), CLFIT_ARG(keep), CLFIT_ARG(l2c), CLFIT_ARG(with_head),
                     CLFIT_ARG(wt), CLFIT_ARG(w1), CLFIT_ARG(b1), CLFIT_ARG(H), CLFIT_ARG(C), CLFIT_ARG(h),
                     CLFIT_ARG(dl), CLFIT_ARG(lr), CLFIT_ARG(rr), CLFIT_ARG(la), CLFIT_ARG(ca)};
    /* the product, the bias sums and Adam's 12 operations per parameter; p, m, v read and
     * written, the inputs and output gradients read; the head's the same at its size */
    double n = (double)L->in * L->out + L->out, nh = (double)H * C + C;
    clfit_work wk = {2.0 * B * L->in * L->out + (double)B * L->out + 12 * n + 2.0 * B * nh + 12 * nh,
                     24 * n + 4.0 * B * (L->in + L->out) + 28 * nh + 4.0 * B * (H + C)};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_GRAD_ADAM, items, (size_t)CLP(cl, GWGS), 31, a, wk);
}

/* $CLFIT_STEPS_GROUPS (for tests): N work-groups, 1 to 64; 0 where unset or not such a
 * number (fused_steps_check_env reports that) */
static int steps_groups_env(void)
{
    const char *e = getenv("CLFIT_STEPS_GROUPS");
    char *end;
    if (!e || !*e) return 0;
    errno = 0;
    long v = strtol(e, &end, 10);
    return *end == '\0' && errno == 0 && v >= 1 && v <= 64 ? (int)v : 0;
}

clfit_status fused_steps_check_env(void)
{
    const char *e = getenv("CLFIT_STEPS_GROUPS");
    if (e && *e && !steps_groups_env())
        return clfit_fail(CLFIT_ERR_ARG, "CLFIT_STEPS_GROUPS=\"%s\": expected a whole number from 1 to 64", e);
    return CLFIT_OK;
}

int fused_steps_groups(const clfit_cl *cl)
{
    int g = steps_groups_env();
    if (!g) g = (int)cl->info.compute_units;
    return g < 1 ? 1 : g > 64 ? 64 : g;
}

/* fused_steps' counters (kernels/fused.cl): a claim and a done counter per work-group per
 * phase, 3 phases a step, each counter a cache line of 16 ints (STEPS_LINE) */
size_t fused_steps_counters(int G, int nsteps)
{
    return (size_t)16 * 3 * 2 * (size_t)nsteps * (size_t)G;
}

clfit_status fused_steps_cl(clfit_cl *cl, cl_mem h, cl_mem inp, cl_mem xg, cl_mem params, cl_mem m, cl_mem v,
                            const clfit_layer *L, int B, const clfit_head_io *io, const clfit_head_update *head,
                            float l2c, const clfit_adam_cfg *cfg, cl_mem step_par, int nsteps, int G, cl_mem ctr,
                            cl_mem ctr_next, int nctr, cl_mem flag)
{
    clfit_act_io buf;
    const clfit_act_io *x = or_default(io->act, &buf, CLFIT_ACT_RELU);
    if (x->rate > 0.0f) return clfit_fail(CLFIT_ERR_ARG, "fused_steps: no dropout");
    cl_mem tv = io->targets ? io->targets : io->logits; /* read for loss code 2 alone */
    int w = (int)L->w_off, b = (int)L->b_off, w1 = (int)io->layer->w_off, b1 = (int)io->layer->b_off;
    int H = L->out, C = io->layer->out, with_head = 1 + !!head->values, start = io->start;
    clfit_arg a[] = {CLFIT_ARG(h), CLFIT_ARG(inp), CLFIT_ARG(io->order), CLFIT_ARG(start), CLFIT_ARG(xg),
                     CLFIT_ARG(params), CLFIT_ARG(m), CLFIT_ARG(v), CLFIT_ARG(w), CLFIT_ARG(b), CLFIT_ARG(B),
                     CLFIT_ARG(L->in), CLFIT_ARG(H), CLFIT_ARG(io->wt), CLFIT_ARG(w1), CLFIT_ARG(b1), CLFIT_ARG(C),
                     CLFIT_ARG(io->logits), CLFIT_ARG(io->dlogits), CLFIT_ARG(io->dh), CLFIT_ARG(io->loss_row),
                     CLFIT_ARG(io->right_row), CLFIT_ARG(io->labels), CLFIT_ARG(tv), CLFIT_ARG(x->act),
                     CLFIT_ARG(x->pre), CLFIT_ARG(io->loss), CLFIT_ARG(cfg->beta1), CLFIT_ARG(cfg->beta2),
                     CLFIT_ARG(cfg->eps), CLFIT_ARG(l2c), CLFIT_ARG(with_head), CLFIT_ARG(head->loss_acc),
                     CLFIT_ARG(head->correct_acc), CLFIT_ARG(step_par), CLFIT_ARG(nsteps), CLFIT_ARG(ctr),
                     CLFIT_ARG(ctr_next), CLFIT_ARG(nctr), CLFIT_ARG(flag)};
    /* per step: fused_forward_head's and fused_grad_adam's (see their launchers) */
    double n = (double)L->in * H, nh = (double)H * C + C, nb = n + H;
    clfit_work wk = {nsteps * (2.0 * B * n + 4.0 * B * H * C + 8.0 * B * C + 2.0 * B * n + (double)B * H + 12 * nb +
                               2.0 * B * nh + 12 * nh),
                     nsteps * (4.0 * (n + (double)B * (L->in + 2 * H) + H * C + 3.0 * B * C) + 24 * nb +
                               4.0 * B * (L->in + H) + 28 * nh + 4.0 * B * (H + C))};
    return clfit_cl_launch(cl, CLFIT_K_FUSED_STEPS, (size_t)G, 1, 40, a, wk);
}
