/* The model parts' names (see include/clfit/parts.h). */
#include "clfit/parts.h"

#include <stdio.h>
#include <string.h>

#define ROW_(id, name, what, needs_input) {#name, what, needs_input},
const clfit_act_info clfit_acts[CLFIT_ACT_COUNT] = {CLFIT_ACT_LIST(ROW_)};
#undef ROW_

const char *const clfit_loss_names[CLFIT_LOSS_COUNT] = {"crossentropy", "mse"};
const char *const clfit_opt_names[CLFIT_OPT_COUNT] = {"adam", "adamw", "sgd", "rmsprop"};
const char *const clfit_sched_names[CLFIT_SCHED_COUNT] = {"constant", "exponential", "cosine", "plateau"};

int clfit_part_find(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

int clfit_act_find(const char *name)
{
    for (int i = 0; i < CLFIT_ACT_COUNT; i++)
        if (!strcmp(clfit_acts[i].name, name)) return i;
    return -1;
}

char *clfit_acts_format(const clfit_model_desc *d, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (d->nhidden == 0) snprintf(buf, size, "-");
    for (int i = 0; i < d->nhidden && n < size; i++)
        n += snprintf(buf + n, size - n, "%s%s", i ? "," : "", clfit_acts[d->act[i]].name);
    return buf;
}

char *clfit_dropout_format(const clfit_model_desc *d, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (d->nhidden == 0) snprintf(buf, size, "-");
    for (int i = 0; i < d->nhidden && n < size; i++)
        n += snprintf(buf + n, size - n, "%s%.9g", i ? "," : "", (double)d->dropout[i]);
    return buf;
}

char *clfit_act_names(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < CLFIT_ACT_COUNT && n < size; i++)
        n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "", clfit_acts[i].name);
    return buf;
}
