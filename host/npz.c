/* NumPy .npz archives as datasets (see include/clfit/table.h). The archive is a zip file
 * read whole (a regular file, within a size limit): its central directory names the
 * members, each stored or deflated (zlib, raw); a member is an .npy array whose header
 * (magic, version, a Python dict literal of descr, fortran_order and shape) is checked
 * before its body is read, and whose body grows only as its bytes really arrive. */
#include "clfit/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clfit/io.h"

/* ---- the zip container ---- */

typedef struct {
    const uint8_t *buf;
    size_t len;
    const char *path;
} zip;

typedef struct {
    char name[64];
    int method;                 /* 0 stored, 8 deflated */
    uint64_t csize, usize, data; /* compressed and uncompressed sizes; where the data starts */
} zip_member;

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* The member called name (its .npy name), or CLFIT_ERR_ARG where there is none. */
static clfit_status zip_find(const zip *z, const char *name, zip_member *out)
{
    const uint8_t *b = z->buf;
    size_t n = z->len;
    if (n < 22) return clfit_fail(CLFIT_ERR_FORMAT, "%s: not a zip archive (.npz): %zu bytes", z->path, n);
    /* the end-of-central-directory record: within the last 64 KiB + 22 bytes */
    size_t eocd = (size_t)-1;
    for (size_t i = n - 22 + 1; i-- > 0 && n - i <= 65535 + 22;)
        if (le32(b + i) == 0x06054b50u) { eocd = i; break; }
    if (eocd == (size_t)-1) return clfit_fail(CLFIT_ERR_FORMAT, "%s: not a zip archive (.npz): no central directory", z->path);
    uint64_t count = le16(b + eocd + 10), size = le32(b + eocd + 12), off = le32(b + eocd + 16);
    if (off == 0xffffffffu || count == 0xffffu) { /* zip64: its locator just before */
        if (eocd < 20 || le32(b + eocd - 20) != 0x07064b50u)
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: a zip64 archive without its locator", z->path);
        uint64_t rec = le64(b + eocd - 20 + 8);
        if (n < 56 || rec > n - 56 || le32(b + rec) != 0x06064b50u)
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: a zip64 end record outside the file", z->path);
        count = le64(b + rec + 32);
        size = le64(b + rec + 40);
        off = le64(b + rec + 48);
    }
    if (off > n || size > n - off) return clfit_fail(CLFIT_ERR_FORMAT, "%s: the central directory lies outside the file", z->path);
    uint64_t p = off, end = off + size;
    for (uint64_t k = 0; k < count; k++) {
        if (end - p < 46 || le32(b + p) != 0x02014b50u)
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: central directory entry %llu is corrupt", z->path, (unsigned long long)k);
        uint32_t nlen = le16(b + p + 28), xlen = le16(b + p + 30), clen = le16(b + p + 32);
        if (end - p - 46 < (uint64_t)nlen + xlen + clen)
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: central directory entry %llu overruns it", z->path, (unsigned long long)k);
        const uint8_t *fname = b + p + 46;
        size_t want = strlen(name);
        if (nlen == want + 4 && !memcmp(fname, name, want) && !memcmp(fname + want, ".npy", 4)) {
            zip_member m = {.method = (int)le16(b + p + 10), .csize = le32(b + p + 20), .usize = le32(b + p + 24)};
            uint64_t local = le32(b + p + 42);
            /* zip64 sizes and offset, in that order, for the fields that overflow */
            for (const uint8_t *x = fname + nlen, *xe = x + xlen; xe - x >= 4;) {
                uint32_t id = le16(x), sz = le16(x + 2);
                if ((uint64_t)(xe - x - 4) < sz) break;
                if (id == 0x0001) {
                    const uint8_t *q = x + 4, *qe = q + sz;
                    if (m.usize == 0xffffffffu && qe - q >= 8) { m.usize = le64(q); q += 8; }
                    if (m.csize == 0xffffffffu && qe - q >= 8) { m.csize = le64(q); q += 8; }
                    if (local == 0xffffffffu && qe - q >= 8) local = le64(q);
                }
                x += 4 + sz;
            }
            if (local > n - 30 || le32(b + local) != 0x04034b50u)
                return clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy: its local header lies outside the file", z->path, name);
            m.data = local + 30 + le16(b + local + 26) + le16(b + local + 28);
            if (m.data > n || m.csize > n - m.data)
                return clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy: its %llu bytes run past the file's end", z->path, name,
                                  (unsigned long long)m.csize);
            if (m.method != 0 && m.method != 8)
                return clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy is compressed with method %d; clfit reads stored and "
                                  "deflated members (np.savez, np.savez_compressed)", z->path, name, m.method);
            if (le16(b + p + 8) & 1)
                return clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy is encrypted", z->path, name);
            snprintf(m.name, sizeof m.name, "%.50s.npy", name);
            *out = m;
            return CLFIT_OK;
        }
        p += 46 + nlen + xlen + clen;
    }
    return CLFIT_ERR_ARG; /* not there: the caller says what it looked for */
}

/* A member's bytes, in order: stored ones straight from the file, deflated ones inflated
 * a piece at a time. */
typedef struct {
    const zip *z;
    const zip_member *m;
    z_stream s;
    uint64_t pos, out;          /* stored: bytes given; both: bytes produced */
    int ended;
} member_reader;

static clfit_status reader_open(member_reader *r, const zip *z, const zip_member *m)
{
    memset(r, 0, sizeof *r);
    r->z = z;
    r->m = m;
    if (m->method == 0) return CLFIT_OK;
    if (inflateInit2(&r->s, -15) != Z_OK) return clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for zlib", z->path);
    r->s.next_in = (Bytef *)(z->buf + m->data);
    r->s.avail_in = m->csize > UINT32_MAX ? UINT32_MAX : (uInt)m->csize;
    r->pos = r->s.avail_in;
    return CLFIT_OK;
}

static void reader_close(member_reader *r)
{
    if (r->m && r->m->method == 8) inflateEnd(&r->s);
}

/* Up to n bytes into dst; *got how many (fewer only at the member's end). */
static clfit_status reader_read(member_reader *r, uint8_t *dst, size_t n, size_t *got)
{
    const zip_member *m = r->m;
    if (m->method == 0) {
        uint64_t left = m->csize - r->pos;
        size_t k = left < n ? (size_t)left : n;
        memcpy(dst, r->z->buf + m->data + r->pos, k);
        r->pos += k;
        r->out += k;
        *got = k;
        return CLFIT_OK;
    }
    size_t done = 0;
    while (done < n && !r->ended) {
        if (r->s.avail_in == 0 && r->pos < m->csize) {
            uint64_t left = m->csize - r->pos;
            r->s.avail_in = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
            r->pos += r->s.avail_in;
        }
        size_t want = n - done > UINT32_MAX ? UINT32_MAX : n - done;
        r->s.next_out = dst + done;
        r->s.avail_out = (uInt)want;
        int e = inflate(&r->s, Z_NO_FLUSH);
        done += want - r->s.avail_out;
        if (e == Z_STREAM_END) r->ended = 1;
        else if (e != Z_OK)
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: corrupt deflate data: %s", r->z->path, m->name,
                              r->s.msg ? r->s.msg : "inflate failed");
        else if (r->s.avail_in == 0 && r->pos >= m->csize && r->s.avail_out > 0)
            return clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: the deflate data ends early", r->z->path, m->name);
    }
    r->out += done;
    *got = done;
    return CLFIT_OK;
}

/* ---- the .npy array ---- */

typedef struct {
    char kind;                  /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    int size, big;              /* bytes per item; big-endian */
    int ndim;
    uint64_t shape[8], count;
} npy_array;

/* The header's dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } as NumPy
 * writes it (keys in any order, spaces as it likes). */
static int parse_header(const char *h, npy_array *a, int *fortran, char *why, size_t wsize)
{
    const char *d = strstr(h, "'descr'"), *f = strstr(h, "'fortran_order'"), *s = strstr(h, "'shape'");
    if (!d || !f || !s || h[0] != '{') { snprintf(why, wsize, "a header without descr, fortran_order and shape"); return 0; }
    d = strchr(d + 7, ':');
    while (d && (*++d == ' ')) {}
    if (!d || *d != '\'' || strlen(d) < 5) { snprintf(why, wsize, "an unreadable descr"); return 0; }
    char order = d[1], kind = d[2];
    char *end;
    long size = strtol(d + 3, &end, 10);
    if (*end != '\'' || !strchr("<>|=", order) || !strchr("fiub", kind) || !(size == 1 || size == 2 || size == 4 || size == 8) ||
        (kind == 'f' && size < 4) || (kind == 'b' && size != 1)) {
        snprintf(why, wsize, "dtype '%.*s': clfit reads float32, float64, bool and integer arrays",
                 (int)strcspn(d + 1, "'"), d + 1);
        return 0;
    }
    a->kind = kind;
    a->size = (int)size;
    a->big = order == '>';
    f = strchr(f + 15, ':');
    while (f && (*++f == ' ')) {}
    if (!f || (strncmp(f, "False", 5) && strncmp(f, "True", 4))) { snprintf(why, wsize, "an unreadable fortran_order"); return 0; }
    *fortran = !strncmp(f, "True", 4);
    s = strchr(s + 7, ':');
    while (s && (*++s == ' ')) {}
    if (!s || *s != '(') { snprintf(why, wsize, "an unreadable shape"); return 0; }
    s++;
    a->ndim = 0;
    a->count = 1;
    for (;;) {
        while (*s == ' ') s++;
        if (*s == ')') break;
        if (a->ndim == 8) { snprintf(why, wsize, "more than 8 dimensions"); return 0; }
        if (*s < '0' || *s > '9') { snprintf(why, wsize, "an unreadable shape"); return 0; }
        unsigned long long v = strtoull(s, &end, 10);
        if (v > (1ull << 40)) { snprintf(why, wsize, "a dimension of %llu", v); return 0; }
        a->shape[a->ndim++] = v;
        if (v && a->count > (1ull << 40) / v) { snprintf(why, wsize, "more than 2^40 elements"); return 0; }
        a->count *= v;
        s = end;
        while (*s == ' ') s++;
        if (*s == ',') s++;
        else if (*s != ')') { snprintf(why, wsize, "an unreadable shape"); return 0; }
    }
    return 1;
}

/* A Fortran-order body (the first index varies fastest) rewritten in C order (the last
 * fastest), item by item. */
static clfit_status to_c_order(const npy_array *a, uint8_t **body, const char *path, const char *name)
{
    uint8_t *c = malloc(a->count ? (size_t)(a->count * (uint64_t)a->size) : 1);
    if (!c) return clfit_fail(CLFIT_ERR_NOMEM, "%s: %s: out of memory", path, name);
    uint64_t idx[8] = {0}; /* the C-order multi-index of item i */
    for (uint64_t i = 0; i < a->count; i++) {
        uint64_t f = 0, stride = 1;
        for (int k = 0; k < a->ndim; k++) {
            f += idx[k] * stride;
            stride *= a->shape[k];
        }
        memcpy(c + i * (uint64_t)a->size, *body + f * (uint64_t)a->size, (size_t)a->size);
        for (int k = a->ndim - 1; k >= 0 && ++idx[k] == a->shape[k]; k--) idx[k] = 0;
    }
    free(*body);
    *body = c;
    return CLFIT_OK;
}

/* Reads member `name` as an array: its header checked, then its body (count * size bytes,
 * exactly what the member holds) into *body (malloc'd, grown as the bytes arrive). */
static clfit_status read_array(const zip *z, const char *name, npy_array *a, uint8_t **body)
{
    zip_member m;
    clfit_status st = zip_find(z, name, &m);
    if (st) return st;
    member_reader r;
    if ((st = reader_open(&r, z, &m))) return st;
    uint8_t head[10], *hdr = NULL, *out = NULL;
    size_t got;
    char why[160] = "";
    if ((st = reader_read(&r, head, 10, &got))) goto done;
    if (got < 10 || memcmp(head, "\x93NUMPY", 6) || head[6] < 1 || head[6] > 3) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s is not an .npy array (no \\x93NUMPY magic of version 1-3)", z->path, m.name);
        goto done;
    }
    size_t hlen = le16(head + 8);
    uint8_t more[2];
    if (head[6] > 1) { /* a 4-byte length */
        if ((st = reader_read(&r, more, 2, &got))) goto done;
        if (got < 2) { st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: a truncated header", z->path, m.name); goto done; }
        hlen |= (size_t)le16(more) << 16;
    }
    if (hlen > 1 << 20) { st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: a header of %zu bytes", z->path, m.name, hlen); goto done; }
    if (!(hdr = malloc(hlen + 1))) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", z->path); goto done; }
    if ((st = reader_read(&r, hdr, hlen, &got))) goto done;
    hdr[got] = '\0';
    int fortran;
    if (got < hlen || !parse_header((const char *)hdr, a, &fortran, why, sizeof why)) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: %s", z->path, m.name, *why ? why : "a truncated header");
        goto done;
    }

    uint64_t want = a->count * (uint64_t)a->size;
    uint64_t header_bytes = 10 + (head[6] > 1 ? 2 : 0) + hlen;
    if (m.usize != header_bytes + want) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: shape and dtype make %llu bytes, the member holds %llu", z->path, m.name,
                        (unsigned long long)want, (unsigned long long)(m.usize - (m.usize >= header_bytes ? header_bytes : 0)));
        goto done;
    }
    size_t cap = 0, n = 0;
    while (n < want) { /* grown as the bytes arrive, never beyond the shape's */
        if (n == cap) {
            size_t next = cap ? (want - cap > cap ? 2 * cap : (size_t)want) : (want < 65536 ? (size_t)want : 65536);
            uint8_t *grown = realloc(out, next);
            if (!grown) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: %s: out of memory", z->path, m.name); goto done; }
            out = grown;
            cap = next;
        }
        if ((st = reader_read(&r, out + n, cap - n, &got))) goto done;
        if (got == 0) {
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s: its data ends after %zu of %llu bytes", z->path, m.name, n,
                            (unsigned long long)want);
            goto done;
        }
        n += got;
    }
    if (!out && !(out = malloc(1))) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", z->path); goto done; }
    if (fortran && a->ndim > 1 && (st = to_c_order(a, &out, z->path, m.name))) goto done;
    *body = out;
    out = NULL;
done:
    reader_close(&r);
    free(hdr);
    free(out);
    return st;
}

/* Element i of a as a double */
static double element(const npy_array *a, const uint8_t *body, uint64_t i)
{
    uint8_t b[8];
    const uint8_t *p = body + i * (uint64_t)a->size;
    for (int k = 0; k < a->size; k++) b[k] = a->big ? p[a->size - 1 - k] : p[k];
    uint64_t u = 0;
    for (int k = a->size - 1; k >= 0; k--) u = u << 8 | b[k];
    switch (a->kind) {
    case 'f':
        if (a->size == 4) { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); return f; }
        else { double d; memcpy(&d, &u, 8); return d; }
    case 'i': {
        int shift = 64 - 8 * a->size;
        return (double)((int64_t)(u << shift) >> shift);
    }
    default: return (double)u;
    }
}

clfit_status clfit_npz_parse(const uint8_t *buf, size_t len, const char *path, const char *set, clfit_dataset *out)
{
    memset(out, 0, sizeof *out);
    zip z = {.buf = buf, .len = len, .path = path};
    int test = set && !strcmp(set, "test");
    const char *xn = test ? "x_test" : "x_train", *yn = test ? "y_test" : "y_train";
    npy_array xa, ya;
    uint8_t *xb = NULL, *yb = NULL;
    clfit_status st = read_array(&z, xn, &xa, &xb);
    if (st == CLFIT_ERR_ARG && !test) { /* or plain x, y */
        xn = "x";
        yn = "y";
        st = read_array(&z, xn, &xa, &xb);
    }
    if (st == CLFIT_ERR_ARG)
        return test ? CLFIT_ERR_ARG /* no test set here */
                    : clfit_fail(CLFIT_ERR_FORMAT, "%s: no x_train.npy and y_train.npy, nor x.npy and y.npy", path);
    if (st) return st;
    st = read_array(&z, yn, &ya, &yb);
    if (st == CLFIT_ERR_ARG) st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy without %s.npy", path, xn, yn);
    if (st) goto done;
    if (xa.ndim < 1 || xa.shape[0] == 0 || xa.shape[0] > 0x7fffffff) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy holds no examples (shape of %d dimensions, first %llu)", path, xn,
                        xa.ndim, (unsigned long long)(xa.ndim ? xa.shape[0] : 0));
        goto done;
    }
    uint64_t n = xa.shape[0], per = n ? xa.count / n : 0;
    uint64_t T = ya.ndim >= 1 && ya.shape[0] == n && n ? ya.count / n : 0; /* targets per example */
    if (T < 1 || ya.ndim > 2 || T > CLFIT_MAX_CLASSES) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy has %llu examples, %s.npy is not %llu labels or rows of 1..%d "
                        "values", path, xn, (unsigned long long)n, yn, (unsigned long long)n, CLFIT_MAX_CLASSES);
        goto done;
    }
    if (per == 0 || per > CLFIT_IDX_MAX_PIXELS) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy has %llu features per example (1..%d)", path, xn,
                        (unsigned long long)per, CLFIT_IDX_MAX_PIXELS);
        goto done;
    }
    out->count = (int)n;
    out->ntargets = (int)T;
    if (!(out->labels = calloc((size_t)n, 1)) || !(out->targets = malloc((size_t)(n * T) * sizeof(float)))) {
        st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (uint64_t i = 0; i < n * T; i++) { /* values, and class indices where they all are */
        double v = element(&ya, yb, i);
        if (!(v >= -3.4028234663852886e38 && v <= 3.4028234663852886e38)) {
            st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy[%llu] is %g: not a finite float", path, yn, (unsigned long long)i, v);
            goto done;
        }
        out->targets[i] = (float)v;
        if (T == 1 && v >= 0 && v < CLFIT_MAX_CLASSES && v == (double)(int)v) out->labels[i] = (uint8_t)v;
        else if (!out->values) out->values = (long)(i / T) + 1;
    }
    if (xa.kind == 'u' && xa.size == 1 && xa.ndim == 3) { /* images, as Keras' mnist.npz: bytes, scaled by 1/255 */
        out->rows = (int)xa.shape[1];
        out->cols = (int)xa.shape[2];
        out->images = xb;
        xb = NULL;
    } else { /* a table: every feature as a float, as it is */
        out->rows = 1;
        out->cols = (int)per;
        if (!(out->features = malloc((size_t)xa.count * sizeof(float)))) {
            st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        for (uint64_t i = 0; i < xa.count; i++) {
            double v = element(&xa, xb, i);
            if (!(v >= -3.4028234663852886e38 && v <= 3.4028234663852886e38)) {
                st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %s.npy: example %llu, feature %llu is %g: not a finite float", path,
                                xn, (unsigned long long)(i / per), (unsigned long long)(i % per), v);
                goto done;
            }
            out->features[i] = (float)v;
        }
    }
done:
    free(xb);
    free(yb);
    if (st) clfit_dataset_free(out);
    return st;
}

clfit_status clfit_npz_load(const char *path, const char *set, clfit_dataset *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t len;
    clfit_status st = clfit_read_regular(path, CLFIT_NPZ_MAX_BYTES, "a NumPy .npz file", &buf, &len);
    if (st) return st;
    st = clfit_npz_parse(buf, len, path, set, out);
    free(buf);
    return st;
}
