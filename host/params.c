/* The tunables and their search spaces, in one place, and the defaults per device class
 * (see include/clfit/params.h). The kernels' own defaults (#ifndef in each kernels/ file) only
 * make each file compile alone; the host always passes every value with -D. */
#include "clfit/params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const clfit_gemm_names[CLFIT_GEMM_COUNT] = {"clblast", "own", "slice"};

#define WGS_SPACE 9, {1, 2, 4, 8, 16, 32, 64, 128, 256}

const clfit_tunable clfit_tunables[CLFIT_P_COUNT] = {
    [CLFIT_P_BACKEND] = {"BACKEND", "the step: CLBlast's SGEMM + small kernels, the fused kernels, or one launch", -1, 3, {0, 1, 2}},
    [CLFIT_P_VW] = {"VW", "fused kernels: float vector width", CLFIT_GEMM_OWN, 5, {1, 2, 4, 8, 16}},
    [CLFIT_P_FWGS] = {"FWGS", "fused_forward(_head), fused_backward_data: work-group size", CLFIT_GEMM_OWN, WGS_SPACE},
    [CLFIT_P_RB] = {"RB", "fused_forward(_head): rows per work-item", CLFIT_GEMM_OWN, 6, {1, 2, 3, 4, 6, 8}},
    [CLFIT_P_CB] = {"CB", "fused_forward(_head): vectors of VW columns per block", CLFIT_GEMM_OWN, 4, {1, 2, 3, 4}},
    [CLFIT_P_GWGS] = {"GWGS", "fused_grad_adam: work-group size", CLFIT_GEMM_OWN, WGS_SPACE},
    [CLFIT_P_RG] = {"RG", "fused_grad_adam: weight rows per work-item", CLFIT_GEMM_OWN, 6, {1, 2, 3, 4, 6, 8}},
    [CLFIT_P_CG] = {"CG", "fused_grad_adam: vectors of VW columns per register tile", CLFIT_GEMM_OWN, 5, {1, 2, 3, 4, 8}},
    [CLFIT_P_TR] = {"TR", "fused_grad_adam, batches over KC rows: register tiles per work-item along the weight rows", CLFIT_GEMM_OWN, 4, {1, 2, 4, 8}, 1},
    [CLFIT_P_TC] = {"TC", "fused_grad_adam, batches over KC rows: register tiles per work-item along the columns", CLFIT_GEMM_OWN, 4, {1, 2, 4, 8}, 1},
    [CLFIT_P_KC] = {"KC", "fused_grad_adam: batch rows per pass over a work-item's tiles (larger batches take several)", CLFIT_GEMM_OWN, 6, {16, 32, 64, 128, 256, 1024}, 1024},
    [CLFIT_P_TF] = {"TF", "fused_forward_head: blocks of RB rows per work-item (more than 1: the sums in passes of KF inputs)", CLFIT_GEMM_OWN, 5, {1, 2, 4, 8, 16}, 1},
    [CLFIT_P_KF] = {"KF", "fused_forward_head with TF > 1: inputs per pass over a work-item's row blocks", CLFIT_GEMM_OWN, 5, {32, 64, 128, 256, 1024}, 1024},
    [CLFIT_P_SPL] = {"SPL", "own, one hidden layer, Adam: training steps a launch (1: two launches a step; more: fused_steps, one work-group a compute unit)", CLFIT_GEMM_OWN, 4, {1, 4, 16, 64}, 1},
    [CLFIT_P_SXE_WGS] = {"SXE_WGS", "softmax_xent: the one work-group's size", CLFIT_GEMM_CLBLAST, WGS_SPACE},
    [CLFIT_P_WGS] = {"WGS", "element-wise kernels: work-group size", CLFIT_GEMM_CLBLAST, WGS_SPACE},
    [CLFIT_P_HS] = {"HS", "slice_step: hidden units per work-group", CLFIT_GEMM_SLICE, 7, {1, 2, 4, 8, 16, 32, 64}},
    [CLFIT_P_SWGS] = {"SWGS", "slice_step: work-group size", CLFIT_GEMM_SLICE, WGS_SPACE},
    [CLFIT_P_KS] = {"KS", "slice_step: work-items per sum of the forward pass", CLFIT_GEMM_SLICE, 6, {1, 2, 4, 8, 16, 32}},
};

const char *const clfit_device_class_names[CLFIT_CLASS_COUNT] = {
    "cpu-avx2", "cpu-avx512", "gpu-nvidia", "gpu-other",
};

/* Measured on the machines named in PERFORMANCE.md (the CPU classes), or chosen by
 * reasoning where no such machine was at hand (the GPU classes: the one-launch step with
 * 64 groups of 256 for the tutorial's 128 hidden units, 4 work-items per sum of the
 * forward so that its chains are 196 long, not 784; small per-item blocks with warp-sized
 * groups for the fused kernels). fused_grad_adam's super-tiles (TR, TC, KC: batches over
 * KC rows only) were measured on the AVX2 EPYC (Zen 3); on the AVX-512 class they stay
 * off (TR = TC = 1) until measured there. The AVX2 forward's RB=6 CB=1 (12 of the 16
 * registers for sums) also from the Zen 3: fused_forward_head's median 1.1-2x faster than
 * RB=2 CB=2 in 9 of 9 interleaved pairs at batches 32, 128 and 1024. SPL=64 (fused_steps,
 * 64 steps a launch) on both CPU classes, and the AVX-512 gradient's tiles of 2 weight rows
 * by 8 vectors (whole rows of the tutorial's 128 units: each tile's Adam reads and writes
 * 1 KB runs of p, m and v), from the Xeon (Ice Lake, 2026-12-08): s/epoch at batch 32,
 * 128, 1024 0.27-0.30, 0.19, 0.175 against 0.36-0.39, 0.20-0.23, 0.18 with SPL=16 and
 * RG=4 CG=4, and 0.54-0.68, 0.29, 0.24-0.26 with two launches a step (SPL=1). */
/* each value named by its tunable: P(NAME) = value */
#define P(name) [CLFIT_P_##name]
static const clfit_params class_defaults[CLFIT_CLASS_COUNT] = {
    [CLFIT_CLASS_CPU_AVX2] = {.v = {P(BACKEND) = CLFIT_GEMM_OWN,
            P(VW) = 16, P(FWGS) = 1, P(RB) = 6, P(CB) = 1, P(GWGS) = 16, P(RG) = 4, P(CG) = 1, P(TR) = 2, P(TC) = 4, P(KC) = 32, P(TF) = 1, P(KF) = 1024, P(SPL) = 64,
            P(SXE_WGS) = 32, P(WGS) = 64, P(HS) = 16, P(SWGS) = 16, P(KS) = 1}},
    [CLFIT_CLASS_CPU_AVX512] = {.v = {P(BACKEND) = CLFIT_GEMM_OWN,
            P(VW) = 16, P(FWGS) = 16, P(RB) = 4, P(CB) = 4, P(GWGS) = 16, P(RG) = 2, P(CG) = 8, P(TR) = 1, P(TC) = 1, P(KC) = 1024, P(TF) = 1, P(KF) = 1024, P(SPL) = 64,
            P(SXE_WGS) = 64, P(WGS) = 64, P(HS) = 16, P(SWGS) = 16, P(KS) = 1}},
    [CLFIT_CLASS_GPU_NVIDIA] = {.v = {P(BACKEND) = CLFIT_GEMM_SLICE,
            P(VW) = 4, P(FWGS) = 64, P(RB) = 1, P(CB) = 1, P(GWGS) = 64, P(RG) = 1, P(CG) = 1, P(TR) = 1, P(TC) = 1, P(KC) = 1024, P(TF) = 1, P(KF) = 1024, P(SPL) = 1,
            P(SXE_WGS) = 256, P(WGS) = 256, P(HS) = 2, P(SWGS) = 256, P(KS) = 4}},
    [CLFIT_CLASS_GPU_OTHER] = {.v = {P(BACKEND) = CLFIT_GEMM_SLICE,
            P(VW) = 4, P(FWGS) = 64, P(RB) = 1, P(CB) = 1, P(GWGS) = 64, P(RG) = 1, P(CG) = 1, P(TR) = 1, P(TC) = 1, P(KC) = 1024, P(TF) = 1, P(KF) = 1024, P(SPL) = 1,
            P(SXE_WGS) = 256, P(WGS) = 64, P(HS) = 2, P(SWGS) = 256, P(KS) = 4}},
};
#undef P

void clfit_params_default(clfit_device_class c, clfit_params *p)
{
    if (c < 0 || c >= CLFIT_CLASS_COUNT) c = CLFIT_CLASS_GPU_OTHER;
    *p = class_defaults[c];
}

int clfit_param_find(const char *name)
{
    for (int i = 0; i < CLFIT_P_COUNT; i++)
        if (strcmp(clfit_tunables[i].name, name) == 0) return i;
    return -1;
}

int clfit_param_allowed(int id, int value)
{
    if (id < 0 || id >= CLFIT_P_COUNT) return 0;
    for (int i = 0; i < clfit_tunables[id].n; i++)
        if (clfit_tunables[id].values[i] == value) return 1;
    return 0;
}

int clfit_param_matters(int id, int backend)
{
    return clfit_tunables[id].backend < 0 || clfit_tunables[id].backend == backend;
}

int clfit_param_in_program(int id)
{
    return id != CLFIT_P_BACKEND && id != CLFIT_P_SPL;
}

int clfit_param_is_wg(int id)
{
    return id == CLFIT_P_FWGS || id == CLFIT_P_GWGS || id == CLFIT_P_SXE_WGS || id == CLFIT_P_WGS ||
           id == CLFIT_P_SWGS;
}

int clfit_param_fit(int id, int v, size_t limit)
{
    if (!limit || (size_t)v <= limit) return v;
    int best = 0;
    for (int i = 0; i < clfit_tunables[id].n; i++)
        if ((size_t)clfit_tunables[id].values[i] <= limit && clfit_tunables[id].values[i] > best)
            best = clfit_tunables[id].values[i];
    return best;
}

void clfit_params_fit_wg(clfit_params *p, size_t limit)
{
    for (int i = 0; i < CLFIT_P_COUNT; i++) {
        int v = clfit_param_is_wg(i) ? clfit_param_fit(i, p->v[i], limit) : 0;
        if (v) p->v[i] = v;
    }
}

/* The allowed values of tunable id as text, e.g. "1, 2, 4, 8, 16". */
static void space_text(int id, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < clfit_tunables[id].n && used < size; i++) {
        if (id == CLFIT_P_BACKEND)
            used += snprintf(buf + used, size - used, "%s%s", i ? ", " : "", clfit_gemm_names[i]);
        else
            used += snprintf(buf + used, size - used, "%s%d", i ? ", " : "", clfit_tunables[id].values[i]);
    }
}

clfit_status clfit_params_parse(const char *s, const char *what, clfit_params *p)
{
    clfit_params out = *p;
    const char *q = s;
    while (*q) {
        const char *eq = strchr(q, '='), *end = strchr(q, ',');
        if (!end) end = q + strlen(q);
        if (!eq || eq > end || eq == q || eq + 1 == end)
            return clfit_fail(CLFIT_ERR_ARG, "%s=\"%s\": expected NAME=VALUE[,NAME=VALUE...]", what, s);
        char name[32], val[32];
        if ((size_t)(eq - q) >= sizeof name || (size_t)(end - eq - 1) >= sizeof val)
            return clfit_fail(CLFIT_ERR_ARG, "%s: item too long in \"%s\"", what, s);
        memcpy(name, q, (size_t)(eq - q));
        name[eq - q] = '\0';
        memcpy(val, eq + 1, (size_t)(end - eq - 1));
        val[end - eq - 1] = '\0';
        int id = clfit_param_find(name);
        if (id < 0) {
            char names[256] = "";
            for (int i = 0; i < CLFIT_P_COUNT; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", clfit_tunables[i].name);
            return clfit_fail(CLFIT_ERR_ARG, "%s: unknown tunable %s (the tunables: %s)", what, name, names);
        }
        int v = -1;
        for (int g = 0; id == CLFIT_P_BACKEND && g < CLFIT_GEMM_COUNT; g++)
            if (!strcmp(val, clfit_gemm_names[g])) v = g;
        if (v < 0) {
            char *num_end;
            errno = 0;
            long l = strtol(val, &num_end, 10);
            if (*num_end == '\0' && errno == 0 && l >= 0 && l <= 4096) v = (int)l;
        }
        if (v < 0 || !clfit_param_allowed(id, v)) {
            char space[128];
            space_text(id, space, sizeof space);
            return clfit_fail(CLFIT_ERR_ARG, "%s: %s=%s is not one of %s", what, name, val, space);
        }
        out.v[id] = v;
        q = *end ? end + 1 : end;
    }
    *p = out;
    return CLFIT_OK;
}

char *clfit_params_format(const clfit_params *p, char *buf, size_t size)
{
    int backend = p->v[CLFIT_P_BACKEND] >= 0 && p->v[CLFIT_P_BACKEND] < CLFIT_GEMM_COUNT ? p->v[CLFIT_P_BACKEND] : 0;
    size_t used = (size_t)snprintf(buf, size, "%s", clfit_gemm_names[backend]);
    for (int i = 1; i < CLFIT_P_COUNT && used < size; i++)
        if (clfit_param_matters(i, backend))
            used += (size_t)snprintf(buf + used, size - used, " %s=%d", clfit_tunables[i].name, p->v[i]);
    return buf;
}

char *clfit_params_format_all(const clfit_params *p, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 1; i < CLFIT_P_COUNT && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%d", i > 1 ? " " : "", clfit_tunables[i].name, p->v[i]);
    return buf;
}
