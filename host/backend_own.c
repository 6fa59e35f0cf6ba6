/* The own backend (host/backend.h): the fused kernels of kernels/fused.cl. A step is the
 * hidden layers' forward passes, the last hidden layer fused with the last layer and its
 * loss (fused_forward_head), the deep layers' input gradients, then each hidden layer's
 * weight gradient with Adam or AdamW applied in the same kernel (fused_grad_adam), the
 * launch for layer 0 also updating the last layer. Other optimizers, L2 and clipping take
 * the gradient to memory and the optimizer's kernel (clfit_trainer_apply_grads). Needs a
 * hidden layer. */
#include "backend.h"
#include "internal.h"

#include <stdlib.h>

#include "clfit/parts.h"
#include "clfit/ref.h"

/* the most memory the gathered batch may take (t->x; past it, no gathering) */
#define GATHER_MAX_BYTES ((size_t)64 << 20)

static const char *own_refuses(const clfit_model_desc *d, const clfit_optim *o, int ranks)
{
    (void)o, (void)ranks;
    return d->nhidden < 1 ? "the own backend needs a hidden layer" : NULL;
}

/* wt = W^T of the last layer, which the steps then keep up to date; each row's loss and
 * correctness; the gradient in memory where the optimizer is not fused */
static clfit_status own_init(clfit_trainer *t, const clfit_model *m)
{
    clfit_status st = CLFIT_OK;
    const clfit_layer *last = &m->layer[m->nlayers - 1];
    float *wt = malloc((size_t)last->in * last->out * sizeof *wt);
    if (!wt) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    for (int j = 0; j < last->in; j++)
        for (int c = 0; c < last->out; c++)
            wt[(size_t)c * last->in + j] = m->params[last->w_off + (size_t)j * last->out + c];
    t->wt = clfit_cl_buffer(t->cl, (size_t)last->in * last->out * sizeof *wt, wt, &st);
    free(wt);
    if (!st) t->loss_row = clfit_cl_buffer(t->cl, (size_t)t->max_batch * sizeof(float), NULL, &st);
    if (!st) t->right_row = clfit_cl_buffer(t->cl, (size_t)t->max_batch * sizeof(cl_int), NULL, &st);
    /* t->x: the batch's rows, which the forward launch gathers and layer 0's gradient then
     * reads side by side instead of scattered over the dataset by the epoch's order (17% off
     * the epoch at batch 1024 on the Zen 3, 3% at batch 32); none past GATHER_MAX_BYTES, and
     * the gradient reads the dataset's rows through the order */
    size_t xg = (size_t)t->max_batch * m->desc.input * sizeof(float);
    if (!st && xg <= GATHER_MAX_BYTES) t->x = clfit_cl_buffer(t->cl, xg, NULL, &st);
    if (!st && !t->fused_opt) st = clfit_trainer_need_grads(t);
    return st;
}

/* The forward pass: the hidden layers (layer 0 reads the batch's rows from the dataset
 * through the order, and with want_grad gathers them into t->x), the last of them with
 * the last layer, its loss per row, and with want_grad dlogits and dh (fused_forward_head). */
static clfit_status own_forward(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int want_grad,
                                int denom)
{
    clfit_cl *cl = t->cl;
    int L = t->nlayers;
    clfit_status st = CLFIT_OK;
    cl_mem xg = want_grad ? t->x : NULL;
    for (int l = 0; l < L - 2 && !st; l++) {
        clfit_act_io a = clfit_trainer_layer_act(t, l, want_grad);
        st = fused_forward_cl(cl, t->act[l + 1], l ? t->act[l] : dd->x, l ? NULL : dd->order, l ? 0 : start,
                              l ? NULL : xg, t->params, &t->layer[l], B, &a);
    }
    if (st) return st;
    int l = L - 2; /* the last hidden layer */
    clfit_act_io a = clfit_trainer_layer_act(t, l, want_grad);
    clfit_head_io io = {.layer = &t->layer[L - 1], .wt = t->wt, .logits = t->act[L],
                        .dlogits = want_grad ? t->dact[L] : NULL, .dh = t->dact[L - 1],
                        .loss_row = t->loss_row, .right_row = t->right_row, .labels = dd->labels,
                        .targets = dd->targets, .order = dd->order, .start = start, .denom = denom,
                        .loss = clfit_loss_code(&t->desc), .act = &a};
    return fused_forward_head_cl(cl, t->act[L - 1], l ? t->act[l] : dd->x, l ? NULL : dd->order, l ? 0 : start,
                                 l ? NULL : xg, t->params, &t->layer[l], B, &io);
}

/* own_forward; the hidden layers' input gradients (deep models), before any weight
 * changes; then each hidden layer's weight gradient with Adam (alpha, and AdamW's keep),
 * the launch for layer 0 also updating the last layer and adding up the batch's loss.
 * With gout, the gradients (dlogits over denom) go there instead, and no Adam. */
static clfit_status own_grads(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom,
                              cl_mem gout, float alpha, float keep, float l2c)
{
    int L = t->nlayers;
    clfit_status st = own_forward(t, dd, start, B, 1, denom);
    for (int l = L - 2; l >= 1 && !st; l--) {
        clfit_act_io a = clfit_trainer_layer_act(t, l - 1, 1); /* of the layer whose output act[l] is */
        if (a.rate == 0.0f && !clfit_acts[a.act].needs_input) {
            st = fused_backward_data_cl(t->cl, t->dact[l], t->dact[l + 1], t->act[l], t->params, &t->layer[l], B, &a);
            continue;
        }
        /* dropout or an activation whose derivative is not a mask: the product alone, then
         * fused_act_backward over the elements in vectors (fused_backward_data's own per-element
         * Philox and transcendentals run one lane at a time: 3x slower at 784-512-256-10) */
        clfit_act_io lin = clfit_act_only(CLFIT_ACT_LINEAR);
        st = fused_backward_data_cl(t->cl, t->dact[l], t->dact[l + 1], t->act[l], t->params, &t->layer[l], B, &lin);
        if (!st) st = fused_act_backward_cl(t->cl, t->dact[l], t->act[l], B, t->layer[l].in, &a);
    }
    for (int l = L - 2; l >= 1 && !st; l--)
        st = fused_grad_adamw_cl(t->cl, t->params, t->m, t->v, gout, t->act[l], NULL, 0, t->dact[l + 1],
                                 &t->layer[l], B, alpha, keep, l2c, &t->adam, NULL);
    clfit_head_update head = {.layer = &t->layer[L - 1], .wt = t->wt, .h = t->act[L - 1],
                              .dlogits = t->dact[L], .loss_row = t->loss_row, .right_row = t->right_row,
                              .loss_acc = t->loss_acc, .correct_acc = t->correct_acc,
                              .values = t->desc.regression};
    cl_mem xg = t->x; /* NULL: not gathered */
    if (!st)
        st = fused_grad_adamw_cl(t->cl, t->params, t->m, t->v, gout, xg ? xg : dd->x, xg ? NULL : dd->order,
                                 xg ? 0 : start, t->dact[1], &t->layer[0], B, alpha, keep, l2c, &t->adam, &head);
    return st;
}

static clfit_status own_grad(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom)
{
    return own_grads(t, dd, start, B, denom, t->grads, 0.0f, 1.0f, 0.0f);
}

static clfit_status own_step(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    if (!t->fused_opt) { /* the gradient to memory, then the optimizer's kernel */
        clfit_status st = own_grad(t, dd, start, B, B);
        return st ? st : clfit_trainer_apply_grads(t, B);
    }
    float alpha = adam_alpha(t->lr, t->adam.beta1, t->adam.beta2, t->step + 1);
    float keep = t->opt.kind == CLFIT_OPT_ADAMW ? 1.0f - t->lr * t->opt.weight_decay : 1.0f;
    float l2c = t->opt.l2 > 0.0f ? t->opt.l2 / (float)B : 0.0f; /* optim_cl's */
    clfit_status st = own_grads(t, dd, start, B, B, NULL, alpha, keep, l2c);
    if (!st) t->step++;
    return st;
}

/* Whether fused_steps runs this trainer's steps: SPL > 1, one hidden layer without
 * dropout, Adam or AdamW fused, the batch gathered, and a device whose program has the
 * kernel (clfit_cl_runs_steps). */
static int own_runs_steps(clfit_trainer *t)
{
    clfit_cl *cl = t->cl;
    if (CLP(cl, SPL) <= 1 || t->nlayers != 2 || !t->fused_opt || !t->x || !cl->kernel[CLFIT_K_FUSED_STEPS])
        return 0;
    return clfit_trainer_layer_act(t, 0, 1).rate <= 0.0f;
}

/* Whether every fused_steps launch so far ran whole: the failure flag, read once steps
 * have been launched since the last read. */
static clfit_status own_flush(clfit_trainer *t)
{
    if (!t->steps_unchecked) return CLFIT_OK;
    cl_int flag;
    clfit_status st = clfit_cl_read(t->cl, t->flag, 0, sizeof flag, &flag);
    if (st) return st;
    t->steps_unchecked = 0;
    if (flag)
        return clfit_fail(CLFIT_ERR_CHECK,
                          "fused_steps: on %s a wait for its work-groups' items never ended, so its steps are not "
                          "whole; CLFIT_TUNE=SPL=1 takes two launches a step",
                          t->cl->info.name);
    return CLFIT_OK;
}

/* Makes fused_steps' buffers: each step's alpha and keep (two halves of 2 * SPL floats),
 * the counters (two halves, zeros) and the failure flag. */
static clfit_status own_steps_init(clfit_trainer *t, int spl)
{
    clfit_status st = CLFIT_OK;
    t->steps_groups = fused_steps_groups(t->cl);
    size_t nctr = fused_steps_counters(t->steps_groups, spl);
    cl_int zero = 0;
    cl_int *zeros = calloc(nctr, sizeof *zeros);
    t->step_host = malloc(4 * (size_t)spl * sizeof *t->step_host);
    if (!t->step_host || !zeros) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < 2 && !st; i++) {
        t->step_par[i] = clfit_cl_buffer(t->cl, 2 * (size_t)spl * sizeof(float), NULL, &st);
        if (!st) t->ctr[i] = clfit_cl_buffer(t->cl, nctr * sizeof *zeros, zeros, &st);
    }
    if (!st) t->flag = clfit_cl_buffer(t->cl, sizeof zero, &zero, &st);
    free(zeros);
    t->nctr = (int)nctr;
    return st;
}

/* n steps: fused_steps, SPL a launch, where own_runs_steps; else own_step n times. */
static clfit_status own_steps(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int n, const float *lr)
{
    clfit_status st = CLFIT_OK;
    clfit_cl *cl = t->cl;
    int spl = CLP(cl, SPL);
    if (n < 2 || !own_runs_steps(t)) return clfit_trainer_steps_each(t, dd, start, B, n, lr);
    if (!t->step_host && !(st = fused_steps_check_env())) st = own_steps_init(t, spl);
    if (st) return st;
    int L = t->nlayers;
    clfit_act_io a = clfit_trainer_layer_act(t, 0, 1);
    clfit_head_io io = {.layer = &t->layer[L - 1], .wt = t->wt, .logits = t->act[L], .dlogits = t->dact[L],
                        .dh = t->dact[L - 1], .loss_row = t->loss_row, .right_row = t->right_row,
                        .labels = dd->labels, .targets = dd->targets, .order = dd->order, .denom = B,
                        .loss = clfit_loss_code(&t->desc), .act = &a};
    clfit_head_update head = {.layer = &t->layer[L - 1], .wt = t->wt, .h = t->act[L - 1], .dlogits = t->dact[L],
                              .loss_row = t->loss_row, .right_row = t->right_row, .loss_acc = t->loss_acc,
                              .correct_acc = t->correct_acc, .values = t->desc.regression};
    float l2c = t->opt.l2 > 0.0f ? t->opt.l2 / (float)B : 0.0f; /* optim_cl's */
    for (int s0 = 0; s0 < n && !st; s0 += spl) {
        int k = n - s0 < spl ? n - s0 : spl, half = t->step_half;
        t->step_half ^= 1;
        if (t->step_ev[half]) { /* that half's last write has been read from the host */
            cl_int e = clWaitForEvents(1, &t->step_ev[half]);
            clReleaseEvent(t->step_ev[half]);
            t->step_ev[half] = NULL;
            if (e != CL_SUCCESS) return clfit_fail(e, "clWaitForEvents: %s", clfit_status_name(e));
        }
        float *par = t->step_host + (size_t)half * 2 * spl;
        for (int s = 0; s < k; s++) { /* own_step's, step by step */
            float l = lr ? lr[s0 + s] : t->lr;
            par[2 * s] = adam_alpha(l, t->adam.beta1, t->adam.beta2, t->step + 1 + s);
            par[2 * s + 1] = t->opt.kind == CLFIT_OPT_ADAMW ? 1.0f - l * t->opt.weight_decay : 1.0f;
        }
        cl_int e = clEnqueueWriteBuffer(cl->queue, t->step_par[half], CL_FALSE, 0, 2 * (size_t)k * sizeof *par, par, 0,
                                        NULL, &t->step_ev[half]);
        if (e != CL_SUCCESS) return clfit_fail(e, "clEnqueueWriteBuffer: %s", clfit_status_name(e));
        io.start = start + s0 * B;
        st = fused_steps_cl(cl, t->act[L - 1], dd->x, t->x, t->params, t->m, t->v, &t->layer[0], B, &io, &head, l2c,
                            &t->adam, t->step_par[half], k, t->steps_groups, t->ctr[half], t->ctr[half ^ 1], t->nctr,
                            t->flag);
        if (!st) {
            t->step += k;
            t->steps_unchecked += k;
        }
    }
    if (!st && lr) t->lr = lr[n - 1];
    return st;
}

/* wt from the new last layer's weights */
static clfit_status own_applied(clfit_trainer *t)
{
    return head_transpose_cl(t->cl, t->wt, t->params, &t->layer[t->nlayers - 1]);
}

static clfit_status own_eval(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    clfit_status st = own_forward(t, dd, start, B, 0, B);
    return st ? st : fused_head_stats_cl(t->cl, t->loss_row, t->right_row, B, t->loss_acc, t->correct_acc,
                                            t->desc.regression);
}

static cl_mem own_logits(const clfit_trainer *t)
{
    return t->act[t->nlayers];
}

const clfit_backend clfit_backend_own = {
    .name = "own",
    .refuses = own_refuses,
    .init = own_init,
    .step = own_step,
    .steps = own_steps,
    .grad = own_grad,
    .applied = own_applied,
    .eval = own_eval,
    .flush = own_flush,
    .logits = own_logits,
};
