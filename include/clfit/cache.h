/* Where clfit keeps what it learns about a device between runs: the tuning database
 * (tuning.json) and compiled programs (programs/, one .bin each). The directory is $CLFIT_CACHE_DIR,
 * else $XDG_CACHE_HOME/clfit, else ~/.cache/clfit. Everything in it is a cache: a file
 * that is missing, unreadable or malformed is ignored (and rebuilt), never trusted. */
#ifndef CLFIT_CACHE_H
#define CLFIT_CACHE_H

#include <stddef.h>

#include "clfit/status.h"

/* The cache directory, or its subdirectory sub when sub is not NULL ("programs"), created
 * with its parents, into buf; 0 when there is none (no HOME, or it cannot be created),
 * 1 otherwise. */
int clfit_cache_dir(const char *sub, char *buf, size_t size);

/* The whole file at path if it exists and is a regular file of at most max bytes:
 * malloc'd, NUL-terminated (so text can be parsed in place), its length in *len. NULL
 * otherwise (nothing is allocated for a size the file only claims). */
char *clfit_cache_read(const char *path, size_t max, size_t *len);

/* Writes len bytes to path atomically: a temporary file in the same directory, then
 * rename. Returns CLFIT_ERR_IO with the reason on failure. */
clfit_status clfit_cache_write(const char *path, const void *data, size_t len);

/* 64-bit FNV-1a of len bytes, continuing from h (start with CLFIT_FNV_START). */
#define CLFIT_FNV_START 0xcbf29ce484222325ull
unsigned long long clfit_fnv1a(unsigned long long h, const void *data, size_t len);

#endif
