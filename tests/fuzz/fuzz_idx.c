/* libFuzzer target: the IDX parser (clfit_idx_parse, host/data.c) on arbitrary bytes, read
 * as images (3 dimensions) and as labels (1), gzip or plain. On success every byte of the
 * body it returns is read, so that ASan sees any short allocation. Built and run by
 * tests/fuzz/run.sh. */
#include <stdlib.h>

#include "clfit/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int ndim = 1; ndim <= 3; ndim += 2) {
        uint8_t *out = NULL;
        uint32_t dims[3];
        if (clfit_idx_parse(data, size, "fuzz-input", ndim, &out, dims) != CLFIT_OK) continue;
        uint64_t n = dims[0];
        if (ndim == 3) n *= (uint64_t)dims[1] * dims[2];
        volatile uint8_t x = 0;
        for (uint64_t i = 0; i < n; i++) x ^= out[i];
        (void)x;
        free(out);
    }
    return 0;
}
