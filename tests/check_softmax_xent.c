/* softmax_xent_cl (kernels/softmax_xent.cl) against softmax_xent_ref.
 * Tolerances (u = FLT_EPSILON, C classes, B rows):
 *  - dlogits: OpenCL 1.2 lets exp be 3 ulp off and division 2.5 (s7.4); a row's sum of C
 *    exponentials adds C roundings. p = exp/sum is then within (C + 8) u of the reference's
 *    p, relative, and dlogits = (p - onehot) / B within (C + 8) u / B absolute (p <= 1).
 *  - the loss sum: each row's log-sum-exp is within (C + 8) u (1 + |zmax - z_y|) of the
 *    reference's, and the device adds the rows in a tree while the reference adds them in
 *    order, which adds B u times the sum of |row losses|.
 *  - the correct count: exact (the same comparisons on the same floats).
 * Also checks that calls accumulate (loss and count add up across calls) and that the
 * evaluation mode (no gradient) leaves dlogits untouched. */
#include <math.h>

#include "clfit/ref.h"
#include "testutil.h"

static void one_case(clfit_rng *rng, int B, int C, float scale)
{
    size_t n = (size_t)B * C;
    float *z = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    uint8_t *y = malloc(B);
    fill_uniform(rng, z, n, -scale, scale);
    for (int b = 0; b < B; b++) y[b] = (uint8_t)clfit_rng_below(rng, C);
    float loss_want;
    int correct_want;
    softmax_xent_ref(want, &loss_want, &correct_want, z, y, B, C);
    double row_tol = 0;
    for (int b = 0; b < B; b++) row_tol += (C + 8) * FLT_EPSILON * (1 + 2 * scale);
    double loss_tol = row_tol + B * FLT_EPSILON * fabs(loss_want);

    cl_mem dz = upload(z, n * 4), dy = upload(y, B), dg = upload(got, n * 4);
    cl_mem dloss = upload((float[2]){0, 0}, 8), dcorrect = upload((int[1]){0}, 4);
    ASSERT_OK(softmax_xent_cl(tcl, dg, dloss, dcorrect, dz, dy, B, C));
    download(dg, got, n * 4);
    float acc[2];
    int correct;
    download(dloss, acc, 8);
    download(dcorrect, &correct, 4);
    char what[80];
    snprintf(what, sizeof what, "dlogits B=%d C=%d scale=%g", B, C, scale);
    ASSERT_CLOSE(what, got, want, n, (C + 8) * FLT_EPSILON / B, 0.0);
    snprintf(what, sizeof what, "loss sum B=%d C=%d scale=%g", B, C, scale);
    float loss_got = (float)((double)acc[0] - acc[1]);
    ASSERT_CLOSE(what, &loss_got, &loss_want, 1, loss_tol, 0.0);
    ck_assert_int_eq(correct, correct_want);

    /* a second call in evaluation mode: accumulates, writes no gradient */
    ASSERT_OK(softmax_xent_cl(tcl, NULL, dloss, dcorrect, dz, dy, B, C));
    download(dloss, acc, 8);
    download(dcorrect, &correct, 4);
    float twice = 2 * loss_want;
    loss_got = (float)((double)acc[0] - acc[1]);
    snprintf(what, sizeof what, "accumulated loss B=%d C=%d", B, C);
    ASSERT_CLOSE(what, &loss_got, &twice, 1, 2 * loss_tol, 0.0);
    ck_assert_int_eq(correct, 2 * correct_want);
    float *again = malloc(n * 4);
    download(dg, again, n * 4);
    snprintf(what, sizeof what, "dlogits untouched by eval B=%d C=%d", B, C);
    ASSERT_CLOSE(what, again, got, n, 0.0, 0.0);

    cl_mem all[] = {dz, dy, dg, dloss, dcorrect};
    for (int i = 0; i < 5; i++) clReleaseMemObject(all[i]);
    free(z); free(want); free(got); free(y); free(again);
}

START_TEST(test_softmax_xent)
{
    static const int FB[] = {1, 7, 32, 93, 1000}, FC[] = {2, 10, 33, 128};
    static const int SB[] = {1, 7, 93}, SC[] = {2, 10};
    int small = test_small();
    const int *Bs = small ? SB : FB, *Cs = small ? SC : FC;
    int nb = small ? 3 : 5, nc = small ? 2 : 4;
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < nc; j++) {
            one_case(&rng, Bs[i], Cs[j], 3.0f);
            /* large logits: exp overflows without the max subtraction */
            if (!small) one_case(&rng, Bs[i], Cs[j], 100.0f);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("softmax_xent");
    TCase *tc = tcase_create("softmax_xent");
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_add_test(tc, test_softmax_xent);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
