/* Helpers shared by the Check suites: a per-run seed, random fills, the OpenCL fixture,
 * and ASSERT_CLOSE around clfit_compare. */
#ifndef CLFIT_TESTUTIL_H
#define CLFIT_TESTUTIL_H

#include <check.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clfit/cl.h"
#include "clfit/compare.h"
#include "clfit/rng.h"
#include "clfit/verify.h"

/* The seed for this run's random inputs: $CLFIT_TEST_SEED, or fresh from the clock.
 * Every failure message prints it so that a failing run can be repeated. */
uint64_t test_seed(void);

/* a[i] uniform in [lo, hi) */
void fill_uniform(clfit_rng *r, float *a, size_t n, float lo, float hi);

/* Non-zero when $CLFIT_TEST_SMALL is set: the suites then use only small sizes (oclgrind
 * simulates every work-item, so the full sizes would take minutes). */
int test_small(void);

/* The device every OpenCL test runs on (CLFIT_DEVICE picks; default as clfit_cl_open).
 * Opened in a checked fixture, so inside each forked test process. */
extern clfit_cl *tcl;
void cl_setup(void);
void cl_teardown(void);

/* Runs clfit_verify_run for op at every size clfit_verify_sizes lists (the small ones
 * under $CLFIT_TEST_SMALL) and fails the test on the first row that does not pass,
 * naming the operation, sizes, output, errors, tolerance and seed. */
void verify_op(const char *op);

/* A kernel suite: each case is a TCase named tcase that runs verify_op(op), with Check
 * tags (NULL for none; "clblast" marks what oclgrind.sh skips). */
typedef struct {
    const char *tcase, *op, *tags;
} verify_case;
int run_verify_suite(const char *name, const verify_case *cases, int n);

/* A device buffer holding a copy of n floats (or bytes) of host memory. */
cl_mem upload(const void *host, size_t bytes);
void download(cl_mem buf, void *host, size_t bytes);

#define ASSERT_OK(expr)                                                                   \
    do {                                                                                  \
        clfit_status s_ = (expr);                                                         \
        ck_assert_msg(s_ == CLFIT_OK, "%s -> %s: %s", #expr, clfit_status_name(s_),         \
                      clfit_last_error());                                                \
    } while (0)

/* Fails the test unless clfit_compare(got, want, n, atol, rtol) passes; the message names
 * the worst element, the errors and the seed. */
#define ASSERT_CLOSE(what, got, want, count, atol, rtol)                                      \
    do {                                                                                  \
        clfit_compare_result r_;                                                          \
        int ok_ = clfit_compare((got), (want), (count), (atol), (rtol), &r_);                 \
        ck_assert_msg(ok_,                                                                \
                      "%s: %zu of %zu outside atol %.3g rtol %.3g (%zu non-finite); "      \
                      "worst [%zu] got %.9g want %.9g; max abs %.3g max rel %.3g; seed %llu", \
                      (what), r_.failures, r_.n, (double)(atol), (double)(rtol),          \
                      r_.nonfinite, r_.worst, (double)(got)[r_.worst],                    \
                      (double)(want)[r_.worst], r_.max_abs, r_.max_rel,                   \
                      (unsigned long long)test_seed());                                   \
    } while (0)

/* Writes an IDX file: a 4-byte magic (0,0,type,ndim), ndim big-endian dims, then
 * payload_len bytes, gzip-compressed when path ends in .gz. payload_len may differ from
 * what the dims announce: that is how the malformed cases are made. */
void write_idx_file(const char *path, int type, int ndim, const uint32_t *dims,
                    const uint8_t *payload, size_t payload_len);

/* Writes <dir>/<split>-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz: n images of
 * rows x cols whose pixels encode the label (pixel k is bright when k % classes equals
 * it, plus noise), so that a model can learn them in a few epochs. */
/* The file at path as text into buf (at most size-1 bytes, NUL-terminated; empty if it
 * cannot be read). */
void read_text_file(const char *path, char *buf, size_t size);

/* Runs the shell command line `cmd` in test_dir with stdin from /dev/null; its stdout and
 * stderr land in out and err (cut to their sizes). Returns the exit status (128 if it did
 * not exit). */
int run_in_test_dir(const char *cmd, char *out, size_t osize, char *err, size_t esize);

void write_learnable_split(const char *dir, const char *split, int n, int rows, int cols,
                           int classes, uint64_t seed);

/* A fresh directory under /tmp for a test's files: test_dir_setup creates it (use it as a
 * checked fixture, so each forked test gets its own) and test_dir_teardown removes it with
 * everything in it. */
extern char test_dir[256];
void test_dir_setup(void);
void test_dir_teardown(void);

/* A NumPy .npz as np.savez (stored) or np.savez_compressed (deflated) writes it: each
 * member an .npy of version 1 with the header's descr, fortran_order and shape as given
 * (so that tests can also write wrong ones). */
typedef struct {
    const char *name;           /* without .npy */
    const char *descr, *shape;  /* the header's: '<f4', "(3, 2)" */
    const void *data;
    size_t bytes;
    int fortran;
} npy_member;
void write_npz(const char *path, const npy_member *m, int n, int deflated);

/* Runs a suite with the usual Check runner; returns EXIT_SUCCESS or EXIT_FAILURE. */
int run_suite(Suite *s);

#endif
