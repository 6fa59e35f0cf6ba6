/* relu_backward_cl: launcher for kernels/relu.cl; twin of relu_backward_ref. */
#include "internal.h"

clfit_status relu_backward_cl(clfit_cl *cl, cl_mem dinp, cl_mem dout, cl_mem out, int n)
{
    clfit_arg a[] = {CLFIT_ARG(dinp), CLFIT_ARG(dout), CLFIT_ARG(out), CLFIT_ARG(n)};
    clfit_work w = {0, 12.0 * n};
    return clfit_cl_launch(cl, CLFIT_K_RELU_BACKWARD, (size_t)n, (size_t)CLP(cl, WGS), 4, a, w);
}
