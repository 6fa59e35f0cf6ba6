/* gather_batch_cl: launcher for kernels/gather.cl; twin of gather_batch_ref. */
#include "internal.h"

clfit_status gather_batch_cl(clfit_cl *cl, cl_mem x, cl_mem y, cl_mem images, cl_mem labels,
                             cl_mem order, int start, int B, int D)
{
    if (B < 1 || D < 1 || start < 0)
        return clfit_fail(CLFIT_ERR_ARG, "gather_batch_cl: B=%d D=%d start=%d", B, D, start);
    clfit_arg a[] = {CLFIT_ARG(x), CLFIT_ARG(y), CLFIT_ARG(images), CLFIT_ARG(labels),
                     CLFIT_ARG(order), CLFIT_ARG(start), CLFIT_ARG(B), CLFIT_ARG(D)};
    return clfit_cl_launch(cl, CLFIT_K_GATHER_BATCH, (size_t)B * D, cl->wgs, 8, a);
}
