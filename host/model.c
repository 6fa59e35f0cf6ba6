/* Model layout, initialisation and the CPU reference training step
 * (see include/clfit/model.h). */
#include "clfit/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/ref.h"
#include "clfit/rng.h"

static size_t align_up(size_t n) { return (n + CLFIT_PARAM_ALIGN - 1) / CLFIT_PARAM_ALIGN * CLFIT_PARAM_ALIGN; }

clfit_status clfit_model_layout(const clfit_model_desc *d, clfit_layer *layer, int *nlayers,
                                size_t *nparams)
{
    if (d->nhidden < 0 || d->nhidden > CLFIT_MAX_LAYERS - 1)
        return clfit_fail(CLFIT_ERR_ARG, "%d hidden layers: at most %d are supported",
                          d->nhidden, CLFIT_MAX_LAYERS - 1);
    if (d->input < 1 || d->input > CLFIT_MAX_INPUT || d->classes < 2 || d->classes > CLFIT_MAX_CLASSES)
        return clfit_fail(CLFIT_ERR_ARG, "input width %d and class count %d: need 1..%d and 2..%d", d->input,
                          d->classes, CLFIT_MAX_INPUT, CLFIT_MAX_CLASSES);
    int n = d->nhidden + 1;
    size_t off = 0;
    for (int l = 0; l < n; l++) {
        int in = l == 0 ? d->input : d->hidden[l - 1];
        int out = l == n - 1 ? d->classes : d->hidden[l];
        if (l < n - 1 && (out < 1 || out > CLFIT_MAX_WIDTH))
            return clfit_fail(CLFIT_ERR_ARG, "hidden width %d is outside 1..%d", out, CLFIT_MAX_WIDTH);
        layer[l].in = in;
        layer[l].out = out;
        layer[l].w_off = off;
        off = align_up(off + (size_t)in * out);
        layer[l].b_off = off;
        off = align_up(off + (size_t)out);
    }
    if (off > CLFIT_MAX_PARAMS)
        return clfit_fail(CLFIT_ERR_ARG, "%zu parameters: at most %d are supported", off, CLFIT_MAX_PARAMS);
    *nlayers = n;
    *nparams = off;
    return CLFIT_OK;
}

double clfit_model_step_flops(const clfit_model_desc *d, int B, double *gemm_flops,
                              double *adam_flops)
{
    clfit_layer layer[CLFIT_MAX_LAYERS];
    int n;
    size_t np;
    if (clfit_model_layout(d, layer, &n, &np)) return 0;
    double gemm = 0, params = 0;
    for (int l = 0; l < n; l++) {
        double p = 2.0 * B * layer[l].in * layer[l].out;
        gemm += p * (l > 0 ? 3 : 2);
        params += (double)layer[l].in * layer[l].out + layer[l].out;
    }
    if (gemm_flops) *gemm_flops = gemm;
    if (adam_flops) *adam_flops = 12 * params;
    return gemm + 12 * params;
}

clfit_model *clfit_model_new(const clfit_model_desc *d, uint64_t seed, clfit_status *st)
{
    clfit_status s;
    clfit_model *m = calloc(1, sizeof *m);
    if (!m) { s = clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); goto fail; }
    m->desc = *d;
    m->adam = CLFIT_ADAM_KERAS;
    s = clfit_model_layout(d, m->layer, &m->nlayers, &m->nparams);
    if (s) goto fail;
    m->params = calloc(m->nparams, sizeof(float));
    m->m = calloc(m->nparams, sizeof(float));
    m->v = calloc(m->nparams, sizeof(float));
    if (!m->params || !m->m || !m->v) {
        s = clfit_fail(CLFIT_ERR_NOMEM, "out of memory for %zu parameters", m->nparams);
        goto fail;
    }
    clfit_rng rng;
    clfit_rng_seed(&rng, seed);
    for (int l = 0; l < m->nlayers; l++) {
        const clfit_layer *L = &m->layer[l];
        float limit = (float)sqrt(6.0 / (double)(L->in + L->out));
        for (size_t i = 0; i < (size_t)L->in * L->out; i++)
            m->params[L->w_off + i] = (2.0f * clfit_rng_uniform(&rng) - 1.0f) * limit;
        /* biases stay zero (calloc), as Keras' zeros initialiser */
    }
    if (st) *st = CLFIT_OK;
    return m;
fail:
    clfit_model_free(m);
    if (st) *st = s;
    return NULL;
}

void clfit_model_free(clfit_model *m)
{
    if (!m) return;
    free(m->params);
    free(m->m);
    free(m->v);
    free(m);
}

struct clfit_ref_work {
    int max_batch;
    float *act[CLFIT_MAX_LAYERS + 1];   /* act[l+1] is layer l's output (B, out) */
    float *dact[CLFIT_MAX_LAYERS + 1];  /* gradients of the same */
    float *grads;                       /* for clfit_ref_train_step */
};

clfit_ref_work *clfit_ref_work_new(const clfit_model *m, int max_batch, clfit_status *st)
{
    clfit_ref_work *w = calloc(1, sizeof *w);
    if (!w || max_batch < 1) goto fail;
    w->max_batch = max_batch;
    for (int l = 0; l < m->nlayers; l++) {
        w->act[l + 1] = malloc((size_t)max_batch * m->layer[l].out * sizeof(float));
        w->dact[l + 1] = malloc((size_t)max_batch * m->layer[l].out * sizeof(float));
        if (!w->act[l + 1] || !w->dact[l + 1]) goto fail;
    }
    w->dact[0] = NULL; /* the input's gradient is never needed */
    w->grads = malloc(m->nparams * sizeof(float));
    if (!w->grads) goto fail;
    if (st) *st = CLFIT_OK;
    return w;
fail:
    clfit_ref_work_free(w);
    if (st) *st = max_batch < 1 ? clfit_fail(CLFIT_ERR_ARG, "batch size %d < 1", max_batch)
                                : clfit_fail(CLFIT_ERR_NOMEM, "out of memory for work buffers");
    return NULL;
}

void clfit_ref_work_free(clfit_ref_work *w)
{
    if (!w) return;
    for (int l = 0; l <= CLFIT_MAX_LAYERS; l++) {
        free(w->act[l]);
        free(w->dact[l]);
    }
    free(w->grads);
    free(w);
}

clfit_status clfit_ref_forward_backward(const clfit_model *m, clfit_ref_work *w,
                                        const float *params, const float *x, const uint8_t *y,
                                        int B, float *grads, float *logits, float *loss_sum,
                                        int *correct)
{
    if (B < 1 || B > w->max_batch)
        return clfit_fail(CLFIT_ERR_ARG, "batch %d outside 1..%d", B, w->max_batch);
    int L = m->nlayers;
    const float *h = x;
    for (int l = 0; l < L; l++) {
        const clfit_layer *ly = &m->layer[l];
        dense_forward_ref(w->act[l + 1], h, params + ly->w_off, params + ly->b_off, B,
                          ly->in, ly->out);
        if (l < L - 1)
            relu_forward_ref(w->act[l + 1], w->act[l + 1], B * ly->out);
        h = w->act[l + 1];
    }
    int C = m->layer[L - 1].out;
    if (logits)
        memcpy(logits, w->act[L], (size_t)B * C * sizeof(float));
    softmax_xent_ref(grads ? w->dact[L] : NULL, loss_sum, correct, w->act[L], y, B, C);
    if (!grads)
        return CLFIT_OK;
    memset(grads, 0, m->nparams * sizeof(float));
    for (int l = L - 1; l >= 0; l--) {
        const clfit_layer *ly = &m->layer[l];
        const float *inp = l == 0 ? x : w->act[l];
        dense_backward_ref(l > 0 ? w->dact[l] : NULL, grads + ly->w_off, grads + ly->b_off,
                           w->dact[l + 1], inp, params + ly->w_off, B, ly->in, ly->out);
        if (l > 0)
            relu_backward_ref(w->dact[l], w->dact[l], w->act[l], B * ly->in);
    }
    return CLFIT_OK;
}

clfit_status clfit_ref_train_step(clfit_model *m, clfit_ref_work *w, const float *x,
                                  const uint8_t *y, int B, float *loss_sum, int *correct)
{
    clfit_status st = clfit_ref_forward_backward(m, w, m->params, x, y, B, w->grads, NULL,
                                                 loss_sum, correct);
    if (st) return st;
    m->step++;
    float alpha = adam_alpha(m->adam.lr, m->adam.beta1, m->adam.beta2, m->step);
    adam_ref(m->params, m->m, m->v, w->grads, (int)m->nparams, alpha, m->adam.beta1,
             m->adam.beta2, m->adam.eps);
    return CLFIT_OK;
}
