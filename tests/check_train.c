/* End to end: the same seed, weights and batches trained for a few steps on the OpenCL
 * path (host/train.c) and on the CPU reference (clfit_ref_train_step) give the same
 * losses, correct counts and weights within a stated tolerance; evaluation agrees too.
 * Tolerances: the two paths differ only by rounding (GEMM summation order, exp/log/sqrt
 * ulps: ~1e-7 relative per operation, see the kernel suites). Losses are compared with
 * rtol 1e-5. Weights: Adam divides by sqrt(v), so a gradient rounding difference dg moves
 * an update by up to lr * dg / (|g| + eps); over a few steps that stays well below
 * lr * 1e-2 = 1e-5 per parameter, the atol used (measured: see the printed maximum). Adam's
 * moments m and v get the same absolute bound scaled to their own size.
 * One thing rounding can do that these bounds do not cover: a pre-activation of hidden
 * layer 0 within rounding of ReLU's kink (or leaky ReLU's) takes one side on the device
 * and the other in the reference, and that unit's W0 column and b0 then get another
 * gradient, which Adam turns into a difference of up to lr (seen at seed 1796297096874689).
 * Such units are found from the reference's own forward pass (mark_kink_units); a step
 * that has one compares the weights without that unit's column, and the reference then
 * continues from the device's state. The other: a weight whose gradient is itself within
 * rounding of 0 (its terms cancel), where Adam's and RMSprop's g / (sqrt(v) + eps) turns
 * the two paths' rounding into an update of up to lr in either direction (seen with
 * RMSprop at seed 1796313089927077: one W0 element's gradient -2.8974e-4 and its weight
 * decay 1e-3 p = 2.8949e-4 left 2.5e-7, and it ended 6.8e-5 off); such weights are found
 * from the reference's gradient (mark_flat_grads) and treated the same way. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "clfit/model.h"
#include "clfit/ref.h"
#include "clfit/train.h"
#include "testutil.h"

/* Marks hidden layer 0's units whose pre-activation z = x W0 + b0 in some row of this batch
 * (x: b rows) is within 16 u sqrt(sum of its partial sums squared) of 0, where the layer's
 * activation has a kink there: either side of the kink is then right within rounding.
 * That bound is rounding's random walk (8 of its standard deviations, for each of the two
 * paths, in whatever order they add), not the worst case 2 gamma_K sum |x w|, which is 28
 * times wider at K = 785 and would mark a unit in nearly every step; a straddle outside it
 * would fail the test as before. Returns how many units it marked anew. */
static int mark_kink_units(const clfit_model *m, const float *x, int b, unsigned char *marked)
{
    /* marked: one flag a parameter; a unit is its W0 column and its b0 element */
    if (m->desc.nhidden < 1 || (m->desc.act[0] != CLFIT_ACT_RELU && m->desc.act[0] != CLFIT_ACT_LEAKY_RELU)) return 0;
    const clfit_layer *L = &m->layer[0];
    const float *W = m->params + L->w_off, *bias = m->params + L->b_off;
    int n = 0;
    for (int r = 0; r < b; r++)
        for (int j = 0; j < L->out; j++) {
            double z = bias[j], walk = z * z;
            for (int i = 0; i < L->in; i++) {
                z += (double)x[(size_t)r * L->in + i] * W[(size_t)i * L->out + j];
                walk += z * z;
            }
            if (fabs(z) <= 16 * (FLT_EPSILON / 2) * sqrt(walk) && !marked[L->b_off + j]) {
                for (int i = 0; i < L->in; i++) marked[L->w_off + (size_t)i * L->out + j] = 1;
                marked[L->b_off + j] = 1;
                n++;
            }
        }
    return n;
}

/* Marks the weights and biases whose gradient in the step about to be taken (the
 * reference's, grads: nparams floats of scratch; with L2 and, but for AdamW, weight decay
 * added, as the optimizer sees it) is within 1e-5 of the largest in its tensor: a sum whose terms cancel that far keeps only rounding's digits, which differ
 * between the paths (1e-7 per operation, K operations), and an optimizer that divides by
 * the gradient's own size (Adam, RMSprop) turns either into a full step. SGD moves by lr g
 * and has no such weights. An exact 0 (a unit dropped or dead in every row) is no such
 * sum: both paths make it, and it stays compared. Returns how many it marked anew. */
static int mark_flat_grads(const clfit_model *m, clfit_ref_work *w, const float *x, const uint8_t *y, int b,
                           float *grads, unsigned char *marked)
{
    if (m->opt.kind == CLFIT_OPT_SGD) return 0;
    float loss;
    int correct;
    ASSERT_OK(clfit_ref_forward_backward_train(m, w, m->params, x, y, b, m->step + 1, 0, grads, &loss, &correct));
    int n = 0;
    float l2c = m->opt.l2 / (float)b, wd = m->opt.kind == CLFIT_OPT_ADAMW ? 0.0f : m->opt.weight_decay;
    for (int l = 0; l < m->nlayers; l++) {
        const clfit_layer *L = &m->layer[l];
        size_t off[2] = {L->w_off, L->b_off}, len[2] = {(size_t)L->in * L->out, (size_t)L->out};
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < len[k]; i++) { /* what the optimizer's step takes (clfit_ref_optim_step) */
                float *g = &grads[off[k] + i], p = m->params[off[k] + i];
                if (k == 0 && l2c > 0.0f) *g = fmaf(l2c, p, *g);
                if (wd > 0.0f) *g = fmaf(wd, p, *g);
            }
            float top = 0;
            for (size_t i = 0; i < len[k]; i++) top = fmaxf(top, fabsf(grads[off[k] + i]));
            for (size_t i = 0; i < len[k]; i++)
                if (grads[off[k] + i] != 0.0f && fabsf(grads[off[k] + i]) <= 1e-5f * top && !marked[off[k] + i]) {
                    marked[off[k] + i] = 1;
                    n++;
                }
        }
    }
    return n;
}

/* The optimizer's first buffer's absolute bound. Adam's m holds gradients: 1e-6, the
 * weights' bound scaled to a gradient's size. RMSprop's momentum buffer holds normalised
 * steps g / (sqrt(v) + eps), about 1/sqrt(1 - rho) = 3.2 in size whatever the gradient's,
 * each carrying its gradient's relative rounding (1e-6 where the sum cancels a little;
 * the buffer's own 0.5 buf + step cancels too): 1e-4, still 100 times below the weights'
 * 1e-2 of a step (seen: 2.2e-6 at seed 1796314610933018). */
static double m_atol(const clfit_model *m)
{
    return m->opt.kind == CLFIT_OPT_RMSPROP && m->opt.momentum > 0 ? 1e-4 : 1e-6;
}

/* After a step with marked parameters (kink units, flat gradients): the device's weights
 * and moments against the reference's but for the marked ones (compare 0: none compared,
 * their effect has spread), then the reference continues from the device's state. */
static void resync(clfit_trainer *t, clfit_model *dev, clfit_model *ref, unsigned char *marked, int compare, int at)
{
    ASSERT_OK(clfit_trainer_download(t, dev));
    int count = 0;
    for (size_t e = 0; e < ref->nparams; e++) {
        if (!marked[e]) continue;
        count++;
        dev->params[e] = ref->params[e]; dev->m[e] = ref->m[e]; dev->v[e] = ref->v[e];
    }
    if (compare) {
        ASSERT_CLOSE("weights (but the marked ones)", dev->params, ref->params, ref->nparams, 1e-5, 0.0);
        ASSERT_CLOSE("Adam m (but the marked ones)", dev->m, ref->m, ref->nparams, m_atol(ref), 1e-4);
        ASSERT_CLOSE("Adam v (but the marked ones)", dev->v, ref->v, ref->nparams, 1e-8, 1e-4);
    }
    ASSERT_OK(clfit_trainer_download(t, dev)); /* the device's own values, kink units included */
    memcpy(ref->params, dev->params, ref->nparams * sizeof(float));
    memcpy(ref->m, dev->m, ref->nparams * sizeof(float));
    memcpy(ref->v, dev->v, ref->nparams * sizeof(float));
    printf("step at %d: %d parameter(s) of a kink unit or a flat gradient: %s, then the reference continues from "
           "the device\n", at, count, compare ? "compared without them" : "not compared (their effect has spread)");
    memset(marked, 0, ref->nparams);
}

/* With opt NULL: plain Adam. */
static void compare_paths_opt(const clfit_model_desc *desc, const clfit_optim *opt, int N, int B, int epochs,
                              clfit_gemm gemm)
{
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    clfit_dataset ds = {.count = N, .rows = 1, .cols = desc->input};
    ds.images = malloc((size_t)N * desc->input);
    ds.labels = malloc(N);
    for (size_t i = 0; i < (size_t)N * desc->input; i++) ds.images[i] = (uint8_t)clfit_rng_below(&rng, 256);
    for (int i = 0; i < N; i++) ds.labels[i] = (uint8_t)clfit_rng_below(&rng, desc->classes);
    clfit_status st;
    uint64_t seed = clfit_rng_next(&rng);
    clfit_model *ref = clfit_model_new(desc, seed, &st), *dev = clfit_model_new(desc, seed, &st);
    ck_assert_ptr_nonnull(ref);
    if (opt) ref->opt = dev->opt = *opt;
    clfit_ref_work *w = clfit_ref_work_new(ref, B, &st);
    clfit_trainer *t = clfit_trainer_new(tcl, dev, B, gemm, &st);
    ck_assert_msg(t != NULL, "%s", clfit_last_error());
    clfit_device_data dd;
    ASSERT_OK(clfit_device_data_upload(tcl, &ds, &dd));

    int *order = malloc(N * sizeof(int));
    float *x = malloc((size_t)B * desc->input * 4);
    uint8_t *y = malloc(B);
    double prev_loss = 0;
    long prev_correct = 0;
    float ref_loss_since = 0; /* the reference's since the device's stats were last read */
    int ref_correct_since = 0;
    unsigned char *marked = calloc(ref->nparams, 1); /* a flag a parameter: mark_kink_units, mark_flat_grads */
    float *grads = malloc(ref->nparams * sizeof(float));
    int kinks = 0; /* units marked since the last comparison */
    for (int e = 0; e < epochs; e++) {
        /* the slice backend ends a step in the next one's launch, unless the stats are read
         * in between: read them after every step of the first epoch, and in later epochs
         * only at the end, so that its pending step crosses epochs (and their new order) */
        int read_each = gemm != CLFIT_GEMM_SLICE || e == 0, last_epoch = e == epochs - 1;
        for (int i = 0; i < N; i++) order[i] = i;
        clfit_rng_shuffle(&rng, order, N);
        ASSERT_OK(clfit_device_data_set_order(tcl, &dd, order));
        for (int start = 0; start < N; start += B) {
            int b = N - start < B ? N - start : B; /* the last batch may be partial */
            gather_batch_ref(x, y, ds.images, ds.labels, order + start, b, desc->input);
            float ref_loss;
            int ref_correct;
            kinks += mark_kink_units(ref, x, b, marked);
            kinks += mark_flat_grads(ref, w, x, y, b, grads, marked);
            ASSERT_OK(clfit_ref_train_step(ref, w, x, y, b, ref->adam.lr, &ref_loss, &ref_correct));
            ASSERT_OK(clfit_trainer_step(t, &dd, start, b));
            ref_loss_since += ref_loss;
            ref_correct_since += ref_correct;
            if (!read_each && !(last_epoch && start + B >= N)) continue;
            double sum;
            double correct;
            ASSERT_OK(clfit_trainer_read_stats(t, &sum, &correct));
            float dev_loss = (float)(sum - prev_loss);
            prev_loss = sum;
            char what[96];
            snprintf(what, sizeof what, "loss of epoch %d %s at %d (B=%d)", e, read_each ? "step" : "up to the step", start, b);
            /* a step's loss comes before its update: a kink there changes only the update,
             * but over several steps not read one by one it changes the later losses */
            if (read_each || !kinks) {
                ASSERT_CLOSE(what, &dev_loss, &ref_loss_since, 1, 1e-6, 1e-5);
                ck_assert_int_eq(correct - prev_correct, ref_correct_since);
            }
            if (kinks) resync(t, dev, ref, marked, read_each, start);
            kinks = 0;
            prev_correct = correct;
            ref_loss_since = 0;
            ref_correct_since = 0;
        }
    }
    ASSERT_OK(clfit_trainer_download(t, dev));
    ck_assert_int_eq(dev->step, ref->step);
    clfit_compare_result r;
    ASSERT_CLOSE("weights after training", dev->params, ref->params, ref->nparams, 1e-5, 0.0);
    clfit_compare(dev->params, ref->params, ref->nparams, 1e-5, 0, &r);
    printf("end-to-end %s %d-%d-%d B=%d, %ld steps: max |weight difference| %.3g\n",
           clfit_gemm_names[gemm], desc->input, desc->hidden[0], desc->classes, B, ref->step, r.max_abs);
    ASSERT_CLOSE("Adam m", dev->m, ref->m, ref->nparams, m_atol(ref), 1e-4);
    ASSERT_CLOSE("Adam v", dev->v, ref->v, ref->nparams, 1e-8, 1e-4);

    /* evaluation of the trained weights over the whole set, in batches */
    ASSERT_OK(clfit_trainer_reset_stats(t));
    float ref_total = 0;
    int ref_total_correct = 0;
    for (int i = 0; i < N; i++) order[i] = i;
    ASSERT_OK(clfit_device_data_set_order(tcl, &dd, order));
    for (int start = 0; start < N; start += B) {
        int b = N - start < B ? N - start : B;
        gather_batch_ref(x, y, ds.images, ds.labels, order + start, b, desc->input);
        float l;
        int c;
        ASSERT_OK(clfit_ref_forward_backward(ref, w, ref->params, x, y, b, NULL, NULL, &l, &c));
        ref_total += l;
        ref_total_correct += c;
        ASSERT_OK(clfit_trainer_eval(t, &dd, start, b));
    }
    double sum;
    double correct;
    ASSERT_OK(clfit_trainer_read_stats(t, &sum, &correct));
    float dev_total = (float)sum;
    ASSERT_CLOSE("evaluation loss", &dev_total, &ref_total, 1, 1e-6, 1e-5);
    ck_assert_int_eq((long)correct, ref_total_correct);

    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    clfit_ref_work_free(w);
    clfit_model_free(ref);
    clfit_model_free(dev);
    clfit_dataset_free(&ds);
    free(order); free(x); free(y); free(marked); free(grads);
}

static void compare_paths(const clfit_model_desc *desc, int N, int B, int epochs, clfit_gemm gemm)
{
    compare_paths_opt(desc, NULL, N, B, epochs, gemm);
}

START_TEST(test_small_mlp)
{
    clfit_model_desc d = {.input = 33, .nhidden = 1, .hidden = {16}, .classes = 5};
    compare_paths(&d, 61, 7, 2, CLFIT_GEMM_CLBLAST);
    compare_paths(&d, 61, 7, 2, CLFIT_GEMM_OWN);
    compare_paths(&d, 61, 7, 3, CLFIT_GEMM_SLICE);
}
END_TEST

START_TEST(test_deeper_mlp)
{
    clfit_model_desc d = {.input = 20, .nhidden = 2, .hidden = {13, 9}, .classes = 4};
    compare_paths(&d, 50, 16, 2, CLFIT_GEMM_CLBLAST);
    compare_paths(&d, 50, 16, 2, CLFIT_GEMM_OWN);
}
END_TEST

START_TEST(test_tutorial_shape)
{
    clfit_model_desc d = {.input = 784, .nhidden = 1, .hidden = {128}, .classes = 10};
    compare_paths(&d, 160, 32, 1, CLFIT_GEMM_CLBLAST);
    compare_paths(&d, 160, 32, 1, CLFIT_GEMM_OWN);
    compare_paths(&d, 160, 32, 3, CLFIT_GEMM_SLICE);
}
END_TEST

/* The parts beyond the tutorial's, on both backends that take them: every activation,
 * dropout (the same Philox mask on the device and in the reference, so the same
 * tolerances hold), MSE, each optimizer with weight decay, L2 and clipping. */
START_TEST(test_parts)
{
    clfit_optim o;
    clfit_model_desc a = {.input = 20, .nhidden = 2, .hidden = {13, 9}, .classes = 4,
                          .act = {CLFIT_ACT_GELU, CLFIT_ACT_TANH}, .dropout = {0.3f, 0.2f}};
    clfit_optim_defaults(&o);
    o.kind = CLFIT_OPT_ADAMW;
    o.weight_decay = 0.05f;
    o.clipnorm = 0.5f;
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_OWN; g++) compare_paths_opt(&a, &o, 50, 16, 2, (clfit_gemm)g);

    clfit_model_desc b = {.input = 17, .nhidden = 2, .hidden = {11, 6}, .classes = 3,
                          .act = {CLFIT_ACT_SILU, CLFIT_ACT_SIGMOID}, .dropout = {0.0f, 0.4f}, .loss = CLFIT_LOSS_MSE};
    clfit_optim_defaults(&o);
    o.kind = CLFIT_OPT_SGD;
    o.momentum = 0.9f;
    o.nesterov = 1;
    o.l2 = 0.01f;
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_OWN; g++) compare_paths_opt(&b, &o, 47, 9, 2, (clfit_gemm)g);

    clfit_model_desc c = {.input = 15, .nhidden = 1, .hidden = {10}, .classes = 6,
                          .act = {CLFIT_ACT_LEAKY_RELU}, .dropout = {0.25f}};
    clfit_optim_defaults(&o);
    o.kind = CLFIT_OPT_RMSPROP;
    o.momentum = 0.5f;
    o.weight_decay = 1e-3f;
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_OWN; g++) compare_paths_opt(&c, &o, 40, 8, 2, (clfit_gemm)g);

    clfit_model_desc d = {.input = 9, .nhidden = 1, .hidden = {8}, .classes = 3, .act = {CLFIT_ACT_LINEAR}};
    clfit_optim_defaults(&o);
    o.clipnorm = 0.05f; /* small enough to clip every step */
    o.l2 = 0.1f;
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_OWN; g++) compare_paths_opt(&d, &o, 30, 7, 2, (clfit_gemm)g);

    /* no hidden layer (a linear model): the clblast backend alone */
    clfit_model_desc e = {.input = 12, .nhidden = 0, .classes = 4};
    clfit_optim_defaults(&o);
    o.kind = CLFIT_OPT_SGD;
    compare_paths_opt(&e, &o, 30, 8, 2, CLFIT_GEMM_CLBLAST);
}
END_TEST

/* Trains two epochs (the last step of each short; the full batches in one
 * clfit_trainer_steps call, as an epoch takes them) with tunables p and optimizer o (NULL:
 * Adam) on the own backend; returns the model (weights, moments) after them, and with
 * stats not NULL the second epoch's loss sum and correct count. */
static clfit_model *train_with_opt(const clfit_params *p, const clfit_model_desc *d, const clfit_optim *o, int N,
                                   int B, double stats[2])
{
    ASSERT_OK(clfit_cl_set_params(tcl, p));
    clfit_rng rng;
    clfit_rng_seed(&rng, 99);
    clfit_dataset ds = {.count = N, .rows = 1, .cols = d->input};
    ds.images = malloc((size_t)N * d->input);
    ds.labels = malloc(N);
    for (size_t i = 0; i < (size_t)N * d->input; i++) ds.images[i] = (uint8_t)clfit_rng_below(&rng, 256);
    for (int i = 0; i < N; i++) ds.labels[i] = (uint8_t)clfit_rng_below(&rng, d->classes);
    clfit_status st;
    clfit_model *m = clfit_model_new(d, 5, &st);
    if (o) m->opt = *o;
    clfit_trainer *t = clfit_trainer_new(tcl, m, B, (clfit_gemm)p->v[CLFIT_P_BACKEND], &st);
    ck_assert_msg(t != NULL, "%s", clfit_last_error());
    clfit_device_data dd;
    ASSERT_OK(clfit_device_data_upload(tcl, &ds, &dd));
    for (int e = 0; e < 2; e++) {
        ASSERT_OK(clfit_trainer_reset_stats(t));
        ASSERT_OK(clfit_trainer_steps(t, &dd, 0, B, N / B, NULL));
        if (N % B) ASSERT_OK(clfit_trainer_step(t, &dd, N / B * B, N % B));
    }
    if (stats) ASSERT_OK(clfit_trainer_read_stats(t, &stats[0], &stats[1]));
    ASSERT_OK(clfit_trainer_download(t, m));
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    free(ds.images);
    free(ds.labels);
    return m;
}

static clfit_model *train_with(const clfit_params *p, const clfit_model_desc *d, int N, int B)
{
    return train_with_opt(p, d, NULL, N, B, NULL);
}

/* Trains d under tunables a and under b (train_with: 8 steps, the last short) and asserts
 * that the weights and Adam's moments come out bit for bit the same. */
static void assert_same_bits_at(const clfit_params *a, const clfit_params *b, const clfit_model_desc *d, int N,
                                int B)
{
    clfit_model *ma = train_with(a, d, N, B), *mb = train_with(b, d, N, B);
    ck_assert_int_eq(ma->step, 2 * ((N + B - 1) / B));
    ck_assert_int_eq(ma->step, mb->step);
    ck_assert_msg(memcmp(ma->params, mb->params, ma->nparams * sizeof(float)) == 0, "weights differ");
    ck_assert_msg(memcmp(ma->m, mb->m, ma->nparams * sizeof(float)) == 0, "Adam's m differs");
    ck_assert_msg(memcmp(ma->v, mb->v, ma->nparams * sizeof(float)) == 0, "Adam's v differs");
    clfit_model_free(ma);
    clfit_model_free(mb);
}

static void assert_same_bits(const clfit_params *a, const clfit_params *b, const clfit_model_desc *d)
{
    assert_same_bits_at(a, b, d, 45, 13);
}

/* fused.cl's claim: the tunables change speed, never results. Two far-apart settings of
 * every fused-kernel tunable train to the same bits (the same device, so the same exp/log
 * and division; every sum in the same order, every multiply-add an explicit fma). */
START_TEST(test_tunables_keep_results)
{
    clfit_model_desc d = {.input = 53, .nhidden = 2, .hidden = {40, 19}, .classes = 10};
    clfit_params a, b;
    clfit_params_default(CLFIT_CLASS_CPU_AVX512, &a);
    a.v[CLFIT_P_BACKEND] = b.v[CLFIT_P_BACKEND] = CLFIT_GEMM_OWN;
    b = a;
    ASSERT_OK(clfit_params_parse("VW=16,FWGS=16,RB=4,CB=4,GWGS=16,RG=4,CG=1,SXE_WGS=64", "a", &a));
    ASSERT_OK(clfit_params_parse("VW=4,FWGS=2,RB=3,CB=2,GWGS=8,RG=6,CG=3,SXE_WGS=16", "b", &b));
    assert_same_bits(&a, &b, &d);
    /* and with the activations that keep their input, dropout and MSE */
    clfit_model_desc parts = {.input = 53, .nhidden = 2, .hidden = {40, 19}, .classes = 10,
                              .act = {CLFIT_ACT_GELU, CLFIT_ACT_SILU}, .dropout = {0.2f, 0.1f}, .loss = CLFIT_LOSS_MSE};
    assert_same_bits(&a, &b, &parts);
    /* fused_grad_adam's super-tiles and passes over the batch: 3 passes of KC=16 rows at
     * batch 45 (the last one short), 2 x 2 tiles a work-item with partial tiles at the
     * edges; fused_forward_head's 4 blocks of 3 rows a work-item (the last work-item's
     * partly past the batch) in passes of KF=32 of the 53 inputs; against one tile a
     * work-item in one pass */
    ASSERT_OK(clfit_params_parse("TR=1,TC=1,KC=1024,TF=1", "a", &a));
    ASSERT_OK(clfit_params_parse("TR=2,TC=2,KC=16,TF=4,KF=32", "b", &b));
    assert_same_bits_at(&a, &b, &d, 90, 45);
    assert_same_bits_at(&a, &b, &parts, 90, 45);
}
END_TEST

/* Several steps a launch (fused_steps, SPL > 1: one hidden layer, Adam or AdamW, no
 * dropout, on a CPU) train to the same bits, loss and count as two launches a step: at
 * SPL=4 the 6 full batches of an epoch are a launch of 4 and one of 2, then the short
 * batch takes the two launches; with L2 and AdamW, an activation that keeps its input
 * (GELU), MSE (a regression's values are verify's train_step); a model fused_steps does not run (dropout, two hidden
 * layers) the same through own_step. */
static void assert_steps_keep_bits(const clfit_model_desc *d, const clfit_optim *o)
{
    clfit_params a, b;
    clfit_params_default(CLFIT_CLASS_CPU_AVX512, &a);
    a.v[CLFIT_P_BACKEND] = CLFIT_GEMM_OWN;
    a.v[CLFIT_P_SPL] = 1;
    b = a;
    b.v[CLFIT_P_SPL] = 4;
    double sa[2], sb[2];
    clfit_model *ma = train_with_opt(&a, d, o, 90, 13, sa), *mb = train_with_opt(&b, d, o, 90, 13, sb);
    ck_assert_int_eq(ma->step, 14);
    ck_assert_int_eq(mb->step, 14);
    ck_assert_msg(memcmp(ma->params, mb->params, ma->nparams * sizeof(float)) == 0, "weights differ");
    ck_assert_msg(memcmp(ma->m, mb->m, ma->nparams * sizeof(float)) == 0, "Adam's m differs");
    ck_assert_msg(memcmp(ma->v, mb->v, ma->nparams * sizeof(float)) == 0, "Adam's v differs");
    ck_assert_msg(memcmp(sa, sb, sizeof sa) == 0, "loss %.9g / count %.9g against %.9g / %.9g", sa[0], sa[1], sb[0],
                  sb[1]);
    clfit_model_free(ma);
    clfit_model_free(mb);
}

START_TEST(test_steps_a_launch_keep_results)
{
    clfit_model_desc d = {.input = 53, .nhidden = 1, .hidden = {40}, .classes = 10};
    assert_steps_keep_bits(&d, NULL);
    clfit_optim o;
    clfit_optim_defaults(&o);
    o.kind = CLFIT_OPT_ADAMW;
    o.weight_decay = 0.02f;
    o.l2 = 0.1f;
    clfit_model_desc gelu = {.input = 53, .nhidden = 1, .hidden = {40}, .classes = 10, .act = {CLFIT_ACT_GELU}};
    assert_steps_keep_bits(&gelu, &o);
    clfit_model_desc mse = {.input = 53, .nhidden = 1, .hidden = {21}, .classes = 3, .loss = CLFIT_LOSS_MSE};
    assert_steps_keep_bits(&mse, NULL);
    clfit_model_desc drop = {.input = 53, .nhidden = 1, .hidden = {40}, .classes = 10, .dropout = {0.2f}};
    assert_steps_keep_bits(&drop, NULL);
    clfit_model_desc deep = {.input = 53, .nhidden = 2, .hidden = {40, 19}, .classes = 10};
    assert_steps_keep_bits(&deep, NULL);
    /* more work-groups than PoCL has threads: those that start late find their shares
     * taken by the others, and nobody waits for them */
    setenv("CLFIT_STEPS_GROUPS", "5", 1);
    assert_steps_keep_bits(&d, NULL);
    setenv("CLFIT_STEPS_GROUPS", "65", 1);
    clfit_params p;
    clfit_params_default(CLFIT_CLASS_CPU_AVX512, &p);
    p.v[CLFIT_P_BACKEND] = CLFIT_GEMM_OWN;
    p.v[CLFIT_P_SPL] = 4;
    ASSERT_OK(clfit_cl_set_params(tcl, &p));
    clfit_status st;
    clfit_model *m = clfit_model_new(&d, 5, &st);
    clfit_trainer *t = clfit_trainer_new(tcl, m, 8, CLFIT_GEMM_OWN, &st);
    ck_assert_msg(t != NULL, "%s", clfit_last_error());
    uint8_t img[16 * 53] = {0}, lab[16] = {0};
    clfit_dataset ds = {.count = 16, .rows = 1, .cols = 53, .images = img, .labels = lab};
    clfit_device_data dd;
    ASSERT_OK(clfit_device_data_upload(tcl, &ds, &dd));
    ck_assert_int_eq(clfit_trainer_steps(t, &dd, 0, 8, 2, NULL), CLFIT_ERR_ARG);
    ck_assert_msg(strstr(clfit_last_error(), "CLFIT_STEPS_GROUPS=\"65\"") != NULL, "%s", clfit_last_error());
    unsetenv("CLFIT_STEPS_GROUPS");
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    clfit_model_free(m);
}
END_TEST

/* The program compiled for one model family (clfit_cl_set_family: act.cl's ACT_ONLY,
 * NO_DROPOUT, LOSS_ONLY) trains to the same bits as the program for any model, on every
 * backend that runs the model (the last layer stays linear under ACT_ONLY: a first version
 * ran it through the family's ReLU, which this caught); and a trainer refuses a model
 * outside the family. */
static void assert_family_keeps_bits(const clfit_model_desc *d, clfit_gemm g)
{
    clfit_params p;
    clfit_params_default(CLFIT_CLASS_CPU_AVX512, &p);
    p.v[CLFIT_P_BACKEND] = g;
    ASSERT_OK(clfit_cl_set_family(tcl, NULL));
    clfit_model *any = train_with(&p, d, 45, 13);
    ASSERT_OK(clfit_cl_set_family(tcl, d));
    clfit_model *fam = train_with(&p, d, 45, 13);
    ASSERT_OK(clfit_cl_set_family(tcl, NULL));
    ck_assert_int_eq(any->step, 8);
    ck_assert_msg(memcmp(any->params, fam->params, any->nparams * sizeof(float)) == 0, "%s: weights differ",
                  clfit_gemm_names[g]);
    ck_assert_msg(memcmp(any->v, fam->v, any->nparams * sizeof(float)) == 0, "%s: v differs", clfit_gemm_names[g]);
    clfit_model_free(any);
    clfit_model_free(fam);
}

START_TEST(test_family_keeps_results)
{
    clfit_model_desc tut = {.input = 30, .nhidden = 1, .hidden = {24}, .classes = 10};
    clfit_model_desc gelu = {.input = 30, .nhidden = 2, .hidden = {24, 17}, .classes = 5,
                             .act = {CLFIT_ACT_GELU, CLFIT_ACT_GELU}, .dropout = {0.2f, 0.0f}};
    clfit_model_desc mse = {.input = 30, .nhidden = 1, .hidden = {24}, .classes = 3, .act = {CLFIT_ACT_TANH},
                            .loss = CLFIT_LOSS_MSE};
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_SLICE; g++) assert_family_keeps_bits(&tut, (clfit_gemm)g);
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_OWN; g++) {
        assert_family_keeps_bits(&gelu, (clfit_gemm)g);
        assert_family_keeps_bits(&mse, (clfit_gemm)g);
    }
    clfit_family f = clfit_family_of(&gelu);
    ck_assert_int_eq(f.act, CLFIT_ACT_GELU);
    ck_assert_int_eq(f.drops, 1);
    ck_assert(clfit_family_runs(f, &gelu));
    ck_assert(!clfit_family_runs(clfit_family_of(&tut), &gelu)); /* relu, no dropout */
    ck_assert(!clfit_family_runs(clfit_family_of(&tut), &mse));  /* cross-entropy */
    gelu.act[1] = CLFIT_ACT_SILU;
    ck_assert_int_eq(clfit_family_of(&gelu).act, -1); /* two activations: chosen per launch */
    /* a trainer refuses a model outside the program's family */
    ASSERT_OK(clfit_cl_set_family(tcl, &tut));
    clfit_status st;
    clfit_model *m = clfit_model_new(&mse, 5, &st);
    ck_assert_ptr_null(clfit_trainer_new(tcl, m, 8, CLFIT_GEMM_OWN, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "another model family"));
    ASSERT_OK(clfit_cl_set_family(tcl, NULL));
    clfit_model_free(m);
}
END_TEST

/* slice.cl's claim: its work-group size changes speed, never results (with the same KS
 * below it: KS splits sums); and the backend refuses a model it cannot train (it needs
 * exactly one hidden layer). */
START_TEST(test_slice_work_group_keeps_results)
{
    clfit_model_desc d = {.input = 53, .nhidden = 1, .hidden = {40}, .classes = 10};
    clfit_params a, b;
    clfit_params_default(CLFIT_CLASS_CPU_AVX512, &a);
    a.v[CLFIT_P_BACKEND] = CLFIT_GEMM_SLICE;
    b = a;
    ASSERT_OK(clfit_params_parse("HS=4,SWGS=4,KS=4", "a", &a));
    ASSERT_OK(clfit_params_parse("HS=4,SWGS=64,KS=4", "b", &b));
    assert_same_bits(&a, &b, &d);
    clfit_model_desc deep = {.input = 5, .nhidden = 2, .hidden = {4, 3}, .classes = 2};
    clfit_status st;
    clfit_model *m = clfit_model_new(&deep, 1, &st);
    ck_assert_ptr_null(clfit_trainer_new(tcl, m, 8, CLFIT_GEMM_SLICE, &st));
    ck_assert_int_eq(st, CLFIT_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "exactly one hidden layer"));
    clfit_model_free(m);
    clfit_model_desc gelu = {.input = 5, .nhidden = 1, .hidden = {4}, .classes = 2, .act = {CLFIT_ACT_GELU}};
    m = clfit_model_new(&gelu, 1, &st);
    ck_assert_ptr_null(clfit_trainer_new(tcl, m, 8, CLFIT_GEMM_SLICE, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "ReLU, no dropout"));
    clfit_model_free(m);
}
END_TEST

/* Data parallelism's halves of a step (gradient to memory, then Adam) are the step: the
 * same bits as clfit_trainer_step, for the clblast and own backends (own's fused kernels
 * store the gradient instead of applying Adam; wt is rebuilt after). */
START_TEST(test_grad_then_apply_is_a_step)
{
    clfit_model_desc d = {.input = 33, .nhidden = 1, .hidden = {24}, .classes = 10};
    int N = 45, B = 13;
    clfit_rng rng;
    clfit_rng_seed(&rng, 7);
    clfit_dataset ds = {.count = N, .rows = 1, .cols = d.input};
    ds.images = malloc((size_t)N * d.input);
    ds.labels = malloc(N);
    for (size_t i = 0; i < (size_t)N * d.input; i++) ds.images[i] = (uint8_t)clfit_rng_below(&rng, 256);
    for (int i = 0; i < N; i++) ds.labels[i] = (uint8_t)clfit_rng_below(&rng, d.classes);
    clfit_device_data dd;
    ASSERT_OK(clfit_device_data_upload(tcl, &ds, &dd));
    for (int g = CLFIT_GEMM_CLBLAST; g <= CLFIT_GEMM_OWN; g++) {
        clfit_status st;
        clfit_model *ma = clfit_model_new(&d, 5, &st), *mb = clfit_model_new(&d, 5, &st);
        clfit_trainer *ta = clfit_trainer_new(tcl, ma, B, (clfit_gemm)g, &st), *tb = clfit_trainer_new(tcl, mb, B, (clfit_gemm)g, &st);
        float *grads = malloc(ma->nparams * sizeof *grads);
        for (int e = 0; e < 2; e++)
            for (int start = 0; start < N; start += B) {
                int b = N - start < B ? N - start : B;
                ASSERT_OK(clfit_trainer_step(ta, &dd, start, b));
                ASSERT_OK(clfit_trainer_grad(tb, &dd, start, b, 0, b));
                ASSERT_OK(clfit_trainer_read_grads(tb, grads));
                ASSERT_OK(clfit_trainer_apply(tb, grads, b));
            }
        double la, lb;
        double ca, cb;
        ASSERT_OK(clfit_trainer_read_stats(ta, &la, &ca));
        ASSERT_OK(clfit_trainer_read_stats(tb, &lb, &cb));
        ASSERT_OK(clfit_trainer_download(ta, ma));
        ASSERT_OK(clfit_trainer_download(tb, mb));
        ck_assert_msg(memcmp(ma->params, mb->params, ma->nparams * sizeof(float)) == 0, "%s: weights differ", clfit_gemm_names[g]);
        ck_assert_msg(memcmp(ma->v, mb->v, ma->nparams * sizeof(float)) == 0, "%s: Adam's v differs", clfit_gemm_names[g]);
        ck_assert_int_eq(ca, cb);
        ck_assert_msg(la == lb, "%s: loss sums %.9g and %.9g (bit-identity is the claim)", clfit_gemm_names[g], la, lb);
        /* the next forward pass reads wt: a step after apply is still the same */
        ASSERT_OK(clfit_trainer_step(ta, &dd, 0, B));
        ASSERT_OK(clfit_trainer_step(tb, &dd, 0, B));
        ASSERT_OK(clfit_trainer_download(ta, ma));
        ASSERT_OK(clfit_trainer_download(tb, mb));
        ck_assert_msg(memcmp(ma->params, mb->params, ma->nparams * sizeof(float)) == 0, "%s: after a step", clfit_gemm_names[g]);
        free(grads);
        clfit_trainer_free(ta);
        clfit_trainer_free(tb);
        clfit_model_free(ma);
        clfit_model_free(mb);
    }
    clfit_device_data_free(&dd);
    free(ds.images);
    free(ds.labels);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("cl_vs_ref");
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_small_mlp);
    tcase_add_test(tc, test_deeper_mlp);
    tcase_add_test(tc, test_tutorial_shape);
    tcase_add_test(tc, test_parts);
    tcase_add_test(tc, test_tunables_keep_results);
    tcase_add_test(tc, test_steps_a_launch_keep_results);
    tcase_add_test(tc, test_slice_work_group_keeps_results);
    tcase_add_test(tc, test_family_keeps_results);
    tcase_add_test(tc, test_grad_then_apply_is_a_step);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
