/* The CPU reference itself (host/ref.c, host/model.c): the PRNG's known answers,
 * Glorot-uniform initialisation, softmax cross-entropy and Adam against values computed
 * by hand (in double, with Python's math module), and a finite-difference check of the
 * whole backward pass. */
#include <math.h>
#include <string.h>

#include "clfit/model.h"
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
static void gradcheck(const clfit_model_desc *d, int B)
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
        /* hidden pre-activations: recompute layer by layer without ReLU's clamp */
        int kink = 0;
        float *h_in = malloc((size_t)B * 64 * 4), *h_out = malloc((size_t)B * 64 * 4);
        memcpy(h_in, x, (size_t)B * d->input * 4);
        for (int l = 0; l < m->nlayers - 1 && !kink; l++) {
            const clfit_layer *L = &m->layer[l];
            dense_forward_ref(h_out, h_in, m->params + L->w_off, m->params + L->b_off, B, L->in, L->out);
            for (int i = 0; i < B * L->out; i++)
                if (fabsf(h_out[i]) < 3 * h) kink = 1;
            relu_forward_ref(h_in, h_out, B * L->out);
        }
        free(h_in);
        free(h_out);
        if (!kink) break;
    }
    float *grads = malloc(m->nparams * 4), loss0, lp, lm;
    int correct;
    ASSERT_OK(clfit_ref_forward_backward(m, w, m->params, x, y, B, grads, NULL, &loss0, &correct));
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
                clfit_ref_forward_backward(m, w, m->params, x, y, B, NULL, NULL, &lp, &correct);
                m->params[i] = keep - h;
                clfit_ref_forward_backward(m, w, m->params, x, y, B, NULL, NULL, &lm, &correct);
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
    printf("gradcheck %d layers: %zu parameters, worst relative error %.2e (where > 1e-2)\n",
           m->nlayers, checked, worst);
    clfit_model_free(m);
    clfit_ref_work_free(w);
    free(x); free(y); free(grads);
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
    suite_add_tcase(s, tc);
    return run_suite(s);
}
