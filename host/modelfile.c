/* safetensors reading and writing (see include/clfit/modelfile.h). JSON through cJSON. */
#include "clfit/modelfile.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void clfit_arch_format(const clfit_model_desc *d, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%d", d->input);
    for (int i = 0; i < d->nhidden && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - n, "-%d", d->hidden[i]);
    if (n > 0 && (size_t)n < size) snprintf(buf + n, size - n, "-%d", d->classes);
}

clfit_status clfit_arch_parse(const char *s, clfit_model_desc *d)
{
    int w[CLFIT_MAX_LAYERS + 1], n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > (1 << 20) || n == CLFIT_MAX_LAYERS + 1 || (*end && *end != '-'))
            return clfit_fail(CLFIT_ERR_ARG, "architecture \"%s\": expected widths like 784-128-10", s);
        w[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n < 2) return clfit_fail(CLFIT_ERR_ARG, "architecture \"%s\": need at least input and classes", s);
    memset(d, 0, sizeof *d);
    d->input = w[0];
    d->nhidden = n - 2;
    for (int i = 0; i < n - 2; i++) d->hidden[i] = w[i + 1];
    d->classes = w[n - 1];
    return CLFIT_OK;
}

/* The tensors of a model, in file order: kind 0 params, 1 Adam m, 2 Adam v. */
typedef struct {
    char name[48];
    int kind;
    size_t off, count;  /* in the flat array, in floats */
    int ndim, shape[2];
} tensor_ref;

static int list_tensors(const clfit_model *m, tensor_ref *t)
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
    return n;
}

static float *kind_array(const clfit_model *m, int kind)
{
    return kind == 0 ? m->params : kind == 1 ? m->m : m->v;
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

clfit_status clfit_model_save(const char *path, const clfit_model *m, const clfit_model_meta *meta)
{
    tensor_ref t[3 * 2 * CLFIT_MAX_LAYERS];
    int nt = list_tensors(m, t);
    clfit_status st = CLFIT_OK;
    char *json = NULL, *tmp = NULL;
    uint8_t *data = NULL;
    FILE *f = NULL;
    int fd = -1;

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
    cJSON_AddStringToObject(md, "layout", "dense_<l>.weight is [in, out]: y = x W + b");
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
    size_t total = 8 + padded + offset;

    tmp = malloc(strlen(path) + 16);
    if (!tmp) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); goto done; }
    sprintf(tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) { st = clfit_fail(CLFIT_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno)); goto done; }
    f = fdopen(fd, "wb");
    if (!f) { st = clfit_fail(CLFIT_ERR_IO, "%s: %s", tmp, strerror(errno)); close(fd); unlink(tmp); goto done; }
    if (fwrite(data, 1, total, f) != total || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        st = clfit_fail(CLFIT_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        goto done;
    }
    if (fclose(f) != 0) { st = clfit_fail(CLFIT_ERR_IO, "%s: %s", tmp, strerror(errno)); unlink(tmp); goto done; }
    if (rename(tmp, path) != 0) {
        st = clfit_fail(CLFIT_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        unlink(tmp);
    }
done:
    free(tmp);
    free(data);
    cJSON_free(json);
    return st;
}

static const char *meta_str(const cJSON *md, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

clfit_model *clfit_model_load(const char *path, clfit_model_meta *meta, clfit_status *st)
{
    clfit_status s = CLFIT_OK;
    clfit_model *m = NULL;
    cJSON *root = NULL;
    uint8_t *buf = NULL;
    long size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) { s = clfit_fail(CLFIT_ERR_IO, "%s: %s", path, strerror(errno)); goto fail; }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        s = clfit_fail(CLFIT_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf) { s = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); goto fail; }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        s = clfit_fail(CLFIT_ERR_IO, "%s: read failed", path);
        goto fail;
    }
    if (size < 8) { s = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: %ld bytes, not a safetensors file", path, size); goto fail; }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > (uint64_t)size - 8) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: header length %" PRIu64 " exceeds the file (%ld bytes): truncated or not safetensors",
                       path, hlen, size);
        goto fail;
    }
    root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!cJSON_IsObject(root)) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: the header is not a JSON object: not a safetensors file", path);
        goto fail;
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    const char *fmt = meta_str(md, "format"), *arch = meta_str(md, "architecture");
    if (!fmt || strcmp(fmt, "clfit") != 0 || !arch) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: a safetensors file, but not a clfit model (no __metadata__ format \"clfit\")", path);
        goto fail;
    }
    clfit_model_desc desc;
    if (clfit_arch_parse(arch, &desc)) {
        char why[256]; /* clfit_fail must not format its own buffer into itself */
        snprintf(why, sizeof why, "%s", clfit_last_error());
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s", path, why);
        goto fail;
    }
    m = clfit_model_new(&desc, 0, &s);
    if (!m) goto fail;
    memset(m->params, 0, m->nparams * 4);
    clfit_model_meta mm = {0};
    const char *v;
    const char *keys[] = {"epoch", "step", "seed", "batch", "validation_split", "input_shape",
                          "adam_lr", "adam_beta1", "adam_beta2", "adam_epsilon"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!meta_str(md, keys[i])) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: __metadata__ lacks \"%s\"", path, keys[i]);
            goto fail;
        }
    mm.epoch = strtol(meta_str(md, "epoch"), NULL, 10);
    m->step = strtol(meta_str(md, "step"), NULL, 10);
    mm.seed = strtoull(meta_str(md, "seed"), NULL, 10);
    mm.batch = (int)strtol(meta_str(md, "batch"), NULL, 10);
    mm.validation_split = strtod(meta_str(md, "validation_split"), NULL);
    v = meta_str(md, "input_shape");
    if (sscanf(v, "%dx%d", &mm.rows, &mm.cols) != 2 || mm.rows * mm.cols != desc.input) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: input_shape \"%s\" does not match the architecture %s", path, v, arch);
        goto fail;
    }
    m->adam.lr = strtof(meta_str(md, "adam_lr"), NULL);
    m->adam.beta1 = strtof(meta_str(md, "adam_beta1"), NULL);
    m->adam.beta2 = strtof(meta_str(md, "adam_beta2"), NULL);
    m->adam.eps = strtof(meta_str(md, "adam_epsilon"), NULL);
    if (mm.epoch < 0 || m->step < 0 || mm.batch < 1) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: bad epoch, step or batch in __metadata__", path);
        goto fail;
    }

    tensor_ref t[3 * 2 * CLFIT_MAX_LAYERS];
    int nt = list_tensors(m, t);
    const uint8_t *data = buf + 8 + hlen;
    uint64_t data_len = (uint64_t)size - 8 - hlen, used = 0;
    for (int i = 0; i < nt; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, t[i].name);
        if (!cJSON_IsObject(e)) { s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s is missing", path, t[i].name); goto fail; }
        const char *dtype = meta_str(e, "dtype");
        if (!dtype || strcmp(dtype, "F32") != 0) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s has dtype %s, expected F32", path, t[i].name, dtype ? dtype : "(none)");
            goto fail;
        }
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        int ok = cJSON_IsArray(shape) && cJSON_GetArraySize(shape) == t[i].ndim;
        for (int d = 0; ok && d < t[i].ndim; d++) {
            const cJSON *x = cJSON_GetArrayItem(shape, d);
            ok = cJSON_IsNumber(x) && x->valuedouble == t[i].shape[d];
        }
        if (!ok) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s does not have the shape architecture %s implies", path, t[i].name, arch);
            goto fail;
        }
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        const cJSON *b0 = cJSON_GetArrayItem(offs, 0), *b1 = cJSON_GetArrayItem(offs, 1);
        if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !cJSON_IsNumber(b0) || !cJSON_IsNumber(b1) ||
            b0->valuedouble < 0 || b1->valuedouble - b0->valuedouble != (double)(t[i].count * 4) ||
            b1->valuedouble > (double)data_len) {
            s = clfit_fail(CLFIT_ERR_FORMAT, "%s: tensor %s: data_offsets outside the file (%" PRIu64 " data bytes): truncated?",
                           path, t[i].name, data_len);
            goto fail;
        }
        le_to_floats(kind_array(m, t[i].kind) + t[i].off, data + (uint64_t)b0->valuedouble, t[i].count);
        if ((uint64_t)b1->valuedouble > used) used = (uint64_t)b1->valuedouble;
    }
    if (used != data_len) {
        s = clfit_fail(CLFIT_ERR_FORMAT, "%s: %" PRIu64 " data bytes, the tensors account for %" PRIu64, path, data_len, used);
        goto fail;
    }
    if (meta) *meta = mm;
    cJSON_Delete(root);
    free(buf);
    fclose(f);
    if (st) *st = CLFIT_OK;
    return m;
fail:
    cJSON_Delete(root);
    free(buf);
    if (f) fclose(f);
    clfit_model_free(m);
    if (st) *st = s;
    return NULL;
}
