/* libFuzzer target: the CSV table parser (clfit_csv_parse, host/table.c) on arbitrary bytes:
 * as a training file (its target makes the classes), with a model's class names, with a
 * model's input count (a file without its target), and as a regression's (several value
 * columns by a list, and by a model's names). On success every feature, label, target
 * value and name it returns is read, so that ASan sees any short allocation. Built and
 * run by tests/fuzz/run.sh. */
#include <string.h>

#include "clfit/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *names[2] = {"a", "b"};
    const clfit_csv_spec specs[5] = {{0}, {.class_names = names, .nclasses = 2}, {.features = 2},
                                     {.target = "1,a,0", .regression = 1},
                                     {.targets = names, .ntargets = 2, .features = 3, .regression = 1}};
    for (int k = 0; k < 5; k++) {
        clfit_dataset d;
        if (clfit_csv_parse(data, size, "fuzz-input", &specs[k], &d) != CLFIT_OK) continue;
        volatile float x = 0;
        volatile uint8_t y = 0;
        volatile size_t n = 0;
        for (size_t i = 0; i < (size_t)d.count * d.cols; i++) x += d.features[i];
        for (int i = 0; i < d.count; i++) y ^= d.labels[i];
        for (int c = 0; c < d.nclasses; c++) n += strlen(d.class_names[c]);
        for (size_t i = 0; d.targets && i < (size_t)d.count * d.ntargets; i++) x += d.targets[i];
        for (int c = 0; d.target_names && c < d.ntargets; c++) n += strlen(d.target_names[c]);
        (void)x; (void)y; (void)n;
        clfit_dataset_free(&d);
    }
    return 0;
}
