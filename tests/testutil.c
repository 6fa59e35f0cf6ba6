/* Shared test helpers (see testutil.h). */
#include "testutil.h"

#include <time.h>
#include <unistd.h>

clfit_cl *tcl;

uint64_t test_seed(void)
{
    static uint64_t seed;
    static int have;
    if (!have) {
        const char *env = getenv("CLFIT_TEST_SEED");
        seed = env && *env ? strtoull(env, NULL, 10)
                           : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
        have = 1;
    }
    return seed;
}

void fill_uniform(clfit_rng *r, float *a, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * clfit_rng_uniform(r);
}

int test_small(void)
{
    const char *e = getenv("CLFIT_TEST_SMALL");
    return e && *e && *e != '0';
}

void cl_setup(void)
{
    clfit_status st;
    tcl = clfit_cl_open(NULL, &st);
    ck_assert_msg(tcl != NULL, "clfit_cl_open: %s: %s", clfit_status_name(st), clfit_last_error());
}

void cl_teardown(void)
{
    clfit_cl_close(tcl);
    tcl = NULL;
}

cl_mem upload(const void *host, size_t bytes)
{
    clfit_status st;
    cl_mem b = clfit_cl_buffer(tcl, bytes, host, &st);
    ck_assert_msg(b != NULL, "clfit_cl_buffer: %s", clfit_last_error());
    return b;
}

void download(cl_mem buf, void *host, size_t bytes)
{
    ASSERT_OK(clfit_cl_read(tcl, buf, 0, bytes, host));
}

int run_suite(Suite *s)
{
    test_seed(); /* fixed in the parent, so every forked test uses the same seed */
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (failed) fprintf(stderr, "(random inputs used seed %llu: rerun with CLFIT_TEST_SEED=%llu)\n",
                        (unsigned long long)test_seed(), (unsigned long long)test_seed());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
