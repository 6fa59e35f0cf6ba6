/* The tuner and the tuning database (see include/clfit/tune.h). The database is read and
 * written with cJSON; candidates are checked with clfit_verify_run (host/verify.c) and
 * timed as whole training steps (host/train.c). */
#include "clfit/tune.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfit/cache.h"
#include "clfit/canary.h"
#include "clfit/modelfile.h"
#include "clfit/rng.h"
#include "clfit/train.h"
#include "clfit/verify.h"
#include "internal.h"

#define DB_FORMAT "clfit tuning 1"
#define DB_MAX_BYTES (16u << 20)

/* ---- the database ---- */

int clfit_tunedb_path(char *buf, size_t size)
{
    char dir[4096];
    if (!clfit_cache_dir(NULL, dir, sizeof dir)) return 0;
    return snprintf(buf, size, "%s/tuning.json", dir) < (int)size;
}

/* The database's root object, or a new empty one (a missing or unreadable file is empty). */
static cJSON *db_read(const char *path)
{
    size_t len;
    char *text = clfit_cache_read(path, DB_MAX_BYTES, &len);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, DB_FORMAT) != 0 ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "entries"))) {
        cJSON_Delete(root);
        root = cJSON_CreateObject();
        if (root) {
            cJSON_AddStringToObject(root, "format", DB_FORMAT);
            cJSON_AddArrayToObject(root, "entries");
        }
    }
    return root;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : dflt;
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* One JSON entry into e. 0 and a reason in why if it is not usable. Every tunable must be
 * present, known and within its space: the file may have been edited by hand. */
static int entry_from_json(const cJSON *j, const clfit_params *defaults, clfit_tune_entry *e, char *why,
                           size_t wsize)
{
    memset(e, 0, sizeof *e);
    const char *plat = jstr(j, "platform"), *dev = jstr(j, "device"), *drv = jstr(j, "driver"),
               *arch = jstr(j, "model");
    double batch = jnum(j, "batch", -1);
    if (!plat || !dev || !drv || !arch || !(batch >= 1 && batch <= 1 << 20) || batch != floor(batch)) {
        snprintf(why, wsize, "an entry lacks its platform, device, driver, model or batch");
        return 0;
    }
    copy(e->platform, sizeof e->platform, plat);
    copy(e->device, sizeof e->device, dev);
    copy(e->driver, sizeof e->driver, drv);
    copy(e->arch, sizeof e->arch, arch);
    e->batch = (int)batch;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
    if (!cJSON_IsObject(params)) {
        snprintf(why, wsize, "the entry for %s at batch %d has no params", arch, e->batch);
        return 0;
    }
    int seen[CLFIT_P_COUNT] = {0};
    for (const cJSON *p = params->child; p; p = p->next) {
        int id = p->string ? clfit_param_find(p->string) : -1;
        int v = -1;
        if (id == CLFIT_P_BACKEND && cJSON_IsString(p)) {
            for (int g = 0; g < CLFIT_GEMM_COUNT; g++)
                if (!strcmp(p->valuestring, clfit_gemm_names[g])) v = g;
        } else if (cJSON_IsNumber(p) && p->valuedouble == floor(p->valuedouble) && fabs(p->valuedouble) < 1e6)
            v = (int)p->valuedouble;
        if (id < 0 || !clfit_param_allowed(id, v)) {
            snprintf(why, wsize, "the entry for %s at batch %d has %s %s", arch, e->batch,
                     id < 0 ? "an unknown tunable" : "a value outside the search space of", p->string ? p->string : "?");
            return 0;
        }
        e->params.v[id] = v;
        seen[id] = 1;
    }
    for (int i = 0; i < CLFIT_P_COUNT; i++) {
        /* an entry written before a tunable existed: fine if it does not shape the
         * entry's backend (then the class default stands in; with no defaults, the
         * first value of its space) */
        if (!seen[i] && seen[CLFIT_P_BACKEND] && !clfit_param_matters(i, e->params.v[CLFIT_P_BACKEND])) {
            e->params.v[i] = defaults ? defaults->v[i] : clfit_tunables[i].values[0];
            continue;
        }
        if (!seen[i] && i == CLFIT_P_SPL && defaults && defaults->v[i] != clfit_tunables[i].before) {
            /* timed before fused_steps existed, against defaults that did not have it: the
             * class's defaults now run several steps a launch, 1.7-2x faster at batch 32 */
            snprintf(why, wsize, "the entry for %s at batch %d was timed before SPL (steps a launch) existed "
                     "(clfit tune again)", arch, e->batch);
            return 0;
        }
        if (!seen[i] && clfit_tunables[i].before) { /* its kernels as they were before it */
            e->params.v[i] = clfit_tunables[i].before;
            continue;
        }
        if (!seen[i]) {
            snprintf(why, wsize, "the entry for %s at batch %d lacks %s", arch, e->batch, clfit_tunables[i].name);
            return 0;
        }
    }
    e->us_per_step = jnum(j, "us_per_step", 0);
    e->default_us_per_step = jnum(j, "default_us_per_step", 0);
    e->candidates = (int)jnum(j, "candidates", 0);
    e->rejected = (int)jnum(j, "rejected", 0);
    e->seconds = jnum(j, "seconds", 0);
    copy(e->kind, sizeof e->kind, jstr(j, "kind"));
    copy(e->date, sizeof e->date, jstr(j, "date"));
    return 1;
}

static cJSON *entry_to_json(const clfit_tune_entry *e)
{
    cJSON *j = cJSON_CreateObject(), *p = cJSON_CreateObject();
    if (!j || !p) { cJSON_Delete(j); cJSON_Delete(p); return NULL; }
    cJSON_AddStringToObject(j, "platform", e->platform);
    cJSON_AddStringToObject(j, "device", e->device);
    cJSON_AddStringToObject(j, "driver", e->driver);
    cJSON_AddStringToObject(j, "model", e->arch);
    cJSON_AddNumberToObject(j, "batch", e->batch);
    for (int i = 0; i < CLFIT_P_COUNT; i++) {
        if (i == CLFIT_P_BACKEND) cJSON_AddStringToObject(p, clfit_tunables[i].name, clfit_gemm_names[e->params.v[i]]);
        else cJSON_AddNumberToObject(p, clfit_tunables[i].name, e->params.v[i]);
    }
    cJSON_AddItemToObject(j, "params", p);
    cJSON_AddNumberToObject(j, "us_per_step", round(e->us_per_step * 10) / 10);
    cJSON_AddNumberToObject(j, "default_us_per_step", round(e->default_us_per_step * 10) / 10);
    cJSON_AddNumberToObject(j, "candidates", e->candidates);
    cJSON_AddNumberToObject(j, "rejected", e->rejected);
    cJSON_AddNumberToObject(j, "seconds", round(e->seconds * 10) / 10);
    cJSON_AddStringToObject(j, "kind", e->kind);
    cJSON_AddStringToObject(j, "date", e->date);
    return j;
}

/* The key of a device, model d and batch, in an otherwise empty entry. */
static void key_of(const clfit_device_info *dev, const clfit_model_desc *d, int batch, clfit_tune_entry *k)
{
    memset(k, 0, sizeof *k);
    copy(k->platform, sizeof k->platform, dev->platform_name);
    copy(k->device, sizeof k->device, dev->name);
    copy(k->driver, sizeof k->driver, dev->driver);
    clfit_arch_format(d, k->arch, sizeof k->arch);
    k->batch = batch;
}

/* Whether the JSON entry j has k's key (platform, device, driver, model, batch), whether
 * or not the rest of it is usable. */
static int has_key(const cJSON *j, const clfit_tune_entry *k)
{
    const char *plat = jstr(j, "platform"), *dev = jstr(j, "device"), *drv = jstr(j, "driver"),
               *arch = jstr(j, "model");
    return plat && dev && drv && arch && !strcmp(plat, k->platform) && !strcmp(dev, k->device) &&
           !strcmp(drv, k->driver) && !strcmp(arch, k->arch) && jnum(j, "batch", -1) == k->batch;
}

clfit_status clfit_tunedb_lookup(const clfit_device_info *dev, const clfit_model_desc *d, int batch,
                                 clfit_tune_entry *e, int *found)
{
    *found = 0;
    char path[4200];
    if (!clfit_tunedb_path(path, sizeof path)) return CLFIT_OK;
    clfit_tune_entry want;
    key_of(dev, d, batch, &want);
    cJSON *root = db_read(path);
    if (!root) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    clfit_status st = CLFIT_OK;
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entries"), *j;
    cJSON_ArrayForEach(j, entries) {
        if (!has_key(j, &want)) continue;
        char why[256];
        clfit_params defaults;
        clfit_params_default(clfit_cl_device_class(dev), &defaults);
        if (!entry_from_json(j, &defaults, e, why, sizeof why))
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: not used", path, why);
        else if (e->default_us_per_step > 0 && e->us_per_step > e->default_us_per_step)
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: the entry for %s at batch %d measured %.0f us/step against the "
                            "defaults' %.0f: slower, not used (clfit tune again)", path, want.arch, batch,
                            e->us_per_step, e->default_us_per_step);
        else *found = 1;
        break;
    }
    cJSON_Delete(root);
    return st;
}

clfit_status clfit_tunedb_store(const clfit_tune_entry *e)
{
    char path[4200];
    if (!clfit_tunedb_path(path, sizeof path))
        return clfit_fail(CLFIT_ERR_IO, "no cache directory for the tuning database (set CLFIT_CACHE_DIR or HOME)");
    cJSON *root = db_read(path);
    cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
    cJSON *item = entry_to_json(e);
    if (!root || !entries || !item) {
        cJSON_Delete(root);
        cJSON_Delete(item);
        return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    }
    int i = 0;
    for (cJSON *j = entries->child; j; j = j->next, i++) {
        if (has_key(j, e)) { /* replaced, whether or not it was usable */
            cJSON_DeleteItemFromArray(entries, i);
            break;
        }
    }
    cJSON_AddItemToArray(entries, item);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    clfit_status st = clfit_cache_write(path, text, strlen(text));
    cJSON_free(text);
    return st;
}

clfit_status clfit_tunedb_list(clfit_tune_entry **out, int *n)
{
    *out = NULL;
    *n = 0;
    char path[4200];
    if (!clfit_tunedb_path(path, sizeof path)) return CLFIT_OK;
    cJSON *root = db_read(path);
    if (!root) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entries"), *j;
    int cap = cJSON_GetArraySize(entries);
    clfit_tune_entry *list = calloc(cap ? (size_t)cap : 1, sizeof *list);
    if (!list) { cJSON_Delete(root); return clfit_fail(CLFIT_ERR_NOMEM, "out of memory"); }
    cJSON_ArrayForEach(j, entries) {
        char why[256];
        if (entry_from_json(j, NULL, &list[*n], why, sizeof why)) (*n)++;
    }
    cJSON_Delete(root);
    *out = list;
    return CLFIT_OK;
}

/* ---- timing ---- */

/* What every candidate is timed on: a model, random data on the device. */
typedef struct {
    clfit_cl *cl;
    clfit_model_desc desc;
    int batch, nbatches;
    clfit_model *m;
    clfit_device_data dd;
} bench;

static void bench_close(bench *b)
{
    clfit_device_data_free(&b->dd);
    clfit_model_free(b->m);
    memset(b, 0, sizeof *b);
}

static clfit_status bench_open(bench *b, clfit_cl *cl, const clfit_model_desc *d, int batch)
{
    clfit_status st;
    memset(b, 0, sizeof *b);
    b->cl = cl;
    b->desc = *d;
    b->batch = batch;
    /* rows read through a shuffled order from a set too large for the caches, as in an
     * epoch (60,000 x 784 floats: 188 MB); at least 8 batches */
    int n = (int)(((size_t)32 << 20) / ((size_t)d->input * sizeof(float)));
    if (n > 16384) n = 16384;
    if (n < 8 * batch) n = 8 * batch;
    b->nbatches = n / batch;
    clfit_dataset ds = {.count = n, .rows = 1, .cols = d->input};
    ds.images = malloc((size_t)n * d->input);
    ds.labels = malloc((size_t)n);
    b->m = clfit_model_new(d, 1, &st);
    if (!ds.images || !ds.labels || !b->m) {
        if (b->m) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    } else {
        clfit_rng r;
        clfit_rng_seed(&r, 1);
        for (size_t i = 0; i < (size_t)n * d->input; i++) ds.images[i] = (uint8_t)clfit_rng_below(&r, 256);
        for (int i = 0; i < n; i++) ds.labels[i] = (uint8_t)clfit_rng_below(&r, d->classes);
        st = clfit_device_data_upload(cl, &ds, &b->dd);
        int *order = st ? NULL : malloc((size_t)n * sizeof *order);
        if (!st && !order) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
        if (!st) {
            for (int i = 0; i < n; i++) order[i] = i;
            clfit_rng_shuffle(&r, order, n);
            st = clfit_device_data_set_order(cl, &b->dd, order);
            if (!st) st = clfit_cl_finish(cl);
        }
        free(order);
    }
    free(ds.images);
    free(ds.labels);
    if (st) bench_close(b);
    return st;
}

/* n steps from step *s on (advanced), as an epoch takes them: runs of consecutive
 * batches (clfit_trainer_steps), wrapping around the bench's batches, then waits for them
 * and for whether they ran whole (a fused_steps launch whose work-groups did not run at
 * once: clfit_trainer_reset_stats reports it). */
static clfit_status bench_steps(bench *b, clfit_trainer *t, int *s, int n)
{
    clfit_status st = CLFIT_OK;
    while (n > 0 && !st) {
        int at = *s % b->nbatches, k = n < b->nbatches - at ? n : b->nbatches - at;
        st = clfit_trainer_steps(t, &b->dd, at * b->batch, b->batch, k, NULL);
        *s += k;
        n -= k;
    }
    if (!st) st = clfit_cl_finish(b->cl);
    return st ? st : clfit_trainer_reset_stats(t);
}

/* Microseconds per step with cl's current parameters: a few warm-up steps (the first
 * launches may compile), then the best of five runs of at least ~25 ms each. */
static clfit_status bench_run(bench *b, double *us)
{
    clfit_status st;
    clfit_trainer *t = clfit_trainer_new(b->cl, b->m, b->batch, (clfit_gemm)b->cl->p.v[CLFIT_P_BACKEND], &st);
    if (!t) return st;
    int s = 0;
    st = bench_steps(b, t, &s, 3);
    double t0 = clfit_now();
    if (!st) st = bench_steps(b, t, &s, 5);
    double per = (clfit_now() - t0) / 5;
    int n = per > 0 ? (int)(0.025 / per) : 500;
    if (n < 5) n = 5;
    if (n > 500) n = 500;
    double best = 1e300;
    for (int r = 0; r < 5 && !st; r++) {
        t0 = clfit_now();
        st = bench_steps(b, t, &s, n);
        double u = (clfit_now() - t0) * 1e6 / n;
        if (u < best) best = u;
    }
    clfit_trainer_free(t);
    if (!st) *us = best;
    return st;
}

/* ---- the reference check ---- */

typedef struct {
    char why[256];
    int failed;
} check_state;

static void on_row(const clfit_verify_row *r, void *user)
{
    check_state *c = user;
    if (r->pass || c->failed) return;
    c->failed = 1;
    snprintf(c->why, sizeof c->why, "%s %s: %s off by %.3g (tolerance %.3g + %.3g rel)%s", r->op, r->sizes,
             r->what, r->max_abs, r->atol, r->rtol, r->nonfinite ? ", non-finite values" : "");
}

/* Runs every operation of cl's backend against the reference at the step's shapes (batch
 * capped at 256: the reference is slow) and at the small awkward ones. *wrong is set, with
 * the first failure in why, when an output is off; a status is returned only when the
 * device fails to run it. */
static clfit_status check_candidate(clfit_cl *cl, const clfit_model_desc *d, int batch,
                                    int *wrong, char *why, size_t wsize)
{
    check_state c = {.failed = 0};
    int B = batch < 256 ? batch : 256;
    clfit_status st = CLFIT_OK;
    unsigned backend = 1u << cl->p.v[CLFIT_P_BACKEND];
    for (int o = 0; o < clfit_verify_nops && !st && !c.failed; o++) {
        const clfit_verify_op *op = clfit_verify_op_at(o);
        if (!(op->backends & backend)) continue;
        int dims[24][4] = {{0}};
        int n = clfit_verify_step_sizes(op->name, d, B, dims, 24);
        if (n == 0) continue; /* not in this model's step */
        if (n < 0) n = 0;
        n += clfit_verify_sizes(op->name, 1, dims + n, 24 - n);
        for (int k = 0; k < n && !st && !c.failed; k++)
            st = clfit_verify_run(cl, op->name, dims[k], 12345 + (uint64_t)k, on_row, &c);
    }
    *wrong = c.failed;
    if (c.failed) snprintf(why, wsize, "%s", c.why);
    return st;
}

/* ---- the search ---- */

typedef struct {
    clfit_params p;
    double us;      /* < 0: rejected or failed */
} tried;

typedef struct {
    clfit_cl *cl;
    const clfit_model_desc *d;
    int batch;
    const clfit_tune_opts *o;
    bench b;
    double t0;
    tried *seen;
    int nseen, cap;
    int candidates, rejected;
    clfit_params best;
    double best_us;
    double build_s, check_s, time_s; /* the current candidate's phases */
    char last_why[512];              /* why the last candidate that failed or was wrong did */
} search;

static const tried *find_tried(const search *s, const clfit_params *p)
{
    for (int i = 0; i < s->nseen; i++)
        if (!memcmp(&s->seen[i].p, p, sizeof *p)) return &s->seen[i];
    return NULL;
}

static void report(search *s, const char *varied, const clfit_params *p, clfit_cand_outcome out,
                   double us, const char *why)
{
    if (!s->o || !s->o->progress) return;
    clfit_tune_event ev = {.index = s->nseen, .varied = varied, .params = p, .outcome = out, .us = us,
                           .best_us = s->best_us, .why = why, .elapsed = clfit_now() - s->t0,
                           .is_best = out == CLFIT_CAND_TIMED && !memcmp(p, &s->best, sizeof *p),
                           .build_s = s->build_s, .check_s = s->check_s, .time_s = s->time_s};
    s->o->progress(&ev, s->o->user);
}

/* Why a set is not run on a device with a loop cap (clfit/canary.h). */
static void past_cap(char *why, size_t wsize, const char *kernel, long passes, int batch, long cap)
{
    snprintf(why, wsize, "%s's %ld loop passes a work-item at batch %d are past the device's loop cap (%ld)", kernel,
             passes, batch, cap);
}

/* p with the tunables that do not shape model d's step at this batch at one value: with the
 * batch in one pass of KC rows, fused_grad_adam's super-tile (TR, TC) and KC itself; where
 * fused_steps runs the step (SPL > 1), TF; with one block of rows a work-item (TF = 1),
 * fused_forward_head's KF; so that
 * candidates that run the same kernels are built and timed once. */
static clfit_params step_equivalent(const clfit_params *p, const clfit_model_desc *d, int batch)
{
    clfit_params q = *p;
    /* fused_steps' forward is fused_forward_head's at TF = 1 (evaluation's fused_forward_head
     * still takes TF and KF, but the tuner times training) */
    if (q.v[CLFIT_P_SPL] > 1 && d->nhidden == 1 && d->dropout[0] <= 0.0f) q.v[CLFIT_P_TF] = 1;
    if (batch <= q.v[CLFIT_P_KC]) {
        q.v[CLFIT_P_TR] = q.v[CLFIT_P_TC] = 1;
        q.v[CLFIT_P_KC] = clfit_tunables[CLFIT_P_KC].values[clfit_tunables[CLFIT_P_KC].n - 1];
    }
    if (q.v[CLFIT_P_TF] == 1) q.v[CLFIT_P_KF] = clfit_tunables[CLFIT_P_KF].values[clfit_tunables[CLFIT_P_KF].n - 1];
    return q;
}

/* Builds, checks and times asked, in step_equivalent's form: its us per step, or -1 if it
 * was wrong or failed (reported). A status only when something other than the candidate
 * broke (out of memory). */
static clfit_status try_params(search *s, const char *varied, const clfit_params *asked, double *us)
{
    clfit_params same = step_equivalent(asked, s->d, s->batch);
    const clfit_params *p = &same;
    *us = -1;
    const tried *t = find_tried(s, p);
    if (t) { *us = t->us; return CLFIT_OK; }
    if (s->nseen == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        tried *bigger = realloc(s->seen, (size_t)cap * sizeof *bigger);
        if (!bigger) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
        s->seen = bigger;
        s->cap = cap;
    }
    s->seen[s->nseen].p = *p;
    s->seen[s->nseen].us = -1;
    s->nseen++;
    char why[512] = "";
    int wrong = 0;
    double t0 = clfit_now();
    s->check_s = s->time_s = s->build_s = 0;
    long cap = s->cl->loop_cap > 0 ? s->cl->loop_cap : 0;
    const char *kernel;
    long passes = cap ? clfit_step_passes(p, s->d, s->batch, &kernel) : 0;
    if (passes >= cap && cap) {
        past_cap(why, sizeof why, kernel, passes, s->batch, cap);
        report(s, varied, p, CLFIT_CAND_FAILED, 0, why); /* its results would be wrong there */
        snprintf(s->last_why, sizeof s->last_why, "%s", why);
        return CLFIT_OK;
    }
    clfit_status st = clfit_cl_set_params(s->cl, p);
    s->build_s = clfit_now() - t0;
    if (!st && memcmp(&s->cl->p, p, sizeof *p)) { /* the device lowered it: the lowered one is tried as such */
        snprintf(why, sizeof why, "the device's kernels allow less: %s", s->cl->limits ? s->cl->limits : "");
        report(s, varied, p, CLFIT_CAND_FAILED, 0, why);
        snprintf(s->last_why, sizeof s->last_why, "%s", why);
        return CLFIT_OK;
    }
    if (!st) st = check_candidate(s->cl, s->d, s->batch, &wrong, why, sizeof why);
    s->check_s = clfit_now() - t0 - s->build_s;
    if (!st && wrong) {
        s->rejected++;
        snprintf(s->last_why, sizeof s->last_why, "%s", why);
        report(s, varied, p, CLFIT_CAND_WRONG, 0, why);
        return CLFIT_OK;
    }
    if (!st) st = bench_run(&s->b, us);
    s->time_s = clfit_now() - t0 - s->build_s - s->check_s;
    if (st) {
        if (st == CLFIT_ERR_NOMEM) return st;
        snprintf(why, sizeof why, "%s", clfit_last_error());
        snprintf(s->last_why, sizeof s->last_why, "%s", why);
        *us = -1;
        report(s, varied, p, CLFIT_CAND_FAILED, 0, why);
        return CLFIT_OK;
    }
    s->candidates++;
    if (*us < s->best_us * 1.6 && s->best_us < 1e300) {
        /* it seems faster, or slower by no more than a slow spell of these machines makes
         * a measurement (their speed swings by up to 2x over seconds to minutes): time it
         * twice more, alternating with the best, and let the best of each decide */
        clfit_params best = s->best;
        double best_us = s->best_us, again;
        for (int r = 0; r < 2 && !st; r++) {
            if (!(st = clfit_cl_set_params(s->cl, &best)) && !(st = bench_run(&s->b, &again)) && again < best_us)
                best_us = again;
            if (!st && !(st = clfit_cl_set_params(s->cl, p)) && !(st = bench_run(&s->b, &again)) && again < *us)
                *us = again;
        }
        if (st) return st;
        s->best_us = best_us;
        for (int i = 0; i < s->nseen; i++)
            if (!memcmp(&s->seen[i].p, &best, sizeof best)) s->seen[i].us = best_us;
    }
    s->time_s = clfit_now() - t0 - s->build_s - s->check_s;
    s->seen[s->nseen - 1].us = *us;
    if (*us < s->best_us * 0.98) {
        s->best = *p;
        s->best_us = *us;
    }
    report(s, varied, p, CLFIT_CAND_TIMED, *us, NULL);
    return CLFIT_OK;
}

/* The coordinates, searched in this order: the own step's steps a launch (SPL: whether
 * fused_steps runs the step, which changes what the blocks below are timed in), the fused kernels' vector width, the forward's
 * block and the gradient's block (each pair searched jointly: rows and columns per
 * work-item trade against each other through the registers, so one alone at a time gets
 * stuck, e.g. RB=8 spills with CB=4 but wins with CB=2) with each kernel's super-tile
 * after its block (TF and KF, TR and TC, then KC), then the work-group sizes, then
 * the one-launch step's slice width and work-group size (jointly: together they set how
 * many rows each work-item takes) and its split of the forward's sums. The
 * backend comes first on a GPU, where it matters most, and last on a CPU, where CLBlast's
 * step has always been several times slower and compiling its kernels alone takes seconds
 * of a short budget. */
typedef struct {
    int a, b; /* tunables; b = -1 for a single one */
} coord;
static const coord search_order[] = {
    {CLFIT_P_SPL, -1},  {CLFIT_P_VW, -1},   {CLFIT_P_RB, CLFIT_P_CB}, {CLFIT_P_TF, CLFIT_P_KF}, {CLFIT_P_RG, CLFIT_P_CG},
    {CLFIT_P_TR, CLFIT_P_TC}, {CLFIT_P_KC, -1},   {CLFIT_P_FWGS, -1},
    {CLFIT_P_GWGS, -1}, {CLFIT_P_SXE_WGS, -1},    {CLFIT_P_WGS, -1},      {CLFIT_P_HS, CLFIT_P_SWGS},
    {CLFIT_P_KS, -1},
};
enum { NORDER = sizeof search_order / sizeof search_order[0] };

static int value_index(int id, int v)
{
    for (int i = 0; i < clfit_tunables[id].n; i++)
        if (clfit_tunables[id].values[i] == v) return i;
    return 0;
}

static int fits_device(const clfit_cl *cl, int id, int v)
{
    return !clfit_param_is_wg(id) || !cl->info.max_wg || (size_t)v <= cl->info.max_wg;
}

/* Tries every value (pair of values) of coordinate c around s->best, or with quick only
 * the neighbouring ones; stops at the budget (*out_of_time). *improved is set when the
 * best changed. */
static clfit_status search_coord(search *s, coord c, int quick, double budget, int *improved,
                                 int *out_of_time)
{
    clfit_params base = s->best;
    int na = clfit_tunables[c.a].n, nb = c.b >= 0 ? clfit_tunables[c.b].n : 1;
    int ca = value_index(c.a, base.v[c.a]), cb = c.b >= 0 ? value_index(c.b, base.v[c.b]) : 0;
    char name[32];
    snprintf(name, sizeof name, "%s%s%s", clfit_tunables[c.a].name, c.b >= 0 ? "," : "",
             c.b >= 0 ? clfit_tunables[c.b].name : "");
    for (int ia = 0; ia < na; ia++)
        for (int ib = 0; ib < nb; ib++) {
            if (ia == ca && ib == cb) continue;
            if (quick && (abs(ia - ca) > 1 || abs(ib - cb) > 1)) continue;
            clfit_params p = base;
            p.v[c.a] = clfit_tunables[c.a].values[ia];
            if (c.b >= 0) p.v[c.b] = clfit_tunables[c.b].values[ib];
            if (!fits_device(s->cl, c.a, p.v[c.a]) || (c.b >= 0 && !fits_device(s->cl, c.b, p.v[c.b]))) continue;
            if (c.a == CLFIT_P_BACKEND && clfit_backend_refuses(p.v[c.a], s->d, NULL, 1)) continue;
            /* no candidate starts that would likely end past the budget */
            double per = s->nseen ? (clfit_now() - s->t0) / s->nseen : 0;
            if (clfit_now() - s->t0 + per > budget) { *out_of_time = 1; return CLFIT_OK; }
            clfit_params before = s->best;
            double us;
            clfit_status st = try_params(s, name, &p, &us);
            if (st) return st;
            if (memcmp(&before, &s->best, sizeof before) != 0) *improved = 1;
        }
    return CLFIT_OK;
}

/* The median of n values (sorts them). */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* clfit_tune under the program for any model */
static clfit_status tune_any(clfit_cl *cl, const clfit_model_desc *d, int batch, const clfit_tune_opts *o,
                             clfit_tune_entry *result)
{
    search s = {.cl = cl, .d = d, .batch = batch, .o = o, .t0 = clfit_now(), .best_us = 1e300};
    clfit_params start;
    clfit_params_default(cl->cls, &start);
    start.v[CLFIT_P_BACKEND] = clfit_backend_choose(start.v[CLFIT_P_BACKEND], d, NULL, 1, NULL);
    clfit_params_fit_wg(&start, cl->info.max_wg);
    long cap;
    clfit_status st = clfit_canary_loop_cap(cl, &cap);
    if (!st) st = bench_open(&s.b, cl, d, batch);
    if (st) return st;
    /* the defaults, within what the device's kernels allow; where their backend cannot be
     * built, stay clear of the loop cap or pass its check, the next backend's (own, slice,
     * clblast) */
    double default_us = -1;
    int first = start.v[CLFIT_P_BACKEND], order[CLFIT_GEMM_COUNT] = {first, CLFIT_GEMM_OWN, CLFIT_GEMM_SLICE};
    char fails[1024] = "";
    clfit_params base = start;
    for (int i = 0; i < CLFIT_GEMM_COUNT && !st && default_us < 0; i++) {
        int g = i == 2 && first == CLFIT_GEMM_SLICE ? CLFIT_GEMM_CLBLAST : order[i];
        if (i > 0 && (g == first || clfit_backend_refuses(g, d, NULL, 1))) continue;
        clfit_params p = base;
        p.v[CLFIT_P_BACKEND] = g;
        clfit_loop_fit(cap, cl->info.max_wg, d, batch, &p, NULL, 0);
        s.last_why[0] = '\0';
        clfit_status b = clfit_cl_set_params(cl, &p);
        if (b == CLFIT_ERR_NOMEM) st = b;
        if (b) snprintf(s.last_why, sizeof s.last_why, "%s", clfit_last_error());
        else start = cl->p; /* as the device's kernels allow */
        if (!b && !st) st = try_params(&s, "", &start, &default_us);
        if (!st && default_us < 0) {
            size_t used = strlen(fails);
            snprintf(fails + used, sizeof fails - used, "%s%s: %s", used ? "; " : "", clfit_gemm_names[g], s.last_why);
        }
    }
    if (!st && default_us < 0) {
        char text[256];
        st = clfit_fail(CLFIT_ERR_ARG, "the %s defaults (%s) fail on %s (%s): nothing to tune from",
                        clfit_device_class_names[cl->cls], clfit_params_format(&base, text, sizeof text), cl->info.name,
                        fails);
    }
    double budget = o && o->budget_s > 0 ? o->budget_s : 120;
    int cpu = cl->cls == CLFIT_CLASS_CPU_AVX2 || cl->cls == CLFIT_CLASS_CPU_AVX512, out_of_time = 0;
    /* the first pass tries each coordinate's neighbouring values only, so that every
     * coordinate gets its turn within the budget; the next passes their whole spaces */
    int improved = 1;
    for (int pass = 0; pass < 4 && (improved || pass == 1) && !out_of_time && !st; pass++) {
        improved = 0;
        for (int k = 0; k <= NORDER && !out_of_time && !st; k++) {
            coord c = cpu ? (k < NORDER ? search_order[k] : (coord){CLFIT_P_BACKEND, -1})
                          : (k == 0 ? (coord){CLFIT_P_BACKEND, -1} : search_order[k - 1]);
            if (c.a == CLFIT_P_BACKEND && d->nhidden < 1) continue;
            /* a short tune on a CPU keeps the backend: compiling CLBlast's kernels alone
             * can take longer than its whole budget, and its step has always lost there */
            if (c.a == CLFIT_P_BACKEND && cpu && o && o->quick) continue;
            if (!clfit_param_matters(c.a, s.best.v[CLFIT_P_BACKEND])) continue;
            if (o && o->only && !(o->only >> c.a & 1u) && !(c.b >= 0 && o->only >> c.b & 1u)) continue;
            st = search_coord(&s, c, pass == 0 || (o && o->quick), budget, &improved, &out_of_time);
        }
    }
    if (!st) {
        /* the winner against the defaults, interleaved (ROUNDS of each, alternating, so that
         * the machine's drift falls on both), medians compared: the winner is kept only
         * where it is faster; else the entry is the defaults (a speedup of 1.00x) */
        enum { ROUNDS = 5 };
        double bt[ROUNDS], dt[ROUNDS], best_us = s.best_us, def_us = default_us;
        clfit_params best = s.best;
        clfit_params eb = step_equivalent(&best, d, batch), es = step_equivalent(&start, d, batch);
        int same = !memcmp(&eb, &es, sizeof eb), rounds = same ? 1 : ROUNDS;
        if (same) best = start; /* the same kernels: the defaults as they are written */
        /* the tunables step_equivalent may set aside keep the defaults' values where they
         * do not shape this step (so that the entry reads as what changed) */
        static const int unused[] = {CLFIT_P_TR, CLFIT_P_TC, CLFIT_P_KC, CLFIT_P_TF, CLFIT_P_KF};
        for (size_t i = 0; i < sizeof unused / sizeof *unused && !same; i++) {
            clfit_params q = best;
            q.v[unused[i]] = start.v[unused[i]];
            clfit_params eq = step_equivalent(&q, d, batch);
            if (!memcmp(&eq, &eb, sizeof eq)) best = q;
        }
        for (int r = 0; r < rounds && !st; r++) {
            if (!(st = clfit_cl_set_params(cl, &start))) st = bench_run(&s.b, &dt[r]);
            if (!st && !same && !(st = clfit_cl_set_params(cl, &best))) st = bench_run(&s.b, &bt[r]);
        }
        if (!st) {
            def_us = median(dt, rounds);
            best_us = same ? def_us : median(bt, rounds);
            if (best_us >= def_us) { /* not measured faster: the defaults */
                best = start;
                best_us = def_us;
            }
            st = clfit_cl_set_params(cl, &best);
        }
        if (!st) {
            key_of(&cl->info, d, batch, result);
            result->params = best;
            result->us_per_step = best_us;
            result->default_us_per_step = def_us;
            result->candidates = s.candidates;
            result->rejected = s.rejected;
            result->seconds = clfit_now() - s.t0;
            copy(result->kind, sizeof result->kind, o && o->quick ? "quick" : "full");
            time_t t = time(NULL);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(result->date, sizeof result->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
    }
    free(s.seen);
    bench_close(&s.b);
    return st;
}

clfit_status clfit_tune(clfit_cl *cl, const clfit_model_desc *d, int batch,
                        const clfit_tune_opts *o, clfit_tune_entry *result)
{
    if (batch < 1) return clfit_fail(CLFIT_ERR_ARG, "batch size %d < 1", batch);
    /* the search and its checks run the program for any model (verify's cases take every
     * activation, dropout and loss); the caller's family comes back at the end, compiled
     * with the current parameters */
    clfit_family family = cl->family;
    clfit_status st = clfit_cl_use_family(cl, CLFIT_FAMILY_ANY);
    if (st) return st;
    st = tune_any(cl, d, batch, o, result);
    clfit_status back = clfit_cl_use_family(cl, family);
    return st ? st : back;
}

clfit_cl *clfit_cl_open_tuned(const char *selector, const clfit_model_desc *d, int batch, const clfit_optim *o,
                              char *from, size_t from_size, clfit_status *st)
{
    clfit_device_info *list = NULL;
    int count, chosen;
    clfit_status s = clfit_cl_devices(&list, &count);
    if (!s) s = clfit_cl_pick(list, count, selector, &chosen);
    if (s) {
        free(list);
        if (st) *st = s;
        return NULL;
    }
    clfit_device_info info = list[chosen];
    free(list);
    clfit_tune_entry e;
    int found = 0;
    char arch[128], bad[256] = "";
    clfit_arch_format(d, arch, sizeof arch);
    if (clfit_tunedb_lookup(&info, d, batch, &e, &found)) /* a bad entry: the defaults, and why */
        snprintf(bad, sizeof bad, "; %s", clfit_last_error());
    clfit_cl *cl = clfit_cl_open_for(selector, found ? &e.params : NULL, d, &s);
    if (!cl) {
        if (st) *st = s;
        return NULL;
    }
    const char *why = NULL;
    int g = cl->p.v[CLFIT_P_BACKEND], run = clfit_backend_choose(g, d, o, 1, &why);
    if (run != g) {
        clfit_params p = cl->p;
        p.v[CLFIT_P_BACKEND] = run;
        if ((s = clfit_cl_set_params(cl, &p))) {
            clfit_cl_close(cl);
            if (st) *st = s;
            return NULL;
        }
    }
    char note[1024];
    const char *forced = getenv("CLFIT_TUNE");
    if ((s = clfit_cl_prepare(cl, d, batch, o, 1, forced && *forced ? CLFIT_KEEP_PARAMS : 0, note, sizeof note))) {
        clfit_cl_close(cl);
        if (st) *st = s;
        return NULL;
    }
    if (from) {
        char text[256];
        clfit_params_format(&cl->p, text, sizeof text);
        if (found)
            snprintf(from, from_size, "%s (tuned for %s at batch %d, %s %.10s)%s%s%s", text, arch, batch, e.kind, e.date,
                     why ? "; " : "", why ? why : "", bad);
        else
            snprintf(from, from_size, "%s (%s defaults: not tuned for %s at batch %d)%s%s%s", text,
                     clfit_device_class_names[cl->cls], arch, batch, why ? "; " : "", why ? why : "", bad);
        size_t used = strlen(from);
        if (*note) snprintf(from + used, from_size - used, "; %s", note);
        used = strlen(from);
        if (cl->limits && *cl->limits) snprintf(from + used, from_size - used, "; %s", cl->limits);
    }
    if (st) *st = CLFIT_OK;
    return cl;
}

/* ---- before the first training with a set of kernels ---- */

#define CHECK_FORMAT "clfit check 1"

/* The first-contact cache's file for cl's current program checked for d at batch B, and
 * the key its text must start with. 0 if there is no cache. */
static int check_path(const clfit_cl *cl, const clfit_model_desc *d, int B, char *path, size_t psize, char *key,
                      size_t ksize)
{
    char dir[4096], arch[128], params[512];
    if (!clfit_cache_dir("checks", dir, sizeof dir)) return 0;
    clfit_arch_format(d, arch, sizeof arch);
    clfit_params_format_all(&cl->p, params, sizeof params);
    snprintf(key, ksize, "%s\nplatform %s\ndevice %s\ndriver %s\nbackend %s\nparams %s\nmodel %s\nbatch %d\n"
                         "sources %016llx\n",
             CHECK_FORMAT, cl->info.platform_name, cl->info.name, cl->info.driver,
             clfit_gemm_names[cl->p.v[CLFIT_P_BACKEND]], params, arch, B, clfit_cl_sources_hash());
    unsigned long long h = clfit_fnv1a(CLFIT_FNV_START, key, strlen(key));
    return snprintf(path, psize, "%s/%016llx.txt", dir, h) < (int)psize;
}

/* check_candidate of cl's current parameters for d at batch, once: a cached result is
 * used when there is one. *wrong and why as check_candidate's; *cached whether it was. */
static clfit_status check_once(clfit_cl *cl, const clfit_model_desc *d, int batch, int *wrong, char *why,
                               size_t wsize, int *cached)
{
    int B = batch < 256 ? batch : 256;
    char path[4400], key[2048];
    int have = check_path(cl, d, B, path, sizeof path, key, sizeof key);
    size_t len, klen = strlen(key);
    char *text = have ? clfit_cache_read(path, 8192, &len) : NULL;
    *cached = 0;
    if (text && len > klen && !strncmp(text, key, klen)) {
        const char *r = text + klen;
        if (!strcmp(r, "pass\n")) *cached = 1, *wrong = 0;
        else if (!strncmp(r, "fail ", 5) && r[strlen(r) - 1] == '\n') {
            *cached = 1, *wrong = 1;
            snprintf(why, wsize, "%.*s", (int)(strlen(r) - 6), r + 5);
        }
    }
    free(text);
    if (*cached) return CLFIT_OK;
    clfit_family family = cl->family;
    clfit_params p = cl->p;
    clfit_status st = clfit_cl_use_family(cl, CLFIT_FAMILY_ANY); /* verify's cases take every activation */
    if (!st) st = check_candidate(cl, d, batch, wrong, why, wsize);
    clfit_status back = clfit_cl_use_family(cl, family);
    if (!back) back = clfit_cl_set_params(cl, &p);
    if (st) return st;
    if (back) return back;
    if (have) {
        char *buf = malloc(klen + wsize + 16);
        if (buf) {
            int n = sprintf(buf, "%s%s%s\n", key, *wrong ? "fail " : "pass", *wrong ? why : "");
            clfit_cache_write(path, buf, (size_t)n); /* best effort: checked again next time */
            free(buf);
        }
    }
    return CLFIT_OK;
}

static void note_add(char *note, size_t nsize, const char *text)
{
    if (!note) return;
    size_t used = strlen(note);
    if (used + 1 < nsize) snprintf(note + used, nsize - used, "%s%s", used ? "; " : "", text);
}

/* Keeps cl's parameters for d at batch clear of the device's loop cap: 0 and why when its
 * backend cannot be; a change is added to note. */
static int fit_defects(clfit_cl *cl, const clfit_model_desc *d, int batch, int keep_params, char *why, size_t wsize,
                       char *note, size_t nsize, clfit_status *st)
{
    long cap = 0;
    *st = clfit_canary_loop_cap(cl, &cap);
    if (*st || cap <= 0) return !*st;
    clfit_params p = cl->p;
    char what[512];
    const char *kernel;
    long passes = clfit_step_passes(&p, d, batch, &kernel);
    if (keep_params && passes >= cap) { /* a set the user forced: refused, not changed */
        past_cap(why, wsize, kernel, passes, batch, cap);
        return 0;
    }
    if (!clfit_loop_fit(cap, cl->info.max_wg, d, batch, &p, what, sizeof what)) {
        snprintf(why, wsize, "%s", what);
        return 0;
    }
    size_t max_wg = cl->info.max_wg;
    for (int round = 0; round < 3 && memcmp(&p, &cl->p, sizeof p); round++) {
        if ((*st = clfit_cl_set_params(cl, &p))) return 0;
        if (clfit_step_passes(&cl->p, d, batch, &kernel) < cap) {
            note_add(note, nsize, what);
            return 1;
        }
        /* the kernel allows smaller work-groups than the device (cl->limits): fit within them */
        p = cl->p;
        max_wg = (size_t)cl->p.v[CLFIT_P_SWGS];
        if (!clfit_loop_fit(cap, max_wg, d, batch, &p, what, sizeof what)) break;
    }
    passes = clfit_step_passes(&cl->p, d, batch, &kernel);
    if (passes >= cap) {
        past_cap(why, wsize, kernel, passes, batch, cap);
        return 0;
    }
    return 1;
}

clfit_status clfit_cl_prepare(clfit_cl *cl, const clfit_model_desc *d, int batch, const clfit_optim *o, int ranks,
                              int keep, char *note, size_t nsize)
{
    int forced = keep & CLFIT_KEEP_BACKEND;
    if (note && nsize) note[0] = '\0';
    const char *env = getenv("CLFIT_FIRST_CHECK");
    int skip_check = env && !strcmp(env, "0");
    int first = cl->p.v[CLFIT_P_BACKEND];
    /* the backend asked for, then the others in the order the trainer falls back to them */
    int order[CLFIT_GEMM_COUNT] = {first, CLFIT_GEMM_OWN, CLFIT_GEMM_CLBLAST};
    char fails[1024] = "";
    clfit_params start = cl->p;
    for (int i = 0; i < CLFIT_GEMM_COUNT; i++) {
        int g = order[i];
        if ((i > 0 && g == first) || (i > 0 && forced)) continue;
        if (i > 0 && clfit_backend_refuses(g, d, o, ranks)) continue;
        clfit_params p = start;
        p.v[CLFIT_P_BACKEND] = g;
        clfit_status st = clfit_cl_set_params(cl, &p);
        char why[512] = "";
        int ok = !st, wrong = 0, cached = 0;
        if (st == CLFIT_ERR_NOMEM) return st;
        if (st) snprintf(why, sizeof why, "%s", clfit_last_error());
        if (ok && !fit_defects(cl, d, batch, keep & CLFIT_KEEP_PARAMS, why, sizeof why, note, nsize, &st)) ok = 0;
        if (st == CLFIT_ERR_NOMEM) return st;
        if (ok && !skip_check) {
            double t0 = clfit_now();
            st = check_once(cl, d, batch, &wrong, why, sizeof why, &cached);
            if (!st && !wrong && !cached) {
                char text[96];
                snprintf(text, sizeof text, "first use: checked against the reference in %.1f s", clfit_now() - t0);
                note_add(note, nsize, text);
            }
            if (st == CLFIT_ERR_NOMEM) return st;
            if (st) snprintf(why, sizeof why, "%s", clfit_last_error());
            ok = !st && !wrong;
        }
        if (ok) {
            if (i > 0) {
                char text[256];
                snprintf(text, sizeof text, "%s instead (%s)", clfit_gemm_names[g], fails);
                note_add(note, nsize, text);
            }
            return CLFIT_OK;
        }
        size_t used = strlen(fails);
        snprintf(fails + used, sizeof fails - used, "%s%s: %s", used ? "; " : "", clfit_gemm_names[g], why);
    }
    clfit_cl_set_params(cl, &start);
    return clfit_fail(CLFIT_ERR_CHECK, "%s on %s%s; run 'clfit tune'%s, or 'clfit verify' (--verbose for the rows)", fails,
                      cl->info.name, forced ? "" : " (no backend passes)",
                      forced ? ", another backend (--gemm)" : "");
}
