/* libFuzzer target: the safetensors model reader (clfit_model_parse, host/modelfile.c) on
 * arbitrary bytes. On success the model's every parameter and moment is read, so that ASan
 * sees any short allocation. Built and run by tests/fuzz/run.sh. */
#include "clfit/modelfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clfit_model_meta meta;
    clfit_status st;
    clfit_model *m = clfit_model_parse(data, size, "fuzz-input", &meta, &st);
    if (!m) return 0;
    volatile float x = 0;
    for (size_t i = 0; i < m->nparams; i++) x += m->params[i] + m->m[i] + m->v[i];
    (void)x;
    clfit_model_free(m);
    return 0;
}
