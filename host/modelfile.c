/* safetensors reading and writing (see include/clfit/modelfile.h). JSON through cJSON. */
#include "clfit/modelfile.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/io.h"
#include "clfit/parts.h"

void clfit_arch_format(const clfit_model_desc *d, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%d", d->input);
    for (int i = 0; i < d->nhidden && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - n, "-%d", d->hidden[i]);
    if (n > 0 && (size_t)n < size) snprintf(buf + n, size - n, "-%d", d->classes);
}

/* clfit_arch_parse, for a regression model (the last width its targets, 1 allowed) too */
static clfit_status arch_parse_as(const char *s, clfit_model_desc *d, int regression);

clfit_status clfit_arch_parse(const char *s, clfit_model_desc *d)
{
    return arch_parse_as(s, d, 0);
}

static clfit_status arch_parse_as(const char *s, clfit_model_desc *d, int regression)
{
    int w[CLFIT_MAX_LAYERS + 1], n = 0;
    char q[80];
    const char *p = s;
    for (;;) {
        char item[16];
        size_t len = strcspn(p, "-");
        long v;
        if (n == CLFIT_MAX_LAYERS + 1 || len == 0 || len >= sizeof item) break;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!clfit_parse_long(item, 1, CLFIT_MAX_INPUT, &v)) break;
        w[n++] = (int)v;
        if (!p[len]) {
            p += len;
            break;
        }
        p += len + 1;
    }
    if (*p || n < 2 || s[strlen(s) - 1] == '-')
        return clfit_fail(CLFIT_ERR_ARG, "architecture \"%s\": expected 2 to %d widths like 784-128-10",
                          clfit_quote(s, q, sizeof q), CLFIT_MAX_LAYERS + 1);
    memset(d, 0, sizeof *d);
    d->input = w[0];
    d->nhidden = n - 2;
    for (int i = 0; i < n - 2; i++) d->hidden[i] = w[i + 1];
    d->classes = w[n - 1];
    d->regression = regression;
    d->loss = regression ? CLFIT_LOSS_MSE : CLFIT_LOSS_XENT; /* the parts say the loss; a regression's is mse */
    clfit_layer layer[CLFIT_MAX_LAYERS];
    int nl;
    size_t np;
    clfit_status st = clfit_model_layout(d, layer, &nl, &np);
    if (st) {
        char why[256];
        snprintf(why, sizeof why, "%s", clfit_last_error());
        return clfit_fail(CLFIT_ERR_ARG, "architecture %s: %s", clfit_quote(s, q, sizeof q), why);
    }
    return CLFIT_OK;
}

/* The tensors of a model, in file order: kind 0 params, 1 Adam m, 2 Adam v; and for a
 * table's model that standardises its inputs, 3 their mean and 4 their deviation. */
#define MAX_TENSORS (3 * 2 * CLFIT_MAX_LAYERS + 2)
typedef struct {
    char name[48];
    int kind;
    size_t off, count;  /* in the flat array, in floats */
    int ndim, shape[2];
} tensor_ref;

static int list_tensors(const clfit_model *m, int with_norm, tensor_ref *t)
{
    static const char *prefix[3] = {"", "adam_m.", "adam_v."};
    int n = 0;
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < m->nlayers; l++) {
            const clfit_layer *L = &m->layer[l];
            snprintf(t[n].name, sizeof t[n].name, "%sdense_%d.weight", prefix[k], l);
            t[n].kind = k; t[n].off = L->w_off; t[n].count = (size_t)L->in * L->out;
            t[n].ndim = 2; t[n].shape[0] = L->in; t[n].shape[1] = L->out;
            n++;
            snprintf(t[n].name, sizeof t[n].name, "%sdense_%d.bias", prefix[k], l);
            t[n].kind = k; t[n].off = L->b_off; t[n].count = (size_t)L->out;
            t[n].ndim = 1; t[n].shape[0] = L->out;
            n++;
        }
    for (int k = 3; with_norm && k <= 4; k++) {
        snprintf(t[n].name, sizeof t[n].name, "normalize.%s", k == 3 ? "mean" : "std");
        t[n].kind = k; t[n].off = 0; t[n].count = (size_t)m->desc.input;
        t[n].ndim = 1; t[n].shape[0] = m->desc.input;
        n++;
    }
    return n;
}

static float *kind_array(const clfit_model *m, int kind)
{
    float *const a[5] = {m->params, m->m, m->v, m->norm_mean, m->norm_std};
    return a[kind];
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Copies n floats to/from little-endian bytes. */
static void floats_to_le(uint8_t *dst, const float *src, size_t n)
{
    memcpy(dst, src, n * 4);
    if (!host_is_little_endian())
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = dst + 4 * i, t;
            t = p[0]; p[0] = p[3]; p[3] = t; t = p[1]; p[1] = p[2]; p[2] = t;
        }
}
static void le_to_floats(float *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n * 4);
    if (!host_is_little_endian())
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = (uint8_t *)(dst + i), t;
            t = p[0]; p[0] = p[3]; p[3] = t; t = p[1]; p[1] = p[2]; p[2] = t;
        }
}

static void add_meta(cJSON *meta, const char *key, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON_AddStringToObject(meta, key, buf);
}

char *clfit_class_names_json(const clfit_model *m)
{
    if (!m->class_names) return NULL;
    cJSON *names = cJSON_CreateArray();
    for (int c = 0; c < m->desc.classes; c++) cJSON_AddItemToArray(names, cJSON_CreateString(m->class_names[c]));
    char *text = cJSON_PrintUnformatted(names);
    cJSON_Delete(names);
    char *out = text ? strdup(text) : NULL; /* free()-able, whatever allocator cJSON was given */
    cJSON_free(text);
    return out;
}

clfit_status clfit_model_save(const char *path, const clfit_model *m, const clfit_model_meta *meta)
{
    uint8_t *data;
    size_t size;
    clfit_status st = clfit_model_serialize(m, meta, path, &data, &size);
    if (st) return st;
    st = clfit_write_atomic(path, data, size);
    free(data);
    return st;
}

clfit_status clfit_model_serialize(const clfit_model *m, const clfit_model_meta *meta, const char *path,
                                   uint8_t **out, size_t *size)
{
    tensor_ref t[MAX_TENSORS];
    int nt = list_tensors(m, m->norm_mean && m->norm_std, t);
    clfit_status st = CLFIT_OK;
    char *json = NULL;
    uint8_t *data = NULL;

    cJSON *root = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(root, "__metadata__");
    char arch[128];
    clfit_arch_format(&m->desc, arch, sizeof arch);
    cJSON_AddStringToObject(md, "format", "clfit");
    cJSON_AddStringToObject(md, "architecture", arch);
    add_meta(md, "input_shape", "%dx%d", meta->rows, meta->cols);
    add_meta(md, "epoch", "%ld", meta->epoch);
    add_meta(md, "step", "%ld", m->step);
    add_meta(md, "seed", "%" PRIu64, meta->seed);
    add_meta(md, "batch", "%d", meta->batch);
    add_meta(md, "validation_split", "%.17g", meta->validation_split);
    add_meta(md, "adam_lr", "%.9g", m->adam.lr);
    add_meta(md, "adam_beta1", "%.9g", m->adam.beta1);
    add_meta(md, "adam_beta2", "%.9g", m->adam.beta2);
    add_meta(md, "adam_epsilon", "%.9g", m->adam.eps);
    /* the parts (format 2; a file without them is a ReLU, cross-entropy, plain Adam model) */
    char buf[256];
    const clfit_optim *o = &m->opt;
    add_meta(md, "format_version", "2");
    add_meta(md, "activations", "%s", clfit_acts_format(&m->desc, buf, sizeof buf));
    add_meta(md, "dropout", "%s", clfit_dropout_format(&m->desc, buf, sizeof buf));
    add_meta(md, "loss", "%s", clfit_loss_names[m->desc.loss]);
    if (m->desc.regression) add_meta(md, "targets", "values"); /* a regression's outputs: absent, classes */
    add_meta(md, "optimizer", "%s", clfit_opt_names[o->kind]);
    add_meta(md, "momentum", "%.9g", o->momentum);
    add_meta(md, "nesterov", "%d", o->nesterov);
    add_meta(md, "rho", "%.9g", o->rho);
    add_meta(md, "weight_decay", "%.9g", o->weight_decay);
    add_meta(md, "l2", "%.9g", o->l2);
    add_meta(md, "clipnorm", "%.9g", o->clipnorm);
    add_meta(md, "lr_schedule", "%s", clfit_sched_names[o->sched]);
    add_meta(md, "warmup_epochs", "%.9g", o->warmup_epochs);
    add_meta(md, "lr_gamma", "%.9g", o->gamma);
    add_meta(md, "plateau_factor", "%.9g", o->factor);
    add_meta(md, "plateau_patience", "%d", o->patience);
    add_meta(md, "schedule_epochs", "%ld", o->sched_epochs);
    add_meta(md, "schedule_steps", "%ld", o->sched_steps);
    add_meta(md, "lr_scale", "%.9g", o->lr_scale);
    add_meta(md, "plateau_best", "%.17g", isfinite(o->best) ? o->best : 1e308);
    add_meta(md, "plateau_bad_epochs", "%d", o->bad_epochs);
    cJSON_AddStringToObject(md, "layout", "dense_<l>.weight is [in, out]: y = x W + b");
    if (m->norm_mean && m->norm_std)
        cJSON_AddStringToObject(md, "normalize", "the inputs become (x - normalize.mean) / normalize.std first");
    if (m->class_names) { /* a table's classes: a JSON array of their names, by label */
        char *text = clfit_class_names_json(m);
        if (!text) { cJSON_Delete(root); return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); }
        cJSON_AddStringToObject(md, "class_names", text);
        free(text);
    }
    size_t offset = 0;
    for (int i = 0; i < nt; i++) {
        cJSON *e = cJSON_AddObjectToObject(root, t[i].name);
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t[i].ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber(t[i].shape[d]));
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        offset += t[i].count * 4;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
    }
    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path);
    /* pad the header with spaces so that the data starts 8-byte aligned */
    size_t hlen = strlen(json), padded = (hlen + 7) / 8 * 8;
    data = malloc(8 + padded + offset);
    if (!data) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); goto done; }
    for (int i = 0; i < 8; i++) data[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(data + 8, json, hlen);
    memset(data + 8 + hlen, ' ', padded - hlen);
    uint8_t *p = data + 8 + padded;
    for (int i = 0; i < nt; i++) {
        floats_to_le(p, kind_array(m, t[i].kind) + t[i].off, t[i].count);
        p += t[i].count * 4;
    }
    *out = data;
    *size = 8 + padded + offset;
    data = NULL;
done:
    free(data);
    cJSON_free(json);
    return st;
}

static const char *meta_str(const cJSON *md, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The largest model file clfit reads: the parameters and both moments of the largest
 * model (CLFIT_MAX_PARAMS), and a header. */
#define MAX_MODEL_FILE ((uint64_t)CLFIT_MAX_PARAMS * 12 + (1u << 20))
/* Limits on the metadata's counts, so that nothing added to them overflows */
#define MAX_EPOCH 1000000000L
#define MAX_STEP (1L << 53)

/* One metadata value, parsed whole and within its range; else a message naming the key. */
typedef struct {
    const char *name, *path;
    const cJSON *md;
    clfit_status st;
} meta_reader;

static int meta_fail(meta_reader *r, const char *key, const char *v, const char *want)
{
    char q[80];
    r->st = clfit_fail(CLFIT_ERR_FORMAT, "%s: __metadata__ %s \"%s\" is not %s", r->path, key,
                       clfit_quote(v, q, sizeof q), want);
    return 0;
}

static int meta_long(meta_reader *r, const char *key, long lo, long hi, long *out)
{
    const char *v = meta_str(r->md, key);
    char want[96];
    snprintf(want, sizeof want, "an integer in %ld..%ld", lo, hi);
    return clfit_parse_long(v, lo, hi, out) ? 1 : meta_fail(r, key, v, want);
}

static int meta_double(meta_reader *r, const char *key, double lo, double hi, int open_hi, const char *want,
                       double *out)
{
    const char *v = meta_str(r->md, key);
    if (!clfit_parse_double(v, lo, hi, out) || (open_hi && *out >= hi)) return meta_fail(r, key, v, want);
    return 1;
}

/* An optional key (absent in files of clfit before format 2): 1 when absent or parsed, 0 on
 * a bad value (r->st set). */
static int opt_double(meta_reader *r, const char *key, double lo, double hi, const char *want, double *out)
{
    return !meta_str(r->md, key) || meta_double(r, key, lo, hi, 0, want, out);
}
static int opt_long(meta_reader *r, const char *key, long lo, long hi, long *out)
{
    return !meta_str(r->md, key) || meta_long(r, key, lo, hi, out);
}
static int opt_name(meta_reader *r, const char *key, const char *const *names, int n, int *out)
{
    const char *v = meta_str(r->md, key);
    if (!v) return 1;
    int i = clfit_part_find(names, n, v);
    if (i < 0) {
        char want[160] = "one of";
        for (int k = 0; k < n; k++) snprintf(want + strlen(want), sizeof want - strlen(want), " %s", names[k]);
        return meta_fail(r, key, v, want);
    }
    *out = i;
    return 1;
}

/* "relu,gelu" / "0,0.2" for nhidden layers ("-" for none) into d. */
static int parse_layer_list(meta_reader *r, const char *key, clfit_model_desc *d, int acts)
{
    const char *v = meta_str(r->md, key);
    if (!v) return 1;
    if (d->nhidden == 0) return !strcmp(v, "-") ? 1 : meta_fail(r, key, v, "\"-\" (the model has no hidden layer)");
    const char *p = v;
    for (int l = 0; l < d->nhidden; l++) {
        char item[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || (l < d->nhidden - 1) != (p[len] == ','))
            return meta_fail(r, key, v, acts ? "an activation per hidden layer, comma-separated"
                                              : "a dropout rate in [0, 1) per hidden layer, comma-separated");
        memcpy(item, p, len);
        item[len] = '\0';
        if (acts) {
            int a = clfit_act_find(item);
            if (a < 0) {
                char names[160], want[200];
                snprintf(want, sizeof want, "a list of clfit's activations (%s)", clfit_act_names(names, sizeof names));
                return meta_fail(r, key, v, want);
            }
            d->act[l] = (clfit_act)a;
        } else {
            double x;
            if (!clfit_parse_double(item, 0, 0.99, &x)) return meta_fail(r, key, v, "dropout rates in [0, 0.99] (as --dropout)");
            d->dropout[l] = (float)x;
        }
        p += len + (p[len] == ',');
    }
    return 1;
}

/* The parts of format 2 into desc and o; 0 with r->st set on a bad value. */
static int parse_parts(meta_reader *r, clfit_model_desc *desc, clfit_optim *o)
{
    static const char *const targets[] = {"classes", "values"};
    int loss = 0, kind = 0, sched = 0, values = 0;
    long nest = 0, pat = o->patience, se = 0, ss = 0, bad = 0;
    double mom = 0, rho = o->rho, wd = 0, l2 = 0, clip = 0, warm = 0, gamma = o->gamma, factor = o->factor, scale = 1,
           best = 1e308;
    if (!parse_layer_list(r, "activations", desc, 1) || !parse_layer_list(r, "dropout", desc, 0) ||
        !opt_name(r, "loss", clfit_loss_names, CLFIT_LOSS_COUNT, &loss) || !opt_name(r, "targets", targets, 2, &values) ||
        !opt_name(r, "optimizer", clfit_opt_names, CLFIT_OPT_COUNT, &kind) ||
        !opt_double(r, "momentum", 0, 0.999, "in [0, 0.999] (as --momentum)", &mom) ||
        !opt_long(r, "nesterov", 0, 1, &nest) ||
        !opt_double(r, "rho", 0, 0.999999, "in [0, 0.999999] (as --rho)", &rho) ||
        !opt_double(r, "weight_decay", 0, 10, "in [0, 10] (as --weight-decay)", &wd) ||
        !opt_double(r, "l2", 0, 1e6, "in [0, 1e6] (as --l2)", &l2) ||
        !opt_double(r, "clipnorm", 0, 1e30, "in [0, 1e30] (as --clipnorm)", &clip) ||
        !opt_name(r, "lr_schedule", clfit_sched_names, CLFIT_SCHED_COUNT, &sched) ||
        !opt_double(r, "warmup_epochs", 0, 1e6, "in [0, 1e6] (as --warmup-epochs)", &warm) ||
        !opt_double(r, "lr_gamma", 1e-6, 1, "in [1e-6, 1] (as --lr-gamma)", &gamma) ||
        !opt_double(r, "plateau_factor", 1e-6, 0.999999, "in [1e-6, 0.999999] (as --plateau-factor)", &factor) ||
        !opt_long(r, "plateau_patience", 0, 1000000, &pat) || !opt_long(r, "schedule_epochs", 0, MAX_EPOCH, &se) ||
        !opt_long(r, "schedule_steps", 0, 1L << 31, &ss) ||
        !opt_double(r, "lr_scale", 1e-30, 1, "in [1e-30, 1]", &scale) ||
        !opt_double(r, "plateau_best", -1e308, 1e308, "a number", &best) ||
        !opt_long(r, "plateau_bad_epochs", 0, 1000000, &bad))
        return 0;
    if (nest && !(mom > 0)) return meta_fail(r, "nesterov", "1", "possible without momentum");
    if (values && loss != CLFIT_LOSS_MSE) return meta_fail(r, "targets", "values", "trained with a loss but mse");
    desc->loss = (clfit_loss)loss;
    desc->regression = values;
    o->kind = (clfit_opt_kind)kind;
    o->momentum = (float)mom;
    o->nesterov = (int)nest;
    o->rho = (float)rho;
    o->weight_decay = (float)wd;
    o->l2 = (float)l2;
    o->clipnorm = (float)clip;
    o->sched = (clfit_sched_kind)sched;
    o->warmup_epochs = (float)warm;
    o->gamma = (float)gamma;
    o->factor = (float)factor;
    o->patience = (int)pat;
    o->sched_epochs = se;
    o->sched_steps = ss;
    o->lr_scale = (float)scale;
    o->best = best >= 1e308 ? INFINITY : best;
    o->bad_epochs = (int)bad;
    return 1;
}

/* The first index in p[0..n) of a value that is not finite (or, with nonneg, negative);
 * -1 if none. */
/* The first element that is not finite, or with sign 1 negative, or with sign 2 not
 * positive; -1 if none. */
static long bad_value(const float *p, size_t n, int sign)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]) || (sign == 1 && p[i] < 0) || (sign == 2 && !(p[i] > 0))) return (long)i;
    return -1;
}

/* A table's class names (metadata "class_names": a JSON array of desc.classes distinct,
 * non-empty strings) into m->class_names; none is no names. */
static clfit_status parse_class_names(const cJSON *md, const char *path, clfit_model *m)
{
    const char *text = meta_str(md, "class_names");
    if (!text) return CLFIT_OK;
    cJSON *a = cJSON_Parse(text);
    int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
    clfit_status s = CLFIT_OK;
    if (n != m->desc.classes) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: class_names is not a JSON array of the model's %d class names", path,
                       m->desc.classes);
    } else if (!(m->class_names = calloc((size_t)n, sizeof *m->class_names))) {
        s = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path);
    } else {
        for (int c = 0; c < n && !s; c++) {
            const cJSON *e = cJSON_GetArrayItem(a, c);
            int ok = cJSON_IsString(e) && *e->valuestring && strlen(e->valuestring) <= 1024;
            for (int k = 0; ok && k < c; k++) ok = strcmp(m->class_names[k], e->valuestring) != 0;
            if (!ok) s = clfit_fail(CLFIT_ERR_FORMAT, "%s: class_names[%d] is not a new, non-empty name of at most 1024 bytes",
                                    path, c);
            else if (!(m->class_names[c] = strdup(e->valuestring))) s = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    cJSON_Delete(a);
    return s;
}

/* The first key that appears twice in an object of j or its children (JSON leaves
 * duplicates to the reader: cJSON takes the first, Python's json the last, so two readers
 * would see different files); NULL if none. Objects of more than 256 entries count as a
 * duplicate of their first key (no clfit header has them). */
static const char *duplicate_key(const cJSON *j)
{
    int n = 0;
    for (const cJSON *e = j->child; e; e = e->next, n++) {
        if (cJSON_IsObject(j) && e->string) {
            if (n > 256) return j->child->string;
            for (const cJSON *f = e->next; f; f = f->next)
                if (f->string && !strcmp(e->string, f->string)) return e->string;
        }
        const char *d = (cJSON_IsObject(e) || cJSON_IsArray(e)) ? duplicate_key(e) : NULL;
        if (d) return d;
    }
    return NULL;
}

static int cmp_offsets(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

clfit_model *clfit_model_parse(const uint8_t *buf, size_t size, const char *path, clfit_model_meta *meta,
                               clfit_status *st)
{
    clfit_status s = CLFIT_OK;
    clfit_model *m = NULL;
    cJSON *root = NULL;
    char q[80];
    if (size < 8) { s = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: %zu bytes, not a safetensors file", path, size); goto fail; }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > (uint64_t)size - 8) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: header length %" PRIu64 " exceeds the file (%zu bytes): truncated or not safetensors",
                       path, hlen, size);
        goto fail;
    }
    const char *hdr = (const char *)buf + 8, *hend = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &hend, 0);
    if (!cJSON_IsObject(root)) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: the header is not a JSON object: not a safetensors file", path);
        goto fail;
    }
    /* after the JSON, the header holds only the spaces that align the data (the format's
     * padding): anything else would be bytes no reader accounts for */
    for (const char *c = hend; c < hdr + hlen; c++)
        if (*c != ' ') {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: byte 0x%02x after the JSON header, where only space padding may be", path,
                           (unsigned char)*c);
            goto fail;
        }
    const char *dup = duplicate_key(root);
    if (dup) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: \"%s\" appears twice in the header", path, clfit_quote(dup, q, sizeof q));
        goto fail;
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    const char *fmt = meta_str(md, "format"), *arch = meta_str(md, "architecture");
    if (!fmt || strcmp(fmt, "clfit") != 0 || !arch) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: a safetensors file, but not a clfit model (no __metadata__ format \"clfit\")", path);
        goto fail;
    }
    clfit_model_desc desc;
    const char *targets = meta_str(md, "targets"); /* checked with the parts */
    if (arch_parse_as(arch, &desc, targets && !strcmp(targets, "values"))) {
        char why[256]; /* clfit_fail must not format its own buffer into itself */
        snprintf(why, sizeof why, "%s", clfit_last_error());
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s", path, why);
        goto fail;
    }
    const char *keys[] = {"epoch", "step", "seed", "batch", "validation_split", "input_shape",
                          "adam_lr", "adam_beta1", "adam_beta2", "adam_epsilon"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!meta_str(md, keys[i])) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: __metadata__ lacks \"%s\"", path, keys[i]);
            goto fail;
        }
    clfit_model_meta mm = {0};
    meta_reader r = {.path = path, .md = md};
    long epoch, step, batch, rows = 0, cols = 0;
    double vs, lr, b1, b2, eps;
    const char *shape = meta_str(md, "input_shape");
    char sr[16], sc[16];
    size_t xpos = strcspn(shape, "x");
    if (!meta_long(&r, "epoch", 0, MAX_EPOCH, &epoch) || !meta_long(&r, "step", 0, MAX_STEP, &step) ||
        !meta_long(&r, "batch", 1, CLFIT_MAX_BATCH, &batch) ||
        !meta_double(&r, "validation_split", 0, 0.99, 0, "a fraction in [0, 0.99] (as --validation-split)", &vs) ||
        !meta_double(&r, "adam_lr", 1e-30, 3e38, 0, "a learning rate in [1e-30, 3e38] (as --lr)", &lr) ||
        !meta_double(&r, "adam_beta1", 0, 1, 1, "in [0, 1)", &b1) ||
        !meta_double(&r, "adam_beta2", 0, 1, 1, "in [0, 1)", &b2) ||
        !meta_double(&r, "adam_epsilon", 1e-30, 1, 0, "in (0, 1]", &eps)) {
        s = r.st;
        goto fail;
    }
    if (!clfit_parse_u64(meta_str(md, "seed"), &mm.seed)) {
        meta_fail(&r, "seed", meta_str(md, "seed"), "an integer in 0..2^64-1");
        s = r.st;
        goto fail;
    }
    if (xpos == 0 || xpos >= sizeof sr || !shape[xpos] || strlen(shape + xpos + 1) >= sizeof sc ||
        (memcpy(sr, shape, xpos), sr[xpos] = '\0', snprintf(sc, sizeof sc, "%s", shape + xpos + 1),
         !clfit_parse_long(sr, 1, CLFIT_MAX_INPUT, &rows) || !clfit_parse_long(sc, 1, CLFIT_MAX_INPUT, &cols)) ||
        (int64_t)rows * cols != desc.input) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: input_shape \"%s\" is not ROWSxCOLS with ROWS*COLS = %d (architecture %s)",
                       path, clfit_quote(shape, q, sizeof q), desc.input, arch);
        goto fail;
    }
    clfit_optim opt;
    clfit_optim_defaults(&opt);
    if (!parse_parts(&r, &desc, &opt)) {
        s = r.st;
        goto fail;
    }
    mm.epoch = epoch;
    mm.batch = (int)batch;
    mm.validation_split = vs;
    mm.rows = (int)rows;
    mm.cols = (int)cols;

    /* the tensors: exactly ours, each once, their bytes covering the data exactly, before
     * anything is allocated for them */
    clfit_layer layer[CLFIT_MAX_LAYERS];
    int nl;
    size_t np;
    if ((s = clfit_model_layout(&desc, layer, &nl, &np))) goto fail;
    clfit_model shape_only = {.desc = desc, .nlayers = nl};
    memcpy(shape_only.layer, layer, sizeof layer);
    tensor_ref t[MAX_TENSORS];
    int with_norm = cJSON_GetObjectItemCaseSensitive(root, "normalize.mean") != NULL;
    int nt = list_tensors(&shape_only, with_norm, t);
    uint64_t want_bytes = 0;
    for (int i = 0; i < nt; i++) want_bytes += (uint64_t)t[i].count * 4;
    uint64_t data_len = (uint64_t)size - 8 - hlen;
    if (data_len != want_bytes) {
        if (data_len < want_bytes)
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: %" PRIu64 " data bytes, but architecture %s needs %" PRIu64
                           " (weights and Adam's moments): truncated, or not that architecture's file", path, data_len, arch,
                           want_bytes);
        else
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: %" PRIu64 " data bytes, the tensors account for %" PRIu64 " (architecture %s)",
                           path, data_len, want_bytes, arch);
        goto fail;
    }
    for (const cJSON *e = root->child; e; e = e->next) {
        int known = !strcmp(e->string, "__metadata__");
        for (int i = 0; i < nt && !known; i++) known = !strcmp(e->string, t[i].name);
        if (!known) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: unexpected entry \"%s\" in the header (architecture %s)", path,
                           clfit_quote(e->string, q, sizeof q), arch);
            goto fail;
        }
    }
    uint64_t span[MAX_TENSORS][2];
    for (int i = 0; i < nt; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, t[i].name);
        if (!cJSON_IsObject(e)) { s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s is missing", path, t[i].name); goto fail; }
        const char *dtype = meta_str(e, "dtype");
        if (!dtype || strcmp(dtype, "F32") != 0) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s has dtype %s, expected F32", path, t[i].name,
                           dtype ? clfit_quote(dtype, q, sizeof q) : "(none)");
            goto fail;
        }
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        int ok = cJSON_IsArray(sh) && cJSON_GetArraySize(sh) == t[i].ndim;
        for (int d = 0; ok && d < t[i].ndim; d++) {
            const cJSON *x = cJSON_GetArrayItem(sh, d);
            ok = cJSON_IsNumber(x) && x->valuedouble == t[i].shape[d];
        }
        if (!ok) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s does not have the shape architecture %s implies", path, t[i].name, arch);
            goto fail;
        }
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        const cJSON *o0 = cJSON_GetArrayItem(offs, 0), *o1 = cJSON_GetArrayItem(offs, 1);
        double d0 = cJSON_IsNumber(o0) ? o0->valuedouble : -1, d1 = cJSON_IsNumber(o1) ? o1->valuedouble : -1;
        if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !(d0 >= 0 && d1 >= d0 && d1 <= (double)data_len) ||
            d0 != floor(d0) || d1 != floor(d1) || d1 - d0 != (double)(t[i].count * 4)) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s: data_offsets are not two whole byte offsets %zu apart within the %" PRIu64 " data bytes",
                           path, t[i].name, t[i].count * 4, data_len);
            goto fail;
        }
        span[i][0] = (uint64_t)d0;
        span[i][1] = (uint64_t)d1;
    }
    /* sorted by start, each tensor begins where the one before ends: no overlap, no gap */
    qsort(span, (size_t)nt, sizeof span[0], cmp_offsets);
    for (int i = 0; i < nt; i++)
        if (span[i][0] != (i ? span[i - 1][1] : 0)) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: the tensors' data_offsets overlap or leave a gap at byte %" PRIu64, path,
                           span[i][0]);
            goto fail;
        }
    m = clfit_model_new(&desc, 0, &s);
    if (!m) goto fail;
    m->step = step;
    m->opt = opt;
    m->dropout_seed = mm.seed;
    m->adam.lr = (float)lr;
    m->adam.beta1 = (float)b1;
    m->adam.beta2 = (float)b2;
    m->adam.eps = (float)eps;
    if (with_norm) {
        m->norm_mean = malloc((size_t)desc.input * sizeof(float));
        m->norm_std = malloc((size_t)desc.input * sizeof(float));
        if (!m->norm_mean || !m->norm_std) { s = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); goto fail; }
    }
    if ((s = parse_class_names(md, path, m))) goto fail;
    const uint8_t *data = buf + 8 + hlen;
    for (int i = 0; i < nt; i++) {
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, t[i].name), "data_offsets");
        float *dst = kind_array(m, t[i].kind) + t[i].off;
        le_to_floats(dst, data + (uint64_t)cJSON_GetArrayItem(offs, 0)->valuedouble, t[i].count);
        /* weights and moments must be numbers, and v (a mean of squares) not negative */
        long bad = bad_value(dst, t[i].count, t[i].kind == 2 ? 1 : t[i].kind == 4 ? 2 : 0);
        if (bad >= 0) {
            static const char *const what[5] = {"weight", "optimizer state", "optimizer state", "mean", "deviation (> 0)"};
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s holds %g at element %ld: not a usable %s", path, t[i].name,
                           (double)dst[bad], bad, what[t[i].kind]);
            goto fail;
        }
    }
    if (meta) *meta = mm;
    cJSON_Delete(root);
    if (st) *st = CLFIT_OK;
    return m;
fail:
    cJSON_Delete(root);
    clfit_model_free(m);
    if (st) *st = s;
    return NULL;
}

clfit_model *clfit_model_load(const char *path, clfit_model_meta *meta, clfit_status *st)
{
    uint8_t *buf;
    size_t len;
    clfit_status s = clfit_read_regular(path, MAX_MODEL_FILE, "a model file", &buf, &len);
    if (s) {
        if (st) *st = s;
        return NULL;
    }
    clfit_model *m = clfit_model_parse(buf, len, path, meta, st);
    free(buf);
    return m;
}
