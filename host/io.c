/* Files and numbers from users (see include/clfit/io.h). */
#include "clfit/io.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole of s is a plain decimal: an optional '-' then digits, or for reals digits,
 * '.', and an exponent. */
static int plain_number(const char *s, int real)
{
    const char *p = s;
    if (*p == '-') p++;
    if (!(*p >= '0' && *p <= '9') && !(real && *p == '.' && p[1] >= '0' && p[1] <= '9')) return 0;
    for (; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (real && (*p == '.' || *p == 'e' || *p == 'E' || *p == '-' || *p == '+'))))
            return 0;
    return 1;
}

int clfit_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !plain_number(s, 0)) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int clfit_parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s == '-' || !plain_number(s, 0)) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return 0;
    *out = v;
    return 1;
}

int clfit_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !plain_number(s, 1)) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v) || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

const char *clfit_quote(const char *s, char *buf, size_t size)
{
    if (!size) return buf;
    size_t n = 0, max = size - 1;
    if (!s) s = "(null)";
    size_t len = strlen(s);
    if (len > max && max >= 3) max -= 3;
    for (; s[n] && n < max; n++) buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    if (s[n] && size - 1 >= 3) { memcpy(buf + n, "...", 3); n += 3; }
    buf[n] = '\0';
    return buf;
}

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) || S_ISBLK(m) ? "a device"
         : S_ISSOCK(m) ? "a socket" : "not a plain file";
}

clfit_status clfit_read_regular(const char *path, uint64_t max, const char *what, uint8_t **buf,
                                size_t *len)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return clfit_fail(CLFIT_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    clfit_status st = CLFIT_OK;
    uint8_t *b = NULL;
    if (fstat(fd, &sb) != 0) { st = clfit_fail(CLFIT_ERR_IO, "%s: %s", path, strerror(errno)); goto done; }
    if (!S_ISREG(sb.st_mode)) { st = clfit_fail(CLFIT_ERR_IO, "%s: is %s, not a regular file", path, kind_of(sb.st_mode)); goto done; }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > max) {
        st = clfit_fail(CLFIT_ERR_FORMAT, "%s: %lld bytes, more than %s may have (%llu)", path, (long long)sb.st_size,
                        what, (unsigned long long)max);
        goto done;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    b = malloc(n + 1);
    if (!b) { st = clfit_fail(CLFIT_ERR_NOMEM, "%s: out of memory for %zu bytes", path, n); goto done; }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got != n) { st = clfit_fail(CLFIT_ERR_IO, "%s: read %zu of %zu bytes: %s", path, got, n, strerror(errno)); goto done; }
    b[n] = 0;
    *buf = b;
    *len = n;
    b = NULL;
done:
    free(b);
    close(fd);
    return st;
}

int clfit_tmp_name(const char *path, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s.tmp", path);
    return n > 0 && (size_t)n < size;
}

/* Opens path's temporary file for writing, truncated, not through a symlink. */
static int open_tmp(const char *path, char *tmp, size_t size, clfit_status *st)
{
    if (!path || !*path) { *st = clfit_fail(CLFIT_ERR_ARG, "an empty output file name"); return -1; }
    struct stat sb;
    /* an output replaces a regular file or makes a new one: renaming over a device or a
     * FIFO (as root, over /dev/full) would replace the node itself */
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        *st = clfit_fail(CLFIT_ERR_IO, "%s: is %s, not a regular file", path, kind_of(sb.st_mode));
        return -1;
    }
    if (!clfit_tmp_name(path, tmp, size)) { *st = clfit_fail(CLFIT_ERR_IO, "%s: path too long", path); return -1; }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) *st = clfit_fail(CLFIT_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return fd;
}

clfit_status clfit_check_writable(const char *path)
{
    char tmp[4200];
    clfit_status st = CLFIT_OK;
    int fd = open_tmp(path, tmp, sizeof tmp, &st);
    if (fd < 0) return st;
    close(fd);
    unlink(tmp);
    return CLFIT_OK;
}

clfit_status clfit_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    clfit_status st = CLFIT_OK;
    int fd = open_tmp(path, tmp, sizeof tmp, &st);
    if (fd < 0) return st;
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int e = 0;
    if (done != len) e = errno ? errno : EIO;
    else if (fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        return clfit_fail(CLFIT_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return CLFIT_OK;
}
