/* The OpenCL training step (see include/clfit/train.h). The twin of
 * clfit_ref_train_step in host/model.c: same layers, same order, same Adam. */
#include "clfit/train.h"

#include <stdlib.h>
#include <string.h>

#include "clfit/parts.h"
#include "clfit/ref.h"
#include "internal.h"

struct clfit_trainer {
    clfit_cl *cl;
    clfit_gemm gemm;
    clfit_model_desc desc;
    int nlayers;
    clfit_layer layer[CLFIT_MAX_LAYERS];
    size_t nparams;
    clfit_adam_cfg adam;
    clfit_optim opt;
    int fused_opt;                         /* clfit_optim_fused: own applies Adam in its kernels */
    uint64_t dropout_seed;
    float lr;                              /* the next step's learning rate (clfit_trainer_set_lr) */
    long step;
    int max_batch;
    /* all owned: */
    cl_mem params, grads, m, v;            /* grads: the CLBlast backend's only */
    cl_mem wt;                             /* own: the last layer's weights transposed (C,H) */
    cl_mem loss_row, right_row;            /* own, slice: each row's loss and correctness (max_batch) */
    cl_mem rows, part, dl;                 /* slice: see clfit_slice_io */
    cl_mem wr, clip_part;                  /* optim_cl's weight ranges (L2) and partial sums (clipping) */
    int nwr;
    int groups;                            /* slice: G, the work-groups of its launch */
    /* slice: the step whose forward pass has run and whose end (loss, and with grad its
     * update) the next launch does; pend_x and pend_labels are retained */
    int pend_B, pend_grad, cur;
    cl_mem pend_x, pend_labels;
    cl_mem x, y;                           /* the gathered batch: (B,input) float, (B) uchar */
    cl_mem act[CLFIT_MAX_LAYERS + 1];      /* act[l+1]: layer l's output (B,out); act[0] = x */
    cl_mem dact[CLFIT_MAX_LAYERS + 1];     /* gradients of act[l], l >= 1 */
    cl_mem pre[CLFIT_MAX_LAYERS + 1];      /* pre[l+1]: hidden layer l's activation input, where its
                                              derivative needs it (clfit_acts[].needs_input) */
    cl_mem loss_acc, correct_acc;          /* 2 floats (sum, compensation), 1 int */
};

clfit_status clfit_device_data_upload(clfit_cl *cl, const clfit_dataset *d,
                                      clfit_device_data *out)
{
    clfit_status st = CLFIT_OK;
    memset(out, 0, sizeof *out);
    out->n = d->count;
    out->D = d->rows * d->cols;
    int *order = malloc((size_t)d->count * sizeof *order);
    if (!order) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < d->count; i++) order[i] = i;
    size_t pixels = (size_t)out->n * out->D;
    cl_mem bytes = clfit_cl_buffer(cl, pixels, d->images, &st);
    if (!st) out->x = clfit_cl_buffer(cl, pixels * sizeof(float), NULL, &st);
    if (!st) st = scale_images_cl(cl, out->x, bytes, pixels);
    if (!st) st = clfit_cl_finish(cl); /* before the bytes are released */
    if (bytes) clReleaseMemObject(bytes);
    if (!st) out->labels = clfit_cl_buffer(cl, (size_t)out->n, d->labels, &st);
    if (!st) out->order = clfit_cl_buffer(cl, (size_t)out->n * sizeof(int), order, &st);
    free(order);
    if (st) clfit_device_data_free(out);
    return st;
}

clfit_status clfit_device_data_view(clfit_cl *cl, const clfit_device_data *src, int first,
                                    int n, clfit_device_data *out)
{
    clfit_status st = CLFIT_OK;
    memset(out, 0, sizeof *out);
    if (first < 0 || n < 1)
        return clfit_fail(CLFIT_ERR_ARG, "view of %d examples from %d", n, first);
    int *order = malloc((size_t)n * sizeof *order);
    if (!order) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) order[i] = first + i;
    out->order = clfit_cl_buffer(cl, (size_t)n * sizeof(int), order, &st);
    free(order);
    if (st) return st;
    clRetainMemObject(src->x);
    clRetainMemObject(src->labels);
    out->x = src->x;
    out->labels = src->labels;
    out->n = n;
    out->D = src->D;
    return CLFIT_OK;
}

clfit_status clfit_device_data_set_order(clfit_cl *cl, clfit_device_data *dd, const int *order)
{
    CL_CHECK(clEnqueueWriteBuffer, cl->queue, dd->order, CL_TRUE, 0,
             (size_t)dd->n * sizeof(int), order, 0, NULL, NULL);
    return CLFIT_OK;
}

void clfit_device_data_free(clfit_device_data *dd)
{
    if (dd->order) clReleaseMemObject(dd->order);
    if (dd->labels) clReleaseMemObject(dd->labels);
    if (dd->x) clReleaseMemObject(dd->x);
    memset(dd, 0, sizeof *dd);
}

clfit_trainer *clfit_trainer_new(clfit_cl *cl, const clfit_model *m, int max_batch,
                                 clfit_gemm gemm, clfit_status *st)
{
    clfit_status s = CLFIT_OK;
    clfit_trainer *t = calloc(1, sizeof *t);
    if (!t) { s = clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); goto fail; }
    if (max_batch < 1) { s = clfit_fail(CLFIT_ERR_ARG, "batch size %d < 1", max_batch); goto fail; }
    if (gemm == CLFIT_GEMM_OWN && m->nlayers < 2) {
        s = clfit_fail(CLFIT_ERR_ARG, "the own GEMM backend needs a hidden layer; use --gemm clblast");
        goto fail;
    }
    if (gemm == CLFIT_GEMM_SLICE && m->nlayers != 2) {
        s = clfit_fail(CLFIT_ERR_ARG, "the slice backend needs exactly one hidden layer; use --gemm own");
        goto fail;
    }
    if (gemm == CLFIT_GEMM_SLICE && !clfit_model_desc_plain(&m->desc)) {
        s = clfit_fail(CLFIT_ERR_ARG, "the slice backend runs ReLU, no dropout and cross-entropy only; "
                                      "use --backend own or clblast");
        goto fail;
    }
    t->cl = cl;
    t->gemm = gemm;
    t->desc = m->desc;
    t->nlayers = m->nlayers;
    memcpy(t->layer, m->layer, sizeof t->layer);
    t->nparams = m->nparams;
    t->adam = m->adam;
    t->opt = m->opt;
    t->fused_opt = clfit_optim_fused(&m->opt);
    t->dropout_seed = m->dropout_seed;
    t->lr = m->adam.lr;
    t->step = m->step;
    t->max_batch = max_batch;
    size_t pbytes = m->nparams * sizeof(float);
    t->params = clfit_cl_buffer(cl, pbytes, m->params, &s);
    if (!s) t->m = clfit_cl_buffer(cl, pbytes, m->m, &s);
    if (!s) t->v = clfit_cl_buffer(cl, pbytes, m->v, &s);
    if (!s && (gemm == CLFIT_GEMM_CLBLAST || (gemm == CLFIT_GEMM_OWN && !t->fused_opt))) {
        t->grads = clfit_cl_buffer(cl, pbytes, NULL, &s);
        if (!s) s = clfit_cl_zero(cl, t->grads, 0, pbytes); /* the padding is never written */
    }
    if (!s && m->opt.l2 > 0.0f) { /* the weights' ranges, for L2 */
        cl_int wr[2 * CLFIT_MAX_LAYERS];
        for (int l = 0; l < m->nlayers; l++) {
            wr[2 * l] = (cl_int)m->layer[l].w_off;
            wr[2 * l + 1] = (cl_int)(m->layer[l].w_off + (size_t)m->layer[l].in * m->layer[l].out);
        }
        t->nwr = m->nlayers;
        t->wr = clfit_cl_buffer(cl, sizeof(cl_int) * 2 * m->nlayers, wr, &s);
    }
    if (!s && m->opt.clipnorm > 0.0f) t->clip_part = clfit_cl_buffer(cl, 65 * sizeof(float), NULL, &s);
    if (!s && gemm == CLFIT_GEMM_OWN) {
        /* wt = W^T of the last layer, which the step then keeps up to date */
        const clfit_layer *last = &m->layer[m->nlayers - 1];
        float *wt = malloc((size_t)last->in * last->out * sizeof *wt);
        if (!wt) s = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
        for (int j = 0; j < last->in && !s; j++)
            for (int c = 0; c < last->out; c++)
                wt[(size_t)c * last->in + j] = m->params[last->w_off + (size_t)j * last->out + c];
        if (!s) t->wt = clfit_cl_buffer(cl, (size_t)last->in * last->out * sizeof *wt, wt, &s);
        free(wt);
    }
    if (!s && (gemm == CLFIT_GEMM_OWN || gemm == CLFIT_GEMM_SLICE)) {
        t->loss_row = clfit_cl_buffer(cl, (size_t)max_batch * sizeof(float), NULL, &s);
        if (!s) t->right_row = clfit_cl_buffer(cl, (size_t)max_batch * sizeof(cl_int), NULL, &s);
    }
    if (!s && gemm == CLFIT_GEMM_SLICE) {
        t->groups = slice_groups(cl, m->layer[0].out);
        size_t logits = (size_t)t->groups * max_batch * m->layer[1].out * sizeof(float);
        t->rows = clfit_cl_buffer(cl, 2 * (size_t)max_batch * sizeof(cl_int), NULL, &s);
        if (!s) t->part = clfit_cl_buffer(cl, 2 * logits, NULL, &s);
        if (!s) t->dl = clfit_cl_buffer(cl, logits, NULL, &s);
    }
    if (!s) t->x = clfit_cl_buffer(cl, (size_t)max_batch * m->desc.input * sizeof(float), NULL, &s);
    if (!s) t->y = clfit_cl_buffer(cl, (size_t)max_batch, NULL, &s);
    for (int l = 0; l < m->nlayers && !s; l++) {
        size_t bytes = (size_t)max_batch * m->layer[l].out * sizeof(float);
        t->act[l + 1] = clfit_cl_buffer(cl, bytes, NULL, &s);
        if (!s) t->dact[l + 1] = clfit_cl_buffer(cl, bytes, NULL, &s);
        if (!s && l < m->nlayers - 1 && clfit_acts[m->desc.act[l]].needs_input)
            t->pre[l + 1] = clfit_cl_buffer(cl, bytes, NULL, &s);
    }
    if (!s) t->loss_acc = clfit_cl_buffer(cl, 2 * sizeof(float), NULL, &s);
    if (!s) t->correct_acc = clfit_cl_buffer(cl, sizeof(cl_int), NULL, &s);
    if (!s) s = clfit_trainer_reset_stats(t);
    if (s) goto fail;
    t->act[0] = t->x;
    if (st) *st = CLFIT_OK;
    return t;
fail:
    clfit_trainer_free(t);
    if (st) *st = s;
    return NULL;
}

void clfit_trainer_free(clfit_trainer *t)
{
    if (!t) return;
    if (t->cl) clFinish(t->cl->queue);
    cl_mem all[] = {t->pend_labels, t->pend_x, t->correct_acc, t->loss_acc, t->y, t->x, t->dl, t->part,
                    t->rows, t->right_row, t->loss_row, t->wt, t->grads, t->v, t->m, t->params, t->wr, t->clip_part};
    for (int l = CLFIT_MAX_LAYERS; l >= 1; l--) {
        if (t->pre[l]) clReleaseMemObject(t->pre[l]);
        if (t->dact[l]) clReleaseMemObject(t->dact[l]);
        if (t->act[l]) clReleaseMemObject(t->act[l]);
    }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]) clReleaseMemObject(all[i]);
    free(t);
}

static clfit_status check_batch(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    if (B < 1 || B > t->max_batch || start < 0 || start + B > dd->n)
        return clfit_fail(CLFIT_ERR_ARG, "batch [%d, %d) is outside the data (%d) or larger than %d",
                          start, start + B, dd->n, t->max_batch);
    if (dd->D != t->desc.input)
        return clfit_fail(CLFIT_ERR_ARG, "data has %d inputs per example, the model %d", dd->D,
                          t->desc.input);
    return CLFIT_OK;
}

/* Hidden layer l's activation and dropout as the kernels take them: in training (want_grad)
 * with the dropout of the step being taken (t->step + 1), in evaluation none. */
static clfit_act_io layer_act(const clfit_trainer *t, int l, int want_grad)
{
    return clfit_act_train(t->desc.act[l], t->pre[l + 1], want_grad ? t->desc.dropout[l] : 0.0f, t->dropout_seed, l,
                           t->step + 1);
}

/* The CLBlast backend's forward pass and loss (with dlogits / denom when want_grad). */
static clfit_status forward(clfit_trainer *t, const clfit_device_data *dd, int start, int B,
                            int want_grad, int denom)
{
    clfit_status st = check_batch(t, dd, start, B);
    if (st) return st;
    clfit_cl *cl = t->cl;
    st = gather_batch_cl(cl, t->x, t->y, dd->x, dd->labels, dd->order, start, B, dd->D);
    for (int l = 0; l < t->nlayers && !st; l++) {
        clfit_act_io a = layer_act(t, l, want_grad);
        st = dense_forward_cl(cl, t->act[l + 1], t->act[l], t->params, &t->layer[l], B,
                              l < t->nlayers - 1 ? &a : NULL);
    }
    if (st) return st;
    int L = t->nlayers;
    return loss_cl(cl, t->desc.loss, want_grad ? t->dact[L] : NULL, t->loss_acc, t->correct_acc,
                   t->act[L], t->y, B, t->layer[L - 1].out, denom);
}

/* The own backend's forward pass: the hidden layers (layer 0 reads the batch's rows from
 * the dataset through the order), the last of them with the last layer, its loss per row,
 * and with want_grad dlogits and dh (fused_forward_head). */
static clfit_status own_forward(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B, int want_grad, int denom)
{
    clfit_cl *cl = t->cl;
    int L = t->nlayers;
    clfit_status st = CLFIT_OK;
    for (int l = 0; l < L - 2 && !st; l++) {
        clfit_act_io a = layer_act(t, l, want_grad);
        st = fused_forward_cl(cl, t->act[l + 1], l ? t->act[l] : dd->x, l ? NULL : dd->order, l ? 0 : start,
                              t->params, &t->layer[l], B, &a);
    }
    if (st) return st;
    int l = L - 2; /* the last hidden layer */
    clfit_act_io a = layer_act(t, l, want_grad);
    clfit_head_io io = {.layer = &t->layer[L - 1], .wt = t->wt, .logits = t->act[L],
                        .dlogits = want_grad ? t->dact[L] : NULL, .dh = t->dact[L - 1],
                        .loss_row = t->loss_row, .right_row = t->right_row, .labels = dd->labels,
                        .order = dd->order, .start = start, .denom = denom, .loss = t->desc.loss, .act = &a};
    return fused_forward_head_cl(cl, t->act[L - 1], l ? t->act[l] : dd->x, l ? NULL : dd->order, l ? 0 : start,
                                 t->params, &t->layer[l], B, &io);
}

/* The own backend's step: own_forward; the hidden layers' input gradients (deep models),
 * before any weight changes; then each hidden layer's weight gradient with Adam, the
 * launch for layer 0 also updating the last layer and adding up the batch's loss. With
 * gout, the gradients (dlogits over denom) go there instead, and no Adam. */
static clfit_status own_grads(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom,
                              cl_mem gout, float alpha, float keep)
{
    int L = t->nlayers;
    clfit_status st = own_forward(t, dd, start, B, 1, denom);
    for (int l = L - 2; l >= 1 && !st; l--) {
        clfit_act_io a = layer_act(t, l - 1, 1); /* of the layer whose output act[l] is */
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
                                 &t->layer[l], B, alpha, keep, &t->adam, NULL);
    clfit_head_update head = {.layer = &t->layer[L - 1], .wt = t->wt, .h = t->act[L - 1],
                              .dlogits = t->dact[L], .loss_row = t->loss_row, .right_row = t->right_row,
                              .loss_acc = t->loss_acc, .correct_acc = t->correct_acc};
    if (!st)
        st = fused_grad_adamw_cl(t->cl, t->params, t->m, t->v, gout, dd->x, dd->order, start, t->dact[1], &t->layer[0],
                                 B, alpha, keep, &t->adam, &head);
    return st;
}

/* The optimizer's step from the gradient in t->grads (every optimizer, L2, clipping; plain
 * Adam through adam_cl, as the clblast backend always ran it), counted as step t->step + 1,
 * over a batch of B; own's wt is then rebuilt from the new W1. */
static clfit_status apply_grads(clfit_trainer *t, int B)
{
    t->step++;
    clfit_status st;
    if (t->fused_opt && t->opt.kind == CLFIT_OPT_ADAM) {
        float alpha = adam_alpha(t->lr, t->adam.beta1, t->adam.beta2, t->step);
        st = adam_cl(t->cl, t->params, t->m, t->v, t->grads, t->nparams, alpha, &t->adam);
    } else {
        st = optim_cl(t->cl, t->params, t->m, t->v, t->grads, t->nparams, &t->adam, &t->opt, t->lr, t->step, B,
                      t->wr, t->nwr, t->clip_part);
    }
    if (st || t->gemm != CLFIT_GEMM_OWN) return st;
    return head_transpose_cl(t->cl, t->wt, t->params, &t->layer[t->nlayers - 1]);
}

static clfit_status own_step(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    clfit_status st = check_batch(t, dd, start, B);
    if (st) return st;
    if (!t->fused_opt) { /* the gradient to memory, then the optimizer's kernel */
        st = own_grads(t, dd, start, B, B, t->grads, 0.0f, 1.0f);
        return st ? st : apply_grads(t, B);
    }
    float alpha = adam_alpha(t->lr, t->adam.beta1, t->adam.beta2, t->step + 1);
    float keep = t->opt.kind == CLFIT_OPT_ADAMW ? 1.0f - t->lr * t->opt.weight_decay : 1.0f;
    st = own_grads(t, dd, start, B, B, NULL, alpha, keep);
    if (!st) t->step++;
    return st;
}

/* The slice backend's launch: ends the pending step (if any) and runs the forward pass of
 * rows [start, start+B) of x's dataset (if B > 0), which becomes the pending step. */
static clfit_status slice_launch(clfit_trainer *t, cl_mem x, cl_mem labels, cl_mem order, int start, int B,
                                 int want_grad)
{
    float alpha = 0.0f;
    if (t->pend_B && t->pend_grad) {
        t->step++;
        alpha = adam_alpha(t->lr, t->adam.beta1, t->adam.beta2, t->step);
    }
    clfit_slice_io io = {.l0 = &t->layer[0], .l1 = &t->layer[1], .params = t->params, .m = t->m, .v = t->v,
                         .x = x, .labels = labels, .rows = t->rows, .h = t->act[1], .dh = t->dact[1],
                         .part = t->part, .dl = t->dl, .loss_row = t->loss_row, .right_row = t->right_row,
                         .loss_acc = t->loss_acc, .correct_acc = t->correct_acc, .maxB = t->max_batch};
    clfit_status st = slice_step_cl(t->cl, &io, order, start, B, t->cur, t->pend_B, t->pend_grad, alpha, &t->adam);
    if (st) return st;
    if (t->pend_B) {
        clReleaseMemObject(t->pend_x);
        clReleaseMemObject(t->pend_labels);
        t->pend_x = t->pend_labels = NULL;
        t->pend_B = 0;
    }
    if (B > 0) {
        clRetainMemObject(x);
        clRetainMemObject(labels);
        t->pend_x = x;
        t->pend_labels = labels;
        t->pend_B = B;
        t->pend_grad = want_grad;
        t->cur ^= 1;
    }
    return CLFIT_OK;
}

/* Ends the slice backend's pending step, so that the stats, logits and weights are whole. */
static clfit_status slice_flush(clfit_trainer *t)
{
    if (t->gemm != CLFIT_GEMM_SLICE || !t->pend_B) return CLFIT_OK;
    return slice_launch(t, t->pend_x, t->pend_labels, NULL, 0, 0, 0);
}

/* The slice backend's step or evaluation batch: one launch, which also ends the step
 * before when it read the same data in the same mode. */
static clfit_status slice_batch(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int want_grad)
{
    clfit_status st = check_batch(t, dd, start, B);
    if (!st && t->groups != slice_groups(t->cl, t->layer[0].out))
        st = clfit_fail(CLFIT_ERR_ARG, "the program's HS changed after the trainer was made");
    if (!st && t->pend_B && (t->pend_x != dd->x || t->pend_labels != dd->labels || t->pend_grad != want_grad))
        st = slice_flush(t);
    return st ? st : slice_launch(t, dd->x, dd->labels, dd->order, start, B, want_grad);
}

static clfit_status clblast_grads(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom);

clfit_status clfit_trainer_step(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B)
{
    if (t->gemm == CLFIT_GEMM_OWN) return own_step(t, dd, start, B);
    if (t->gemm == CLFIT_GEMM_SLICE) {
        if (!t->fused_opt || t->opt.kind != CLFIT_OPT_ADAM)
            return clfit_fail(CLFIT_ERR_ARG, "the slice backend applies plain Adam only (no weight decay, L2 or "
                                             "clipping); use --backend own or clblast");
        return slice_batch(t, dd, start, B, 1);
    }
    clfit_status st = clblast_grads(t, dd, start, B, B);
    return st ? st : apply_grads(t, B);
}

void clfit_trainer_set_lr(clfit_trainer *t, float lr)
{
    t->lr = lr;
}

long clfit_trainer_step_count(const clfit_trainer *t)
{
    return t->step;
}

clfit_status clfit_trainer_grad(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom)
{
    if (t->gemm == CLFIT_GEMM_SLICE)
        return clfit_fail(CLFIT_ERR_ARG, "the gradient without its update: the clblast and own backends' alone");
    if (!t->grads) { /* own with fused Adam: the gradient buffer, on first use */
        clfit_status st = CLFIT_OK;
        t->grads = clfit_cl_buffer(t->cl, t->nparams * sizeof(float), NULL, &st);
        if (!st) st = clfit_cl_zero(t->cl, t->grads, 0, t->nparams * sizeof(float)); /* padding: never written */
        if (st) return st;
    }
    if (B == 0) return clfit_cl_zero(t->cl, t->grads, 0, t->nparams * sizeof(float));
    if (t->gemm == CLFIT_GEMM_OWN) {
        clfit_status st = check_batch(t, dd, start, B);
        return st ? st : own_grads(t, dd, start, B, denom, t->grads, 0.0f, 1.0f);
    }
    return clblast_grads(t, dd, start, B, denom);
}

clfit_status clfit_trainer_read_grads(clfit_trainer *t, float *grads)
{
    return clfit_cl_read(t->cl, t->grads, 0, t->nparams * sizeof(float), grads);
}

clfit_status clfit_trainer_apply(clfit_trainer *t, const float *grads, int B)
{
    if (t->gemm == CLFIT_GEMM_SLICE || !t->grads)
        return clfit_fail(CLFIT_ERR_ARG, "the gradient without its update: after clfit_trainer_grad, clblast and own alone");
    clfit_status st = clfit_cl_write(t->cl, t->grads, 0, t->nparams * sizeof(float), grads);
    return st ? st : apply_grads(t, B);
}

/* The CLBlast backend's gradient of rows [start, start+B) into t->grads, dlogits over
 * denom (B, or the global batch of which these rows are a slice). */
static clfit_status clblast_grads(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int denom)
{
    clfit_status st = forward(t, dd, start, B, 1, denom);
    for (int l = t->nlayers - 1; l >= 0 && !st; l--) {
        const clfit_layer *ly = &t->layer[l];
        st = dense_backward_cl(t->cl, l > 0 ? t->dact[l] : NULL, t->grads, t->dact[l + 1],
                               t->act[l], t->params, ly, B);
        if (!st && l > 0) { /* back through layer l-1's dropout and activation */
            clfit_act_io a = layer_act(t, l - 1, 1);
            st = act_backward_cl(t->cl, t->dact[l], t->dact[l], t->act[l], B * ly->in, &a);
        }
    }
    return st;
}

clfit_status clfit_trainer_eval(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B)
{
    if (t->gemm == CLFIT_GEMM_SLICE) return slice_batch(t, dd, start, B, 0);
    if (t->gemm == CLFIT_GEMM_OWN) {
        clfit_status st = check_batch(t, dd, start, B);
        if (!st) st = own_forward(t, dd, start, B, 0, B);
        return st ? st : fused_head_stats_cl(t->cl, t->loss_row, t->right_row, B, t->loss_acc, t->correct_acc);
    }
    return forward(t, dd, start, B, 0, B);
}

clfit_status clfit_trainer_reset_stats(clfit_trainer *t)
{
    clfit_status st = slice_flush(t);
    if (!st) st = clfit_cl_zero(t->cl, t->loss_acc, 0, 2 * sizeof(float));
    return st ? st : clfit_cl_zero(t->cl, t->correct_acc, 0, sizeof(cl_int));
}

clfit_status clfit_trainer_read_stats(clfit_trainer *t, double *loss_sum, long *correct)
{
    float acc[2];
    cl_int c;
    clfit_status st = slice_flush(t);
    if (!st) st = clfit_cl_read(t->cl, t->loss_acc, 0, sizeof acc, acc);
    if (!st) st = clfit_cl_read(t->cl, t->correct_acc, 0, sizeof c, &c);
    if (st) return st;
    *loss_sum = (double)acc[0] - (double)acc[1];
    *correct = c;
    return CLFIT_OK;
}

clfit_status clfit_trainer_read_logits(clfit_trainer *t, float *logits, int B)
{
    int L = t->nlayers;
    clfit_status st = slice_flush(t);
    if (st) return st;
    /* the slice backend leaves the logits in group 0's rows of dl */
    return clfit_cl_read(t->cl, t->gemm == CLFIT_GEMM_SLICE ? t->dl : t->act[L], 0,
                         (size_t)B * t->layer[L - 1].out * sizeof(float), logits);
}

clfit_status clfit_trainer_download(clfit_trainer *t, clfit_model *m)
{
    if (m->nparams != t->nparams)
        return clfit_fail(CLFIT_ERR_ARG, "model has %zu parameters, trainer %zu", m->nparams,
                          t->nparams);
    size_t bytes = t->nparams * sizeof(float);
    clfit_status st = slice_flush(t);
    if (!st) st = clfit_cl_read(t->cl, t->params, 0, bytes, m->params);
    if (!st) st = clfit_cl_read(t->cl, t->m, 0, bytes, m->m);
    if (!st) st = clfit_cl_read(t->cl, t->v, 0, bytes, m->v);
    if (!st) m->step = t->step;
    return st;
}
