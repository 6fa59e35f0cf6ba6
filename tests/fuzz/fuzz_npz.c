/* libFuzzer target: the .npz reader (clfit_npz_parse, host/npz.c: the zip directory, stored
 * and deflated members, the .npy headers) on arbitrary bytes, as a training and a test
 * set. On success every feature or pixel and label it returns is read, so that ASan sees
 * any short allocation. Built and run by tests/fuzz/run.sh. */
#include "clfit/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sets[2] = {"train", "test"};
    for (int k = 0; k < 2; k++) {
        clfit_dataset d;
        if (clfit_npz_parse(data, size, "fuzz-input", sets[k], &d) != CLFIT_OK) continue;
        volatile float x = 0;
        volatile uint8_t y = 0;
        size_t n = (size_t)d.count * d.rows * d.cols;
        for (size_t i = 0; i < n; i++) x += d.features ? d.features[i] : d.images[i];
        for (int i = 0; i < d.count; i++) y ^= d.labels[i];
        (void)x; (void)y;
        clfit_dataset_free(&d);
    }
    return 0;
}
