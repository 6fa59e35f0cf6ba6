/* scale_images_cl then gather_batch_cl (kernels/gather.cl) against gather_batch_ref.
 * Tolerance: labels exact; pixels within 3 * FLT_EPSILON relative: p / 255.0f is one
 * division, which OpenCL 1.2 allows to be 2.5 ulp off unless the program is built with
 * -cl-fp32-correctly-rounded-divide-sqrt (s7.4, table 7.1), and 2.5 ulp of x is at most
 * 2.5 * FLT_EPSILON * |x|. */
#include "clfit/ref.h"
#include "testutil.h"

START_TEST(test_gather)
{
    typedef struct { int N, D, B, start; } cs;
    static const cs FULL[] = {{100, 784, 32, 0}, {100, 784, 7, 93}, {1000, 33, 93, 907},
                              {5, 1, 1, 4}, {60, 1000, 32, 17}};
    static const cs SMALL[] = {{20, 33, 7, 13}, {5, 1, 1, 4}};
    const cs *c = test_small() ? SMALL : FULL;
    int nc = test_small() ? 2 : 5;
    clfit_rng rng;
    clfit_rng_seed(&rng, test_seed());
    for (int k = 0; k < nc; k++) {
        int N = c[k].N, D = c[k].D, B = c[k].B, start = c[k].start;
        uint8_t *images = malloc((size_t)N * D), *labels = malloc(N), *ygot = malloc(B),
                *ywant = malloc(B);
        int *order = malloc(N * sizeof(int));
        float *want = malloc((size_t)B * D * 4), *got = malloc((size_t)B * D * 4);
        for (size_t i = 0; i < (size_t)N * D; i++) images[i] = (uint8_t)clfit_rng_below(&rng, 256);
        for (int i = 0; i < N; i++) labels[i] = (uint8_t)clfit_rng_below(&rng, 10);
        for (int i = 0; i < N; i++) order[i] = i;
        clfit_rng_shuffle(&rng, order, N);
        gather_batch_ref(want, ywant, images, labels, order + start, B, D);
        cl_mem di = upload(images, (size_t)N * D), dl = upload(labels, N),
               dord = upload(order, N * sizeof(int)), dx = upload(got, (size_t)B * D * 4),
               dy = upload(ygot, B), dall = upload(NULL, (size_t)N * D * 4);
        ASSERT_OK(scale_images_cl(tcl, dall, di, (size_t)N * D));
        ASSERT_OK(gather_batch_cl(tcl, dx, dy, dall, dl, dord, start, B, D));
        download(dx, got, (size_t)B * D * 4);
        download(dy, ygot, B);
        char what[80];
        snprintf(what, sizeof what, "gather N=%d D=%d B=%d start=%d", N, D, B, start);
        ASSERT_CLOSE(what, got, want, (size_t)B * D, 0.0, 3 * FLT_EPSILON);
        for (int b = 0; b < B; b++)
            ck_assert_msg(ygot[b] == ywant[b], "%s: label %d: got %d want %d", what, b, ygot[b], ywant[b]);
        cl_mem all[] = {di, dl, dord, dx, dy, dall};
        for (int i = 0; i < 6; i++) clReleaseMemObject(all[i]);
        free(images); free(labels); free(ygot); free(ywant); free(order); free(want); free(got);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gather");
    TCase *tc = tcase_create("gather");
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_add_test(tc, test_gather);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
