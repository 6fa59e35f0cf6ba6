/* clfit compare: the one float comparison that tests and `clfit verify` use.
 * got[i] passes when both got[i] and want[i] are finite and
 *     |got[i] - want[i]| <= atol + rtol * |want[i]|.
 * NaN or infinity on either side always fails: a kernel that produces them is wrong even
 * where the reference does too. */
#ifndef CLFIT_COMPARE_H
#define CLFIT_COMPARE_H

#include <stddef.h>

typedef struct {
    size_t n;           /* elements compared */
    size_t failures;    /* elements outside the tolerance (non-finite included) */
    size_t nonfinite;   /* elements where got or want is NaN or infinite */
    size_t worst;       /* index of the element with the largest |got - want| / tolerance */
    double max_abs;     /* max |got - want| over finite pairs */
    double max_rel;     /* max |got - want| / |want| over finite pairs with want != 0 */
} clfit_compare_result;

/* Compares n floats; returns 1 if every element passes, else 0. r may be NULL. */
int clfit_compare(const float *got, const float *want, size_t n, double atol, double rtol,
                  clfit_compare_result *r);

#endif
