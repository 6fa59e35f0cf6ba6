/* The OpenCL runtime (host/clrt.c) and status names (host/status.c): device choice by
 * index, name substring and CLFIT_DEVICE; a kernel that fails to build reports the
 * device's build log; CLFIT_KERNEL_DIR replaces the embedded sources. */
#include <string.h>
#include <sys/stat.h>

#include "clfit/canary.h"
#include "testutil.h"

START_TEST(test_status_names)
{
    ck_assert_str_eq(clfit_status_name(-54), "CL_INVALID_WORK_GROUP_SIZE");
    ck_assert_str_eq(clfit_status_name(0), "CL_SUCCESS");
    ck_assert_str_eq(clfit_status_name(-1017), "CLBlastInvalidDimension");
    ck_assert_str_eq(clfit_status_name(CLFIT_ERR_FORMAT), "CLFIT_ERR_FORMAT");
    ck_assert_str_eq(clfit_status_name(-4242), "UNKNOWN_STATUS");
}
END_TEST

START_TEST(test_pick)
{
    clfit_device_info list[3] = {0};
    strcpy(list[0].name, "pthread-skylake");
    strcpy(list[0].platform_name, "Portable Computing Language");
    list[0].type = CL_DEVICE_TYPE_CPU;
    strcpy(list[1].name, "NVIDIA H100 80GB HBM3");
    strcpy(list[1].platform_name, "NVIDIA CUDA");
    list[1].type = CL_DEVICE_TYPE_GPU;
    strcpy(list[2].name, "Oclgrind Simulator");
    strcpy(list[2].platform_name, "Oclgrind");
    list[2].type = CL_DEVICE_TYPE_ACCELERATOR;
    int chosen = -1;
    unsetenv("CLFIT_DEVICE");
    ASSERT_OK(clfit_cl_pick(list, 3, NULL, &chosen));
    ck_assert_int_eq(chosen, 1); /* the first GPU */
    ASSERT_OK(clfit_cl_pick(list, 1, NULL, &chosen));
    ck_assert_int_eq(chosen, 0); /* no GPU: the first device */
    ASSERT_OK(clfit_cl_pick(list, 3, "2", &chosen));
    ck_assert_int_eq(chosen, 2);
    ASSERT_OK(clfit_cl_pick(list, 3, "h100", &chosen)); /* case-insensitive substring */
    ck_assert_int_eq(chosen, 1);
    ASSERT_OK(clfit_cl_pick(list, 3, "portable", &chosen)); /* platform name too */
    ck_assert_int_eq(chosen, 0);
    setenv("CLFIT_DEVICE", "oclgrind", 1);
    ASSERT_OK(clfit_cl_pick(list, 3, NULL, &chosen));
    ck_assert_int_eq(chosen, 2);
    ASSERT_OK(clfit_cl_pick(list, 3, "0", &chosen)); /* an explicit selector wins */
    ck_assert_int_eq(chosen, 0);
    unsetenv("CLFIT_DEVICE");
    ck_assert_int_eq(clfit_cl_pick(list, 3, "3", &chosen), CLFIT_ERR_NODEVICE);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "there are 3 device(s)"));
    ck_assert_int_eq(clfit_cl_pick(list, 3, "radeon", &chosen), CLFIT_ERR_NODEVICE);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "no OpenCL device matches \"radeon\""));
}
END_TEST

START_TEST(test_devices_and_open)
{
    clfit_device_info *list;
    int n;
    ASSERT_OK(clfit_cl_devices(&list, &n));
    ck_assert_int_ge(n, 1);
    ck_assert_int_gt((int)strlen(list[0].name), 0);
    ck_assert_ptr_nonnull(strstr(list[0].c_version, "OpenCL C"));
    free(list);
    clfit_status st;
    clfit_cl *cl = clfit_cl_open("0", &st);
    ck_assert_msg(cl != NULL, "%s", clfit_last_error());
    for (int k = 0; k < CLFIT_K_COUNT; k++) ck_assert_ptr_nonnull(cl->kernel[k]);
    clfit_cl_close(cl);
}
END_TEST

/* Copies kernels/ to a temporary directory, appends `extra` to act.cl, points
 * CLFIT_KERNEL_DIR at it and opens the device. */
static clfit_cl *open_with_modified_kernels(const char *extra, clfit_status *st, char *tmp)
{
    strcpy(tmp, "/tmp/clfit-kernels-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s'/*.cl '%s' && printf '%%s\\n' '%s' >> '%s/act.cl'",
             CLFIT_SOURCE_DIR "/kernels", tmp, extra, tmp);
    ck_assert_int_eq(system(cmd), 0);
    setenv("CLFIT_KERNEL_DIR", tmp, 1);
    clfit_cl *cl = clfit_cl_open(NULL, st);
    unsetenv("CLFIT_KERNEL_DIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
    return cl;
}

START_TEST(test_build_failure_shows_log)
{
    char tmp[64];
    clfit_status st;
    clfit_cl *cl = open_with_modified_kernels("__kernel void broken(void) { undeclared_thing = 1; }",
                                              &st, tmp);
    ck_assert_ptr_null(cl);
    ck_assert_int_eq(st, CL_BUILD_PROGRAM_FAILURE);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "CL_BUILD_PROGRAM_FAILURE"));
    ck_assert_msg(strstr(clfit_last_error(), "undeclared_thing"),
                  "the build log should name the bad identifier: %s", clfit_last_error());
}
END_TEST

START_TEST(test_kernel_dir_is_read)
{
    char tmp[64];
    clfit_status st;
    /* a valid extra kernel proves the files were read from disk and built */
    clfit_cl *cl = open_with_modified_kernels("__kernel void extra_from_disk(void) { }", &st, tmp);
    ck_assert_msg(cl != NULL, "%s", clfit_last_error());
    cl_int e;
    cl_kernel k = clCreateKernel(cl->program, "extra_from_disk", &e);
    ck_assert_int_eq(e, CL_SUCCESS);
    clReleaseKernel(k);
    clfit_cl_close(cl);
    setenv("CLFIT_KERNEL_DIR", "/nonexistent/kernels", 1);
    ck_assert_ptr_null(clfit_cl_open(NULL, &st));
    unsetenv("CLFIT_KERNEL_DIR");
    ck_assert_int_eq(st, CLFIT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "/nonexistent/kernels/"));
}
END_TEST

/* A device that allows smaller work-groups than asked for (PoCL told so by
 * POCL_MAX_WORK_GROUP_SIZE): opening lowers them to fit and the kernels run; a larger one
 * asked for later is lowered too, and cl->limits says so. Checked where the device is PoCL. */
START_TEST(test_work_group_limit)
{
    setenv("POCL_MAX_WORK_GROUP_SIZE", "8", 1); /* before PoCL starts, in this test's process */
    clfit_status st;
    clfit_cl *cl = clfit_cl_open(NULL, &st);
    ck_assert_msg(cl != NULL, "%s", clfit_last_error());
    if (cl->info.max_wg != 8) { /* not PoCL: nothing to check here */
        clfit_cl_close(cl);
        return;
    }
    for (int i = 0; i < CLFIT_P_COUNT; i++)
        if (clfit_param_is_wg(i)) ck_assert_int_le(cl->p.v[i], 8);
    tcl = cl;
    verify_op("fused_forward_head"); /* the lowered kernels run and are right */
    verify_op("softmax_xent");
    tcl = NULL;
    clfit_params p = cl->p;
    p.v[CLFIT_P_FWGS] = 16;
    ASSERT_OK(clfit_cl_set_params(cl, &p));
    ck_assert_int_eq(cl->p.v[CLFIT_P_FWGS], 8);
    ck_assert_msg(cl->limits && strstr(cl->limits, "FWGS 16 -> 8: the device allows 8"), "%s",
                  cl->limits ? cl->limits : "(null)");
    clfit_cl_close(cl);
}
END_TEST

/* A kernel that allows less than the device (as CL_KERNEL_WORK_GROUP_SIZE falls on a GPU
 * for a kernel that needs many registers), simulated: its tunable is lowered to the
 * largest value that fits, the rest stay, the kernels are right; a bad simulation is a
 * clear error. */
START_TEST(test_kernel_limit_lowers)
{
    setenv("CLFIT_SIMULATE_KERNEL_LIMIT", "scale_images=16,softmax_xent=4", 1);
    clfit_params want;
    clfit_params_default(CLFIT_CLASS_CPU_AVX2, &want);
    want.v[CLFIT_P_WGS] = 64;
    want.v[CLFIT_P_SXE_WGS] = 32;
    clfit_status st;
    clfit_cl *cl = clfit_cl_open_params(NULL, &want, &st);
    ck_assert_msg(cl != NULL, "%s", clfit_last_error());
    ck_assert_int_eq(cl->p.v[CLFIT_P_WGS], 16);
    ck_assert_int_eq(cl->p.v[CLFIT_P_SXE_WGS], 4);
    ck_assert_int_eq(cl->p.v[CLFIT_P_FWGS], want.v[CLFIT_P_FWGS]);
    ck_assert_msg(cl->limits && strstr(cl->limits, "WGS 64 -> 16: scale_images allows 16") &&
                      strstr(cl->limits, "SXE_WGS 32 -> 4: softmax_xent allows 4"),
                  "%s", cl->limits ? cl->limits : "(null)");
    tcl = cl;
    verify_op("gather");
    verify_op("softmax_xent");
    tcl = NULL;
    clfit_cl_close(cl);
    setenv("CLFIT_SIMULATE_KERNEL_LIMIT", "no_such_kernel=4", 1);
    ck_assert_ptr_null(clfit_cl_open(NULL, &st));
    ck_assert_msg(strstr(clfit_last_error(), "no kernel named no_such_kernel"), "%s", clfit_last_error());
    setenv("CLFIT_SIMULATE_KERNEL_LIMIT", "scale_images=0", 1);
    ck_assert_ptr_null(clfit_cl_open(NULL, &st));
    ck_assert_msg(strstr(clfit_last_error(), "expected KERNEL=N"), "%s", clfit_last_error());
    unsetenv("CLFIT_SIMULATE_KERNEL_LIMIT");
}
END_TEST

/* The loop-cap canary: none on PoCL (and Oclgrind), Mesa's 65,535 on llvmpipe; probed once
 * and cached. */
START_TEST(test_loop_cap_canary)
{
    char dir[] = "/tmp/clfit-canary-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("CLFIT_CACHE_DIR", dir, 1);
    clfit_status st;
    clfit_cl *cl = clfit_cl_open(NULL, &st);
    ck_assert_msg(cl != NULL, "%s", clfit_last_error());
    long cap = -1, again = -1;
    ASSERT_OK(clfit_canary_loop_cap(cl, &cap));
    if (strstr(cl->info.name, "llvmpipe")) ck_assert_int_eq(cap, 65535);
    else if (strstr(cl->info.platform_name, "Portable Computing Language")) ck_assert_int_eq(cap, 0);
    clfit_cl_close(cl);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "grep -q '^loop_cap %ld$' %s/canaries/*.txt", cap, dir);
    ck_assert_msg(system(cmd) == 0, "no cached canary in %s", dir);
    cl = clfit_cl_open(NULL, &st); /* from the cache now */
    ASSERT_OK(clfit_canary_loop_cap(cl, &again));
    ck_assert_int_eq(again, cap);
    clfit_cl_close(cl);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

/* The passes model against the case Mesa's cap broke (slice_step, HS=16 SWGS=16, B=93,
 * IN=1000: stage 4 alone ~93 x 1,001 passes): past the cap; clfit_loop_fit finds a slice
 * below it and changes nothing where there is no cap; the own backend at a batch whose
 * head sums pass the cap cannot fit, and says which kernel. */
START_TEST(test_loop_passes_fit)
{
    clfit_params p;
    clfit_params_default(CLFIT_CLASS_CPU_AVX2, &p);
    p.v[CLFIT_P_BACKEND] = CLFIT_GEMM_SLICE;
    p.v[CLFIT_P_HS] = 16, p.v[CLFIT_P_SWGS] = 16, p.v[CLFIT_P_KS] = 1;
    ck_assert_int_gt(clfit_slice_passes(&p, 1000, 33, 33, 93), 93 * 1001);
    clfit_model_desc d = {.input = 1000, .nhidden = 1, .hidden = {33}, .classes = 33};
    clfit_params q = p;
    char why[512];
    ck_assert(clfit_loop_fit(0, 0, &d, 93, &q, why, sizeof why));
    ck_assert_mem_eq(&q, &p, sizeof p);
    ck_assert(clfit_loop_fit(65535, 256, &d, 93, &q, why, sizeof why));
    ck_assert_int_lt(clfit_step_passes(&q, &d, 93, NULL), 65535);
    ck_assert_int_le(q.v[CLFIT_P_SWGS], 256);
    ck_assert_msg(strstr(why, "slice_step"), "%s", why);
    clfit_model_desc t = {.input = 784, .nhidden = 1, .hidden = {128}, .classes = 10};
    q = p;
    q.v[CLFIT_P_BACKEND] = CLFIT_GEMM_OWN;
    ck_assert(clfit_loop_fit(65535, 256, &t, 1024, &q, why, sizeof why));
    ck_assert(!clfit_loop_fit(65535, 256, &t, 8192, &q, why, sizeof why));
    ck_assert_msg(strstr(why, "fused_grad_adam") && strstr(why, "65535"), "%s", why);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clrt");
    TCase *tc = tcase_create("clrt");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_status_names);
    tcase_add_test(tc, test_pick);
    tcase_add_test(tc, test_devices_and_open);
    tcase_add_test(tc, test_build_failure_shows_log);
    tcase_add_test(tc, test_kernel_dir_is_read);
    tcase_add_test(tc, test_work_group_limit);
    tcase_add_test(tc, test_kernel_limit_lowers);
    tcase_add_test(tc, test_loop_cap_canary);
    tcase_add_test(tc, test_loop_passes_fit);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
