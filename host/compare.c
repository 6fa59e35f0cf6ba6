/* The tolerance comparison (see include/clfit/compare.h). */
#include "clfit/compare.h"

#include <math.h>

int clfit_compare(const float *got, const float *want, size_t n, double atol, double rtol,
                  clfit_compare_result *r)
{
    clfit_compare_result res = {.n = n};
    double worst_ratio = -1.0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (!isfinite(g) || !isfinite(w)) {
            res.nonfinite++;
            res.failures++;
            if (worst_ratio < INFINITY) { worst_ratio = INFINITY; res.worst = i; }
            continue;
        }
        double err = fabs(g - w), tol = atol + rtol * fabs(w);
        if (err > res.max_abs) res.max_abs = err;
        if (w != 0.0 && err / fabs(w) > res.max_rel) res.max_rel = err / fabs(w);
        double ratio = tol > 0.0 ? err / tol : (err > 0.0 ? INFINITY : 0.0);
        if (ratio > worst_ratio) { worst_ratio = ratio; res.worst = i; }
        if (err > tol) res.failures++;
    }
    if (r) *r = res;
    return res.failures == 0;
}
