/* The slice backend (host/backend.h): one launch a step (slice_step, kernels/slice.cl),
 * shaped for GPUs. The launch ends the step before (its loss, backward and Adam) and runs
 * the forward pass of its own batch, which stays pending until the next launch or a flush.
 * One hidden layer, the tutorial's parts (ReLU, no dropout, cross-entropy) and plain Adam,
 * which it applies inside the launch: so no gradient in memory and no data parallelism. */
#include "backend.h"

#include "clfit/ref.h"

static const char *slice_refuses(const clfit_model_desc *d, const clfit_optim *o, int ranks)
{
    if (d->nhidden != 1) return "the slice backend needs exactly one hidden layer";
    if (!clfit_model_desc_plain(d)) return "the slice backend runs ReLU, no dropout and cross-entropy only";
    if (o && !clfit_optim_plain_adam(o))
        return "the slice backend applies plain Adam only (no weight decay, L2 or clipping)";
    if (o && ranks > 1)
        return "the slice backend applies Adam inside its launch, before a sum across processes could happen";
    return NULL;
}

static clfit_status slice_init(clfit_trainer *t, const clfit_model *m)
{
    clfit_status st = CLFIT_OK;
    clfit_cl *cl = t->cl;
    int maxB = t->max_batch;
    t->groups = slice_groups(cl, m->layer[0].out);
    size_t logits = (size_t)t->groups * maxB * m->layer[1].out * sizeof(float);
    t->loss_row = clfit_cl_buffer(cl, (size_t)maxB * sizeof(float), NULL, &st);
    if (!st) t->right_row = clfit_cl_buffer(cl, (size_t)maxB * sizeof(cl_int), NULL, &st);
    if (!st) t->rows = clfit_cl_buffer(cl, 2 * (size_t)maxB * sizeof(cl_int), NULL, &st);
    if (!st) t->part = clfit_cl_buffer(cl, 2 * logits, NULL, &st);
    if (!st) t->dl = clfit_cl_buffer(cl, logits, NULL, &st);
    return st;
}

/* The launch: ends the pending step (if any) and runs the forward pass of rows
 * [start, start+B) of x's dataset (if B > 0), which becomes the pending step. */
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

static clfit_status slice_flush(clfit_trainer *t)
{
    return t->pend_B ? slice_launch(t, t->pend_x, t->pend_labels, NULL, 0, 0, 0) : CLFIT_OK;
}

/* A step or evaluation batch: one launch, which also ends the step before when it read
 * the same data in the same mode (else a flush first). */
static clfit_status slice_batch(clfit_trainer *t, const clfit_device_data *dd, int start, int B, int want_grad)
{
    clfit_status st = CLFIT_OK;
    if (t->groups != slice_groups(t->cl, t->layer[0].out))
        st = clfit_fail(CLFIT_ERR_ARG, "the program's HS changed after the trainer was made");
    if (!st && t->pend_B && (t->pend_x != dd->x || t->pend_labels != dd->labels || t->pend_grad != want_grad))
        st = slice_flush(t);
    return st ? st : slice_launch(t, dd->x, dd->labels, dd->order, start, B, want_grad);
}

static clfit_status slice_step(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    return slice_batch(t, dd, start, B, 1);
}

static clfit_status slice_eval(clfit_trainer *t, const clfit_device_data *dd, int start, int B)
{
    return slice_batch(t, dd, start, B, 0);
}

/* the launch leaves the logits in group 0's rows of dl */
static cl_mem slice_logits(const clfit_trainer *t)
{
    return t->dl;
}

const clfit_backend clfit_backend_slice = {
    .name = "slice",
    .refuses = slice_refuses,
    .init = slice_init,
    .step = slice_step,
    .eval = slice_eval,
    .flush = slice_flush,
    .logits = slice_logits,
};
