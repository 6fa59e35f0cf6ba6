/* clfit's tuner and tuning database: for one device, model shape and batch size, search the
 * tunables of clfit/params.h (the backend, the fused kernels' vector width, blocks and
 * work-group sizes), checking every candidate against the CPU reference on the device
 * before timing it, and keep the fastest in a database that train, bench, evaluate,
 * predict and verify read. Untuned devices run their class's built-in defaults.
 *
 * The database is JSON, tuning.json in the cache directory (clfit/cache.h), one entry per
 * platform, device, driver, model architecture and batch size. It is a cache a user may
 * edit or delete: an entry whose tunables are unknown or outside their search space is
 * reported and not used, an unreadable file is treated as empty. */
#ifndef CLFIT_TUNE_H
#define CLFIT_TUNE_H

#include "clfit/cl.h"
#include "clfit/model.h"
#include "clfit/params.h"

typedef struct {
    char platform[128], device[256], driver[128];
    char arch[128];                 /* "784-128-10" */
    int batch;
    clfit_params params;
    double us_per_step;             /* the chosen parameters' time */
    double default_us_per_step;     /* the class defaults' time, measured in the same run */
    int candidates, rejected;       /* timed, and discarded by the reference check */
    double seconds;                 /* the search's wall time */
    char kind[8];                   /* "full" (clfit tune) or "quick" (before a first train) */
    char date[32];                  /* UTC, ISO 8601 */
} clfit_tune_entry;

/* The database's path (creating the cache directory); 0 if there is no cache directory. */
int clfit_tunedb_path(char *buf, size_t size);

/* Looks up the entry for the device, the model d and batch. *found is 1 and *e filled
 * when there is a usable one. An entry that exists but is not usable (a tunable unknown,
 * missing or outside its space, or a choice measured slower than the defaults, which an
 * older tuner could store) gives CLFIT_ERR_FORMAT saying what is wrong, *found 0. */
clfit_status clfit_tunedb_lookup(const clfit_device_info *dev, const clfit_model_desc *d,
                                 int batch, clfit_tune_entry *e, int *found);

/* Adds e, replacing any entry with the same key. Written atomically. */
clfit_status clfit_tunedb_store(const clfit_tune_entry *e);

/* Every usable entry of the database (malloc'd array, caller frees); *n may be 0. */
clfit_status clfit_tunedb_list(clfit_tune_entry **entries, int *n);

/* What happened to one candidate, for the progress callback. */
typedef enum {
    CLFIT_CAND_TIMED,       /* checked against the reference and timed: us */
    CLFIT_CAND_WRONG,       /* built and ran, but an output is outside its tolerance: why */
    CLFIT_CAND_FAILED,      /* did not build or launch on this device: why */
} clfit_cand_outcome;

typedef struct {
    int index;                      /* 1, 2, ... */
    const char *varied;             /* the tunable this candidate changes ("" for the start) */
    const clfit_params *params;
    clfit_cand_outcome outcome;
    double us;                      /* us per step when timed */
    double best_us;                 /* the best so far, after this candidate */
    int is_best;                    /* this candidate became the best */
    const char *why;                /* what was wrong, or why it failed */
    double elapsed;                 /* seconds since the search began */
    double build_s, check_s, time_s;/* this candidate's build, reference check and timing */
} clfit_tune_event;

typedef struct {
    double budget_s;                /* no new candidate starts after this many seconds */
    int quick;                      /* a short search (train on an untuned device): kind "quick" */
    unsigned only;                  /* bit i set: search tunable i (clfit_param_id); 0: all */
    void (*progress)(const clfit_tune_event *ev, void *user);
    void *user;
} clfit_tune_opts;

/* Searches the tunables for model d at batch on cl, starting from the device class's
 * defaults: coordinate descent (each tunable in turn over its search space, the pairs that
 * shape one register block jointly, keeping a change that is faster by more than 2%),
 * repeated while something improves and the budget lasts (no candidate starts that would
 * likely end past it). Each candidate is built, checked against the CPU reference on this
 * device (clfit_verify_run of every operation the step uses, at the step's shapes and at
 * awkward small ones), and only then timed (whole steps on random data read through a
 * shuffled order, best of five runs); one that seems faster than the best so far is timed
 * twice more, alternating with the best, before it replaces it (these machines drift). A
 * quick search (o->quick) tries each coordinate's neighbouring values only, and on a CPU
 * keeps the backend. At the end the winner and the defaults are timed 5 times each,
 * alternating, and the winner kept only where its median is below the defaults' (else the
 * result is the defaults, at 1.00x): no entry is slower than the defaults it was measured
 * with. The result is in *result (kind, date and the medians filled in); cl is left built
 * with it. Fails only when the class defaults themselves fail (then nothing is tuned). */
clfit_status clfit_tune(clfit_cl *cl, const clfit_model_desc *d, int batch,
                        const clfit_tune_opts *o, clfit_tune_entry *result);

/* Readies cl's current parameters for training model d at batch with optimizer o (NULL:
 * evaluation) over `ranks` processes, before the first step:
 *  - on a device with a known defect (clfit/canary.h) the tunables kept clear of it;
 *  - exactly these kernels (device, driver, tunables, sources) checked against the CPU
 *    reference at the model's sizes (the tuner's check: every operation of the backend at
 *    the step's shapes, batch capped at 256, and at small awkward ones), once: the result
 *    is cached beside the tuning database (checks/). $CLFIT_FIRST_CHECK=0 skips it.
 * Where the backend cannot be built, cannot stay clear of a defect or fails its check, the
 * next that can run d (own, then clblast) is tried, unless keep has CLFIT_KEEP_BACKEND (a
 * backend the user asked for); with CLFIT_KEEP_PARAMS (tunables the user forced) they are
 * refused rather than changed to avoid a defect. What changed goes to
 * note ("" when nothing did). CLFIT_ERR_CHECK, naming each backend's failing operation and
 * what to do, when none passes; cl's parameters are then as they were. */
enum { CLFIT_KEEP_BACKEND = 1, CLFIT_KEEP_PARAMS = 2 };
clfit_status clfit_cl_prepare(clfit_cl *cl, const clfit_model_desc *d, int batch, const clfit_optim *o, int ranks,
                              int keep, char *note, size_t nsize);

/* Opens the device (selector as clfit_cl_open's) for model d at batch without tuning: the
 * database's entry for them where there is a usable one, else the device class's defaults
 * ($CLFIT_TUNE overrides either); the backend then one that can train d with optimizer o
 * (o NULL: evaluation alone; clfit_backend_choose). With from, a line saying which
 * parameters run and where they came from ("... (cpu-avx2 defaults: not tuned for 4-16-3
 * at batch 32)"). NULL and *st on failure. For a library's caller (the Python package):
 * the command line's train adds a short tune where there is no entry. */
clfit_cl *clfit_cl_open_tuned(const char *selector, const clfit_model_desc *d, int batch, const clfit_optim *o,
                              char *from, size_t from_size, clfit_status *st);

#endif
