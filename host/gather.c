/* Launchers for kernels/gather.cl; with scale_images_cl once, twins of gather_batch_ref. */
#include "internal.h"

clfit_status scale_images_cl(clfit_cl *cl, cl_mem x, cl_mem images, size_t n)
{
    int ni = (int)n;
    clfit_arg a[] = {CLFIT_ARG(x), CLFIT_ARG(images), CLFIT_ARG(ni)};
    clfit_work w = {(double)n, 5.0 * n}; /* a divide per pixel */
    return clfit_cl_launch(cl, CLFIT_K_SCALE_IMAGES, n, (size_t)CLP(cl, WGS), 3, a, w);
}

clfit_status gather_batch_cl(clfit_cl *cl, cl_mem x, cl_mem y, cl_mem data, cl_mem labels,
                             cl_mem order, int start, int B, int D)
{
    if (B < 1 || D < 1 || start < 0)
        return clfit_fail(CLFIT_ERR_ARG, "gather_batch_cl: B=%d D=%d start=%d", B, D, start);
    clfit_arg a[] = {CLFIT_ARG(x), CLFIT_ARG(y), CLFIT_ARG(data), CLFIT_ARG(labels),
                     CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(B), CLFIT_ARG(D)};
    clfit_work w = {0, (double)B * D * 8 + B * 5.0};
    return clfit_cl_launch(cl, CLFIT_K_GATHER_BATCH, (size_t)B * D, (size_t)CLP(cl, WGS), 8, a, w);
}

clfit_status gather_targets_cl(clfit_cl *cl, cl_mem ty, cl_mem targets, cl_mem order, int start, int B, int T)
{
    if (B < 1 || T < 1 || start < 0)
        return clfit_fail(CLFIT_ERR_ARG, "gather_targets_cl: B=%d T=%d start=%d", B, T, start);
    clfit_arg a[] = {CLFIT_ARG(ty), CLFIT_ARG(targets), CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(B),
                     CLFIT_ARG(T)};
    clfit_work w = {0, (double)B * T * 8 + B * 4.0};
    return clfit_cl_launch(cl, CLFIT_K_GATHER_TARGETS, (size_t)B * T, (size_t)CLP(cl, WGS), 6, a, w);
}
