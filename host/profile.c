/* The profiler (see include/clfit/profile.h): OpenCL events in, a table, CSV and a Chrome
 * trace out. The trace JSON is built with cJSON. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfit/io.h"
#include "internal.h"

typedef struct {
    int name;                   /* index into names */
    clfit_work work;
    cl_ulong start, end;        /* device clock, ns */
} record;

typedef struct {
    cl_event before, ev;
    size_t rec;
} pending;

typedef struct {
    char name[48];
    double t0, t1;              /* host clock, s */
} phase;

/* A call timed on the host (the MPI allreduce), as a row beside the kernels' */
typedef struct {
    double t0, t1;              /* host clock, s */
} host_call;

struct clfit_profiler {
    host_call *host;
    size_t nhost, caphost;
    char host_name[48];         /* one kind of host call: its name */
    record *rec;
    size_t nrec, caprec;
    pending *pend;
    size_t npend, cappend;
    phase *ph;
    size_t nph, capph;
    long open_phase;            /* index of the phase not yet ended, or -1 */
    char (*names)[64];
    int nnames, capnames;
    double clock_offset_s;      /* host seconds = device ns * 1e-9 + offset */
    int have_offset;
    long marker_fallbacks;      /* multi-kernel calls timed from their last kernel only */
    long dropped;               /* commands without timestamps, not counted */
    clfit_timestamp_fn read_ts; /* clGetEventProfilingInfo, unless a test replaces it */
};

/* The default timestamp reader: CL_PROFILING_COMMAND_START or _END of ev. */
static cl_int read_timestamp(cl_event ev, cl_profiling_info what, cl_ulong *ns)
{
    return clGetEventProfilingInfo(ev, what, sizeof *ns, ns, NULL);
}

void clfit_profiler_set_timestamp_reader(clfit_profiler *p, clfit_timestamp_fn fn)
{
    p->read_ts = fn ? fn : read_timestamp;
}

/* Grows *buf (of *cap elements of size sz) to hold n; returns 0 on failure. */
static int grow(void **buf, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap) return 1;
    size_t c = *cap ? *cap * 2 : 1024;
    while (c < n) c *= 2;
    void *b = realloc(*buf, c * sz);
    if (!b) return 0;
    *buf = b;
    *cap = c;
    return 1;
}

clfit_profiler *clfit_profiler_new(void)
{
    clfit_profiler *p = calloc(1, sizeof *p);
    if (p) {
        p->open_phase = -1;
        p->read_ts = read_timestamp;
    }
    return p;
}

void clfit_profiler_free(clfit_profiler *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->npend; i++) {
        if (p->pend[i].before) clReleaseEvent(p->pend[i].before);
        clReleaseEvent(p->pend[i].ev);
    }
    free(p->host);
    free(p->rec);
    free(p->pend);
    free(p->ph);
    free(p->names);
    free(p);
}

static int intern(clfit_profiler *p, const char *name)
{
    for (int i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], name) == 0) return i;
    if (p->nnames == p->capnames) {
        int c = p->capnames ? p->capnames * 2 : 32;
        void *b = realloc(p->names, (size_t)c * sizeof *p->names);
        if (!b) return 0;
        p->names = b;
        p->capnames = c;
    }
    snprintf(p->names[p->nnames], sizeof p->names[0], "%s", name);
    return p->nnames++;
}

void clfit_profiler_add(clfit_profiler *p, const char *name, clfit_work work, cl_event before,
                        cl_event ev)
{
    size_t caprec = p->caprec, cappend = p->cappend;
    if (!grow((void **)&p->rec, &caprec, p->nrec + 1, sizeof *p->rec) ||
        !grow((void **)&p->pend, &cappend, p->npend + 1, sizeof *p->pend)) {
        /* out of memory: drop this sample rather than fail the training */
        if (before) clReleaseEvent(before);
        clReleaseEvent(ev);
        return;
    }
    p->caprec = caprec;
    p->cappend = cappend;
    p->rec[p->nrec] = (record){.name = intern(p, name), .work = work};
    p->pend[p->npend++] = (pending){before, ev, p->nrec++};
}

/* The device's clock at a command's end, via a marker, else via a one-byte fill (some
 * implementations time markers as 0); 0 if neither gives a time. */
static cl_ulong device_now(clfit_cl *cl, clfit_profiler *p)
{
    for (int how = 0; how < 2; how++) {
        cl_event ev = NULL;
        cl_mem tmp = NULL;
        cl_int e;
        if (how == 0) {
            e = clEnqueueMarkerWithWaitList(cl->queue, 0, NULL, &ev);
        } else {
            static const cl_uchar zero = 0;
            tmp = clCreateBuffer(cl->ctx, CL_MEM_READ_WRITE, 1, NULL, &e);
            if (e == CL_SUCCESS) e = clEnqueueFillBuffer(cl->queue, tmp, &zero, 1, 0, 1, 0, NULL, &ev);
        }
        cl_ulong end = 0;
        if (e == CL_SUCCESS && clWaitForEvents(1, &ev) == CL_SUCCESS &&
            p->read_ts(ev, CL_PROFILING_COMMAND_END, &end) != CL_SUCCESS)
            end = 0;
        if (ev) clReleaseEvent(ev);
        if (tmp) clReleaseMemObject(tmp);
        if (end) return end;
    }
    return 0;
}

clfit_status clfit_cl_set_profiler(clfit_cl *cl, clfit_profiler *p)
{
    clfit_status st = clfit_cl_profiling_queue(cl, p != NULL);
    if (st) return st;
    cl->prof = p;
    if (!p || p->have_offset) return CLFIT_OK;
    cl_ulong end = device_now(cl, p);
    /* without a device time, the trace's device track starts at the host's origin */
    p->clock_offset_s = end ? clfit_now() - end * 1e-9 : 0;
    p->have_offset = end != 0;
    return CLFIT_OK;
}

clfit_status clfit_profiler_collect(clfit_cl *cl)
{
    clfit_profiler *p = cl->prof;
    if (!p) return CLFIT_OK;
    for (size_t i = 0; i < p->npend; i++) {
        pending *q = &p->pend[i];
        record *r = &p->rec[q->rec];
        cl_ulong start = 0, end = 0, mark = 0;
        int ok = p->read_ts(q->ev, CL_PROFILING_COMMAND_START, &start) == CL_SUCCESS &&
                 p->read_ts(q->ev, CL_PROFILING_COMMAND_END, &end) == CL_SUCCESS && start > 0 && end >= start;
        if (ok && q->before) {
            /* a multi-kernel call starts where the marker before it ended; a marker without a
             * time leaves the call timed from its last kernel's start */
            if (p->read_ts(q->before, CL_PROFILING_COMMAND_END, &mark) == CL_SUCCESS && mark > 0 && mark <= start)
                start = mark;
            else
                p->marker_fallbacks++;
        }
        if (ok) {
            r->start = start;
            r->end = end;
        } else {
            r->start = r->end = 0; /* not counted */
            p->dropped++;
        }
        if (q->before) clReleaseEvent(q->before);
        clReleaseEvent(q->ev);
    }
    p->npend = 0;
    return CLFIT_OK;
}

void clfit_profiler_host_call(clfit_profiler *p, const char *name, double t0, double t1)
{
    if (!p || !grow((void **)&p->host, &p->caphost, p->nhost + 1, sizeof *p->host)) return;
    snprintf(p->host_name, sizeof p->host_name, "%s", name);
    p->host[p->nhost].t0 = t0;
    p->host[p->nhost++].t1 = t1;
}

void clfit_profiler_phase_begin(clfit_profiler *p, const char *name)
{
    if (!p) return;
    if (p->open_phase >= 0) clfit_profiler_phase_end(p);
    if (!grow((void **)&p->ph, &p->capph, p->nph + 1, sizeof *p->ph)) return;
    snprintf(p->ph[p->nph].name, sizeof p->ph[0].name, "%s", name);
    p->ph[p->nph].t0 = clfit_now();
    p->ph[p->nph].t1 = 0;
    p->open_phase = (long)p->nph++;
}

void clfit_profiler_phase_end(clfit_profiler *p)
{
    if (!p || p->open_phase < 0) return;
    p->ph[p->open_phase].t1 = clfit_now();
    p->open_phase = -1;
}

static int by_start(const void *a, const void *b)
{
    const record *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int by_total(const void *a, const void *b)
{
    const clfit_profile_row *x = a, *y = b;
    return x->total_ms < y->total_ms ? 1 : x->total_ms > y->total_ms ? -1 : 0;
}

clfit_status clfit_profiler_rows(const clfit_profiler *p, clfit_profile_row **rows, int *n,
                                 double *busy_ms, double *idle_ms, double *span_ms)
{
    int nn = p->nnames;
    clfit_profile_row *r = calloc(nn ? nn : 1, sizeof *r);
    double *flops = calloc(nn ? nn : 1, sizeof *flops), *bytes = calloc(nn ? nn : 1, sizeof *bytes);
    record *sorted = malloc((p->nrec ? p->nrec : 1) * sizeof *sorted);
    if (!r || !flops || !bytes || !sorted) {
        free(r); free(flops); free(bytes); free(sorted);
        return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < nn; i++) { r[i].name = p->names[i]; r[i].min_us = 1e300; }
    double busy = 0;
    size_t done = 0;
    for (size_t i = 0; i < p->nrec; i++) {
        const record *x = &p->rec[i];
        if (x->end == 0) continue; /* not collected yet */
        sorted[done++] = *x;
        double us = (x->end - x->start) * 1e-3;
        clfit_profile_row *row = &r[x->name];
        row->calls++;
        row->total_ms += us * 1e-3;
        if (us < row->min_us) row->min_us = us;
        if (us > row->max_us) row->max_us = us;
        flops[x->name] += x->work.flops;
        bytes[x->name] += x->work.bytes;
        busy += us * 1e-3;
    }
    qsort(sorted, done, sizeof *sorted, by_start);
    double idle = 0;
    cl_ulong reach = done ? sorted[0].start : 0;
    for (size_t i = 0; i < done; i++) {
        if (sorted[i].start > reach) idle += (sorted[i].start - reach) * 1e-6;
        if (sorted[i].end > reach) reach = sorted[i].end;
    }
    *span_ms = done ? (reach - sorted[0].start) * 1e-6 : 0;
    free(sorted);
    int out = 0;
    for (int i = 0; i < nn; i++) {
        if (!r[i].calls) continue;
        double s = r[i].total_ms * 1e-3;
        r[i].mean_us = r[i].total_ms * 1e3 / r[i].calls;
        r[i].share = busy > 0 ? r[i].total_ms / busy : 0;
        r[i].gflops = flops[i] > 0 && s > 0 ? flops[i] / s * 1e-9 : 0;
        r[i].gbs = bytes[i] > 0 && s > 0 ? bytes[i] / s * 1e-9 : 0;
        r[out++] = r[i];
    }
    qsort(r, out, sizeof *r, by_total);
    free(flops);
    free(bytes);
    *rows = r;
    *n = out;
    *busy_ms = busy;
    *idle_ms = idle;
    return CLFIT_OK;
}

void clfit_profiler_print(const clfit_profiler *p, void *fp)
{
    FILE *f = fp;
    clfit_profile_row *r;
    int n;
    double busy, idle, span;
    if (clfit_profiler_rows(p, &r, &n, &busy, &idle, &span)) return;
    fprintf(f, "%-34s %7s %9s %8s %8s %8s %6s %8s %7s\n", "kernel", "calls", "total ms", "mean us",
            "min us", "max us", "share", "GFLOP/s", "GB/s");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%-34.34s %7ld %9.1f %8.1f %8.1f %8.1f %5.1f%%", r[i].name, r[i].calls, r[i].total_ms,
                r[i].mean_us, r[i].min_us, r[i].max_us, 100 * r[i].share);
        if (r[i].gflops > 0) fprintf(f, " %8.1f", r[i].gflops); else fprintf(f, " %8s", "-");
        if (r[i].gbs > 0) fprintf(f, " %7.1f\n", r[i].gbs); else fprintf(f, " %7s\n", "-");
    }
    if (p->nhost) { /* the host's own calls, e.g. the allreduce under mpirun: not device time */
        double tot = 0, lo = 1e300, hi = 0;
        for (size_t i = 0; i < p->nhost; i++) {
            double us = (p->host[i].t1 - p->host[i].t0) * 1e6;
            tot += us;
            if (us < lo) lo = us;
            if (us > hi) hi = us;
        }
        char name[64];
        snprintf(name, sizeof name, "%s (host)", p->host_name);
        fprintf(f, "%-34.34s %7zu %9.1f %8.1f %8.1f %8.1f %6s %8s %7s\n", name, p->nhost, tot * 1e-3, tot / p->nhost,
                lo, hi, "-", "-", "-");
    }
    fprintf(f, "device busy %.1f ms in kernels, idle %.1f ms between them (%.1f%% of the %.1f ms span)\n",
            busy, idle, span > 0 ? 100 * idle / span : 0, span);
    free(r);
    clfit_profiler_notes(p, f);
}

void clfit_profiler_notes(const clfit_profiler *p, void *fp)
{
    FILE *f = fp;
    if (p->marker_fallbacks)
        fprintf(f, "note: the device gave no time for %ld marker(s): those CLBlast calls are timed from their last kernel's start only\n",
                p->marker_fallbacks);
    if (p->dropped)
        fprintf(f, "note: the device gave no timestamps for %ld command(s): they are not counted above\n", p->dropped);
    if (!p->have_offset && p->nrec)
        fprintf(f, "note: the device's clock could not be read: the trace's device track is not aligned with the host's\n");
}

clfit_status clfit_profiler_write_csv(const clfit_profiler *p, const char *path)
{
    clfit_profile_row *r;
    int n;
    double busy, idle, span;
    clfit_status st = clfit_profiler_rows(p, &r, &n, &busy, &idle, &span);
    if (st) return st;
    /* built in memory, then written atomically: a failed write leaves no empty file */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) { free(r); return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); }
    fprintf(f, "kernel,calls,total_ms,mean_us,min_us,max_us,share,gflops,gbs\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "\"%s\",%ld,%.4f,%.3f,%.3f,%.3f,%.5f,%.3f,%.3f\n", r[i].name, r[i].calls,
                r[i].total_ms, r[i].mean_us, r[i].min_us, r[i].max_us, r[i].share, r[i].gflops, r[i].gbs);
    free(r);
    fclose(f);
    st = clfit_write_atomic(path, text, len);
    free(text);
    return st;
}

static cJSON *trace_event(const char *name, const char *cat, double ts_us, double dur_us, int tid)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "cat", cat);
    cJSON_AddStringToObject(e, "ph", "X");
    cJSON_AddNumberToObject(e, "ts", ts_us);
    cJSON_AddNumberToObject(e, "dur", dur_us);
    cJSON_AddNumberToObject(e, "pid", 1);
    cJSON_AddNumberToObject(e, "tid", tid);
    return e;
}

static cJSON *thread_name(int tid, const char *name)
{
    cJSON *e = cJSON_CreateObject(), *args = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", "thread_name");
    cJSON_AddStringToObject(e, "ph", "M");
    cJSON_AddNumberToObject(e, "pid", 1);
    cJSON_AddNumberToObject(e, "tid", tid);
    cJSON_AddStringToObject(args, "name", name);
    cJSON_AddItemToObject(e, "args", args);
    return e;
}

clfit_status clfit_profiler_write_trace(const clfit_profiler *p, const char *path)
{
    /* times in microseconds from the earliest host phase or device command */
    double t0 = 1e300;
    for (size_t i = 0; i < p->nph; i++) if (p->ph[i].t0 < t0) t0 = p->ph[i].t0;
    for (size_t i = 0; i < p->nrec; i++) {
        double t = p->rec[i].start * 1e-9 + p->clock_offset_s;
        if (p->rec[i].end && t < t0) t0 = t;
    }
    cJSON *root = cJSON_CreateObject(), *ev = cJSON_AddArrayToObject(root, "traceEvents");
    cJSON_AddStringToObject(root, "displayTimeUnit", "ms");
    cJSON_AddItemToArray(ev, thread_name(1, "device kernels"));
    cJSON_AddItemToArray(ev, thread_name(2, "host phases"));
    for (size_t i = 0; i < p->nrec; i++) {
        const record *r = &p->rec[i];
        if (!r->end) continue;
        double ts = (r->start * 1e-9 + p->clock_offset_s - t0) * 1e6;
        cJSON_AddItemToArray(ev, trace_event(p->names[r->name], "kernel", ts, (r->end - r->start) * 1e-3, 1));
    }
    if (p->nhost) cJSON_AddItemToArray(ev, thread_name(3, "host calls"));
    for (size_t i = 0; i < p->nhost; i++)
        cJSON_AddItemToArray(ev, trace_event(p->host_name, "host", (p->host[i].t0 - t0) * 1e6,
                                             (p->host[i].t1 - p->host[i].t0) * 1e6, 3));
    for (size_t i = 0; i < p->nph; i++) {
        double t1 = p->ph[i].t1 > 0 ? p->ph[i].t1 : clfit_now();
        cJSON_AddItemToArray(ev, trace_event(p->ph[i].name, "host", (p->ph[i].t0 - t0) * 1e6,
                                             (t1 - p->ph[i].t0) * 1e6, 2));
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for the trace", path);
    clfit_status st = clfit_write_atomic(path, json, strlen(json));
    cJSON_free(json);
    return st;
}
