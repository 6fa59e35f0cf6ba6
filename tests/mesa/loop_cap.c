/* A minimal reproducer of Mesa llvmpipe's loop cap (rusticl, Mesa 22.3.6 on Debian 12),
 * worth reporting to Mesa: one work-item runs one loop of N passes, each adding 1 read
 * from memory, and writes how many it made. On PoCL and Oclgrind it prints N; on llvmpipe
 * it prints 65535 for any N above that: gallivm ends every loop of an invocation once the
 * invocation has made LP_MAX_TGSI_LOOP_ITERATIONS (65,535) passes in all, silently.
 * Not part of clfit (its canary is host/canary.c); only OpenCL.
 * build: cc tests/mesa/loop_cap.c -lOpenCL -o loop_cap
 * run:   RUSTICL_ENABLE=llvmpipe ./loop_cap [N]      (N defaults to 100000)
 * Exit status: 0 when every device made N passes, 1 when one made fewer, 2 on an error. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>

static const char *src =
    "__kernel void count(__global const int *ones, __global int *out, int n)\n"
    "{\n"
    "    int c = 0;\n"
    "    for (int i = 0; i < n; i++) c += ones[i & 7];\n"
    "    out[0] = c;\n"
    "}\n";

int main(int argc, char **argv)
{
    cl_int n = argc > 1 ? atoi(argv[1]) : 100000, e;
    cl_platform_id plats[8];
    cl_uint np = 0;
    if (n < 1 || clGetPlatformIDs(8, plats, &np) != CL_SUCCESS || np == 0) {
        fprintf(stderr, "loop_cap: no OpenCL platform (or N < 1)\n");
        return 2;
    }
    int capped = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[8];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 8, devs, &nd) != CL_SUCCESS) continue;
        for (cl_uint d = 0; d < nd; d++) {
            char name[256] = "";
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof name - 1, name, NULL);
            cl_context ctx = clCreateContext(NULL, 1, &devs[d], NULL, NULL, &e);
            cl_command_queue q = clCreateCommandQueue(ctx, devs[d], 0, &e);
            cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &e);
            if (clBuildProgram(prog, 1, &devs[d], "", NULL, NULL) != CL_SUCCESS) {
                fprintf(stderr, "loop_cap: %s: the kernel does not build\n", name);
                return 2;
            }
            cl_kernel k = clCreateKernel(prog, "count", &e);
            cl_int ones[8] = {1, 1, 1, 1, 1, 1, 1, 1}, got = -1;
            cl_mem a = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof ones, ones, &e);
            cl_mem b = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, sizeof got, NULL, &e);
            size_t one = 1;
            clSetKernelArg(k, 0, sizeof a, &a);
            clSetKernelArg(k, 1, sizeof b, &b);
            clSetKernelArg(k, 2, sizeof n, &n);
            if (clEnqueueNDRangeKernel(q, k, 1, NULL, &one, &one, 0, NULL, NULL) != CL_SUCCESS ||
                clEnqueueReadBuffer(q, b, CL_TRUE, 0, sizeof got, &got, 0, NULL, NULL) != CL_SUCCESS) {
                fprintf(stderr, "loop_cap: %s: the kernel does not run\n", name);
                return 2;
            }
            printf("%s: a loop of %d passes made %d%s\n", name, n, got, got == n ? "" : "  <- capped");
            capped |= got != n;
            clReleaseMemObject(b);
            clReleaseMemObject(a);
            clReleaseKernel(k);
            clReleaseProgram(prog);
            clReleaseCommandQueue(q);
            clReleaseContext(ctx);
        }
    }
    return capped;
}
