/* Dense layer on OpenCL (host/dense.c, kernels/dense.cl) against the CPU reference
 * (dense_forward_ref, relu_forward_ref, dense_backward_ref).
 * Tolerances:
 *  - dense_bias_act: exact. One IEEE add (correctly rounded on every OpenCL device) and a
 *    comparison with zero; the reference does the same operations, so the claim is
 *    bit-identity.
 *  - dense_bias_grad: exact. Both sum the rows in the same order 0..B-1 with plain float
 *    adds, so again bit-identity.
 *  - the GEMMs (CLBlast): any summation order of a length-K dot product is within
 *    gamma_K * sum_k |a_k||b_k| of the exact value (Higham, "Accuracy and Stability of
 *    Numerical Algorithms", 2nd ed., eq. 3.5; gamma_K = K u / (1 - K u), u = 2^-24). The
 *    reference and the device each are, so they differ by at most twice that; we use the
 *    largest such bound over the output (plus one more rounding for the bias). */
#include <math.h>
#include <string.h>

#include "clfit/ref.h"
#include "testutil.h"

typedef struct { int B, IN, OUT; } shape;
static const shape FULL[] = {
    {1, 784, 128}, {7, 33, 10}, {32, 784, 128}, {93, 1000, 33},
    {32, 128, 10}, {7, 1, 1}, {93, 10, 1000}, {1, 128, 10},
};
static const shape SMALL[] = {{1, 7, 3}, {7, 33, 10}, {3, 1, 5}};

static const shape *shapes(int *n)
{
    if (test_small()) { *n = sizeof SMALL / sizeof *SMALL; return SMALL; }
    *n = sizeof FULL / sizeof *FULL;
    return FULL;
}

/* The bound above: 2 gamma_{K+1} max_ij (sum_k |a_ik||b_kj| + |c_j|), A (M,K), B (K,N),
 * c (N) or NULL; tA/tB say whether A or B is stored transposed. */
static double gemm_tol(const float *A, const float *Bm, const float *c, int M, int N, int K,
                       int tA, int tB)
{
    double u = ldexp(1.0, -24), gamma = (K + 1) * u / (1 - (K + 1) * u), worst = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = c ? fabs(c[j]) : 0.0;
            for (int k = 0; k < K; k++) {
                double a = tA ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                double b = tB ? Bm[(size_t)j * K + k] : Bm[(size_t)k * N + j];
                s += fabs(a * b);
            }
            if (s > worst) worst = s;
        }
    return 2 * gamma * worst;
}

/* A layer whose weight and bias sit at awkward offsets inside a larger parameter array. */
static clfit_layer layer_at(int IN, int OUT, size_t *nparams)
{
    clfit_layer L = {.in = IN, .out = OUT, .w_off = 5};
    L.b_off = L.w_off + (size_t)IN * OUT + 3;
    *nparams = L.b_off + OUT + 2;
    return L;
}

START_TEST(test_bias_act)
{
    int n;
    const shape *sh = shapes(&n);
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    for (int s = 0; s < n; s++) {
        for (int relu = 0; relu <= 1; relu++) {
            int B = sh[s].B, OUT = sh[s].OUT;
            size_t np, nout = (size_t)B * OUT;
            clfit_layer L = layer_at(1, OUT, &np);
            float *z = malloc(nout * 4), *params = malloc(np * 4), *want = malloc(nout * 4),
                  *got = malloc(nout * 4);
            fill_uniform(&rng, z, nout, -2, 2);
            fill_uniform(&rng, params, np, -1, 1);
            for (size_t i = 0; i < nout; i++) want[i] = z[i] + params[L.b_off + i % OUT];
            if (relu) relu_forward_ref(want, want, (int)nout);
            cl_mem dz = upload(z, nout * 4), dp = upload(params, np * 4);
            ASSERT_OK(dense_bias_act_cl(tcl, dz, dp, L.b_off, B, OUT, relu));
            download(dz, got, nout * 4);
            char what[64];
            snprintf(what, sizeof what, "bias_act B=%d OUT=%d relu=%d", B, OUT, relu);
            ASSERT_CLOSE(what, got, want, nout, 0.0, 0.0);
            clReleaseMemObject(dz);
            clReleaseMemObject(dp);
            free(z); free(params); free(want); free(got);
        }
    }
}
END_TEST

START_TEST(test_bias_grad)
{
    int n;
    const shape *sh = shapes(&n);
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed() + 1);
    for (int s = 0; s < n; s++) {
        int B = sh[s].B, OUT = sh[s].OUT;
        size_t np, nout = (size_t)B * OUT;
        clfit_layer L = layer_at(1, OUT, &np);
        float *dout = malloc(nout * 4), *got = malloc(np * 4), *want = calloc(np, 4);
        float *unused = malloc(nout * 4);
        fill_uniform(&rng, dout, nout, -1, 1);
        /* the reference's dbias, from dense_backward_ref with a 1-wide input */
        float *ones = malloc((size_t)B * 4), *dw = malloc((size_t)OUT * 4);
        for (int b = 0; b < B; b++) ones[b] = 1.0f;
        dense_backward_ref(NULL, dw, want + L.b_off, dout, ones, unused, B, 1, OUT);
        for (size_t i = 0; i < np; i++) got[i] = want[i]; /* other entries must stay */
        cl_mem dd = upload(dout, nout * 4), dg = upload(got, np * 4);
        ASSERT_OK(dense_bias_grad_cl(tcl, dg, L.b_off, dd, B, OUT));
        download(dg, got, np * 4);
        char what[64];
        snprintf(what, sizeof what, "bias_grad B=%d OUT=%d", B, OUT);
        ASSERT_CLOSE(what, got, want, np, 0.0, 0.0);
        clReleaseMemObject(dd);
        clReleaseMemObject(dg);
        free(dout); free(got); free(want); free(unused); free(ones); free(dw);
    }
}
END_TEST

START_TEST(test_forward)
{
    int n;
    const shape *sh = shapes(&n);
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed() + 2);
    for (int s = 0; s < n; s++) {
        for (int relu = 0; relu <= 1; relu++) {
            int B = sh[s].B, IN = sh[s].IN, OUT = sh[s].OUT;
            size_t np, nin = (size_t)B * IN, nout = (size_t)B * OUT;
            clfit_layer L = layer_at(IN, OUT, &np);
            float *x = malloc(nin * 4), *params = malloc(np * 4), *want = malloc(nout * 4),
                  *got = malloc(nout * 4);
            fill_uniform(&rng, x, nin, 0, 1);
            fill_uniform(&rng, params, np, -0.5f, 0.5f);
            dense_forward_ref(want, x, params + L.w_off, params + L.b_off, B, IN, OUT);
            if (relu) relu_forward_ref(want, want, (int)nout);
            cl_mem dx = upload(x, nin * 4), dp = upload(params, np * 4);
            cl_mem dout = upload(got, nout * 4);
            ASSERT_OK(dense_forward_cl(tcl, dout, dx, dp, &L, B, relu));
            download(dout, got, nout * 4);
            double tol = gemm_tol(x, params + L.w_off, params + L.b_off, B, OUT, IN, 0, 0);
            char what[64];
            snprintf(what, sizeof what, "dense forward B=%d IN=%d OUT=%d relu=%d", B, IN, OUT, relu);
            ASSERT_CLOSE(what, got, want, nout, tol, 0.0);
            clReleaseMemObject(dx);
            clReleaseMemObject(dp);
            clReleaseMemObject(dout);
            free(x); free(params); free(want); free(got);
        }
    }
}
END_TEST

START_TEST(test_backward)
{
    int n;
    const shape *sh = shapes(&n);
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed() + 3);
    for (int s = 0; s < n; s++) {
        int B = sh[s].B, IN = sh[s].IN, OUT = sh[s].OUT;
        size_t np, nin = (size_t)B * IN, nout = (size_t)B * OUT;
        clfit_layer L = layer_at(IN, OUT, &np);
        float *x = malloc(nin * 4), *params = malloc(np * 4), *dout = malloc(nout * 4);
        float *want_g = calloc(np, 4), *got_g = calloc(np, 4);
        float *want_dx = malloc(nin * 4), *got_dx = malloc(nin * 4);
        fill_uniform(&rng, x, nin, 0, 1);
        fill_uniform(&rng, params, np, -0.5f, 0.5f);
        fill_uniform(&rng, dout, nout, -0.1f, 0.1f);
        dense_backward_ref(want_dx, want_g + L.w_off, want_g + L.b_off, dout, x,
                           params + L.w_off, B, IN, OUT);
        cl_mem dx = upload(x, nin * 4), dp = upload(params, np * 4), dd = upload(dout, nout * 4);
        cl_mem dg = upload(got_g, np * 4), ddx = upload(got_dx, nin * 4);
        ASSERT_OK(dense_backward_cl(tcl, ddx, dg, dd, dx, dp, &L, B));
        download(dg, got_g, np * 4);
        download(ddx, got_dx, nin * 4);
        char what[80];
        snprintf(what, sizeof what, "dense dW B=%d IN=%d OUT=%d", B, IN, OUT);
        ASSERT_CLOSE(what, got_g + L.w_off, want_g + L.w_off, (size_t)IN * OUT,
                     gemm_tol(x, dout, NULL, IN, OUT, B, 1, 0), 0.0);
        snprintf(what, sizeof what, "dense db B=%d OUT=%d", B, OUT);
        ASSERT_CLOSE(what, got_g + L.b_off, want_g + L.b_off, (size_t)OUT, 0.0, 0.0);
        snprintf(what, sizeof what, "dense dX B=%d IN=%d OUT=%d", B, IN, OUT);
        ASSERT_CLOSE(what, got_dx, want_dx, nin,
                     gemm_tol(dout, params + L.w_off, NULL, B, IN, OUT, 0, 1), 0.0);
        /* the rest of the gradient array (other tensors, padding) is left alone */
        ck_assert_float_eq(got_g[0], 0.0f);
        ck_assert_float_eq(got_g[np - 1], 0.0f);
        clReleaseMemObject(dx); clReleaseMemObject(dp); clReleaseMemObject(dd);
        clReleaseMemObject(dg); clReleaseMemObject(ddx);
        free(x); free(params); free(dout); free(want_g); free(got_g); free(want_dx); free(got_dx);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dense");
    TCase *tc = tcase_create("bias_act");
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_add_test(tc, test_bias_act);
    tcase_add_test(tc, test_bias_grad);
    suite_add_tcase(s, tc);
    tc = tcase_create("gemm");           /* CLBlast: skipped under oclgrind (tag) */
    tcase_set_tags(tc, "clblast");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_add_test(tc, test_forward);
    tcase_add_test(tc, test_backward);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
