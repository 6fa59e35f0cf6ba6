/* The OpenCL trainer (see include/clfit/train.h): the device data, and what every backend
 * shares: the parameters and optimizer state on the device, the activations, the
 * statistics, the optimizer's step from a gradient in memory. Each step is the backend's
 * (host/backend.h, one file per backend); they are the twins of clfit_ref_train_step in
 * host/model.c: same layers, same order, same optimizer. */
#include "clfit/train.h"

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "clfit/parts.h"
#include "clfit/ref.h"
#include "internal.h"

static const clfit_backend *const backends[CLFIT_GEMM_COUNT] = {
    [CLFIT_GEMM_CLBLAST] = &clfit_backend_clblast,
    [CLFIT_GEMM_OWN] = &clfit_backend_own,
    [CLFIT_GEMM_SLICE] = &clfit_backend_slice,
};

const char *clfit_backend_refuses(int g, const clfit_model_desc *d, const clfit_optim *o, int ranks)
{
    if (g < 0 || g >= CLFIT_GEMM_COUNT) return "no such backend";
    return backends[g]->refuses(d, o, ranks);
}

int clfit_backend_choose(int g, const clfit_model_desc *d, const clfit_optim *o, int ranks, const char **why)
{
    const char *no = clfit_backend_refuses(g, d, o, ranks);
    if (why) *why = no;
    if (!no) return g;
    return clfit_backend_refuses(CLFIT_GEMM_OWN, d, o, ranks) ? CLFIT_GEMM_CLBLAST : CLFIT_GEMM_OWN;
}

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
    if (d->features) { /* a table's floats, as they are */
        out->x = clfit_cl_buffer(cl, pixels * sizeof(float), d->features, &st);
    } else { /* image bytes, scaled to [0, 1] on the device */
        cl_mem bytes = clfit_cl_buffer(cl, pixels, d->images, &st);
        if (!st) out->x = clfit_cl_buffer(cl, pixels * sizeof(float), NULL, &st);
        if (!st) st = scale_images_cl(cl, out->x, bytes, pixels);
        if (!st) st = clfit_cl_finish(cl); /* before the bytes are released */
        if (bytes) clReleaseMemObject(bytes);
    }
    if (!st) out->labels = clfit_cl_buffer(cl, (size_t)out->n, d->labels, &st);
    if (!st && d->targets) {
        out->T = d->ntargets;
        out->targets = clfit_cl_buffer(cl, (size_t)out->n * out->T * sizeof(float), d->targets, &st);
    }
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
    if (src->targets) clRetainMemObject(src->targets);
    out->x = src->x;
    out->labels = src->labels;
    out->targets = src->targets;
    out->T = src->T;
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
    if (dd->targets) clReleaseMemObject(dd->targets);
    if (dd->x) clReleaseMemObject(dd->x);
    memset(dd, 0, sizeof *dd);
}

clfit_trainer *clfit_trainer_new(clfit_cl *cl, const clfit_model *m, int max_batch,
                                 clfit_gemm gemm, clfit_status *st)
{
    clfit_status s = CLFIT_OK;
    clfit_trainer *t = calloc(1, sizeof *t);
    const char *no;
    if (!t) { s = clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); goto fail; }
    if (max_batch < 1) { s = clfit_fail(CLFIT_ERR_ARG, "batch size %d < 1", max_batch); goto fail; }
    if ((no = clfit_backend_refuses(gemm, &m->desc, NULL, 1))) {
        s = clfit_fail(CLFIT_ERR_ARG, "%s; use --backend clblast%s", no, m->nlayers > 1 ? " or own" : "");
        goto fail;
    }
    if (!clfit_family_runs(cl->family, &m->desc)) {
        s = clfit_fail(CLFIT_ERR_ARG, "the program was compiled for another model family (activation, dropout, "
                                      "loss) than this model's: clfit_cl_set_family");
        goto fail;
    }
    t->cl = cl;
    t->be = backends[gemm];
    t->cannot_train = t->be->refuses(&m->desc, &m->opt, 1);
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
    for (int l = 0; l < m->nlayers && !s; l++) {
        size_t bytes = (size_t)max_batch * m->layer[l].out * sizeof(float);
        t->act[l + 1] = clfit_cl_buffer(cl, bytes, NULL, &s);
        if (!s) t->dact[l + 1] = clfit_cl_buffer(cl, bytes, NULL, &s);
        if (!s && l < m->nlayers - 1 && clfit_acts[m->desc.act[l]].needs_input)
            t->pre[l + 1] = clfit_cl_buffer(cl, bytes, NULL, &s);
    }
    if (!s) t->loss_acc = clfit_cl_buffer(cl, 4 * sizeof(float), NULL, &s);
    if (!s) t->correct_acc = clfit_cl_buffer(cl, sizeof(cl_int), NULL, &s);
    if (!s) s = t->be->init(t, m);
    if (!s) s = clfit_trainer_reset_stats(t);
    if (s) goto fail;
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
    cl_mem all[] = {t->ty, t->pend_labels, t->pend_x, t->correct_acc, t->loss_acc, t->y, t->x, t->dl, t->part,
                    t->rows, t->right_row, t->loss_row, t->wt, t->grads, t->v, t->m, t->params, t->wr, t->clip_part,
                    t->step_par[0], t->step_par[1], t->ctr[0], t->ctr[1], t->flag};
    for (int i = 0; i < 2; i++)
        if (t->step_ev[i]) clReleaseEvent(t->step_ev[i]);
    free(t->step_host);
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
    if (t->desc.regression && (!dd->targets || dd->T != t->desc.classes))
        return clfit_fail(CLFIT_ERR_ARG, "the regression model estimates %d values per example, the data has %d",
                          t->desc.classes, dd->targets ? dd->T : 0);
    return CLFIT_OK;
}

clfit_act_io clfit_trainer_layer_act(const clfit_trainer *t, int l, int want_grad)
{
    clfit_act_io a = clfit_act_train(t->desc.act[l], t->pre[l + 1], want_grad ? t->desc.dropout[l] : 0.0f,
                                     t->dropout_seed, l, t->step + 1);
    a.e0 = (cl_uint)t->row0 * (cl_uint)t->layer[l].out;
    return a;
}

clfit_status clfit_trainer_need_grads(clfit_trainer *t)
{
    if (t->grads) return CLFIT_OK;
    clfit_status st = CLFIT_OK;
    t->grads = clfit_cl_buffer(t->cl, t->nparams * sizeof(float), NULL, &st);
    return st ? st : clfit_cl_zero(t->cl, t->grads, 0, t->nparams * sizeof(float));
}

/* plain Adam through adam_cl, as the clblast backend always ran it; the rest through optim_cl */
clfit_status clfit_trainer_apply_grads(clfit_trainer *t, int B)
{
    t->step++;
    clfit_status st;
    if (clfit_optim_plain_adam(&t->opt)) {
        float alpha = adam_alpha(t->lr, t->adam.beta1, t->adam.beta2, t->step);
        st = adam_cl(t->cl, t->params, t->m, t->v, t->grads, t->nparams, alpha, &t->adam);
    } else {
        st = optim_cl(t->cl, t->params, t->m, t->v, t->grads, t->nparams, &t->adam, &t->opt, t->lr, t->step, B,
                      t->wr, t->nwr, t->clip_part);
    }
    return st || !t->be->applied ? st : t->be->applied(t);
}

static clfit_status flush(clfit_trainer *t)
{
    return t->be->flush ? t->be->flush(t) : CLFIT_OK;
}

clfit_status clfit_trainer_step(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B)
{
    if (t->cannot_train) return clfit_fail(CLFIT_ERR_ARG, "%s; use --backend own or clblast", t->cannot_train);
    clfit_status st = check_batch(t, dd, start, B);
    return st ? st : t->be->step(t, dd, start, B);
}

clfit_status clfit_trainer_steps(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int n,
                                 const float *lr)
{
    if (t->cannot_train) return clfit_fail(CLFIT_ERR_ARG, "%s; use --backend own or clblast", t->cannot_train);
    if (n < 0 || (n > 0 && (long)start + (long)n * B > dd->n))
        return clfit_fail(CLFIT_ERR_ARG, "%d steps of %d rows from %d are outside the data (%d)", n, B, start, dd->n);
    clfit_status st = n ? check_batch(t, dd, start, B) : CLFIT_OK; /* the others differ in start alone */
    if (st || n == 0) return st;
    return t->be->steps ? t->be->steps(t, dd, start, B, n, lr) : clfit_trainer_steps_each(t, dd, start, B, n, lr);
}

clfit_status clfit_trainer_steps_each(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int n,
                                      const float *lr)
{
    clfit_status st = CLFIT_OK;
    float keep_lr = t->lr;
    for (int s = 0; s < n && !st; s++) {
        if (lr) t->lr = lr[s];
        st = t->be->step(t, dd, start + s * B, B);
    }
    if (lr && st) t->lr = keep_lr;
    return st;
}

void clfit_trainer_set_lr(clfit_trainer *t, float lr)
{
    t->lr = lr;
}

long clfit_trainer_step_count(const clfit_trainer *t)
{
    return t->step;
}

clfit_status clfit_trainer_grad(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int row0,
                                int denom)
{
    if (!t->be->grad)
        return clfit_fail(CLFIT_ERR_ARG, "the %s backend cannot leave its gradient in memory; use --backend own or clblast",
                          t->be->name);
    clfit_status st = clfit_trainer_need_grads(t);
    if (st) return st;
    if (B == 0) return clfit_cl_zero(t->cl, t->grads, 0, t->nparams * sizeof(float));
    st = check_batch(t, dd, start, B);
    if (st) return st;
    if (row0 < 0 || row0 > denom - B)
        return clfit_fail(CLFIT_ERR_ARG, "rows [%d, %d) are not inside a batch of %d", row0, row0 + B, denom);
    t->row0 = row0;
    st = t->be->grad(t, dd, start, B, denom);
    t->row0 = 0;
    return st;
}

clfit_status clfit_trainer_read_grads(clfit_trainer *t, float *grads)
{
    if (!t->grads) return clfit_fail(CLFIT_ERR_ARG, "no gradient yet: clfit_trainer_grad first");
    return clfit_cl_read(t->cl, t->grads, 0, t->nparams * sizeof(float), grads);
}

clfit_status clfit_trainer_apply(clfit_trainer *t, const float *grads, int B)
{
    if (!t->be->grad || !t->grads)
        return clfit_fail(CLFIT_ERR_ARG, "the gradient without its update: after clfit_trainer_grad, clblast and own alone");
    clfit_status st = clfit_cl_write(t->cl, t->grads, 0, t->nparams * sizeof(float), grads);
    return st ? st : clfit_trainer_apply_grads(t, B);
}

clfit_status clfit_trainer_eval(clfit_trainer *t, const clfit_device_data *dd, int start,
                                int B)
{
    clfit_status st = check_batch(t, dd, start, B);
    return st ? st : t->be->eval(t, dd, start, B);
}

clfit_status clfit_trainer_reset_stats(clfit_trainer *t)
{
    clfit_status st = flush(t);
    if (!st) st = clfit_cl_zero(t->cl, t->loss_acc, 0, 4 * sizeof(float));
    return st ? st : clfit_cl_zero(t->cl, t->correct_acc, 0, sizeof(cl_int));
}

clfit_status clfit_trainer_read_stats(clfit_trainer *t, double *loss_sum, double *metric_sum)
{
    float acc[4];
    cl_int c;
    clfit_status st = flush(t);
    if (!st) st = clfit_cl_read(t->cl, t->loss_acc, 0, sizeof acc, acc);
    if (!st) st = clfit_cl_read(t->cl, t->correct_acc, 0, sizeof c, &c);
    if (st) return st;
    *loss_sum = (double)acc[0] - (double)acc[1];
    *metric_sum = t->desc.regression ? (double)acc[2] - (double)acc[3] : (double)c;
    return CLFIT_OK;
}

clfit_status clfit_trainer_read_logits(clfit_trainer *t, float *logits, int B)
{
    if (B < 0 || B > t->max_batch)
        return clfit_fail(CLFIT_ERR_ARG, "logits of %d rows from a trainer of batch %d", B, t->max_batch);
    clfit_status st = flush(t);
    if (st) return st;
    return clfit_cl_read(t->cl, t->be->logits(t), 0, (size_t)B * t->layer[t->nlayers - 1].out * sizeof(float),
                         logits);
}

clfit_status clfit_trainer_download(clfit_trainer *t, clfit_model *m)
{
    if (m->nparams != t->nparams)
        return clfit_fail(CLFIT_ERR_ARG, "model has %zu parameters, trainer %zu", m->nparams,
                          t->nparams);
    size_t bytes = t->nparams * sizeof(float);
    clfit_status st = flush(t);
    if (!st) st = clfit_cl_read(t->cl, t->params, 0, bytes, m->params);
    if (!st) st = clfit_cl_read(t->cl, t->m, 0, bytes, m->m);
    if (!st) st = clfit_cl_read(t->cl, t->v, 0, bytes, m->v);
    if (!st) m->step = t->step;
    return st;
}
