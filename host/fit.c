/* fit / evaluate / predict on the OpenCL path (see include/clfit/fit.h). */
#include "clfit/fit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfit/ref.h"
#include "clfit/rng.h"
#include "clfit/train.h"
#include "internal.h"

/* Evaluation batches: larger than training ones (fewer launches), same numbers. (The
 * loop-cap estimates of host/canary.c count with it: EVAL_ROWS there.) */
#define EVAL_BATCH 1000

void clfit_epoch_order(uint64_t seed, long epoch, int *order, int n)
{
    clfit_rng r;
    clfit_rng_seed(&r, seed ^ (0x5851f42d4c957f2dull * (uint64_t)epoch));
    for (int i = 0; i < n; i++) order[i] = i;
    clfit_rng_shuffle(&r, order, n);
}

/* Runs forward passes over all of dd in batches of up to `batch`; returns the loss sum
 * and the metric's (the correct count, or a regression's absolute errors). */
static clfit_status eval_sums(clfit_trainer *t, const clfit_device_data *dd, int batch,
                              double *sum, double *correct)
{
    clfit_status st = clfit_trainer_reset_stats(t);
    for (int start = 0; start < dd->n && !st; start += batch)
        st = clfit_trainer_eval(t, dd, start, dd->n - start < batch ? dd->n - start : batch);
    return st ? st : clfit_trainer_read_stats(t, sum, correct);
}

/* Data parallelism's checks and set-up before training: the backend, the batch, and
 * rank 0's weights and Adam state on every process. */
static clfit_status dp_setup(clfit_model *m, const clfit_fit_opts *o)
{
    const clfit_collective *c = o->coll;
    const char *no = clfit_backend_refuses(o->gemm, &m->desc, &m->opt, c->size);
    if (no) return clfit_fail(CLFIT_ERR_ARG, "data-parallel training: %s", no);
    if (o->batch % c->size != 0)
        return clfit_fail(CLFIT_ERR_ARG, "the batch %d does not divide by the %d processes", o->batch, c->size);
    clfit_status st = c->broadcast(m->params, m->nparams, c->user);
    if (!st) st = c->broadcast(m->m, m->nparams, c->user);
    if (!st) st = c->broadcast(m->v, m->nparams, c->user);
    return st;
}

clfit_status clfit_fit(clfit_cl *cl, clfit_model *m, const clfit_dataset *train,
                       const clfit_fit_opts *o)
{
    if (o->epochs < 1 || o->batch < 1)
        return clfit_fail(CLFIT_ERR_ARG, "epochs %d and batch %d must be >= 1", o->epochs, o->batch);
    if (!(o->validation_split >= 0 && o->validation_split < 1))
        return clfit_fail(CLFIT_ERR_ARG, "validation split %g is outside [0, 1)", o->validation_split);
    if (train->rows * train->cols != m->desc.input)
        return clfit_fail(CLFIT_ERR_ARG, "the model takes %d inputs, the images have %dx%d = %d",
                          m->desc.input, train->rows, train->cols, train->rows * train->cols);
    /* Keras: split_at = floor(N * (1 - validation_split)); train on [0, split_at) */
    int n_train = (int)floor(train->count * (1.0 - o->validation_split));
    int n_val = train->count - n_train;
    if (n_train < 1 || (o->validation_split > 0 && n_val < 1))
        return clfit_fail(CLFIT_ERR_ARG, "validation split %g of %d examples leaves %d to train on and %d to validate",
                          o->validation_split, train->count, n_train, n_val);
    const clfit_collective *coll = o->coll && o->coll->size > 1 ? o->coll : NULL;
    clfit_status st;
    if (coll && (st = dp_setup(m, o))) return st;
    int rank = coll ? coll->rank : 0, size = coll ? coll->size : 1;
    /* this process's share of the validation set (all of it without data parallelism) */
    int v0 = (int)((long)rank * n_val / size), v1 = (int)((long)(rank + 1) * n_val / size);
    float *grads = NULL, lrs[64];
    clfit_device_data all = {0}, tr = {0}, val = {0};
    int *order = NULL;
    double setup_t0 = clfit_now(), setup = 0;
    int max_batch = o->batch > EVAL_BATCH ? o->batch : EVAL_BATCH;
    clfit_trainer *t = clfit_trainer_new(cl, m, max_batch, o->gemm, &st);
    if (!t) return st;
    clfit_profiler_phase_begin(cl->prof, "upload");
    st = clfit_device_data_upload(cl, train, &all);
    if (!st) st = clfit_device_data_view(cl, &all, 0, n_train, &tr);
    if (!st && v1 > v0) st = clfit_device_data_view(cl, &all, n_train + v0, v1 - v0, &val);
    order = malloc((size_t)n_train * sizeof *order);
    if (!st && !order) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    if (!st && coll && !(grads = malloc(m->nparams * sizeof *grads))) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    /* progress during an epoch would need every process to read its stats at the same
     * step: under data parallelism, only at epoch ends */
    double refresh = coll ? 0 : o->refresh_seconds;
    int steps = (n_train + o->batch - 1) / o->batch;
    if (m->opt.sched == CLFIT_SCHED_COSINE) {
        /* the schedule spans this first run unless it was given its length; a resume
         * continues it */
        if (m->opt.sched_epochs == 0) m->opt.sched_epochs = o->initial_epoch + o->epochs;
        if (m->opt.sched_steps == 0) m->opt.sched_steps = steps;
    }
    for (int e = 1; e <= o->epochs && !st; e++) {
        long epoch = o->initial_epoch + e;
        if (e == 1) {
            st = clfit_cl_finish(cl); /* the upload, so that it is not counted in the epoch */
            setup = clfit_now() - setup_t0;
            if (st) break;
        }
        clfit_progress p = {.epoch = epoch, .epochs = o->initial_epoch + o->epochs, .steps = steps,
                            .setup_seconds = setup};
        char phase[32];
        snprintf(phase, sizeof phase, "epoch %ld", epoch);
        clfit_profiler_phase_begin(cl->prof, phase);
        double t0 = clfit_now(), last = t0;
        if (o->shuffle) clfit_epoch_order(o->seed, epoch, order, n_train);
        else for (int i = 0; i < n_train; i++) order[i] = i;
        st = clfit_device_data_set_order(cl, &tr, order);
        if (!st) st = clfit_trainer_reset_stats(t);
        int seen = 0;
        for (int s = 0; s < steps && !st; s++) {
            int start = s * o->batch, b = n_train - start < o->batch ? n_train - start : o->batch;
            /* without data parallelism, the full batches up to the next 64th step in one call
             * (the own backend may run them in one launch), each at its scheduled rate */
            int run = 1;
            if (!coll && b == o->batch) {
                int full = n_train / o->batch;
                run = 64 - s % 64 < full - s ? 64 - s % 64 : full - s;
            }
            int sched = m->opt.sched != CLFIT_SCHED_CONSTANT;
            for (int i = 0; i < run && sched; i++)
                lrs[i] = clfit_optim_lr(&m->opt, m->adam.lr, epoch, clfit_trainer_step_count(t) + 1 + i, steps);
            if (sched) clfit_trainer_set_lr(t, lrs[0]);
            if (run > 1) {
                st = clfit_trainer_steps(t, &tr, start, b, run, sched ? lrs : NULL);
                s += run - 1;
                b *= run;
            } else if (coll) {
                /* this process's contiguous slice of the global batch (the last may be short) */
                int s0 = start + (int)((long)rank * b / size), s1 = start + (int)((long)(rank + 1) * b / size);
                st = clfit_trainer_grad(t, &tr, s0, s1 - s0, s0 - start, b);
                if (!st) st = clfit_trainer_read_grads(t, grads);
                double tc = clfit_now();
                if (!st) st = coll->sum_floats(grads, m->nparams, coll->user);
                double tc1 = clfit_now();
                clfit_profiler_host_call(cl->prof, "allreduce", tc, tc1);
                p.comm_seconds += tc1 - tc;
                if (!st) st = clfit_trainer_apply(t, grads, b);
            } else {
                st = clfit_trainer_step(t, &tr, start, b);
            }
            seen += b;
            int last_step = s == steps - 1;
            /* During the epoch, on a terminal: sync every 64 steps (keeps the host from
             * running an epoch ahead of the device), redraw when refresh_seconds passed. */
            if (st || (!last_step && (refresh <= 0 || (s + 1) % 64 != 0))) continue;
            double tn = clfit_now();
            if (!last_step && tn - last < refresh) {
                st = clfit_cl_finish(cl);
                continue;
            }
            double sum, correct;
            st = clfit_trainer_read_stats(t, &sum, &correct);
            if (!st && coll) { /* every slice's loss and count: the global batch's */
                double both[2] = {sum, correct};
                st = coll->sum_doubles(both, 2, coll->user);
                sum = both[0];
                correct = both[1];
            }
            if (st) break;
            last = clfit_now();
            p.step = s + 1;
            p.loss = sum / seen;
            p.accuracy = correct / seen;
            p.seconds = last - t0;
            if (!isfinite(p.loss)) {
                st = clfit_fail(CLFIT_ERR_NUMERIC, "loss is %s at epoch %ld, step %d/%d: training stopped",
                                isnan(p.loss) ? "nan" : "inf", epoch, s + 1, steps);
                break;
            }
            if (!last_step && o->progress) st = o->progress(&p, NULL, o->user);
        }
        if (st) break;
        p.seconds = clfit_now() - t0; /* the epoch's training time: validation is its own phase */
        if (n_val > 0) {
            clfit_profiler_phase_begin(cl->prof, "validation");
            double both[2] = {0, 0};
            if (v1 > v0) st = eval_sums(t, &val, max_batch, &both[0], &both[1]);
            if (!st && coll) st = coll->sum_doubles(both, 2, coll->user);
            if (st) break;
            p.val_loss = both[0] / n_val;
            p.val_accuracy = both[1] / n_val;
            p.has_val = 1;
        }
        clfit_profiler_phase_end(cl->prof);
        /* the plateau schedule watches val_loss, or the training loss without validation */
        clfit_optim_epoch_end(&m->opt, m->adam.lr, p.has_val ? p.val_loss : p.loss);
        st = clfit_trainer_download(t, m);
        if (!st && coll) { /* every process's weights must be the same bits */
            uint64_t h = 0xcbf29ce484222325ull;
            const unsigned char *bytes = (const unsigned char *)m->params;
            for (size_t i = 0; i < m->nparams * sizeof(float); i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
            st = coll->same(h, "weights", coll->user);
        }
        if (!st) st = clfit_profiler_collect(cl);
        if (st) break;
        p.epoch_done = 1;
        if (o->progress) st = o->progress(&p, m, o->user);
    }
    if (st == CLFIT_STOPPED) st = CLFIT_OK; /* early stopping: the callback's choice, not an error */
    free(order);
    free(grads);
    clfit_device_data_free(&val);
    clfit_device_data_free(&tr);
    clfit_device_data_free(&all);
    clfit_trainer_free(t);
    return st;
}

clfit_status clfit_evaluate(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d,
                            clfit_gemm gemm, double *loss, double *accuracy)
{
    return clfit_evaluate_shared(cl, m, d, gemm, NULL, loss, accuracy);
}

clfit_status clfit_evaluate_shared(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d, clfit_gemm gemm,
                                   const clfit_collective *coll, double *loss, double *accuracy)
{
    if (d->rows * d->cols != m->desc.input)
        return clfit_fail(CLFIT_ERR_ARG, "the model takes %d inputs, the images have %dx%d = %d",
                          m->desc.input, d->rows, d->cols, d->rows * d->cols);
    if (coll && coll->size < 2) coll = NULL;
    int rank = coll ? coll->rank : 0, size = coll ? coll->size : 1;
    int e0 = (int)((long)rank * d->count / size), e1 = (int)((long)(rank + 1) * d->count / size);
    /* this process's contiguous share of the set */
    clfit_dataset share = *d;
    share.count = e1 - e0;
    if (d->images) share.images = d->images + (size_t)e0 * d->rows * d->cols;
    if (d->features) share.features = d->features + (size_t)e0 * d->rows * d->cols;
    share.labels = d->labels + e0;
    if (d->targets) share.targets = d->targets + (size_t)e0 * d->ntargets;
    clfit_status st = CLFIT_OK;
    clfit_device_data dd = {0};
    double both[2] = {0, 0};
    clfit_trainer *t = clfit_trainer_new(cl, m, EVAL_BATCH, gemm, &st);
    if (!t) return st;
    clfit_profiler_phase_begin(cl->prof, "evaluation");
    if (share.count > 0) {
        st = clfit_device_data_upload(cl, &share, &dd);
        if (!st) st = eval_sums(t, &dd, EVAL_BATCH, &both[0], &both[1]);
    }
    if (!st && coll) st = coll->sum_doubles(both, 2, coll->user);
    clfit_profiler_phase_end(cl->prof);
    if (!st) st = clfit_profiler_collect(cl);
    if (!st) {
        *loss = both[0] / d->count;
        *accuracy = both[1] / d->count;
    }
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    return st;
}

clfit_status clfit_predict(clfit_cl *cl, const clfit_model *m, const clfit_dataset *d,
                           clfit_gemm gemm, const int *idx, int n, float *probs)
{
    if (d->rows * d->cols != m->desc.input)
        return clfit_fail(CLFIT_ERR_ARG, "the model takes %d inputs, the images have %dx%d = %d",
                          m->desc.input, d->rows, d->cols, d->rows * d->cols);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= d->count)
            return clfit_fail(CLFIT_ERR_ARG, "index %d is outside 0..%d", idx[i], d->count - 1);
    clfit_status st;
    clfit_device_data dd = {0};
    int *order = calloc((size_t)d->count, sizeof *order);
    /* rows without their values (a regression's to predict): zeros for the loss nobody reads */
    clfit_dataset rows = *d;
    float *zeros = NULL;
    if (m->desc.regression && !(d->targets && d->ntargets == m->desc.classes)) {
        rows.targets = zeros = calloc((size_t)d->count * m->desc.classes, sizeof *zeros);
        rows.ntargets = m->desc.classes;
        if (!zeros) { free(order); return clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); }
    }
    clfit_trainer *t = clfit_trainer_new(cl, m, EVAL_BATCH, gemm, &st);
    if (!t || !order) { free(zeros); free(order); clfit_trainer_free(t); return t ? clfit_fail(CLFIT_ERR_NOMEM, "out of memory") : st; }
    st = clfit_device_data_upload(cl, &rows, &dd);
    int C = m->desc.classes;
    /* a batch's indices go through the data's order buffer, which holds d->count: batches
     * of at most that many, whatever n is */
    int per = d->count < EVAL_BATCH ? d->count : EVAL_BATCH;
    for (int done = 0; done < n && !st; done += per) {
        int b = n - done < per ? n - done : per;
        memcpy(order, idx + done, (size_t)b * sizeof *order);
        st = clfit_device_data_set_order(cl, &dd, order);
        if (!st) st = clfit_trainer_eval(t, &dd, 0, b);
        if (!st) st = clfit_trainer_read_logits(t, probs + (size_t)done * C, b);
        /* cross-entropy's logits become probabilities; mse's outputs are the estimate itself */
        if (!st && m->desc.loss == CLFIT_LOSS_XENT) softmax_ref(probs + (size_t)done * C, probs + (size_t)done * C, b, C);
    }
    /* finite weights can still overflow float on the way (a layer's sums past 3.4e38):
     * outputs that are not numbers are an error, never printed as probabilities */
    for (size_t i = 0; !st && i < (size_t)n * C; i++)
        if (!isfinite(probs[i]))
            st = clfit_fail(CLFIT_ERR_NUMERIC, "example %d: the model's outputs are not finite numbers (%s: its "
                            "weights overflow float)", idx[i / C], isnan(probs[i]) ? "nan" : "inf");
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    free(order);
    free(zeros);
    return st;
}
