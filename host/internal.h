/* Helpers shared by the host/ files; not part of the public API. */
#ifndef CLFIT_INTERNAL_H
#define CLFIT_INTERNAL_H

#include <time.h>

#include "clfit/cl.h"

/* Calls an OpenCL function returning cl_int; on failure records "fn: CL_NAME" and
 * returns the code from the enclosing function. */
#define CL_CHECK(fn, ...)                                                              \
    do {                                                                               \
        cl_int e_ = fn(__VA_ARGS__);                                                   \
        if (e_ != CL_SUCCESS)                                                          \
            return clfit_fail(e_, "%s: %s", #fn, clfit_status_name(e_));               \
    } while (0)

/* Seconds on the monotonic clock (for the host's own timings). */
static inline double clfit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The value of tunable NAME (clfit/params.h) that cl's program was built with. */
#define CLP(cl, NAME) ((cl)->p.v[CLFIT_P_##NAME])

/* Switches cl's queue to one with (on) or without profiling, after waiting for it. */
clfit_status clfit_cl_profiling_queue(clfit_cl *cl, int on);

/* One kernel argument: its size and a pointer to its value. */
typedef struct {
    size_t size;
    const void *value;
} clfit_arg;
#define CLFIT_ARG(x) ((clfit_arg){sizeof(x), &(x)})

/* What one launch does, for the profiler's GFLOP/s and GB/s columns. */
typedef struct {
    double flops, bytes;
} clfit_work;

/* Sets the arguments of kernel k and enqueues it over n work-items in groups of wgs
 * (n is rounded up to a multiple of wgs; kernels check their bound). Does not wait.
 * With a profiler attached, the launch's event is recorded with its work. */
clfit_status clfit_cl_launch(clfit_cl *cl, int k, size_t n, size_t wgs, int nargs,
                             const clfit_arg *args, clfit_work work);

/* Profiler internals used by the launchers: records an enqueued command. `name` is
 * copied; `before` (may be NULL) is a marker enqueued just before a multi-kernel call
 * such as CLBlast's, whose end is taken as the call's start. Takes the events. */
void clfit_profiler_add(clfit_profiler *p, const char *name, clfit_work work, cl_event before,
                        cl_event ev);

/* Records a call the host timed itself (t0, t1 on clfit_now's clock), e.g. the allreduce
 * under mpirun: a row "<name> (host)" after the kernels' in the table, and a track of its
 * own in the trace. One name per profiler. */
void clfit_profiler_host_call(clfit_profiler *p, const char *name, double t0, double t1);

/* How the profiler reads CL_PROFILING_COMMAND_START/_END; NULL restores
 * clGetEventProfilingInfo. For tests that simulate devices whose timestamps fall short. */
typedef cl_int (*clfit_timestamp_fn)(cl_event ev, cl_profiling_info what, cl_ulong *ns);
void clfit_profiler_set_timestamp_reader(clfit_profiler *p, clfit_timestamp_fn fn);

#endif
