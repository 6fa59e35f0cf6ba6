/* clfit profiler: every kernel launch and CLBlast call timed through OpenCL events,
 * summarised per kernel name, written as CSV or as Chrome's Trace Event JSON (Perfetto,
 * chrome://tracing). Attached to a clfit_cl (cl->prof); when it is NULL the launchers
 * create no events at all, so profiling off costs one pointer test per launch. */
#ifndef CLFIT_PROFILE_H
#define CLFIT_PROFILE_H

#include <stddef.h>

#include "clfit/status.h"

typedef struct clfit_profiler clfit_profiler;
typedef struct clfit_cl clfit_cl;

clfit_profiler *clfit_profiler_new(void);
void clfit_profiler_free(clfit_profiler *p);

/* Host phases (upload, epoch, evaluation), on the host clock, for the trace. */
void clfit_profiler_phase_begin(clfit_profiler *p, const char *name);
void clfit_profiler_phase_end(clfit_profiler *p);

/* Reads the timestamps of every finished launch and releases their events. Call when the
 * queue is idle (after a blocking read or clfit_cl_finish). Never fails for want of
 * timestamps: a command the device gives no time for is left out and counted, a marker
 * without a time (reported on some NVIDIA drivers) leaves its CLBlast call timed from the
 * call's last kernel; clfit_profiler_notes says so. */
clfit_status clfit_profiler_collect(clfit_cl *cl);

/* Prints to f (a FILE *) one line per way the device's timestamps fell short, if any. */
void clfit_profiler_notes(const clfit_profiler *p, void *f);

/* One row per kernel name: calls, total ms, mean/min/max us, share of device time,
 * GFLOP/s and GB/s where the work is known; then device busy and idle time. */
typedef struct {
    const char *name;
    long calls;
    double total_ms, mean_us, min_us, max_us, share, gflops, gbs;
} clfit_profile_row;

/* Rows sorted by total time (malloc'd, caller frees), and totals in ms: device time in
 * kernels, idle time between consecutive kernels, and the span from first start to last
 * end. */
clfit_status clfit_profiler_rows(const clfit_profiler *p, clfit_profile_row **rows, int *n,
                                 double *busy_ms, double *idle_ms, double *span_ms);

/* Prints the table to f (a FILE *). */
void clfit_profiler_print(const clfit_profiler *p, void *f);
clfit_status clfit_profiler_write_csv(const clfit_profiler *p, const char *path);
clfit_status clfit_profiler_write_trace(const clfit_profiler *p, const char *path);

#endif
