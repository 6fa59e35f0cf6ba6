/* optim_cl: launcher for kernels/optim.cl (every optimizer from a gradient in memory, with
 * L2, clipping and weight decay); twin of clfit_ref_optim_step. */
#include "clfit/ref.h"
#include "internal.h"

clfit_status optim_cl(clfit_cl *cl, cl_mem param, cl_mem m, cl_mem v, cl_mem grad, size_t n,
                      const clfit_adam_cfg *adam, const clfit_optim *o, float lr, long step, int B,
                      cl_mem wr, int nw, cl_mem part)
{
    int ni = (int)n, kind = (int)o->kind, nesterov = o->nesterov, clip = o->clipnorm > 0.0f;
    float l2c = o->l2 > 0.0f ? o->l2 / (float)B : 0.0f;
    if ((l2c > 0.0f && !wr) || (clip && !part))
        return clfit_fail(CLFIT_ERR_ARG, "optim_cl: L2 needs the weight ranges, clipping the partial sums' buffer");
    cl_mem wrb = wr ? wr : grad, pb = part ? part : grad; /* unused then: any valid buffer */
    clfit_status st = CLFIT_OK;
    if (clip) {
        clfit_arg a[] = {CLFIT_ARG(pb), CLFIT_ARG(grad), CLFIT_ARG(param), CLFIT_ARG(ni), CLFIT_ARG(wrb),
                         CLFIT_ARG(nw), CLFIT_ARG(l2c)};
        clfit_work w = {2.0 * n, 4.0 * n};
        st = clfit_cl_launch(cl, CLFIT_K_GRAD_SUMSQ, 64, (size_t)CLP(cl, WGS), 7, a, w);
        clfit_arg b[] = {CLFIT_ARG(pb), CLFIT_ARG(o->clipnorm)};
        clfit_work wb = {66, 260};
        if (!st) st = clfit_cl_launch(cl, CLFIT_K_GRAD_CLIP_COEF, 1, (size_t)CLP(cl, WGS), 2, b, wb);
        if (st) return st;
    }
    float alpha = adam_alpha(lr, adam->beta1, adam->beta2, step);
    float keep = 1.0f - lr * o->weight_decay;
    clfit_arg a[] = {CLFIT_ARG(param), CLFIT_ARG(m), CLFIT_ARG(v), CLFIT_ARG(grad), CLFIT_ARG(ni),
                     CLFIT_ARG(kind), CLFIT_ARG(lr), CLFIT_ARG(alpha), CLFIT_ARG(adam->beta1),
                     CLFIT_ARG(adam->beta2), CLFIT_ARG(adam->eps), CLFIT_ARG(o->momentum), CLFIT_ARG(nesterov),
                     CLFIT_ARG(o->rho), CLFIT_ARG(o->weight_decay), CLFIT_ARG(keep), CLFIT_ARG(l2c),
                     CLFIT_ARG(wrb), CLFIT_ARG(nw), CLFIT_ARG(clip), CLFIT_ARG(pb)};
    /* about Adam's 12 operations a parameter; p, m, v read and written, g read */
    clfit_work w = {12.0 * n, 28.0 * n};
    return clfit_cl_launch(cl, CLFIT_K_OPTIM_UPDATE, n, (size_t)CLP(cl, WGS), 21, a, w);
}
