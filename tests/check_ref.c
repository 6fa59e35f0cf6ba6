/* The CPU reference itself (host/ref.c, host/model.c): the PRNGs' known answers (SplitMix64,
 * Philox4x32-10), Glorot-uniform initialisation, softmax cross-entropy and Adam against
 * values computed by hand (in double, with Python's math module), a finite-difference check
 * of the whole backward pass for every activation, dropout and both losses, and every
 * optimizer and schedule against PyTorch's own on the same inputs (tests/data/
 * torch_reference.txt, written by tools/torch_reference.py). */
#include <math.h>
#include <string.h>

#include "clfit/model.h"
#include "clfit/parts.h"
#include "clfit/ref.h"
#include "testutil.h"

START_TEST(test_rng_known_answers)
{
    /* SplitMix64 from state 0: the published first outputs (Vigna's splitmix64.c). */
    clfit_rng r;
    clfit_rng_seed(&r, 0);
    ck_assert_uint_eq(clfit_rng_next(&r), 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(clfit_rng_next(&r), 0x6e789e6aa1b965f4ull);
    ck_assert_uint_eq(clfit_rng_next(&r), 0x06c45d188009454full);
    /* below(n) stays below n; a shuffle is a permutation */
    int a[93], seen[93] = {0};
    for (int i = 0; i < 93; i++) a[i] = i;
    clfit_rng_shuffle(&r, a, 93);
    for (int i = 0; i < 93; i++) seen[a[i]]++;
    for (int i = 0; i < 93; i++) ck_assert_int_eq(seen[i], 1);
    for (int i = 0; i < 1000; i++) ck_assert_uint_lt(clfit_rng_below(&r, 7), 7);
}
END_TEST

START_TEST(test_glorot_init)
{
    clfit_model_desc d = {.input = 784, .nhidden = 1, .hidden = {128}, .classes = 10};
    clfit_status st;
    clfit_model *m = clfit_model_new(&d, 42, &st), *same = clfit_model_new(&d, 42, &st),
                *other = clfit_model_new(&d, 43, &st);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->nlayers, 2);
    ck_assert_int_eq(m->layer[0].in, 784);
    ck_assert_int_eq(m->layer[1].out, 10);
    /* the same seed gives bit-identical weights; another seed, others */
    ck_assert_int_eq(memcmp(m->params, same->params, m->nparams * 4), 0);
    ck_assert_int_ne(memcmp(m->params, other->params, m->nparams * 4), 0);
    for (int l = 0; l < 2; l++) {
        const clfit_layer *L = &m->layer[l];
        double limit = sqrt(6.0 / (L->in + L->out)), sum = 0, sq = 0;
        size_t n = (size_t)L->in * L->out;
        ck_assert_uint_eq(L->w_off % CLFIT_PARAM_ALIGN, 0);
        ck_assert_uint_eq(L->b_off % CLFIT_PARAM_ALIGN, 0);
        for (size_t i = 0; i < n; i++) {
            double w = m->params[L->w_off + i];
            ck_assert(fabs(w) <= limit);
            sum += w;
            sq += w * w;
        }
        /* U(-a, a) has mean 0 and variance a^2/3; with n >= 1280 draws the sample mean is
         * within 5 standard errors (5 a / sqrt(3 n)) and the variance within 10%. */
        ck_assert(fabs(sum / n) < 5 * limit / sqrt(3.0 * n));
        ck_assert(fabs(sq / n / (limit * limit / 3) - 1) < 0.1);
        for (int o = 0; o < L->out; o++) ck_assert_float_eq(m->params[L->b_off + o], 0.0f);
    }
    clfit_model_free(m);
    clfit_model_free(same);
    clfit_model_free(other);
    /* bad descriptions are refused with a message */
    clfit_model_desc bad = {.input = 784, .nhidden = 1, .hidden = {0}, .classes = 10};
    ck_assert_ptr_null(clfit_model_new(&bad, 1, &st));
    ck_assert_int_eq(st, CLFIT_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "hidden width 0"));
}
END_TEST

START_TEST(test_softmax_xent_by_hand)
{
    /* logits (1,2,3), label 2: loss = log(e+e^2+e^3) - 3; p = softmax */
    float z[3] = {1, 2, 3}, d[3], loss;
    uint8_t y = 2;
    int correct;
    softmax_xent_ref(d, &loss, &correct, z, &y, 1, 3);
    float want_d[3] = {0.09003057317038046f, 0.24472847105479767f, 0.6652409557748219f - 1};
    float want_loss = 0.40760596444438013f;
    /* a few float roundings of exp and log: 8 ulp */
    ASSERT_CLOSE("loss", &loss, &want_loss, 1, 0.0, 8 * FLT_EPSILON);
    ASSERT_CLOSE("dlogits", d, want_d, 3, 8 * FLT_EPSILON, 0.0);
    ck_assert_int_eq(correct, 1);
    /* huge logits stay finite (max subtraction); B = 2 halves the gradient */
    float big[4] = {1000, 0, 0, 1000};
    uint8_t yb[2] = {1, 1};
    float db[4];
    softmax_xent_ref(db, &loss, &correct, big, yb, 2, 2);
    float want_big = 1000.0f, want_db[4] = {0.5f, -0.5f, 0, 0};
    ASSERT_CLOSE("big loss", &loss, &want_big, 1, 0.0, FLT_EPSILON);
    ASSERT_CLOSE("big dlogits", db, want_db, 4, 1e-30, 0.0);
    ck_assert_int_eq(correct, 1);
    /* ties: the first maximum is the prediction, as numpy's argmax */
    float tie[2] = {5, 5};
    uint8_t y1 = 1;
    softmax_xent_ref(NULL, &loss, &correct, tie, &y1, 1, 2);
    ck_assert_int_eq(correct, 0);
}
END_TEST

START_TEST(test_adam_by_hand)
{
    /* Two steps of Keras' Adam (lr 1e-3, b1 .9, b2 .999, eps 1e-7) on p = (1, -0.5) with
     * gradients (0.1, -0.2) then (-0.05, 0.3); expected values computed in double from
     * the float32 values of the constants and gradients, as Keras holds them (its beta_2
     * is 0.999 rounded to float, 0.99900001287, which moves alpha by 7e-6 relative). */
    clfit_adam_cfg c = CLFIT_ADAM_KERAS;
    float p[2] = {1.0f, -0.5f}, m[2] = {0, 0}, v[2] = {0, 0};
    float g1[2] = {0.1f, -0.2f}, g2[2] = {-0.05f, 0.3f};
    float a1 = adam_alpha(c.lr, c.beta1, c.beta2, 1), want_a1 = 0.0003162256699826117f;
    ASSERT_CLOSE("alpha_1", &a1, &want_a1, 1, 0.0, FLT_EPSILON);
    adam_ref(p, m, v, g1, 2, a1, c.beta1, c.beta2, c.eps);
    float want_p1[2] = {0.9990000315744841f, -0.4990000157637433f};
    float want_m1[2] = {0.010000002533197438f, -0.020000005066394877f},
          want_v1[2] = {9.999871551986674e-06f, 3.9999486207946694e-05f};
    /* float rounding of a handful of operations on values near 1: a few ulp */
    ASSERT_CLOSE("m after step 1", m, want_m1, 2, 0.0, 4 * FLT_EPSILON);
    ASSERT_CLOSE("v after step 1", v, want_v1, 2, 0.0, 4 * FLT_EPSILON);
    ASSERT_CLOSE("p after step 1", p, want_p1, 2, 0.0, 4 * FLT_EPSILON);
    float a2 = adam_alpha(c.lr, c.beta1, c.beta2, 2), want_a2 = 0.00023531516930179558f;
    ASSERT_CLOSE("alpha_2", &a2, &want_a2, 1, 0.0, FLT_EPSILON);
    adam_ref(p, m, v, g2, 2, a2, c.beta1, c.beta2, c.eps);
    float want_p2[2] = {0.9987337020712206f, -0.4992477154432016f};
    float want_m2[2] = {0.004000000774860336f, 0.012000004261732443f},
          want_v2[2] = {1.2489839697175735e-05f, 0.00012995833567488725f};
    ASSERT_CLOSE("m after step 2", m, want_m2, 2, 0.0, 8 * FLT_EPSILON);
    ASSERT_CLOSE("v after step 2", v, want_v2, 2, 0.0, 8 * FLT_EPSILON);
    ASSERT_CLOSE("p after step 2", p, want_p2, 2, 0.0, 8 * FLT_EPSILON);
}
END_TEST

/* Central differences of the mean loss against every analytic gradient of a model. The
 * reference computes in float, so the difference quotient carries a rounding error of
 * about u |loss| / h, and a truncation error of order h^2; h = 1e-2 on inputs of order 1
 * balances the two at about 1e-4 absolute. Points where a ReLU input lies within 3h of
 * its kink make the quotient meaningless; the data are redrawn until there are none.
 * Asserted: |fd - analytic| <= 2e-3 max(|fd|, |analytic|) + 2e-4 for every parameter. */
static void gradcheck_train(const clfit_model_desc *d, int B, int train)
{
    clfit_status st;
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    clfit_model *m = NULL;
    clfit_ref_work *w = NULL;
    float *x = malloc((size_t)B * d->input * 4);
    uint8_t *y = malloc(B);
    const float h = 1e-2f;
    for (int attempt = 0;; attempt++) {
        ck_assert_msg(attempt < 100, "no kink-free draw in 100 attempts");
        clfit_model_free(m);
        clfit_ref_work_free(w);
        m = clfit_model_new(d, clfit_rng_next(&rng), &st);
        ck_assert_ptr_nonnull(m);
        w = clfit_ref_work_new(m, B, &st);
        ck_assert_ptr_nonnull(w);
        for (size_t i = 0; i < m->nparams; i++) /* non-zero biases too */
            if (m->params[i] == 0.0f) m->params[i] = 0.2f * (clfit_rng_uniform(&rng) - 0.5f);
        fill_uniform(&rng, x, (size_t)B * d->input, -1, 1);
        for (int b = 0; b < B; b++) y[b] = (uint8_t)clfit_rng_below(&rng, d->classes);
        /* hidden pre-activations, layer by layer: relu and leaky_relu have a kink at 0 */
        int kink = 0;
        float *h_in = malloc((size_t)B * 64 * 4), *h_out = malloc((size_t)B * 64 * 4);
        memcpy(h_in, x, (size_t)B * d->input * 4);
        for (int l = 0; l < m->nlayers - 1 && !kink; l++) {
            const clfit_layer *L = &m->layer[l];
            dense_forward_ref(h_out, h_in, m->params + L->w_off, m->params + L->b_off, B, L->in, L->out);
            int kinked = d->act[l] == CLFIT_ACT_RELU || d->act[l] == CLFIT_ACT_LEAKY_RELU;
            for (int i = 0; i < B * L->out && kinked; i++)
                if (fabsf(h_out[i]) < 3 * h) kink = 1;
            act_forward_ref(d->act[l], h_in, h_out, B * L->out);
            if (train && d->dropout[l] > 0) dropout_forward_ref(h_in, B, L->out, d->dropout[l], m->dropout_seed, l, 7, 0);
        }
        free(h_in);
        free(h_out);
        if (!kink) break;
    }
    float *grads = malloc(m->nparams * 4), loss0, lp, lm;
    int correct;
    /* in training, the dropout masks of step 7: fixed, so the loss is a smooth function */
#define LOSS_OF(g, lossp) (train ? clfit_ref_forward_backward_train(m, w, m->params, x, y, B, 7, 0, g, lossp, &correct) \
                                 : clfit_ref_forward_backward(m, w, m->params, x, y, B, g, NULL, lossp, &correct))
    ASSERT_OK(LOSS_OF(grads, &loss0));
    double worst = 0;
    size_t checked = 0;
    for (int l = 0; l < m->nlayers; l++) {
        const clfit_layer *L = &m->layer[l];
        size_t ranges[2][2] = {{L->w_off, (size_t)L->in * L->out}, {L->b_off, (size_t)L->out}};
        for (int r = 0; r < 2; r++) {
            for (size_t k = 0; k < ranges[r][1]; k++) {
                size_t i = ranges[r][0] + k;
                float keep = m->params[i];
                m->params[i] = keep + h;
                LOSS_OF(NULL, &lp);
                m->params[i] = keep - h;
                LOSS_OF(NULL, &lm);
                m->params[i] = keep;
                double fd = ((double)lp - lm) / B / (2.0 * h), an = grads[i];
                double err = fabs(fd - an), scale = fmax(fabs(fd), fabs(an));
                ck_assert_msg(err <= 2e-3 * scale + 2e-4,
                              "layer %d %s[%zu]: finite difference %.6g, analytic %.6g (seed %llu)",
                              l, r ? "bias" : "weight", k, fd, an, (unsigned long long)test_seed());
                if (scale > 1e-2 && err / scale > worst) worst = err / scale;
                checked++;
            }
        }
    }
    ck_assert_uint_gt(checked, 0);
    char acts[128];
    int n = 0;
    for (int l = 0; l < d->nhidden; l++) n += snprintf(acts + n, sizeof acts - n, "%s%d", l ? "," : "", (int)d->act[l]);
    printf("gradcheck %d layers (activations %s, loss %d%s): %zu parameters, worst relative error %.2e (where > 1e-2)\n",
           m->nlayers, acts, (int)d->loss, train ? ", dropout" : "", checked, worst);
#undef LOSS_OF
    clfit_model_free(m);
    clfit_ref_work_free(w);
    free(x); free(y); free(grads);
}

static void gradcheck(const clfit_model_desc *d, int B)
{
    gradcheck_train(d, B, 0);
}

START_TEST(test_gradcheck_two_layers)
{
    clfit_model_desc d = {.input = 7, .nhidden = 1, .hidden = {5}, .classes = 4};
    gradcheck(&d, 3);
}
END_TEST

START_TEST(test_gradcheck_three_layers)
{
    clfit_model_desc d = {.input = 6, .nhidden = 2, .hidden = {5, 4}, .classes = 3};
    gradcheck(&d, 2);
}
END_TEST

/* Every activation, in both positions, each loss, and dropout (masks fixed by the step). */
START_TEST(test_gradcheck_parts)
{
    for (int a = 0; a < CLFIT_ACT_COUNT; a++) {
        clfit_model_desc d = {.input = 6, .nhidden = 2, .hidden = {5, 4}, .classes = 3,
                              .act = {(clfit_act)a, (clfit_act)((a + 3) % CLFIT_ACT_COUNT)}, .loss = (clfit_loss)(a % 2)};
        gradcheck(&d, 3);
    }
    clfit_model_desc drop = {.input = 6, .nhidden = 2, .hidden = {9, 8}, .classes = 3,
                             .act = {CLFIT_ACT_GELU, CLFIT_ACT_TANH}, .dropout = {0.3f, 0.5f}};
    gradcheck_train(&drop, 4, 1);
    drop.loss = CLFIT_LOSS_MSE;
    drop.act[1] = CLFIT_ACT_RELU;
    gradcheck_train(&drop, 4, 1);
}
END_TEST

/* Random123's known answers for Philox4x32-10 (kat_vectors), and the dropout mask: every
 * element kept or dropped by u >= rate, kept ones scaled by 1/(1-rate), the dropped share
 * within 5 standard errors of the rate, and another step or layer another mask. */
START_TEST(test_philox_and_dropout)
{
    uint32_t a[4] = {0, 0, 0, 0};
    clfit_philox4x32_10(a, 0, 0);
    ck_assert_uint_eq(a[0], 0x6627e8d5u); ck_assert_uint_eq(a[1], 0xe169c58du);
    ck_assert_uint_eq(a[2], 0xbc57ac4cu); ck_assert_uint_eq(a[3], 0x9b00dbd8u);
    uint32_t b[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    clfit_philox4x32_10(b, 0xffffffffu, 0xffffffffu);
    ck_assert_uint_eq(b[0], 0x408f276du); ck_assert_uint_eq(b[1], 0x41c83b0eu);
    ck_assert_uint_eq(b[2], 0xa20bc7c6u); ck_assert_uint_eq(b[3], 0x6d5451fdu);
    uint32_t c[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    clfit_philox4x32_10(c, 0xa4093822u, 0x299f31d0u);
    ck_assert_uint_eq(c[0], 0xd16cfe09u); ck_assert_uint_eq(c[1], 0x94fdccebu);
    ck_assert_uint_eq(c[2], 0x5001e420u); ck_assert_uint_eq(c[3], 0x24126ea1u);

    int B = 100, H = 1000;
    float rate = 0.3f, scale = (float)(1.0 / 0.7);
    float *x = malloc((size_t)B * H * 4), *y = malloc((size_t)B * H * 4);
    for (int i = 0; i < B * H; i++) x[i] = y[i] = 1.0f + (float)(i % 7);
    dropout_forward_ref(x, B, H, rate, 42, 1, 5, 0);
    long dropped = 0, differ = 0;
    for (int i = 0; i < B * H; i++) {
        float u = dropout_uniform_ref(42, 1, 5, i / H, i % H, H);
        ck_assert(u >= 0.0f && u < 1.0f);
        if (u < rate) { ck_assert_float_eq(x[i], 0.0f); dropped++; }
        else ck_assert_float_eq(x[i], (1.0f + (float)(i % 7)) * scale);
    }
    double n = (double)B * H, sd = sqrt(n * rate * (1 - rate));
    ck_assert_msg(fabs(dropped - n * rate) < 5 * sd, "%ld of %.0f dropped at rate %g", dropped, n, (double)rate);
    dropout_forward_ref(y, B, H, rate, 42, 1, 6, 0);
    for (int i = 0; i < B * H; i++) differ += (x[i] == 0.0f) != (y[i] == 0.0f);
    ck_assert_int_gt(differ, (long)(n * 0.3)); /* independent masks differ on 2 p (1-p) = 42% */
    free(x);
    free(y);
}
END_TEST

/* ---- against PyTorch (tests/data/torch_reference.txt) ---- */

static char *torch_file(void)
{
    static char buf[1 << 17];
    read_text_file(CLFIT_SOURCE_DIR "/tests/data/torch_reference.txt", buf, sizeof buf);
    return buf;
}

/* The floats after `tag` ("params 14", ...): skips tag's words, then reads n floats. */
static const char *read_floats(const char *p, float *out, int n)
{
    char *end;
    for (int i = 0; i < n; i++) {
        out[i] = strtof(p, &end);
        ck_assert_msg(end != p, "tests/data/torch_reference.txt: a number short");
        p = end;
    }
    return p;
}

/* Each optimizer case for 20 steps from the same start with the same gradients, every
 * parameter after every step compared with PyTorch's, rtol 1e-5 + atol 1e-6: the same
 * formulas, rounded differently (PyTorch's momentum update is a multiply then an add where
 * clfit has one fma, its clipping norm a norm of norms: an ulp or two a step; measured: see
 * the printed maximum). Adam's eps sits where Keras puts it (test_adam_by_hand), PyTorch
 * elsewhere: the fixture's Adam cases use eps 1e-10, where that does not show (see
 * tools/torch_reference.py). */
START_TEST(test_optim_matches_torch)
{
    char *f = torch_file();
    enum { N = 14, STEPS = 20 };
    float p0[N], g[STEPS][N], want[STEPS][N];
    const char *p = strstr(f, "\nparams 14 ");
    ck_assert_ptr_nonnull(p);
    p = read_floats(p + 11, p0, N);
    p = strstr(p, "grads 20 14 ");
    ck_assert_ptr_nonnull(p);
    p = read_floats(p + 12, &g[0][0], STEPS * N);
    clfit_model_desc d = {.input = 3, .nhidden = 1, .hidden = {2}, .classes = 2};
    int cases = 0;
    while ((p = strstr(p, "\ncase "))) {
        char name[32], kind[16];
        double lr, b1, b2, eps, mom, wd, l2, clip;
        int nest, B, used;
        ck_assert_int_eq(sscanf(p, "\ncase %31s %15s %lf %lf %lf %lf %lf %d %lf %lf %lf %d%n", name, kind, &lr, &b1, &b2, &eps,
                                &mom, &nest, &wd, &l2, &clip, &B, &used), 12);
        p += used;
        p = strstr(p, "after ");
        ck_assert_ptr_nonnull(p);
        p = read_floats(p + 6, &want[0][0], STEPS * N);
        clfit_status st;
        clfit_model *m = clfit_model_new(&d, 1, &st);
        ck_assert_ptr_nonnull(m);
        clfit_optim *o = &m->opt;
        o->kind = (clfit_opt_kind)clfit_part_find(clfit_opt_names, CLFIT_OPT_COUNT, kind);
        ck_assert_int_ge(o->kind, 0);
        m->adam.lr = (float)lr;
        if (o->kind == CLFIT_OPT_RMSPROP) o->rho = (float)b2;
        else { m->adam.beta1 = (float)b1; m->adam.beta2 = (float)b2; }
        m->adam.eps = (float)eps;
        o->momentum = (float)mom;
        o->nesterov = nest;
        o->weight_decay = (float)wd;
        o->l2 = (float)l2;
        o->clipnorm = (float)clip;
        /* the 14 floats in clfit's layout: w0 (6), b0 (2), w1 (4), b1 (2) */
        size_t at[N];
        int k = 0;
        for (int l = 0; l < 2; l++) {
            for (int i = 0; i < m->layer[l].in * m->layer[l].out; i++) at[k++] = m->layer[l].w_off + i;
            for (int i = 0; i < m->layer[l].out; i++) at[k++] = m->layer[l].b_off + i;
        }
        memset(m->params, 0, m->nparams * 4);
        for (int i = 0; i < N; i++) m->params[at[i]] = p0[i];
        float *grads = calloc(m->nparams, 4), got[N];
        double worst = 0;
        for (int s = 0; s < STEPS; s++) {
            memset(grads, 0, m->nparams * 4);
            for (int i = 0; i < N; i++) grads[at[i]] = g[s][i];
            m->step++;
            clfit_ref_optim_step(m, grads, m->adam.lr, B);
            for (int i = 0; i < N; i++) {
                got[i] = m->params[at[i]];
                worst = fmax(worst, fabs((double)got[i] - want[s][i]));
            }
            char what[64];
            snprintf(what, sizeof what, "%s after step %d", name, s + 1);
            ASSERT_CLOSE(what, got, want[s], N, 1e-6, 1e-5);
        }
        printf("against PyTorch: %-20s 20 steps, max |difference| %.2g\n", name, worst);
        free(grads);
        clfit_model_free(m);
        cases++;
    }
    ck_assert_int_eq(cases, 10);
}
END_TEST

/* The schedules' rates step by step (epoch by epoch for plateau), against PyTorch's
 * schedulers (which compute them recursively in float: rtol 1e-5). */
START_TEST(test_schedules_match_torch)
{
    char *f = torch_file();
    clfit_optim o;
    float want[64], got[64];
    /* cosine: SequentialLR(LinearLR, CosineAnnealingLR) */
    const char *p = strstr(f, "schedule cosine ");
    ck_assert_ptr_nonnull(p);
    double lr, warm, gamma, factor;
    int E, per, used, patience;
    ck_assert_int_eq(sscanf(p, "schedule cosine %lf %d %d %lf%n", &lr, &E, &per, &warm, &used), 4);
    read_floats(p + used, want, E * per);
    clfit_optim_defaults(&o);
    o.sched = CLFIT_SCHED_COSINE;
    o.warmup_epochs = (float)warm;
    o.sched_epochs = E;
    o.sched_steps = per;
    for (int s = 0; s < E * per; s++) got[s] = clfit_optim_lr(&o, (float)lr, s / per + 1, s + 1, per);
    ASSERT_CLOSE("cosine with warm-up", got, want, E * per, 1e-5, 1e-9);
    /* exponential, per epoch */
    p = strstr(f, "schedule exponential ");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p, "schedule exponential %lf %d %d %lf%n", &lr, &E, &per, &gamma, &used), 4);
    read_floats(p + used, want, E * per);
    clfit_optim_defaults(&o);
    o.sched = CLFIT_SCHED_EXPONENTIAL;
    o.gamma = (float)gamma;
    for (int s = 0; s < E * per; s++) got[s] = clfit_optim_lr(&o, (float)lr, s / per + 1, s + 1, per);
    ASSERT_CLOSE("exponential", got, want, E * per, 1e-5, 1e-9);
    /* plateau: the monitored losses, then the rate of each epoch */
    p = strstr(f, "schedule plateau ");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p, "schedule plateau %lf %d %d %lf %d%n", &lr, &E, &per, &factor, &patience, &used), 5);
    float mon[64];
    p = read_floats(p + used, mon, E);
    read_floats(p, want, E);
    clfit_optim_defaults(&o);
    o.sched = CLFIT_SCHED_PLATEAU;
    o.factor = (float)factor;
    o.patience = patience;
    for (int e = 0; e < E; e++) {
        got[e] = clfit_optim_lr(&o, (float)lr, e + 1, e + 1, 1);
        clfit_optim_epoch_end(&o, (float)lr, mon[e]);
    }
    ASSERT_CLOSE("reduce on plateau", got, want, E, 1e-5, 1e-9);
    ck_assert_float_lt(got[E - 1], (float)lr); /* it did reduce */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref");
    TCase *tc = tcase_create("init");
    tcase_add_test(tc, test_rng_known_answers);
    tcase_add_test(tc, test_glorot_init);
    suite_add_tcase(s, tc);
    tc = tcase_create("by_hand");
    tcase_add_test(tc, test_softmax_xent_by_hand);
    tcase_add_test(tc, test_adam_by_hand);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradcheck");
    tcase_add_test(tc, test_gradcheck_two_layers);
    tcase_add_test(tc, test_gradcheck_three_layers);
    tcase_add_test(tc, test_gradcheck_parts);
    suite_add_tcase(s, tc);
    tc = tcase_create("parts");
    /* 300,000 Philox draws and PyTorch's 20-step replays: 1.5 s in the sanitizer build
     * alone, past Check's default 4 s when ctest -j2 shares the 2 cores with check_tune */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_philox_and_dropout);
    tcase_add_test(tc, test_optim_matches_torch);
    tcase_add_test(tc, test_schedules_match_torch);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
