/* Model layout, initialisation and the CPU reference training step
 * (see include/clfit/model.h). */
#include "clfit/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/parts.h"
#include "clfit/ref.h"
#include "clfit/rng.h"

void clfit_model_center_outputs(clfit_model *m, const float *targets, int n)
{
    const clfit_layer *last = &m->layer[m->nlayers - 1];
    int T = m->desc.classes;
    for (int k = 0; k < T && n > 0; k++) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += targets[(size_t)i * T + k];
        m->params[last->b_off + k] = (float)(sum / n);
    }
}

int clfit_loss_code(const clfit_model_desc *d)
{
    return d->regression ? 2 : (int)d->loss;
}

int clfit_model_desc_plain(const clfit_model_desc *d)
{
    for (int i = 0; i < d->nhidden; i++)
        if (d->act[i] != CLFIT_ACT_RELU || d->dropout[i] > 0.0f) return 0;
    return d->loss == CLFIT_LOSS_XENT;
}

void clfit_optim_defaults(clfit_optim *o)
{
    memset(o, 0, sizeof *o);
    o->kind = CLFIT_OPT_ADAM;
    o->rho = 0.9f;      /* Keras' RMSprop */
    o->gamma = 0.9f;
    o->factor = 0.1f;   /* Keras' and PyTorch's ReduceLROnPlateau */
    o->patience = 10;
    o->lr_scale = 1.0f;
    o->best = INFINITY;
}

int clfit_optim_fused(const clfit_optim *o)
{
    return ((o->kind == CLFIT_OPT_ADAM && o->weight_decay == 0.0f) || o->kind == CLFIT_OPT_ADAMW) && o->clipnorm == 0.0f;
}

int clfit_optim_plain_adam(const clfit_optim *o)
{
    return clfit_optim_fused(o) && o->kind == CLFIT_OPT_ADAM && o->l2 == 0.0f;
}

float clfit_optim_lr(const clfit_optim *o, float lr, long epoch, long step, long steps_per_epoch)
{
    switch (o->sched) {
    case CLFIT_SCHED_EXPONENTIAL:
        return (float)((double)lr * pow((double)o->gamma, (double)(epoch - 1)));
    case CLFIT_SCHED_PLATEAU:
        return lr * o->lr_scale;
    case CLFIT_SCHED_COSINE: {
        /* PyTorch's SequentialLR(LinearLR(1/W .. 1 over W steps), CosineAnnealingLR(T - W,
         * eta_min 0)) stepped every step, over the planned T = sched_epochs * sched_steps
         * steps, W of them warm-up: step k = step - 1 (0-based) runs at lr (k + 1) / W while
         * k < W, then lr (1 + cos(pi (k - W) / (T - W))) / 2, and 0 from k = T on */
        long per = o->sched_steps > 0 ? o->sched_steps : steps_per_epoch;
        double T = (double)o->sched_epochs * per, W = floor((double)o->warmup_epochs * per + 0.5);
        double k = (double)(step - 1);
        if (k < W) return (float)((double)lr * (k + 1) / W);
        if (k >= T || T <= W) return 0.0f;
        return (float)((double)lr * 0.5 * (1.0 + cos(M_PI * (k - W) / (T - W))));
    }
    default:
        return lr;
    }
}

void clfit_optim_epoch_end(clfit_optim *o, float lr, double monitored)
{
    if (o->sched != CLFIT_SCHED_PLATEAU || !isfinite(monitored)) return;
    /* PyTorch's ReduceLROnPlateau: mode min, relative threshold 1e-4, no cooldown, and no
     * reduction smaller than 1e-8 */
    if (monitored < o->best * (1.0 - 1e-4)) {
        o->best = monitored;
        o->bad_epochs = 0;
    } else if (++o->bad_epochs > o->patience) {
        double now = (double)lr * o->lr_scale;
        if (now - now * o->factor > 1e-8) o->lr_scale *= o->factor;
        o->bad_epochs = 0;
    }
}

static size_t align_up(size_t n) { return (n + CLFIT_PARAM_ALIGN - 1) / CLFIT_PARAM_ALIGN * CLFIT_PARAM_ALIGN; }

clfit_status clfit_model_layout(const clfit_model_desc *d, clfit_layer *layer, int *nlayers,
                                size_t *nparams)
{
    if (d->nhidden < 0 || d->nhidden > CLFIT_MAX_LAYERS - 1)
        return clfit_fail(CLFIT_ERR_ARG, "%d hidden layers: at most %d are supported",
                          d->nhidden, CLFIT_MAX_LAYERS - 1);
    if ((unsigned)d->loss >= CLFIT_LOSS_COUNT)
        return clfit_fail(CLFIT_ERR_ARG, "loss %d is not one clfit has", (int)d->loss);
    if (d->regression && d->loss != CLFIT_LOSS_MSE)
        return clfit_fail(CLFIT_ERR_ARG, "a regression model's loss is mse, not %s", clfit_loss_names[d->loss]);
    int least = d->regression ? 1 : 2; /* a regression may estimate one value; a classifier has two classes */
    if (d->input < 1 || d->input > CLFIT_MAX_INPUT || d->classes < least || d->classes > CLFIT_MAX_CLASSES)
        return clfit_fail(CLFIT_ERR_ARG, "input width %d and %s count %d: need 1..%d and %d..%d", d->input,
                          d->regression ? "target" : "class", d->classes, CLFIT_MAX_INPUT, least, CLFIT_MAX_CLASSES);
    int n = d->nhidden + 1;
    size_t off = 0;
    for (int l = 0; l < n; l++) {
        int in = l == 0 ? d->input : d->hidden[l - 1];
        int out = l == n - 1 ? d->classes : d->hidden[l];
        if (l < n - 1 && (out < 1 || out > CLFIT_MAX_WIDTH))
            return clfit_fail(CLFIT_ERR_ARG, "hidden width %d is outside 1..%d", out, CLFIT_MAX_WIDTH);
        if (l < n - 1 && ((unsigned)d->act[l] >= CLFIT_ACT_COUNT || !(d->dropout[l] >= 0.0f && d->dropout[l] < 1.0f)))
            return clfit_fail(CLFIT_ERR_ARG, "hidden layer %d: activation %d or dropout %g is not one clfit has", l + 1,
                              (int)d->act[l], (double)d->dropout[l]);
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
    clfit_optim_defaults(&m->opt);
    m->dropout_seed = seed;
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
    free(m->norm_mean);
    free(m->norm_std);
    for (int c = 0; m->class_names && c < m->desc.classes; c++) free(m->class_names[c]);
    free(m->class_names);
    free(m);
}

struct clfit_ref_work {
    int max_batch;
    float *act[CLFIT_MAX_LAYERS + 1];   /* act[l+1] is layer l's output (B, out) */
    float *dact[CLFIT_MAX_LAYERS + 1];  /* gradients of the same */
    float *pre[CLFIT_MAX_LAYERS + 1];   /* pre[l+1]: hidden layer l's activation input z */
    float *grads;                       /* for clfit_ref_train_step */
    const float *targets;               /* a regression's batch values (clfit_ref_work_targets) */
    float abs_sum;                      /* and the last batch's absolute errors */
};

void clfit_ref_work_targets(clfit_ref_work *w, const float *targets)
{
    w->targets = targets;
}

float clfit_ref_work_abs_sum(const clfit_ref_work *w)
{
    return w->abs_sum;
}

int clfit_ref_work_near_ties(const clfit_ref_work *w, const clfit_model *m, int B, float margin)
{
    int L = m->nlayers, C = m->layer[L - 1].out, n = 0;
    for (int b = 0; b < B && C > 1; b++) {
        const float *z = w->act[L] + (size_t)b * C;
        float top = -INFINITY, second = -INFINITY;
        for (int c = 0; c < C; c++) {
            if (z[c] > top) { second = top; top = z[c]; }
            else if (z[c] > second) second = z[c];
        }
        if (top - second < margin) n++;
    }
    return n;
}

clfit_ref_work *clfit_ref_work_new(const clfit_model *m, int max_batch, clfit_status *st)
{
    clfit_ref_work *w = calloc(1, sizeof *w);
    if (!w || max_batch < 1) goto fail;
    w->max_batch = max_batch;
    for (int l = 0; l < m->nlayers; l++) {
        w->act[l + 1] = malloc((size_t)max_batch * m->layer[l].out * sizeof(float));
        w->dact[l + 1] = malloc((size_t)max_batch * m->layer[l].out * sizeof(float));
        w->pre[l + 1] = malloc((size_t)max_batch * m->layer[l].out * sizeof(float));
        if (!w->act[l + 1] || !w->dact[l + 1] || !w->pre[l + 1]) goto fail;
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
        free(w->pre[l]);
    }
    free(w->grads);
    free(w);
}

/* forward (with dropout when train), loss, and unless grads is NULL backward */
static clfit_status forward_backward(const clfit_model *m, clfit_ref_work *w, const float *params,
                                     const float *x, const uint8_t *y, int B, int train, long step, int row0,
                                     float *grads, float *logits, float *loss_sum, int *correct)
{
    if (B < 1 || B > w->max_batch)
        return clfit_fail(CLFIT_ERR_ARG, "batch %d outside 1..%d", B, w->max_batch);
    const clfit_model_desc *d = &m->desc;
    int L = m->nlayers;
    const float *h = x;
    for (int l = 0; l < L; l++) {
        const clfit_layer *ly = &m->layer[l];
        dense_forward_ref(w->act[l + 1], h, params + ly->w_off, params + ly->b_off, B,
                          ly->in, ly->out);
        if (l < L - 1) {
            memcpy(w->pre[l + 1], w->act[l + 1], (size_t)B * ly->out * sizeof(float));
            act_forward_ref(d->act[l], w->act[l + 1], w->act[l + 1], B * ly->out);
            if (train && d->dropout[l] > 0.0f)
                dropout_forward_ref(w->act[l + 1], B, ly->out, d->dropout[l], m->dropout_seed, l, step, row0);
        }
        h = w->act[l + 1];
    }
    int C = m->layer[L - 1].out;
    if (logits)
        memcpy(logits, w->act[L], (size_t)B * C * sizeof(float));
    if (d->regression && !w->targets)
        return clfit_fail(CLFIT_ERR_ARG, "a regression model's reference step without its targets");
    if (d->loss == CLFIT_LOSS_MSE)
        mse_ref(grads ? w->dact[L] : NULL, loss_sum, correct, &w->abs_sum, w->act[L], y,
                d->regression ? w->targets : NULL, B, C);
    else softmax_xent_ref(grads ? w->dact[L] : NULL, loss_sum, correct, w->act[L], y, B, C);
    if (!grads)
        return CLFIT_OK;
    memset(grads, 0, m->nparams * sizeof(float));
    for (int l = L - 1; l >= 0; l--) {
        const clfit_layer *ly = &m->layer[l];
        const float *inp = l == 0 ? x : w->act[l];
        dense_backward_ref(l > 0 ? w->dact[l] : NULL, grads + ly->w_off, grads + ly->b_off,
                           w->dact[l + 1], inp, params + ly->w_off, B, ly->in, ly->out);
        if (l > 0) {
            /* dact[l] is the gradient at layer l-1's output after dropout: through the same
             * mask, then the activation (at its input z) */
            float rate = train ? d->dropout[l - 1] : 0.0f;
            if (rate > 0.0f) {
                float scale = (float)(1.0 / (1.0 - (double)rate));
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < ly->in; j++) {
                        float *g = w->dact[l] + (size_t)b * ly->in + j;
                        *g = dropout_uniform_ref(m->dropout_seed, l - 1, step, row0 + b, j, ly->in) >= rate ? *g * scale
                                                                                                            : 0.0f;
                    }
            }
            act_backward_ref(d->act[l - 1], w->dact[l], w->dact[l], w->pre[l], B * ly->in);
        }
    }
    return CLFIT_OK;
}

clfit_status clfit_ref_forward_backward(const clfit_model *m, clfit_ref_work *w,
                                        const float *params, const float *x, const uint8_t *y,
                                        int B, float *grads, float *logits, float *loss_sum,
                                        int *correct)
{
    return forward_backward(m, w, params, x, y, B, 0, 0, 0, grads, logits, loss_sum, correct);
}

clfit_status clfit_ref_forward_backward_train(const clfit_model *m, clfit_ref_work *w,
                                              const float *params, const float *x, const uint8_t *y,
                                              int B, long step, int row0, float *grads, float *loss_sum,
                                              int *correct)
{
    return forward_backward(m, w, params, x, y, B, 1, step, row0, grads, NULL, loss_sum, correct);
}

clfit_status clfit_ref_train_step(clfit_model *m, clfit_ref_work *w, const float *x,
                                  const uint8_t *y, int B, float lr, float *loss_sum, int *correct)
{
    clfit_status st = clfit_ref_forward_backward_train(m, w, m->params, x, y, B, m->step + 1, 0, w->grads,
                                                       loss_sum, correct);
    if (st) return st;
    m->step++;
    clfit_ref_optim_step(m, w->grads, lr, B);
    return CLFIT_OK;
}
