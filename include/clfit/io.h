/* What users hand clfit, taken in safely: files read only when they are regular files and
 * within a size limit (a FIFO, a directory or /dev/zero in a file's place gets one clear
 * line, never a hang or an endless read); outputs written through a temporary file beside
 * them and renamed into place, with the mode the umask gives, and checked writable before
 * long work starts; numbers parsed whole and within a range, by the same functions for the
 * command line and for model files. */
#ifndef CLFIT_IO_H
#define CLFIT_IO_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

/* Integers and reals as a person writes them: the whole string, decimal, an optional '-',
 * no leading spaces or '+', nothing after; in lo..hi. Reals also must be finite (no "inf",
 * "nan" or hex). Each returns 1 and sets *out, or 0. */
int clfit_parse_long(const char *s, long lo, long hi, long *out);
int clfit_parse_u64(const char *s, uint64_t *out);
int clfit_parse_double(const char *s, double lo, double hi, double *out);

/* s for a message: at most size-1 bytes, control characters as '?', "..." when cut.
 * Returns buf. */
const char *clfit_quote(const char *s, char *buf, size_t size);

/* Reads path whole into a malloc'd buffer (*len bytes, plus a NUL not counted). Fails,
 * naming path, if it cannot be opened, is not a regular file, or is over max bytes (`what`
 * names the kind of file in that message, e.g. "a model file"). */
clfit_status clfit_read_regular(const char *path, uint64_t max, const char *what, uint8_t **buf,
                                size_t *len);

/* The temporary name an output is written under: "<path>.tmp" (a save killed midway leaves
 * that one file, which the next save to path replaces). Returns 0 if it does not fit. */
int clfit_tmp_name(const char *path, char *buf, size_t size);

/* Whether path can be written: not empty, a regular file or none yet (not a directory,
 * device or FIFO), and its temporary file can be created in its directory (then removed).
 * For options checked before training starts. */
clfit_status clfit_check_writable(const char *path);

/* Writes len bytes to path atomically: into clfit_tmp_name(path), flushed to disk, then
 * renamed over path; the file's mode is 0666 less the umask. On failure the temporary file
 * is removed and path is as it was. */
clfit_status clfit_write_atomic(const char *path, const void *data, size_t len);

#endif
