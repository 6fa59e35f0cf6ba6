/* softmax_xent_cl and loss_cl: launchers for kernels/softmax_xent.cl; twins of
 * softmax_xent_ref and mse_ref. */
#include "internal.h"

clfit_status softmax_xent_cl(clfit_cl *cl, cl_mem dlogits, cl_mem loss_acc,
                             cl_mem correct_acc, cl_mem logits, cl_mem labels, int B, int C, int denom)
{
    return loss_cl(cl, CLFIT_LOSS_XENT, dlogits, loss_acc, correct_acc, logits, labels, NULL, B, C, denom);
}

clfit_status loss_cl(clfit_cl *cl, int loss, cl_mem dlogits, cl_mem loss_acc, cl_mem correct_acc,
                     cl_mem logits, cl_mem labels, cl_mem targets, int B, int C, int denom)
{
    if (B < 1 || C < 1 || denom < B)
        return clfit_fail(CLFIT_ERR_ARG, "softmax_xent_cl: B=%d C=%d denom=%d", B, C, denom);
    int want_grad = dlogits != NULL;
    cl_mem dl = dlogits ? dlogits : logits; /* any valid buffer; never written */
    if (loss == 2 && !targets) return clfit_fail(CLFIT_ERR_ARG, "loss_cl: a regression's loss without its targets");
    cl_mem tv = targets ? targets : logits; /* read for loss code 2 alone */
    clfit_arg a[] = {CLFIT_ARG(dl), CLFIT_ARG(loss_acc), CLFIT_ARG(correct_acc),
                     CLFIT_ARG(logits), CLFIT_ARG(labels), CLFIT_ARG(tv), CLFIT_ARG(B), CLFIT_ARG(C),
                     CLFIT_ARG(want_grad), CLFIT_ARG(denom), CLFIT_ARG(loss)};
    /* one work-group: see the kernel for why */
    /* per element: a subtract, an exp, an add, and with the gradient a divide, a subtract
     * and a divide again (exp counted as one operation) */
    clfit_work w = {(double)B * C * (want_grad ? 8 : 3), 4.0 * B * C * (want_grad ? 2 : 1) + B};
    return clfit_cl_launch(cl, CLFIT_K_SOFTMAX_XENT, (size_t)CLP(cl, SXE_WGS), (size_t)CLP(cl, SXE_WGS), 11, a, w);
}
