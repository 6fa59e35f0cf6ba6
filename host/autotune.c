/* --gemm auto: measure both training-step backends once per device and shape, and cache
 * the choice on disk (see clfit_gemm_auto in include/clfit/train.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clfit/modelfile.h"
#include "clfit/rng.h"
#include "clfit/train.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

clfit_status clfit_time_steps(clfit_cl *cl, const clfit_model_desc *d, int B, clfit_gemm gemm,
                              int warmup, int steps, double *us_per_step)
{
    clfit_status st;
    int n = B * 8;
    clfit_dataset ds = {.count = n, .rows = 1, .cols = d->input};
    ds.images = malloc((size_t)n * d->input);
    ds.labels = malloc(n);
    clfit_model *m = clfit_model_new(d, 1, &st);
    clfit_trainer *t = NULL;
    clfit_device_data dd = {0};
    if (!ds.images || !ds.labels || !m) {
        if (m) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
        goto done;
    }
    clfit_rng r;
    clfit_rng_seed(&r, 1);
    for (size_t i = 0; i < (size_t)n * d->input; i++) ds.images[i] = (uint8_t)clfit_rng_below(&r, 256);
    for (int i = 0; i < n; i++) ds.labels[i] = (uint8_t)clfit_rng_below(&r, d->classes);
    t = clfit_trainer_new(cl, m, B, gemm, &st);
    if (!t) goto done;
    st = clfit_device_data_upload(cl, &ds, &dd);
    for (int s = 0; s < warmup && !st; s++) st = clfit_trainer_step(t, &dd, (s % 8) * B, B);
    if (!st) st = clfit_cl_finish(cl);
    double t0 = now();
    for (int s = 0; s < steps && !st; s++) st = clfit_trainer_step(t, &dd, (s % 8) * B, B);
    if (!st) st = clfit_cl_finish(cl);
    if (!st) *us_per_step = (now() - t0) * 1e6 / steps;
done:
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    clfit_model_free(m);
    free(ds.images);
    free(ds.labels);
    return st;
}

/* The cache file's path into buf, creating its directory; 0 if there is none. */
static int cache_path(char *buf, size_t size)
{
    const char *dir = getenv("CLFIT_CACHE_DIR");
    char base[4096];
    if (dir && *dir) snprintf(base, sizeof base, "%s", dir);
    else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME")) snprintf(base, sizeof base, "%s/clfit", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && *getenv("HOME")) snprintf(base, sizeof base, "%s/.cache/clfit", getenv("HOME"));
    else return 0;
    /* create the directory and its parent (mkdir -p for two levels is enough here) */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", base);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) { *slash = '\0'; mkdir(parent, 0755); }
    if (mkdir(base, 0755) != 0 && errno != EEXIST) return 0;
    snprintf(buf, size, "%s/gemm.json", base);
    return 1;
}

static cJSON *read_cache(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1 << 20) && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
        buf[n] = '\0';
    else { free(buf); buf = NULL; }
    fclose(f);
    cJSON *j = buf ? cJSON_Parse(buf) : NULL;
    free(buf);
    if (j && !cJSON_IsObject(j)) { cJSON_Delete(j); j = NULL; }
    return j;
}

clfit_status clfit_gemm_auto(clfit_cl *cl, const clfit_model_desc *d, int batch,
                             clfit_gemm *choice, double us[2], int *cached)
{
    double t[2] = {-1, -1};
    if (cached) *cached = 0;
    if (d->nhidden < 1) { /* own needs a hidden layer */
        *choice = CLFIT_GEMM_CLBLAST;
        if (us) { us[0] = us[1] = -1; }
        return CLFIT_OK;
    }
    char driver[128] = "", arch[128], key[1024], path[4200];
    clGetDeviceInfo(cl->info.device, CL_DRIVER_VERSION, sizeof driver - 1, driver, NULL);
    clfit_arch_format(d, arch, sizeof arch);
    snprintf(key, sizeof key, "%s | %s | %s | %s | batch %d", cl->info.platform_name, cl->info.name,
             driver, arch, batch);
    int have_path = cache_path(path, sizeof path);
    cJSON *cache = have_path ? read_cache(path) : NULL;
    const cJSON *hit = cJSON_GetObjectItemCaseSensitive(cache, key);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(hit, "choice");
    if (cJSON_IsString(c) && (!strcmp(c->valuestring, "own") || !strcmp(c->valuestring, "clblast"))) {
        *choice = strcmp(c->valuestring, "own") == 0 ? CLFIT_GEMM_OWN : CLFIT_GEMM_CLBLAST;
        if (us) { us[0] = us[1] = -1; }
        if (cached) *cached = 1;
        cJSON_Delete(cache);
        return CLFIT_OK;
    }
    /* 20 warm-up steps (program builds, CLBlast's kernel compilation), 100 timed */
    clfit_status st = clfit_time_steps(cl, d, batch, CLFIT_GEMM_CLBLAST, 20, 100, &t[0]);
    if (!st) st = clfit_time_steps(cl, d, batch, CLFIT_GEMM_OWN, 20, 100, &t[1]);
    if (st) { cJSON_Delete(cache); return st; }
    *choice = t[1] < t[0] ? CLFIT_GEMM_OWN : CLFIT_GEMM_CLBLAST;
    if (us) { us[0] = t[0]; us[1] = t[1]; }
    if (have_path) {
        if (!cache) cache = cJSON_CreateObject();
        cJSON_DeleteItemFromObjectCaseSensitive(cache, key);
        cJSON *e = cJSON_AddObjectToObject(cache, key);
        cJSON_AddStringToObject(e, "choice", clfit_gemm_names[*choice]);
        cJSON_AddNumberToObject(e, "clblast_us_per_step", t[0]);
        cJSON_AddNumberToObject(e, "own_us_per_step", t[1]);
        char *json = cJSON_Print(cache);
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = json ? fopen(tmp, "w") : NULL;
        if (f) { /* best effort: a cache we cannot write is only a cache */
            int ok = fputs(json, f) >= 0;
            ok = fclose(f) == 0 && ok;
            if (ok) rename(tmp, path); else remove(tmp);
        }
        cJSON_free(json);
    }
    cJSON_Delete(cache);
    return CLFIT_OK;
}
