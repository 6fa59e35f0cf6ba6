/* relu_backward_cl (kernels/relu.cl) against relu_backward_ref.
 * Tolerance: exact. The kernel only selects dout or zero; bit-identity is the claim.
 * Inputs include exact zeros in `out`, the boundary where the mask flips. */
#include "clfit/ref.h"
#include "testutil.h"

START_TEST(test_relu_backward)
{
    static const int FULL[] = {1, 7, 32, 93, 128, 1000, 32 * 128, 93 * 1000};
    static const int SMALL[] = {1, 7, 93};
    const int *sizes = test_small() ? SMALL : FULL;
    int nsizes = test_small() ? 3 : 8;
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    for (int s = 0; s < nsizes; s++) {
        for (int in_place = 0; in_place <= 1; in_place++) {
            int n = sizes[s];
            float *out = malloc(n * 4), *dout = malloc(n * 4), *want = malloc(n * 4),
                  *got = malloc(n * 4);
            fill_uniform(&rng, out, n, -1, 1);
            for (int i = 0; i < n; i += 3) out[i] = 0.0f; /* ReLU outputs are often exactly 0 */
            fill_uniform(&rng, dout, n, -1, 1);
            relu_backward_ref(want, dout, out, n);
            cl_mem dO = upload(out, n * 4), dD = upload(dout, n * 4);
            cl_mem dI = in_place ? dD : upload(dout, n * 4);
            ASSERT_OK(relu_backward_cl(tcl, dI, dD, dO, n));
            download(dI, got, n * 4);
            char what[64];
            snprintf(what, sizeof what, "relu_backward n=%d in_place=%d", n, in_place);
            ASSERT_CLOSE(what, got, want, n, 0.0, 0.0);
            if (!in_place) clReleaseMemObject(dI);
            clReleaseMemObject(dO);
            clReleaseMemObject(dD);
            free(out); free(dout); free(want); free(got);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("relu");
    TCase *tc = tcase_create("backward");
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_add_test(tc, test_relu_backward);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
