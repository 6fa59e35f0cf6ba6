/* Shared by the clfit command's source files (tools/clfit*.c). */
#ifndef CLFIT_CLI_H
#define CLFIT_CLI_H

#include <stddef.h>

#include "clfit/cl.h"
#include "clfit/data.h"
#include "clfit/fit.h"
#include "clfit/io.h"
#include "clfit/model.h"
#include "clfit/modelfile.h"
#include "clfit/status.h"
#include "clfit/train.h"
#include "clfit/tune.h"

extern const char *cli_cmd;            /* "clfit train", for messages */

/* Prints "clfit CMD: message (see 'clfit CMD --help')" to stderr; returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "clfit: <clfit_last_error()>" to stderr; returns 1. */
int cli_fail(clfit_status st);
/* getopt_long for the commands: one line of ours for every problem (opterr off), and an
 * empty value ("--device ''") refused as bad usage. Returns what getopt_long does, with
 * '?' for every error, already reported: the caller's default case returns 2. */
#include <getopt.h>
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* out = a's entries, then b's, then the zero entry (out has room for both). */
void cli_options_join(struct option *out, const struct option *a, const struct option *b);
#define CLI_BAD_OPTION 2
/* Strict number parsing (clfit_parse_long/_double: the whole string, no spaces or '+');
 * print a usage error and return 0 on bad input. */
int cli_parse_long(const char *opt, const char *s, long min, long max, long *out);
int cli_parse_double(const char *opt, const char *s, double min, double max, double *out);
int cli_parse_list(const char *opt, const char *s, int *out, int max);
/* --hidden W[,W...]: up to CLFIT_MAX_LAYERS - 1 widths, each in 1..65536, into hidden and
 * *n. Prints a usage error and returns 0 if bad. */
int cli_parse_hidden(const char *s, int *hidden, int *n);
/* Fashion-MNIST's name for a class when there are 10, else "class N". */
const char *cli_class_name(int c, int classes, char *buf, size_t size);
/* A model's name for class c: a table's own names (m->class_names), else cli_class_name. */
const char *cli_model_class_name(const clfit_model *m, int c, char *buf, size_t size);
/* Loads split "train" or "test" from dir (NULL: default); prints the error, returns 1. */
int cli_load_split(const char *dir, const char *set, int classes, clfit_dataset *d);

/* Whether --data's path names a file (.csv or .npz) rather than a folder of IDX files;
 * an .npz. */
int cli_is_table(const char *path);
int cli_is_npz(const char *path);
/* Loads the file at path: a CSV table (target: --target, NULL for the last column), or an
 * .npz's part `set`: "train", "test" (the same file's test arrays; none leaves d empty,
 * count 0), or "file" (a separate test file: its test arrays, else its only ones). With m
 * (a model's, or the one being trained): its class names, input count and classes are
 * checked, and its standardisation applied. regression (or m's): the targets are values
 * (--target may list several columns; a regression model's own by default, and a CSV
 * without them is rows to predict). Prints the error, returns 1. */
int cli_load_table(const char *path, const char *set, const char *target, const clfit_model *m, int regression,
                   clfit_dataset *d);
/* A new model's standardisation (--normalize): the mean and deviation of the first n rows of
 * d's features into m. Prints the error, returns 1. */
int cli_fit_normalization(clfit_model *m, const clfit_dataset *d, int n);
/* A new regression model's output names (m->class_names): d's target columns' (copied from
 * d), or for an .npz's y "y" (one) or "y0", "y1", ... Prints the error, returns 1. */
int cli_target_names(clfit_model *m, const clfit_dataset *d);

/* --gemm: "clblast", "own" or "auto" (-1). Prints a usage error and returns 0 if bad. */
int cli_parse_gemm(const char *s, int *choice);

/* How a command gets its tunables when the database has none for its device and shape:
 * run a short tune first (train, bench), or use the device class's defaults. The short
 * tune's budget is $CLFIT_QUICK_TUNE seconds (0: none, the defaults), else this.
 * CLI_UNCHECKED: as CLI_LOOKUP, without clfit_cl_prepare (verify, which is the full check). */
typedef enum { CLI_LOOKUP, CLI_QUICK_TUNE, CLI_UNCHECKED } cli_tune_policy;
#define CLI_QUICK_TUNE_SECONDS 20.0

/* Opens the device (--device SEL) with the tunables for model d at batch: the tuning
 * database's entry, else per policy a short tune (stored) or the class defaults; then
 * --backend's unless it is auto (-1); $CLFIT_TUNE overrides any of them. The backend is
 * then one that can run d, and train it with optimizer opt over `ranks` processes (opt
 * NULL: evaluation alone): clfit_backend_choose; then readied by clfit_cl_prepare (kept clear
 * of the device's defects, checked against the reference once; another backend where this
 * one fails, unless --backend or $CLFIT_TUNE forced it). Prints one line on stderr saying which
 * parameters run and where they came from, and why another backend than the one asked
 * for or tuned (with --verbose also the compiler's log). Prints the error and returns NULL
 * on failure. */
clfit_cl *cli_open_tuned(const char *dev, const clfit_model_desc *d, int batch, int gemm_choice,
                         const clfit_optim *opt, int ranks, cli_tune_policy policy);

/* --verbose: the compiler's output and the tuner's every candidate (sets $CLFIT_VERBOSE). */
void cli_set_verbose(void);
int cli_verbose(void);

/* A saved model with the data set and device it is used with (evaluate, predict, plot). */
typedef struct {
    clfit_model *m;
    clfit_model_meta meta;
    clfit_dataset d;
    clfit_cl *cl;
    clfit_gemm gemm;        /* chosen as train chose for the model's batch (unless forced) */
} cli_session;

/* Loads the model, the "test" or "train" split (or, where dir is a table, that table with
 * its target column `target`) and opens the device; prints the error and returns 1 on
 * failure (whatever was opened is closed). */
int cli_session_open(cli_session *s, const char *model, const char *dir, const char *target, const char *set,
                     const char *dev, int gemm_choice);
void cli_session_close(cli_session *s);
/* Softmax probabilities (n, classes) of the examples idx[0..n); prints the error (an index
 * outside the set included) and returns NULL on failure; the caller frees the result. */
float *cli_session_predict(cli_session *s, const char *set, const int *idx, int n);

/* mpirun (tools/clfit_mpi.c). cli_mpi_start: MPI_Init when started as several processes
 * (returns 2, said, when this build has no MPI); cli_mpi_end: MPI_Finalize, or on a
 * failure (rc 1) MPI_Abort, which ends every process. Exit 2 must come from the arguments
 * alone (the same on every process); a check that depends on a host's files exits 1 under
 * mpirun. rank 0 and size 1 without mpirun. */
int cli_mpi_start(int *argc, char ***argv);
void cli_mpi_end(int rc);
int cli_mpi_rank(void);
int cli_mpi_size(void);
/* clfit_fit's operations between processes, or NULL (one process). */
const clfit_collective *cli_mpi_collective(void);
/* The device for this process: dev if given (or $CLFIT_DEVICE), else under mpirun the
 * host's GPU for its local rank (cycling), else NULL (the default). buf holds the answer. */
const char *cli_mpi_device(const char *dev, char *buf, size_t size);
/* Rank 0 prints every process's "rank R on host H: device D" (all must call it). */
void cli_mpi_report_device(const char *name);

/* The model parts' options (tools/clfit_parts.c): cli_parts_options (terminated by a zero
 * entry) to append to a command's getopt table, cli_parts_help for its --help. */
enum { CLI_P_ACT = 3000, CLI_P_DROPOUT, CLI_P_LOSS, CLI_P_OPT, CLI_P_MOMENTUM, CLI_P_NESTEROV, CLI_P_RHO, CLI_P_WD,
       CLI_P_L2, CLI_P_CLIP, CLI_P_SCHED, CLI_P_WARMUP, CLI_P_GAMMA, CLI_P_FACTOR, CLI_P_PATIENCE, CLI_P_SCHED_EPOCHS };
#define CLI_PARTS_NOPTIONS 16
extern const struct option cli_parts_options[];
extern const char *const cli_parts_help;
typedef struct {
    int act[CLFIT_MAX_LAYERS - 1], nact;
    float dropout[CLFIT_MAX_LAYERS - 1];
    int ndropout;
    int loss, opt, sched;       /* -1: not given */
    double momentum, rho, wd, l2, clip, warmup, gamma, factor;
    long patience, sched_epochs;
    int nesterov;
    unsigned seen;              /* which of the numeric options were given */
} cli_parts;
void cli_parts_init(cli_parts *p);
/* Takes option `code` with its argument: 1 taken, 0 bad (said: exit 2), -1 not a part's. */
int cli_parts_parse(cli_parts *p, int code, const char *arg);
int cli_parts_given(const cli_parts *p);
/* Onto a new model's description (its nhidden set) and optimizer; returns 0, or 2 (said)
 * for a combination that makes no sense (--nesterov without sgd's momentum, ...). */
int cli_parts_apply(const cli_parts *p, clfit_model_desc *d, clfit_optim *o);
/* 2 (said) if any part was given: a resumed model's parts are its file's. */
int cli_parts_check_resume(const cli_parts *p, const char *file);
/* "activations relu, dropout 0, loss crossentropy, optimizer adam, lr 0.001 constant" */
void cli_parts_describe(const clfit_model *m, char *buf, size_t size);

int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
