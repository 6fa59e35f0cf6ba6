/* The clblast backend (host/backend.h): each layer's product is CLBlast's SGEMM
 * (dense_forward_cl, dense_backward_cl), the rest small kernels; the gradient goes to
 * memory and the optimizer's kernel applies it. Runs every model and every optimizer: the
 * backend the others fall back to. */
#include "backend.h"

static const char *clblast_refuses(const clfit_model_desc *d, const clfit_optim *o, int ranks)
{
    (void)d, (void)o, (void)ranks;
    return NULL;
}

/* the gathered batch (act[0] is its x) and the gradient in memory */
static clfit_status clblast_init(clfit_trainer *t, const clfit_model *m)
{
    clfit_status st = CLFIT_OK;
    t->x = clfit_cl_buffer(t->cl, (size_t)t->max_batch * m->desc.input * sizeof(float), NULL, &st);
    if (!st) t->y = clfit_cl_buffer(t->cl, (size_t)t->max_batch, NULL, &st);
    if (!st && m->desc.regression)
        t->ty = clfit_cl_buffer(t->cl, (size_t)t->max_batch * m->desc.classes * sizeof(float), NULL, &st);
    t->act[0] = t->x;
    return st ? st : clfit_trainer_need_grads(t);
}

/* The forward pass of rows [start, start+B) gathered into x, and the loss (with dlogits
 * over denom when want_grad). */
static clfit_status forward(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int want_grad,
                            int denom)
{
    clfit_cl *cl = t->cl;
    clfit_status st = gather_batch_cl(cl, t->x, t->y, dd->x, dd->labels, dd->order, start, B, dd->D);
    if (!st && t->ty) st = gather_targets_cl(cl, t->ty, dd->targets, dd->order, start, B, dd->T);
    for (int l = 0; l < t->nlayers && !st; l++) {
        clfit_act_io a = clfit_trainer_layer_act(t, l, want_grad);
        st = dense_forward_cl(cl, t->act[l + 1], t->act[l], t->params, &t->layer[l], B,
                              l < t->nlayers - 1 ? &a : NULL);
    }
    if (st) return st;
    int L = t->nlayers;
    return loss_cl(cl, clfit_loss_code(&t->desc), want_grad ? t->dact[L] : NULL, t->loss_acc, t->correct_acc,
                   t->act[L], t->y, t->ty, B, t->layer[L - 1].out, denom);
}

/* The gradient of rows [start, start+B) into t->grads, dlogits over denom (B, or the
 * global batch of which these rows are a slice). */
static clfit_status clblast_grad(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom)
{
    clfit_status st = forward(t, dd, start, B, 1, denom);
    for (int l = t->nlayers - 1; l >= 0 && !st; l--) {
        const clfit_layer *ly = &t->layer[l];
        st = dense_backward_cl(t->cl, l > 0 ? t->dact[l] : NULL, t->grads, t->dact[l + 1], t->act[l], t->params, ly,
                               B);
        if (!st && l > 0) { /* back through layer l-1's dropout and activation */
            clfit_act_io a = clfit_trainer_layer_act(t, l - 1, 1);
            st = act_backward_cl(t->cl, t->dact[l], t->dact[l], t->act[l], B * ly->in, &a);
        }
    }
    return st;
}

static clfit_status clblast_step(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    clfit_status st = clblast_grad(t, dd, start, B, B);
    return st ? st : clfit_trainer_apply_grads(t, B);
}

static clfit_status clblast_eval(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    return forward(t, dd, start, B, 0, B);
}

static cl_mem clblast_logits(const clfit_trainer *t)
{
    return t->act[t->nlayers];
}

const clfit_backend clfit_backend_clblast = {
    .name = "clblast",
    .refuses = clblast_refuses,
    .init = clblast_init,
    .step = clblast_step,
    .grad = clblast_grad,
    .eval = clblast_eval,
    .logits = clblast_logits,
};
