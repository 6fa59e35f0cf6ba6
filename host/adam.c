/* adam_cl: launcher for kernels/adam.cl; twin of adam_ref. */
#include "internal.h"

clfit_status adam_cl(clfit_cl *cl, cl_mem param, cl_mem m, cl_mem v, cl_mem grad, size_t n,
                     float alpha, const clfit_adam_cfg *cfg)
{
    int ni = (int)n;
    clfit_arg a[] = {CLFIT_ARG(param), CLFIT_ARG(m), CLFIT_ARG(v), CLFIT_ARG(grad),
                     CLFIT_ARG(ni), CLFIT_ARG(alpha), CLFIT_ARG(cfg->beta1),
                     CLFIT_ARG(cfg->beta2), CLFIT_ARG(cfg->eps)};
    /* 12 floating-point operations per parameter, as bench counts Adam; p, m, v read and
     * written, g read */
    clfit_work w = {12.0 * n, 28.0 * n};
    return clfit_cl_launch(cl, CLFIT_K_ADAM_UPDATE, n, (size_t)CLP(cl, WGS), 9, a, w);
}
