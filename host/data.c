/* IDX loader (see include/clfit/data.h). zlib's gzread reads gzip and plain files alike;
 * the whole file is read first so that every header field can be checked against the
 * real length before any of it is trusted. */
#include "clfit/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

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

/* Reads the whole (possibly gzip-compressed) file into a malloc'd buffer. */
static clfit_status read_all(const char *path, uint8_t **data, size_t *len)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return clfit_fail(CLFIT_ERR_IO, "%s: %s", path,
                          errno ? strerror(errno) : "cannot open");
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    clfit_status st = CLFIT_OK;
    if (!buf) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); goto done; }
    for (;;) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path); goto done; }
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f, buf + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: corrupt gzip data: %s", path,
                            zerr == Z_ERRNO ? strerror(errno) : msg);
            goto done;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    /* gzread returns 0 at a premature end of a gzip stream without flagging an error on
     * some zlib versions; gzerror still reports it. */
    int zerr = Z_OK;
    const char *msg = gzerror(f, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
        goto done;
    }
done:
    gzclose(f);
    if (st != CLFIT_OK) { free(buf); return st; }
    *data = buf;
    *len = n;
    return CLFIT_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an IDX file of unsigned bytes with exactly `ndim` dimensions; on success the
 * data is moved to the front of *out and dims[] is filled. */
static clfit_status read_idx(const char *path, int ndim, uint8_t **out, uint32_t dims[3])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    clfit_status st = read_all(path, &buf, &len);
    if (st) return st;
    if (len < 4) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: %zu bytes, too short for an IDX header",
                        path, len);
        goto fail;
    }
    if (buf[0] != 0 || buf[1] != 0) {
        st = clfit_fail(CLFIT_ERR_FORMAT,
                        "%s: bad magic 0x%02x%02x%02x%02x: not an IDX file", path,
                        buf[0], buf[1], buf[2], buf[3]);
        goto fail;
    }
    if (buf[2] != 0x08) {
        st = clfit_fail(CLFIT_ERR_FORMAT,
                        "%s: element type 0x%02x is not unsigned byte (0x08)", path, buf[2]);
        goto fail;
    }
    if (buf[3] != ndim) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %d dimensions, expected %d (%s)", path,
                        buf[3], ndim, ndim == 3 ? "images: count x rows x cols" : "labels");
        goto fail;
    }
    size_t header = 4 + 4 * (size_t)ndim;
    if (len < header) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: header needs %zu bytes, got %zu",
                        path, header, len);
        goto fail;
    }
    uint64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > 0x7fffffffu) {
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: dimension %d is %u", path, i, dims[i]);
            goto fail;
        }
        total *= dims[i];
        if (total > ((uint64_t)1 << 40)) {
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: dimensions too large", path);
            goto fail;
        }
    }
    uint64_t expected = header + total;
    if (len < expected) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: truncated: expected %llu bytes, got %zu", path,
                        (unsigned long long)expected, len);
        goto fail;
    }
    if (len > expected) {
        st = clfit_fail(CLFIT_ERR_FORMAT,
                        "%s: trailing garbage: %llu bytes after the %llu the header announces",
                        path, (unsigned long long)(len - expected),
                        (unsigned long long)expected);
        goto fail;
    }
    memmove(buf, buf + header, total);
    *out = buf;
    return CLFIT_OK;
fail:
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
    free(d->labels);
    memset(d, 0, sizeof *d);
}
