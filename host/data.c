/* IDX loader (see include/clfit/data.h). The file is read whole (a regular file, within a
 * size limit), then parsed in memory: gzip is inflated a piece at a time, so the header is
 * checked before the body is produced, and the body grows only as its bytes arrive. */
#include "clfit/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "clfit/io.h"

const char *const clfit_fashion_classes[CLFIT_FASHION_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

const char *clfit_data_dir(const char *given)
{
    if (given) return given;
    const char *env = getenv("CLFIT_DATA");
    return (env && *env) ? env : CLFIT_DEFAULT_DATA_DIR;
}

/* The file's bytes, decompressed on the way when they are gzip: read in order, a piece
 * at a time, so that the header is checked before the body is produced and the body is
 * never held beyond what the header announces. */
typedef struct {
    const uint8_t *in;
    size_t len, pos;    /* plain */
    int gz;
    z_stream z;
    int ended;          /* the gzip stream is complete */
    const char *name;
} source;

static clfit_status source_open(source *s, const uint8_t *buf, size_t len, const char *name)
{
    memset(s, 0, sizeof *s);
    s->in = buf;
    s->len = len;
    s->name = name;
    s->gz = len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
    if (!s->gz) return CLFIT_OK;
    if (inflateInit2(&s->z, 15 + 16) != Z_OK) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for zlib", name);
    s->z.next_in = (Bytef *)buf;
    s->z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
    return CLFIT_OK;
}

static void source_close(source *s)
{
    if (s->gz) inflateEnd(&s->z);
}

/* Up to n bytes into dst; *got how many (fewer only at the end of the data). */
static clfit_status source_read(source *s, uint8_t *dst, size_t n, size_t *got)
{
    *got = 0;
    if (!s->gz) {
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;
        memcpy(dst, s->in + s->pos, k);
        s->pos += k;
        *got = k;
        return CLFIT_OK;
    }
    while (*got < n && !s->ended) {
        size_t want = n - *got;
        s->z.next_out = dst + *got;
        s->z.avail_out = want > (1u << 30) ? (1u << 30) : (uInt)want;
        uInt before = s->z.avail_out;
        if (s->z.avail_in == 0) {
            size_t consumed = (size_t)(s->z.next_in - s->in);
            size_t left = s->len - consumed;
            s->z.avail_in = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
        }
        int r = inflate(&s->z, Z_NO_FLUSH);
        *got += before - s->z.avail_out;
        if (r == Z_STREAM_END) {
            s->ended = 1;
            size_t consumed = (size_t)(s->z.next_in - s->in);
            if (consumed != s->len)
                return clfit_fail(CLFIT_ERR_FORMAT, "%s: %zu bytes after the end of the gzip stream", s->name,
                                  s->len - consumed);
        } else if (r == Z_BUF_ERROR || (r == Z_OK && before == s->z.avail_out && s->z.avail_in == 0)) {
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: corrupt gzip data: the stream ends early (truncated?)", s->name);
        } else if (r != Z_OK) {
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: corrupt gzip data: %s", s->name, s->z.msg ? s->z.msg : "inflate failed");
        }
    }
    return CLFIT_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

clfit_status clfit_idx_parse(const uint8_t *buf, size_t len, const char *name, int ndim, uint8_t **out,
                             uint32_t dims[3])
{
    source src;
    clfit_status st = source_open(&src, buf, len, name);
    if (st) return st;
    uint8_t head[16], *body = NULL;
    size_t got = 0, header = 4 + 4 * (size_t)ndim;
    if ((st = source_read(&src, head, 4, &got))) goto fail;
    if (got < 4) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: %zu bytes, too short for an IDX header", name, got);
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: bad magic 0x%02x%02x%02x%02x: not an IDX file", name, head[0], head[1],
                        head[2], head[3]);
        goto fail;
    }
    if (head[2] != 0x08) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: element type 0x%02x is not unsigned byte (0x08)", name, head[2]);
        goto fail;
    }
    if (head[3] != ndim) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %d dimensions, expected %d (%s)", name, head[3], ndim,
                        ndim == 3 ? "images: count x rows x cols" : "labels");
        goto fail;
    }
    if ((st = source_read(&src, head + 4, header - 4, &got))) goto fail;
    if (got < header - 4) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: header needs %zu bytes, got %zu", name, header, 4 + got);
        goto fail;
    }
    uint64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = be32(head + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > 0x7fffffffu) {
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: dimension %d is %u", name, i, dims[i]);
            goto fail;
        }
        total *= dims[i];
    }
    if (ndim == 3 && (uint64_t)dims[1] * dims[2] > CLFIT_IDX_MAX_PIXELS) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: images of %ux%u pixels: at most %d a image", name, dims[1], dims[2],
                        CLFIT_IDX_MAX_PIXELS);
        goto fail;
    }
    if (total > CLFIT_IDX_MAX_BYTES) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: the header announces %llu bytes of data, more than the %llu clfit reads",
                        name, (unsigned long long)total, (unsigned long long)CLFIT_IDX_MAX_BYTES);
        goto fail;
    }
    /* the body, grown as it arrives: a header that claims more than the file holds costs
     * no more memory than the file's real contents */
    size_t cap = 0, n = 0;
    while (n < total) {
        if (n == cap) {
            size_t next = cap ? cap * 2 : 1 << 20;
            if (next > total) next = (size_t)total;
            uint8_t *b = realloc(body, next);
            if (!b) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for %zu bytes", name, next); goto fail; }
            body = b;
            cap = next;
        }
        if ((st = source_read(&src, body + n, cap - n, &got))) {
            if (src.gz && strstr(clfit_last_error(), "ends early"))
                st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: expected %llu bytes, got %llu (the gzip stream ends early)",
                                name, (unsigned long long)(header + total), (unsigned long long)(header + n + got));
            goto fail;
        }
        if (got == 0) break;
        n += got;
    }
    if (n < total) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: expected %llu bytes, got %llu", name,
                        (unsigned long long)(header + total), (unsigned long long)(header + n));
        goto fail;
    }
    /* nothing after the body: count what follows (up to a limit) */
    uint8_t scratch[4096];
    uint64_t extra = 0;
    do {
        if ((st = source_read(&src, scratch, sizeof scratch, &got))) goto fail;
        extra += got;
    } while (got > 0 && extra < (1u << 20));
    if (extra > 0) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: trailing garbage: %s%llu bytes after the %llu the header announces", name,
                        extra >= (1u << 20) ? "at least " : "", (unsigned long long)extra,
                        (unsigned long long)(header + total));
        goto fail;
    }
    source_close(&src);
    *out = body;
    return CLFIT_OK;
fail:
    source_close(&src);
    free(body);
    return st;
}

/* Reads an IDX file of unsigned bytes with exactly `ndim` dimensions. */
static clfit_status read_idx(const char *path, int ndim, uint8_t **out, uint32_t dims[3])
{
    uint8_t *buf;
    size_t len;
    clfit_status st = clfit_read_regular(path, CLFIT_IDX_MAX_BYTES + 64, "an IDX file", &buf, &len);
    if (st) return st;
    st = clfit_idx_parse(buf, len, path, ndim, out, dims);
    free(buf);
    return st;
}

clfit_status clfit_idx_read_images(const char *path, uint8_t **pixels, int *count,
                                   int *rows, int *cols)
{
    uint32_t d[3];
    uint8_t *p;
    clfit_status st = read_idx(path, 3, &p, d);
    if (st) return st;
    *pixels = p;
    *count = (int)d[0];
    *rows = (int)d[1];
    *cols = (int)d[2];
    return CLFIT_OK;
}

clfit_status clfit_idx_read_labels(const char *path, uint8_t **labels, int *count)
{
    uint32_t d[3];
    uint8_t *p;
    clfit_status st = read_idx(path, 1, &p, d);
    if (st) return st;
    *labels = p;
    *count = (int)d[0];
    return CLFIT_OK;
}

/* "<dir>/<split>-<kind>-ubyte.gz" if it exists, else the plain name if that exists,
 * else the .gz name (so that the error names what we looked for first). */
static void find_file(char *path, size_t size, const char *dir, const char *split,
                      const char *kind)
{
    struct stat sb;
    snprintf(path, size, "%s/%s-%s-ubyte.gz", dir, split, kind);
    if (stat(path, &sb) == 0) return;
    snprintf(path, size, "%s/%s-%s-ubyte", dir, split, kind);
    if (stat(path, &sb) == 0) return;
    snprintf(path, size, "%s/%s-%s-ubyte.gz", dir, split, kind);
}

clfit_status clfit_dataset_load(const char *dir, const char *split, int classes,
                                clfit_dataset *out)
{
    char ipath[4096], lpath[4096];
    clfit_dataset d = {0};
    int nlabels = 0;
    memset(out, 0, sizeof *out);
    if (classes < 1 || classes > 256)
        return clfit_fail(CLFIT_ERR_ARG, "class count %d is outside 1..256", classes);
    find_file(ipath, sizeof ipath, dir, split, "images-idx3");
    find_file(lpath, sizeof lpath, dir, split, "labels-idx1");
    clfit_status st = clfit_idx_read_images(ipath, &d.images, &d.count, &d.rows, &d.cols);
    if (st) goto fail;
    st = clfit_idx_read_labels(lpath, &d.labels, &nlabels);
    if (st) goto fail;
    if (nlabels != d.count) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %d labels, but %s has %d images", lpath,
                        nlabels, ipath, d.count);
        goto fail;
    }
    for (int i = 0; i < nlabels; i++) {
        if (d.labels[i] >= classes) {
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: label %d at index %d is outside 0..%d",
                            lpath, d.labels[i], i, classes - 1);
            goto fail;
        }
    }
    *out = d;
    return CLFIT_OK;
fail:
    clfit_dataset_free(&d);
    return st;
}

void clfit_dataset_free(clfit_dataset *d)
{
    free(d->images);
    free(d->features);
    free(d->labels);
    for (int i = 0; i < d->nclasses; i++) free(d->class_names ? d->class_names[i] : NULL);
    free(d->class_names);
    free(d->targets);
    for (int i = 0; i < d->ntargets; i++) free(d->target_names ? d->target_names[i] : NULL);
    free(d->target_names);
    memset(d, 0, sizeof *d);
}
