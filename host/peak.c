/* clfit_peak_gflops: the device's fma peak through kernels/peak.cl (see include/clfit/cl.h).
 * Timed by the host's clock around a finished launch: one launch per width, long enough
 * (~0.2 s) for the launch's own cost not to matter. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

/* Runs peak_fma<width> over n work-items for iters iterations; its seconds in *sec. */
static clfit_status run(clfit_cl *cl, int k, cl_mem out, size_t n, int iters, double *sec)
{
    float a = 1.0f, b = 0.0f; /* fma(x, 1, 0) = x: the chains keep their start values */
    clfit_arg args[] = {CLFIT_ARG(out), CLFIT_ARG(iters), CLFIT_ARG(a), CLFIT_ARG(b)};
    clfit_work w = {0, 0};
    clfit_status st = clfit_cl_finish(cl);
    double t0 = clfit_now();
    if (!st) st = clfit_cl_launch(cl, k, n, (size_t)CLP(cl, WGS), 4, args, w);
    if (!st) st = clfit_cl_finish(cl);
    *sec = clfit_now() - t0;
    return st;
}

clfit_status clfit_peak_gflops(clfit_cl *cl, double gflops[3], double *best, int *width)
{
    static const int widths[3] = {4, 8, 16}, kernels[3] = {CLFIT_K_PEAK_FMA4, CLFIT_K_PEAK_FMA8, CLFIT_K_PEAK_FMA16};
    enum { CHAINS = 8 }; /* PEAK_CHAINS in kernels/peak.cl */
    size_t wgs = (size_t)CLP(cl, WGS);
    size_t n = (cl->info.compute_units ? cl->info.compute_units : 1) * wgs * 16;
    clfit_status st;
    cl_mem out = clfit_cl_buffer(cl, n * sizeof(float), NULL, &st);
    if (!out) return st;
    float *host = malloc(n * sizeof *host);
    if (!host) { clReleaseMemObject(out); return clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); }
    *best = 0;
    for (int i = 0; i < 3 && !st; i++) {
        int iters = 64;
        double sec = 0;
        /* grow the loop until one launch takes ~0.2 s (the first also compiles) */
        while (!st && (st = run(cl, kernels[i], out, n, iters, &sec)) == CLFIT_OK && sec < 0.1 && iters < (1 << 24))
            iters = (int)fmin(iters * (sec > 0.001 ? ceil(0.2 / sec) : 8.0), 1 << 26);
        if (!st) st = run(cl, kernels[i], out, n, iters, &sec);
        if (!st) st = clfit_cl_read(cl, out, 0, n * sizeof(float), host);
        /* each output: 4 lanes of sum_c (gid + c) = 4 (8 gid + 28) */
        for (size_t g = 0; g < n && !st; g += n / 7 + 1)
            if (host[g] != 4.0f * (8.0f * g + 28.0f))
                st = clfit_fail(CLFIT_ERR_NUMERIC, "peak_fma%d: work-item %zu gave %g, expected %g", widths[i], g,
                                host[g], 4.0 * (8.0 * g + 28.0));
        if (st) break;
        gflops[i] = (double)n * iters * CHAINS * widths[i] * 2 / sec * 1e-9;
        if (gflops[i] > *best) { *best = gflops[i]; *width = widths[i]; }
    }
    free(host);
    clReleaseMemObject(out);
    return st;
}
