/* The profiler (host/profile.c) on devices whose timestamps fall short, simulated by
 * replacing how the profiler reads them: marker timestamps that read 0 (reported on NVIDIA
 * drivers) leave each CLBlast call timed from its last kernel and are reported; commands
 * with no timestamps at all are left out and counted; neither stops anything. And the
 * queue has profiling enabled only while a profiler is attached. */
#include <string.h>

#include "clfit/train.h"
#include "internal.h"
#include "testutil.h"

static int queue_profiles(clfit_cl *cl)
{
    cl_command_queue_properties props = 0;
    ck_assert_int_eq(clGetCommandQueueInfo(cl->queue, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL), CL_SUCCESS);
    return (props & CL_QUEUE_PROFILING_ENABLE) != 0;
}

START_TEST(test_queue_profiles_only_when_attached)
{
    ck_assert(!queue_profiles(tcl));
    clfit_profiler *p = clfit_profiler_new();
    ASSERT_OK(clfit_cl_set_profiler(tcl, p));
    ck_assert(queue_profiles(tcl));
    ASSERT_OK(clfit_cl_set_profiler(tcl, NULL));
    ck_assert(!queue_profiles(tcl));
    clfit_profiler_free(p);
}
END_TEST

static cl_int zero_markers(cl_event ev, cl_profiling_info what, cl_ulong *ns)
{
    cl_command_type type = 0;
    clGetEventInfo(ev, CL_EVENT_COMMAND_TYPE, sizeof type, &type, NULL);
    if (type == CL_COMMAND_MARKER) {
        *ns = 0;
        return CL_SUCCESS;
    }
    return clGetEventProfilingInfo(ev, what, sizeof *ns, ns, NULL);
}

static cl_int no_timestamps(cl_event ev, cl_profiling_info what, cl_ulong *ns)
{
    (void)ev;
    (void)what;
    (void)ns;
    return CL_PROFILING_INFO_NOT_AVAILABLE;
}

/* A few CLBlast-backend steps of a small model with p attached. */
static void profiled_steps(clfit_profiler *p, clfit_gemm gemm)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {16}, .classes = 10};
    clfit_status st;
    clfit_model *m = clfit_model_new(&d, 7, &st);
    ck_assert_ptr_nonnull(m);
    clfit_dataset ds = {.count = 32, .rows = 4, .cols = 5};
    ds.images = calloc(32 * 20, 1);
    ds.labels = calloc(32, 1);
    ASSERT_OK(clfit_cl_set_profiler(tcl, p));
    clfit_trainer *t = clfit_trainer_new(tcl, m, 16, gemm, &st);
    ck_assert_ptr_nonnull(t);
    clfit_device_data dd;
    ASSERT_OK(clfit_device_data_upload(tcl, &ds, &dd));
    for (int s = 0; s < 4; s++) ASSERT_OK(clfit_trainer_step(t, &dd, (s % 2) * 16, 16));
    ASSERT_OK(clfit_trainer_download(t, m)); /* waits */
    ASSERT_OK(clfit_profiler_collect(tcl));
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    ASSERT_OK(clfit_cl_set_profiler(tcl, NULL));
    clfit_model_free(m);
    free(ds.images);
    free(ds.labels);
}

/* The table and notes as text. */
static char *printed(const clfit_profiler *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    clfit_profiler_print(p, f);
    fclose(f);
    return buf;
}

START_TEST(test_zero_markers)
{
    clfit_profiler *p = clfit_profiler_new();
    clfit_profiler_set_timestamp_reader(p, zero_markers);
    profiled_steps(p, CLFIT_GEMM_CLBLAST);
    clfit_profile_row *rows;
    int n;
    double busy, idle, span;
    ASSERT_OK(clfit_profiler_rows(p, &rows, &n, &busy, &idle, &span));
    int gemms = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_msg(rows[i].calls > 0 && rows[i].mean_us >= 0 && rows[i].max_us < 60e6, "%s: %ld calls, %g us",
                      rows[i].name, rows[i].calls, rows[i].mean_us);
        gemms += strncmp(rows[i].name, "CLBlastSgemm", 12) == 0;
    }
    ck_assert_int_ge(gemms, 3); /* the CLBlast calls are still timed */
    free(rows);
    char *text = printed(p);
    ck_assert_msg(strstr(text, "no time for") && strstr(text, "marker"), "%s", text);
    ck_assert_msg(!strstr(text, "clock could not be read"), "the fill's time gives the offset: %s", text);
    free(text);
    clfit_profiler_free(p);
}
END_TEST

START_TEST(test_no_timestamps)
{
    clfit_profiler *p = clfit_profiler_new();
    clfit_profiler_set_timestamp_reader(p, no_timestamps);
    profiled_steps(p, CLFIT_GEMM_OWN);
    clfit_profile_row *rows;
    int n;
    double busy, idle, span;
    ASSERT_OK(clfit_profiler_rows(p, &rows, &n, &busy, &idle, &span));
    ck_assert_int_eq(n, 0);
    free(rows);
    char *text = printed(p);
    ck_assert_msg(strstr(text, "no timestamps for") && strstr(text, "clock could not be read"), "%s", text);
    free(text);
    /* the CSV and the trace are still written */
    char path[300];
    snprintf(path, sizeof path, "%s/trace.json", test_dir);
    ASSERT_OK(clfit_profiler_write_trace(p, path));
    snprintf(path, sizeof path, "%s/profile.csv", test_dir);
    ASSERT_OK(clfit_profiler_write_csv(p, path));
    clfit_profiler_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");
    tcase_add_checked_fixture(tc, test_dir_setup, test_dir_teardown);
    tcase_add_checked_fixture(tc, cl_setup, cl_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_queue_profiles_only_when_attached);
    tcase_add_test(tc, test_zero_markers);
    tcase_add_test(tc, test_no_timestamps);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
