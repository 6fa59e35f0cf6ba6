/* clfit's model parts by name: the one list of the activations, losses, optimizers and
 * learning-rate schedules a model can be built of (their numbers are in clfit/model.h,
 * their arithmetic in host/ref.c and kernels/act.cl, kernels/optim.cl). The command line,
 * the model file, summary and export all name parts through these tables. */
#ifndef CLFIT_PARTS_H
#define CLFIT_PARTS_H

#include "clfit/model.h"

typedef struct {
    const char *name;       /* as --activation takes it and the model file stores it */
    const char *what;       /* one line for --help and summary */
    int needs_input;        /* its derivative needs the activation's input z (not only its
                               output): the device keeps z for the backward pass */
} clfit_act_info;
extern const clfit_act_info clfit_acts[CLFIT_ACT_COUNT];

extern const char *const clfit_loss_names[CLFIT_LOSS_COUNT];   /* "crossentropy", "mse" */
extern const char *const clfit_opt_names[CLFIT_OPT_COUNT];     /* "adam", "adamw", "sgd", "rmsprop" */
extern const char *const clfit_sched_names[CLFIT_SCHED_COUNT]; /* "constant", ... "plateau" */

/* The index of name in a table of n names, or -1. */
int clfit_part_find(const char *const *names, int n, const char *name);
/* The activation called name, or -1. */
int clfit_act_find(const char *name);

/* "relu, linear, ...": every activation's name, for messages. */
char *clfit_act_names(char *buf, size_t size);
/* "relu,gelu": the hidden layers' activations (buf); "-" with no hidden layer. */
char *clfit_acts_format(const clfit_model_desc *d, char *buf, size_t size);
/* "0,0.2": their dropout rates (%.9g) into buf. */
char *clfit_dropout_format(const clfit_model_desc *d, char *buf, size_t size);

#endif
