/* The cache directory and its files (see include/clfit/cache.h). */
#include "clfit/cache.h"

#include "clfit/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p: every component of path, in order; 0 on success. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[i] = c;
    }
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

int clfit_cache_dir(const char *sub, char *buf, size_t size)
{
    const char *dir = getenv("CLFIT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (dir && *dir) n = snprintf(buf, size, "%s", dir);
    else if (xdg && *xdg) n = snprintf(buf, size, "%s/clfit", xdg);
    else if (home && *home) n = snprintf(buf, size, "%s/.cache/clfit", home);
    else return 0;
    if (n >= 0 && sub) n += snprintf(buf + n, size - (size_t)n, "/%s", sub);
    if (n < 0 || (size_t)n >= size) return 0;
    return make_dirs(buf) == 0;
}

char *clfit_cache_read(const char *path, size_t max, size_t *len)
{
    /* clfit_read_regular: a FIFO in the cache's place must not hang us, nor a device
     * feed us forever; a missing or unreadable file is simply no cache */
    uint8_t *buf;
    return clfit_read_regular(path, max, "a cache file", &buf, len) ? NULL : (char *)buf;
}

clfit_status clfit_cache_write(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return clfit_fail(CLFIT_ERR_IO, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return clfit_fail(CLFIT_ERR_IO, "%s: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return clfit_fail(CLFIT_ERR_IO, "%s: %s", path, strerror(e));
    }
    return CLFIT_OK;
}

unsigned long long clfit_fnv1a(unsigned long long h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
