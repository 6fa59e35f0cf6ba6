/* Launcher for kernels/slice.cl, the one-launch step shaped for GPUs (see
 * include/clfit/cl.h). */
#include "internal.h"

int slice_groups(const clfit_cl *cl, int H)
{
    return (H + CLP(cl, HS) - 1) / CLP(cl, HS);
}

clfit_status slice_step_cl(clfit_cl *cl, const clfit_slice_io *io, cl_mem order, int start, int B,
                           int cur, int Bp, int want_grad, float alpha, const clfit_adam_cfg *cfg)
{
    const clfit_layer *L0 = io->l0, *L1 = io->l1;
    if (B < 0 || Bp < 0 || B > io->maxB || Bp > io->maxB || (B == 0 && Bp == 0) || (cur != 0 && cur != 1))
        return clfit_fail(CLFIT_ERR_ARG, "slice_step: batch %d after %d (at most %d)", B, Bp, io->maxB);
    int IN = L0->in, H = L0->out, C = L1->out;
    int w0 = (int)L0->w_off, b0 = (int)L0->b_off, w1 = (int)L1->w_off, b1 = (int)L1->b_off;
    cl_mem ord = order ? order : io->rows; /* with B == 0 the order is not read */
    clfit_arg a[] = {CLFIT_ARG(io->params), CLFIT_ARG(io->m), CLFIT_ARG(io->v), CLFIT_ARG(io->x),
                     CLFIT_ARG(io->labels), CLFIT_ARG(ord), CLFIT_ARG(start), CLFIT_ARG(B),
                     CLFIT_ARG(io->rows), CLFIT_ARG(cur), CLFIT_ARG(Bp), CLFIT_ARG(want_grad),
                     CLFIT_ARG(io->maxB), CLFIT_ARG(IN), CLFIT_ARG(H), CLFIT_ARG(C), CLFIT_ARG(w0),
                     CLFIT_ARG(b0), CLFIT_ARG(w1), CLFIT_ARG(b1), CLFIT_ARG(io->h), CLFIT_ARG(io->dh),
                     CLFIT_ARG(io->part), CLFIT_ARG(io->dl), CLFIT_ARG(io->loss_row),
                     CLFIT_ARG(io->right_row), CLFIT_ARG(io->loss_acc), CLFIT_ARG(io->correct_acc),
                     CLFIT_ARG(alpha), CLFIT_ARG(cfg->beta1), CLFIT_ARG(cfg->beta2), CLFIT_ARG(cfg->eps)};
    /* the forward: h, and the logits; the backward: the logits summed over G groups,
     * softmax (G times), dh, the three gradients and Adam's 12 operations per parameter.
     * Bytes: the rows of x read once per group (from cache after the first), parameters
     * read, with the backward p, m, v read and written. */
    int G = slice_groups(cl, H);
    double n0 = (double)IN * H, n1 = (double)H * C, np = n0 + H + n1 + C;
    double fwd = B ? 2.0 * B * (n0 + n1) : 0, grads = want_grad ? 2.0 * Bp * (n0 + 2 * n1) + 12 * np : 0;
    double bwd = Bp ? (double)Bp * C * (G + 8.0 * G) + grads : 0;
    double bytes = 4.0 * ((double)(B + (want_grad ? Bp : 0)) * IN + np * (want_grad ? 6 : 1) +
                          (double)(B + Bp) * (2 * H + 2.0 * G * C));
    clfit_work wk = {fwd + bwd, bytes};
    size_t wgs = (size_t)CLP(cl, SWGS);
    return clfit_cl_launch(cl, CLFIT_K_SLICE_STEP, (size_t)G * wgs, wgs, 32, a, wk);
}
