/* adam_cl (kernels/adam.cl) against adam_ref, over several steps.
 * Tolerances: m and v exact: the kernel is built with FP_CONTRACT OFF and uses only
 * multiplies and adds, which OpenCL rounds correctly, in the reference's order, so the
 * claim is bit-identity. The parameters: sqrt may be 3 ulp off and the division 2.5 ulp
 * (OpenCL 1.2 s7.4), so each step's update alpha m / (sqrt(v) + eps) is within 8 u of the
 * reference's, relative; over S steps the parameter differs by at most
 * S (8 u max|update| + u |param|). */
#include <math.h>

#include "clfit/ref.h"
#include "testutil.h"

START_TEST(test_adam)
{
    static const int FULL[] = {1, 7, 93, 1000, 101770};
    static const int SMALL[] = {1, 7, 93};
    const int *sizes = test_small() ? SMALL : FULL;
    int nsizes = test_small() ? 3 : 5, steps = 3;
    clfit_adam_cfg cfg = CLFIT_ADAM_KERAS;
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    for (int s = 0; s < nsizes; s++) {
        int n = sizes[s];
        size_t bytes = (size_t)n * 4;
        float *p = malloc(bytes), *m = calloc(n, 4), *v = calloc(n, 4), *g = malloc(bytes);
        float *got = malloc(bytes);
        fill_uniform(&rng, p, n, -1, 1);
        cl_mem dp = upload(p, bytes), dm = upload(m, bytes), dv = upload(v, bytes);
        cl_mem dg = upload(p, bytes);
        double max_update = 0;
        for (int t = 1; t <= steps; t++) {
            fill_uniform(&rng, g, n, -1e-2f, 1e-2f);
            g[0] = 0.0f; /* a zero gradient, as in the padding */
            ASSERT_OK(clfit_cl_write(tcl, dg, 0, bytes, g));
            float alpha = adam_alpha(cfg.lr, cfg.beta1, cfg.beta2, t);
            float *before = malloc(bytes);
            for (int i = 0; i < n; i++) before[i] = p[i];
            adam_ref(p, m, v, g, n, alpha, cfg.beta1, cfg.beta2, cfg.eps);
            for (int i = 0; i < n; i++)
                if (fabs(p[i] - before[i]) > max_update) max_update = fabs(p[i] - before[i]);
            free(before);
            ASSERT_OK(adam_cl(tcl, dp, dm, dv, dg, n, alpha, &cfg));
        }
        char what[64];
        download(dm, got, bytes);
        snprintf(what, sizeof what, "adam m n=%d", n);
        ASSERT_CLOSE(what, got, m, n, 0.0, 0.0);
        download(dv, got, bytes);
        snprintf(what, sizeof what, "adam v n=%d", n);
        ASSERT_CLOSE(what, got, v, n, 0.0, 0.0);
        download(dp, got, bytes);
        snprintf(what, sizeof what, "adam param n=%d", n);
        ASSERT_CLOSE(what, got, p, n, steps * 8 * FLT_EPSILON * max_update, steps * FLT_EPSILON);
        clReleaseMemObject(dp); clReleaseMemObject(dm); clReleaseMemObject(dv); clReleaseMemObject(dg);
        free(p); free(m); free(v); free(g); free(got);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adam");
    TCase *tc = tcase_create("adam");
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_add_test(tc, test_adam);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
