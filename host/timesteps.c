/* Times training steps on random data (see clfit_time_steps in include/clfit/train.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clfit/rng.h"
#include "clfit/train.h"
#include "internal.h"

clfit_status clfit_time_steps(clfit_cl *cl, const clfit_model_desc *d, int B, clfit_gemm gemm,
                              int warmup, int steps, double *us_per_step)
{
    clfit_status st;
    int n = B * 8;
    clfit_dataset ds = {.count = n, .rows = 1, .cols = d->input};
    ds.images = malloc((size_t)n * d->input);
    ds.labels = malloc(n);
    clfit_model *m = clfit_model_new(d, 1, &st);
    clfit_trainer *t = NULL;
    clfit_device_data dd = {0};
    if (!ds.images || !ds.labels || !m) {
        if (m) st = clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
        goto done;
    }
    clfit_rng r;
    clfit_rng_seed(&r, 1);
    for (size_t i = 0; i < (size_t)n * d->input; i++) ds.images[i] = (uint8_t)clfit_rng_below(&r, 256);
    for (int i = 0; i < n; i++) ds.labels[i] = (uint8_t)clfit_rng_below(&r, d->classes);
    t = clfit_trainer_new(cl, m, B, gemm, &st);
    if (!t) goto done;
    st = clfit_device_data_upload(cl, &ds, &dd);
    /* runs of up to the 8 batches, as an epoch's consecutive batches (clfit_trainer_steps) */
    for (int s = 0; s < warmup && !st; s += 8)
        st = clfit_trainer_steps(t, &dd, 0, B, warmup - s < 8 ? warmup - s : 8, NULL);
    if (!st) st = clfit_cl_finish(cl);
    double t0 = clfit_now();
    for (int s = 0; s < steps && !st; s += 8)
        st = clfit_trainer_steps(t, &dd, 0, B, steps - s < 8 ? steps - s : 8, NULL);
    if (!st) st = clfit_cl_finish(cl);
    if (!st) st = clfit_trainer_reset_stats(t); /* whether they ran whole */
    if (!st) *us_per_step = (clfit_now() - t0) * 1e6 / steps;
done:
    clfit_device_data_free(&dd);
    clfit_trainer_free(t);
    clfit_model_free(m);
    free(ds.images);
    free(ds.labels);
    return st;
}

