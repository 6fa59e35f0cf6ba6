/* clfit status codes: errors as values.
 * Every library function that can fail returns a clfit_status (an int). 0 is success;
 * OpenCL's own negative codes (-1 .. -72) are reused as they are; CLBlast's codes
 * (-1024 .. -2050) pass through as well; clfit's own codes start at -5000.
 * The failing function also records one human-readable line, read with clfit_last_error().
 * Nothing in the library prints or calls exit(). */
#ifndef CLFIT_STATUS_H
#define CLFIT_STATUS_H

typedef int clfit_status;

enum {
    CLFIT_OK = 0,
    CLFIT_ERR_IO = -5000,       /* a file could not be opened, read or written */
    CLFIT_ERR_FORMAT = -5001,   /* a file's contents are not what they must be */
    CLFIT_ERR_NOMEM = -5002,    /* host allocation failed */
    CLFIT_ERR_ARG = -5003,      /* a caller passed an invalid argument */
    CLFIT_ERR_NODEVICE = -5004, /* no OpenCL platform/device, or none matches the selector */
    CLFIT_ERR_NUMERIC = -5005,  /* NaN or infinity where a finite number is required */
    CLFIT_STOPPED = -5006,      /* not an error: a progress callback ends training early */
    CLFIT_ERR_CHECK = -5007,    /* a device's kernels disagree with the CPU reference */
};

/* The symbolic name of a status: "CL_INVALID_WORK_GROUP_SIZE", "CLBlastInvalidDimension",
 * "CLFIT_ERR_FORMAT", or "UNKNOWN_STATUS" for a code nobody defines. Never NULL. */
const char *clfit_status_name(clfit_status s);

/* The message recorded by the last failing call on this thread ("" if none). */
const char *clfit_last_error(void);

/* Records a printf-style message for clfit_last_error() and returns s, so that library
 * code can write `return clfit_fail(CLFIT_ERR_IO, "%s: %s", path, strerror(errno));`. */
clfit_status clfit_fail(clfit_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
