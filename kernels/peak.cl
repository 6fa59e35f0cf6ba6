/* peak.cl: the device's multiply-add peak, for `clfit bench --peak`; not part of training.
 * Each work-item runs 8 independent chains of fma on float4, float8 or float16 vectors
 * (enough to hide the fma latency on the CPUs and GPUs clfit targets), in named variables
 * so that they stay in registers, with no memory traffic but one store: the time is the
 * arithmetic alone. The host runs the three widths and reports the fastest, since which
 * width is native differs between devices. */
#ifndef WGS
#define WGS 64
#endif

#define PEAK_KERNEL(N)                                                                      \
    __kernel __attribute__((reqd_work_group_size(WGS, 1, 1)))                               \
    void peak_fma##N(__global float *out, int iters, float a, float b)                      \
    {                                                                                       \
        float g = (float)get_global_id(0);                                                  \
        float##N x0 = g, x1 = g + 1, x2 = g + 2, x3 = g + 3, x4 = g + 4, x5 = g + 5,        \
                 x6 = g + 6, x7 = g + 7, va = a, vb = b;                                    \
        for (int i = 0; i < iters; i++) {                                                   \
            x0 = fma(x0, va, vb); x1 = fma(x1, va, vb); x2 = fma(x2, va, vb);               \
            x3 = fma(x3, va, vb); x4 = fma(x4, va, vb); x5 = fma(x5, va, vb);               \
            x6 = fma(x6, va, vb); x7 = fma(x7, va, vb);                                     \
        }                                                                                   \
        float##N s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));                     \
        out[get_global_id(0)] = dot(s.s0123, (float4)1.0f);                                 \
    }

PEAK_KERNEL(4)
PEAK_KERNEL(8)
PEAK_KERNEL(16)
