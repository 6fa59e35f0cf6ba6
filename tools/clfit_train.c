/* clfit train / evaluate / predict. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "clfit/fit.h"
#include "clfit/table.h"
#include "clfit/io.h"
#include "clfit/modelfile.h"
#include "clfit/plot.h"
#include "cli.h"

/* ---------- progress, as Keras prints it ---------- */

typedef struct {
    int tty;                    /* live bar (stdout is a terminal) or one line per epoch */
    FILE *history;              /* --history CSV, or NULL */
    const char *history_path;
    const char *save;           /* --save FILE, or NULL */
    clfit_model_meta meta;      /* written with every save */
    long printed_epoch;         /* the epoch whose "Epoch e/E" header is on screen */
    double train_seconds;       /* the epochs' training time so far (validation not counted) */
    long train_steps;
    /* Keras' EarlyStopping (patience > 0) and ModelCheckpoint(save_best_only) on val_loss
     * or val_accuracy (monitor_acc), with min_delta */
    int patience, monitor_acc, have_best, wait;
    double min_delta, best;
    long best_epoch;
    const char *save_best;
    clfit_model *best_model;    /* the best epoch's weights and Adam state (early stopping) */
    long last_epoch;            /* the last epoch trained */
    int regression;             /* the model's metric is mae (monitor_acc then val_mae: lower is better) */
} train_ui;

/* Keeps the best epoch so far (a copy for early stopping, a file for --save-best), and
 * ends training when the monitored value has not improved by more than min_delta for
 * patience epochs. */
static clfit_status watch_best(train_ui *ui, const clfit_progress *p, const clfit_model *m)
{
    const char *name = ui->monitor_acc ? ui->regression ? "val_mae" : "val_accuracy" : "val_loss";
    double v = ui->monitor_acc ? p->val_accuracy : p->val_loss;
    int higher = ui->monitor_acc && !ui->regression; /* accuracy; loss and mae are better lower */
    int better = !ui->have_best || (higher ? v > ui->best + ui->min_delta : v < ui->best - ui->min_delta);
    if (better) {
        ui->have_best = 1;
        ui->best = v;
        ui->best_epoch = p->epoch;
        ui->wait = 0;
        if (ui->best_model) {
            clfit_model *b = ui->best_model;
            memcpy(b->params, m->params, m->nparams * sizeof(float));
            memcpy(b->m, m->m, m->nparams * sizeof(float));
            memcpy(b->v, m->v, m->nparams * sizeof(float));
            b->step = m->step;
            b->adam = m->adam;
        }
        if (ui->save_best) {
            clfit_model_meta meta = ui->meta;
            meta.epoch = p->epoch;
            clfit_status st = clfit_model_save(ui->save_best, m, &meta);
            if (st) return st;
        }
        return CLFIT_OK;
    }
    if (ui->patience && ++ui->wait >= ui->patience) {
        printf("Epoch %ld: early stopping: %s has not improved by more than %g for %d epoch%s; the best was epoch "
               "%ld (%s %.4f)\n", p->epoch, name, ui->min_delta, ui->patience, ui->patience == 1 ? "" : "s",
               ui->best_epoch, name, ui->best);
        return CLFIT_STOPPED;
    }
    return CLFIT_OK;
}

/* Keras' figures: loss and accuracy, or a regression's mse (its loss) and mae */
static void metrics(const train_ui *ui, const clfit_progress *p)
{
    const char *l = ui->regression ? "mse" : "loss", *a = ui->regression ? "mae" : "accuracy";
    printf(" - %s: %.4f - %s: %.4f", l, p->loss, a, p->accuracy);
    if (p->has_val) printf(" - val_%s: %.4f - val_%s: %.4f", l, p->val_loss, a, p->val_accuracy);
}

static void bar(const clfit_progress *p)
{
    int width = 30, filled = (int)((long)width * p->step / p->steps);
    putchar('[');
    for (int i = 0; i < width; i++) putchar(i < filled - 1 || (i == filled - 1 && p->step == p->steps) ? '=' : i == filled - 1 ? '>' : '.');
    putchar(']');
}

static clfit_status on_progress(const clfit_progress *p, const clfit_model *m, void *user)
{
    train_ui *ui = user;
    int digits = snprintf(NULL, 0, "%d", p->steps);
    if (ui->tty && ui->printed_epoch != p->epoch) {
        printf("Epoch %ld/%ld\n", p->epoch, p->epochs);
        ui->printed_epoch = p->epoch;
    }
    if (!p->epoch_done) { /* only on a terminal: redraw the live bar */
        double eta = p->seconds / p->step * (p->steps - p->step);
        printf("\r%*d/%d ", digits, p->step, p->steps);
        bar(p);
        printf(" - ETA: %.0fs", eta);
        metrics(ui, p);
        printf("\033[K");
        fflush(stdout);
        return CLFIT_OK;
    }
    double ms_step = p->seconds * 1e3 / p->steps;
    ui->last_epoch = p->epoch;
    ui->train_seconds += p->seconds;
    ui->train_steps += p->steps;
    if (ui->tty) {
        printf("\r%d/%d ", p->steps, p->steps);
        bar(p);
        printf(" - %.1fs %.2fms/step", p->seconds, ms_step);
        metrics(ui, p);
        printf("\033[K\n");
    } else {
        printf("Epoch %ld/%ld - %d/%d - %.1fs %.2fms/step", p->epoch, p->epochs, p->steps, p->steps,
               p->seconds, ms_step);
        metrics(ui, p);
        printf("\n");
    }
    fflush(stdout);
    if (ui->history) {
        clfit_history_write_row(ui->history, p->epoch, p->loss, p->accuracy,
                                p->has_val ? p->val_loss : NAN, p->val_accuracy, p->seconds);
        if (fflush(ui->history) != 0 || ferror(ui->history))
            return clfit_fail(CLFIT_ERR_IO, "%s: write failed: %s", ui->history_path, strerror(errno));
    }
    if (ui->patience || ui->save_best) {
        clfit_status st = watch_best(ui, p, m);
        if (st) return st; /* CLFIT_STOPPED: the best epoch is restored (and saved) after fit */
    }
    if (ui->save) {
        ui->meta.epoch = p->epoch;
        return clfit_model_save(ui->save, m, &ui->meta);
    }
    return CLFIT_OK;
}

/* ---------- clfit train ---------- */

static void train_help(void)
{
    printf("usage: clfit train [OPTIONS]\n\n"
           "Trains Flatten -> Dense(hidden, ReLU)... -> Dense(classes) with Adam and softmax\n"
           "cross-entropy on the training set (Keras' fit), then evaluates the test set; the\n"
           "model's parts (activations, dropout, loss, optimizer, schedule) can be others.\n\n"
           "  --epochs N              epochs to run now (default 10)\n"
           "  --batch N               examples per step (default 32)\n"
           "  --lr X                  the learning rate (default 0.001; above 0)\n"
           "  --hidden W[,W...]       hidden layer widths (default 128)\n"
           "  --seed N                initialisation and shuffling seed (default 42)\n"
           "  --validation-split F    hold out the last fraction F of the training set and\n"
           "                          report val_loss and val_accuracy (default 0)\n"
           "  --no-shuffle            keep the training set's order\n"
           "  --save FILE             write the model (safetensors) after every epoch\n"
           "  --history FILE.csv      one row per epoch: epoch,loss,accuracy,val_loss,\n"
           "                          val_accuracy,seconds (a regression's: mae for accuracy;\n"
           "                          appended to when resuming)\n"
           "  --early-stopping N      stop when the monitored value has not improved for N\n"
           "                          epochs, keeping (and saving) the best epoch's weights\n"
           "  --monitor M             val_loss (default), val_accuracy, or a regression's val_mae\n"
           "  --min-delta D           an improvement is one by more than D (default 0)\n"
           "  --save-best FILE        keep the best epoch's model so far in FILE (these four\n"
           "                          watch the validation set: they need --validation-split)\n"
           "  --resume FILE           continue a saved model: weights, Adam state, epoch count,\n"
           "                          seed, batch and split come from FILE; --epochs more run\n"
           "  --device SEL            OpenCL device index or name substring ($CLFIT_DEVICE)\n"
           "  --data DIR|FILE         the IDX files (default $CLFIT_DATA, else\n"
           "                          %s), or a\n"
           "                          table: a CSV file with a header row, one column the\n"
           "                          target (a class name or index per row), or a NumPy\n"
           "                          .npz (x_train, y_train[, x_test, y_test], or x, y)\n"
           "  --test FILE             a table's test set, .csv or .npz (an IDX folder and an\n"
           "                          .npz with x_test have their own)\n"
           "  --target NAME|INDEX     a table's target column: its name, or its index from 0\n"
           "                          (default: the last); with --loss mse (a regression)\n"
           "                          one or more, comma-separated\n"
           "  --no-normalize          keep a table's features as they are (by default each is\n"
           "                          standardised with the training rows' mean and standard\n"
           "                          deviation, kept in the model for evaluate and predict)\n"
           "  --backend B             how steps run: clblast (CLBlast's SGEMM plus small\n"
           "                          kernels), own (fused kernels shaped for CPUs), slice\n"
           "                          (one launch a step, shaped for GPUs; one hidden layer)\n"
           "                          or auto (the default): the tuned choice (clfit tune)\n"
           "  --gemm B                the same as --backend (its first name)\n"
           "%s"
           "  --profile               print a per-kernel time table after training\n"
           "  --profile-csv FILE      write that table as CSV\n"
           "  --trace FILE.json       write a Chrome trace (Perfetto, chrome://tracing)\n"
           "  --verbose               the compiler's output and every tuning candidate\n\n"
           "Progress: a live bar on a terminal, else one line per epoch. A NaN or infinite\n"
           "loss stops training with exit status 1. The kernels run with the parameters tuned\n"
           "for this device, model and batch (clfit tune); on a device not yet tuned for them\n"
           "a short tune runs first and is kept. stderr says which parameters run.\n", CLFIT_DEFAULT_DATA_DIR,
           cli_parts_help);
}

int cmd_train(int argc, char **argv)
{
    enum { O_EPOCHS = 1000, O_BATCH, O_LR, O_HIDDEN, O_SEED, O_VAL, O_NOSHUF, O_SAVE, O_HIST, O_RESUME, O_DEV, O_DATA,
           O_GEMM, O_PROFILE, O_TRACE, O_PCSV, O_VERBOSE, O_EARLY, O_MONITOR, O_MINDELTA, O_SAVEBEST, O_TEST, O_TARGET,
           O_NONORM };
    static const struct option opts[] = {
        {"epochs", required_argument, 0, O_EPOCHS}, {"batch", required_argument, 0, O_BATCH},
        {"lr", required_argument, 0, O_LR}, {"hidden", required_argument, 0, O_HIDDEN},
        {"seed", required_argument, 0, O_SEED}, {"validation-split", required_argument, 0, O_VAL},
        {"no-shuffle", no_argument, 0, O_NOSHUF}, {"save", required_argument, 0, O_SAVE},
        {"history", required_argument, 0, O_HIST}, {"resume", required_argument, 0, O_RESUME},
        {"device", required_argument, 0, O_DEV}, {"data", required_argument, 0, O_DATA},
        {"gemm", required_argument, 0, O_GEMM}, {"profile", no_argument, 0, O_PROFILE},
        {"trace", required_argument, 0, O_TRACE}, {"profile-csv", required_argument, 0, O_PCSV},
        {"verbose", no_argument, 0, O_VERBOSE}, {"early-stopping", required_argument, 0, O_EARLY},
        {"monitor", required_argument, 0, O_MONITOR}, {"min-delta", required_argument, 0, O_MINDELTA},
        {"save-best", required_argument, 0, O_SAVEBEST}, {"backend", required_argument, 0, O_GEMM},
        {"test", required_argument, 0, O_TEST}, {"target", required_argument, 0, O_TARGET},
        {"no-normalize", no_argument, 0, O_NONORM},
        {"help", no_argument, 0, 'h'}, {0}};
    struct option all[sizeof opts / sizeof opts[0] + CLI_PARTS_NOPTIONS];
    cli_options_join(all, opts, cli_parts_options);
    cli_parts parts;
    cli_parts_init(&parts);
    long epochs = 10, batch = 32, seed = 42, patience = 0;
    double min_delta = 0;
    int monitor_acc = 0, have_monitor = 0;
    const char *save_best = NULL;
    double lr = 0.001, val_split = 0;
    int hidden[CLFIT_MAX_LAYERS - 1] = {128}, nhidden = 1, shuffle = 1;
    int have_batch = 0, have_lr = 0, have_hidden = 0, have_seed = 0, have_val = 0;
    const char *save = NULL, *history = NULL, *resume = NULL, *dev = NULL, *dir = NULL;
    const char *gemm_arg = "auto", *trace = NULL, *profile_csv = NULL, *test_file = NULL, *target = NULL;
    int profile = 0, normalize = 1;
    int c;
    while ((c = cli_getopt(argc, argv, "h", all)) != -1) {
        int pr = cli_parts_parse(&parts, c, optarg);
        if (pr == 0) return 2;
        if (pr == 1) continue;
        switch (c) {
        case O_EPOCHS: if (!cli_parse_long("--epochs", optarg, 1, 1000000, &epochs)) return 2; break;
        case O_BATCH: if (!cli_parse_long("--batch", optarg, 1, 65536, &batch)) return 2; have_batch = 1; break;
        case O_LR: if (!cli_parse_double("--lr", optarg, 1e-30, 3e38, &lr)) return 2; have_lr = 1; break;
        case O_HIDDEN:
            if (!cli_parse_hidden(optarg, hidden, &nhidden)) return 2;
            have_hidden = 1;
            break;
        case O_SEED: if (!cli_parse_long("--seed", optarg, 0, 2147483647L, &seed)) return 2; have_seed = 1; break;
        case O_VAL: if (!cli_parse_double("--validation-split", optarg, 0, 0.99, &val_split)) return 2; have_val = 1; break;
        case O_NOSHUF: shuffle = 0; break;
        case O_SAVE: save = optarg; break;
        case O_HIST: history = optarg; break;
        case O_RESUME: resume = optarg; break;
        case O_DEV: dev = optarg; break;
        case O_DATA: dir = optarg; break;
        case O_GEMM: gemm_arg = optarg; break;
        case O_PROFILE: profile = 1; break;
        case O_TRACE: trace = optarg; break;
        case O_PCSV: profile_csv = optarg; break;
        case O_VERBOSE: cli_set_verbose(); break;
        case O_EARLY: if (!cli_parse_long("--early-stopping", optarg, 1, 1000000, &patience)) return 2; break;
        case O_MONITOR:
            if (strcmp(optarg, "val_loss") && strcmp(optarg, "val_accuracy") && strcmp(optarg, "val_mae"))
                return cli_usage_error("--monitor: expected val_loss, val_accuracy or val_mae, got '%.40s'", optarg);
            monitor_acc = strcmp(optarg, "val_loss") ? !strcmp(optarg, "val_mae") ? 2 : 1 : 0;
            have_monitor = 1;
            break;
        case O_MINDELTA: if (!cli_parse_double("--min-delta", optarg, 0, 1e30, &min_delta)) return 2; break;
        case O_SAVEBEST: save_best = optarg; break;
        case O_TEST: test_file = optarg; break;
        case O_TARGET: target = optarg; break;
        case O_NONORM: normalize = 0; break;
        case 'h': train_help(); return 0;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    int gemm_choice;
    if (!cli_parse_gemm(gemm_arg, &gemm_choice)) return 2;
    int table = cli_is_table(dir);
    if (!table && (test_file || target || !normalize))
        return cli_usage_error("%s goes with a table (--data FILE.csv); an IDX folder has its own test files and labels",
                               test_file ? "--test" : target ? "--target" : "--no-normalize");
    if (target && (cli_is_npz(dir) || cli_is_npz(test_file)))
        return cli_usage_error("--target goes with a CSV file; an .npz has its x and y arrays");
    if (test_file && !cli_is_table(test_file))
        return cli_usage_error("--test %s: expected a .csv or .npz file, as --data", test_file);
    if ((have_monitor || min_delta > 0) && !patience && !save_best)
        return cli_usage_error("--monitor and --min-delta go with --early-stopping or --save-best");
    /* under mpirun: rank 0 alone prints and writes; each rank takes its slice of every
     * batch, which must divide by the ranks; a backend that can (cli_open_tuned) */
    int ranks = cli_mpi_size();
    char devbuf[16];
    dev = cli_mpi_device(dev, devbuf, sizeof devbuf);
    if (ranks > 1) {
        if (have_batch && batch % ranks != 0)
            return cli_usage_error("--batch %ld does not divide by the %d processes", batch, ranks);
        if (cli_mpi_rank() != 0) {
            save = history = trace = profile_csv = save_best = NULL;
            profile = 0;
            if (!freopen("/dev/null", "w", stdout)) return 1;
        }
    }
    /* every output can be written, before anything is loaded or trained */
    const char *outputs[] = {save, profile_csv, trace, history, save_best};
    for (int i = 0; i < 5; i++) {
        clfit_status ost = outputs[i] ? clfit_check_writable(outputs[i]) : CLFIT_OK;
        if (ost) return cli_fail(ost);
    }

    clfit_status st;
    clfit_model *m = NULL;
    clfit_profiler *prof = NULL;
    clfit_gemm gemm = CLFIT_GEMM_CLBLAST;
    clfit_model_meta meta = {0};
    clfit_dataset train = {0}, test = {0};
    clfit_cl *cl = NULL;
    train_ui ui = {.tty = isatty(STDOUT_FILENO), .save = save, .patience = (int)patience, .monitor_acc = monitor_acc,
                   .min_delta = min_delta, .save_best = save_best};
    int rc = 1;
    if (resume) {
        m = clfit_model_load(resume, &meta, &st);
        if (!m) return cli_fail(st);
        char arch[128], want[128];
        clfit_arch_format(&m->desc, arch, sizeof arch);
        if (have_hidden) {
            clfit_model_desc d = m->desc;
            d.nhidden = nhidden;
            memcpy(d.hidden, hidden, sizeof hidden);
            clfit_arch_format(&d, want, sizeof want);
            if (strcmp(arch, want) != 0) {
                clfit_model_free(m);
                return cli_usage_error("--hidden gives %s, but %s holds %s", want, resume, arch);
            }
        }
        if (cli_parts_check_resume(&parts, resume)) {
            clfit_model_free(m);
            return 2;
        }
        if (have_seed && (uint64_t)seed != meta.seed) {
            clfit_model_free(m);
            return cli_usage_error("--seed %ld differs from the seed %" PRIu64 " %s was trained with", seed, meta.seed, resume);
        }
        if (have_lr) m->adam.lr = (float)lr;
        if (have_batch) meta.batch = (int)batch;
        if (have_val) meta.validation_split = val_split;
    }
    /* a table's numeric targets are values to regress on under --loss mse */
    int regression = m ? m->desc.regression : table && parts.loss == CLFIT_LOSS_MSE;
    if (monitor_acc && (monitor_acc == 2) != regression) {
        rc = cli_usage_error("--monitor %s: the model reports %s", monitor_acc == 2 ? "val_mae" : "val_accuracy",
                             regression ? "val_mae (a regression)" : "val_accuracy (a classifier)");
        goto done;
    }
    ui.regression = regression;
    if (table) {
        if (cli_load_table(dir, "train", target, m, regression, &train)) goto done; /* its test set once the model is there */
    } else {
        if (cli_load_split(dir, "train", m ? m->desc.classes : CLFIT_FASHION_CLASSES, &train)) goto done;
        if (cli_load_split(dir, "test", m ? m->desc.classes : CLFIT_FASHION_CLASSES, &test)) goto done;
    }
    if (!m && train.values && !regression) { /* a target of measured values is no set of classes */
        fprintf(stderr, "clfit: %s: %s %ld: the target holds numbers that are not class indices (0..255): --loss mse "
                        "regresses on them\n", dir, cli_is_npz(dir) ? "example" : "line", train.values);
        goto done;
    }
    if (!m) {
        int maxlabel = 0;
        for (int i = 0; i < train.count; i++) if (train.labels[i] > maxlabel) maxlabel = train.labels[i];
        /* an IDX folder's classes are at least Fashion-MNIST's ten; a table's its own */
        int classes = regression ? train.ntargets
                    : table  ? (train.nclasses ? train.nclasses : maxlabel + 1 > 2 ? maxlabel + 1 : 2)
                             : maxlabel + 1 > CLFIT_FASHION_CLASSES ? maxlabel + 1 : CLFIT_FASHION_CLASSES;
        clfit_model_desc d = {.input = train.rows * train.cols, .nhidden = nhidden, .classes = classes,
                              .regression = regression};
        memcpy(d.hidden, hidden, sizeof hidden);
        clfit_optim opt;
        clfit_optim_defaults(&opt);
        if ((rc = cli_parts_apply(&parts, &d, &opt))) goto done;
        rc = 1;
        m = clfit_model_new(&d, (uint64_t)seed, &st);
        if (!m) { cli_fail(st); goto done; }
        m->adam.lr = (float)lr;
        m->opt = opt;
        if (train.class_names) { /* the model keeps the table's class names */
            m->class_names = train.class_names;
            train.class_names = NULL;
            train.nclasses = 0;
        }
        if (regression && cli_target_names(m, &train)) goto done; /* and a regression its targets' */
        int n_fit = (int)floor(train.count * (1.0 - val_split)); /* the rows before the validation split */
        if (regression) clfit_model_center_outputs(m, train.targets, n_fit);
        if (table && normalize && train.features) {
            if (cli_fit_normalization(m, &train, n_fit)) goto done;
            clfit_standardize_apply(train.features, train.count, train.cols, m->norm_mean, m->norm_std);
        }
        meta = (clfit_model_meta){.epoch = 0, .seed = (uint64_t)seed, .batch = (int)batch,
                                  .validation_split = val_split, .rows = train.rows, .cols = train.cols};
    } else if (train.rows != meta.rows || train.cols != meta.cols) {
        fprintf(stderr, "clfit: %s was trained on %dx%d images, the data has %dx%d\n", resume,
                meta.rows, meta.cols, train.rows, train.cols);
        goto done;
    }
    /* a table's test set with the model's classes and standardisation */
    if (table && cli_load_table(test_file ? test_file : dir, test_file ? "file" : "test", target, m, regression, &test))
        goto done;
    if (test.count && (test.rows != train.rows || test.cols != train.cols)) {
        fprintf(stderr, "clfit: in %s the test images are %dx%d, the training images %dx%d: the model cannot take both\n",
                clfit_data_dir(dir), test.rows, test.cols, train.rows, train.cols);
        goto done;
    }
    if ((patience || save_best) && !(meta.validation_split > 0)) {
        rc = cli_usage_error("--early-stopping and --save-best watch the validation set: they need --validation-split");
        goto done;
    }
    if (patience && !(ui.best_model = clfit_model_new(&m->desc, 0, &st))) { cli_fail(st); goto done; }
    long n_train = (long)floor(train.count * (1.0 - meta.validation_split));
    if (ranks > 1 && meta.batch % ranks != 0) { /* read from a file: a failure (1) that ends all */
        cli_fail(clfit_fail(CLFIT_ERR_ARG, "batch %d (from %s) does not divide by the %d processes", meta.batch, resume, ranks));
        goto done;
    }
    if (meta.batch > n_train && ranks == 1 && n_train >= 1) {
        /* as Keras, PyTorch's DataLoader and scikit-learn (which warns): one smaller batch */
        fprintf(stderr, "clfit: %s%d is more than the %ld examples to train on: batches of %ld\n",
                resume && !have_batch ? "the saved batch " : "--batch ", meta.batch, n_train, n_train);
        meta.batch = (int)n_train;
    }
    if (meta.batch > n_train) {
        char msg[256];
        if (resume && !have_batch)
            snprintf(msg, sizeof msg, "batch %d (from %s) is more than the %ld examples to train on", meta.batch, resume, n_train);
        else
            snprintf(msg, sizeof msg, "--batch %d is more than the %ld examples to train on", meta.batch, n_train);
        /* under mpirun each host's data answers for itself: a failure (1) that ends all */
        rc = ranks > 1 ? cli_fail(clfit_fail(CLFIT_ERR_ARG, "%s", msg)) : cli_usage_error("%s", msg);
        goto done;
    }
    ui.meta = meta;
    if (history) {
        struct stat sb;
        int append = resume && stat(history, &sb) == 0 && sb.st_size > 0;
        ui.history = fopen(history, append ? "a" : "w");
        if (!ui.history) { fprintf(stderr, "clfit: %s: cannot write: %s\n", history, strerror(errno)); goto done; }
        if (!append) fputs(regression ? CLFIT_HISTORY_HEADER_MAE : CLFIT_HISTORY_HEADER, ui.history);
        ui.history_path = history;
    }
    /* under mpirun no short tune: every rank would tune at once into the same database; nor,
     * unless $CLFIT_QUICK_TUNE asks for one, for a small problem (under 10 GFLOP of
     * training: about a second), which the tune would outlast: it runs the tuned entry if
     * there is one, else the class's defaults */
    double flops = clfit_model_step_flops(&m->desc, meta.batch, NULL, NULL) * ((double)n_train / meta.batch) * epochs;
    const char *qt = getenv("CLFIT_QUICK_TUNE");
    int small = flops < 1e10 && !(qt && *qt);
    cl = cli_open_tuned(dev, &m->desc, meta.batch, gemm_choice, &m->opt, ranks,
                        ranks > 1 || small ? CLI_LOOKUP : CLI_QUICK_TUNE);
    if (!cl) goto done;
    cli_mpi_report_device(cl->info.name);
    gemm = (clfit_gemm)cl->p.v[CLFIT_P_BACKEND];
    if (!clfit_model_desc_plain(&m->desc) || !clfit_optim_fused(&m->opt) || m->opt.l2 > 0 || m->opt.sched != CLFIT_SCHED_CONSTANT ||
        m->opt.kind != CLFIT_OPT_ADAM) {
        char parts_text[512];
        cli_parts_describe(m, parts_text, sizeof parts_text);
        if (cli_mpi_rank() == 0) fprintf(stderr, "clfit: model: %s\n", parts_text);
    }
    if (m->opt.sched == CLFIT_SCHED_COSINE && m->opt.sched_epochs > 0 && meta.epoch + epochs > m->opt.sched_epochs &&
        cli_mpi_rank() == 0)
        fprintf(stderr, "clfit: the cosine schedule spans %ld epochs: epochs %ld to %ld run at learning rate 0\n",
                m->opt.sched_epochs, m->opt.sched_epochs + 1 > meta.epoch + 1 ? m->opt.sched_epochs + 1 : meta.epoch + 1,
                meta.epoch + epochs);
    if (profile || trace || profile_csv) {
        prof = clfit_profiler_new();
        if (!prof || (st = clfit_cl_set_profiler(cl, prof))) { cli_fail(prof ? st : CLFIT_ERR_NOMEM); goto done; }
    }
    clfit_fit_opts o = {.epochs = (int)epochs, .batch = meta.batch, .shuffle = shuffle, .seed = meta.seed,
                        .validation_split = meta.validation_split, .initial_epoch = meta.epoch,
                        .refresh_seconds = ui.tty ? 0.1 : 0, .gemm = gemm, .progress = on_progress, .user = &ui,
                        .coll = cli_mpi_collective()};
    ui.printed_epoch = -1;
    st = clfit_fit(cl, m, &train, &o);
    if (st) {
        if (ui.tty) printf("\n");
        cli_fail(st);
        goto done;
    }
    long run_epochs = ui.last_epoch - meta.epoch, final_epoch = ui.last_epoch;
    printf("Trained %ld epoch%s in %.3f s (%.1f us/step)\n", run_epochs, run_epochs == 1 ? "" : "s", ui.train_seconds,
           ui.train_seconds * 1e6 / (ui.train_steps ? ui.train_steps : 1));
    if (ui.best_model && ui.have_best) { /* restore_best_weights */
        if (ui.best_epoch != ui.last_epoch) {
            memcpy(m->params, ui.best_model->params, m->nparams * sizeof(float));
            memcpy(m->m, ui.best_model->m, m->nparams * sizeof(float));
            memcpy(m->v, ui.best_model->v, m->nparams * sizeof(float));
            m->step = ui.best_model->step;
        }
        final_epoch = ui.best_epoch;
        printf("Kept the weights of epoch %ld (%s %.4f)\n", ui.best_epoch,
               monitor_acc ? regression ? "val_mae" : "val_accuracy" : "val_loss", ui.best);
        ui.meta.epoch = final_epoch;
        if (save && (st = clfit_model_save(save, m, &ui.meta))) { cli_fail(st); goto done; }
    }
    if (test.count) { /* a table without --test has none */
        double loss, acc;
        st = clfit_evaluate_shared(cl, m, &test, gemm, cli_mpi_collective(), &loss, &acc);
        if (st) { cli_fail(st); goto done; }
        printf(regression ? "Test: mse: %.4f - mae: %.4f\n" : "Test: loss: %.4f - accuracy: %.4f\n", loss, acc);
    }
    if (save) printf("Saved %s (epoch %ld)\n", save, final_epoch);
    if (profile) {
        printf("\nKernel times on %s (--backend %s):\n", cl->info.name, clfit_gemm_names[gemm]);
        clfit_profiler_print(prof, stdout);
    }
    if (profile_csv && (st = clfit_profiler_write_csv(prof, profile_csv))) { cli_fail(st); goto done; }
    if (trace && (st = clfit_profiler_write_trace(prof, trace))) { cli_fail(st); goto done; }
    rc = 0;
done:
    if (cl) clfit_cl_set_profiler(cl, NULL);
    clfit_profiler_free(prof);
    if (ui.history && fclose(ui.history) != 0 && rc == 0) {
        fprintf(stderr, "clfit: %s: write failed: %s\n", history, strerror(errno));
        rc = 1;
    }
    clfit_cl_close(cl);
    clfit_dataset_free(&train);
    clfit_dataset_free(&test);
    clfit_model_free(ui.best_model);
    clfit_model_free(m);
    return rc;
}

/* ---------- clfit evaluate / predict ---------- */

/* Options shared by evaluate and predict. */
typedef struct {
    const char *model, *dev, *dir, *set, *target;
    int idx[1024], nidx;
    int gemm_choice;
    int csv;                    /* predict --csv */
} eval_args;

static int parse_eval_args(int argc, char **argv, eval_args *a, int want_index, void (*help)(void))
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"device", required_argument, 0, 'd'},
        {"data", required_argument, 0, 'D'}, {"set", required_argument, 0, 's'},
        {"index", required_argument, 0, 'i'}, {"gemm", required_argument, 0, 'g'}, {"backend", required_argument, 0, 'g'},
        {"verbose", no_argument, 0, 'v'}, {"csv", no_argument, 0, 'c'}, {"target", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {0}};
    int c;
    a->set = "test";
    a->gemm_choice = -1;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'd': a->dev = optarg; break;
        case 'D': a->dir = optarg; break;
        case 't': a->target = optarg; break;
        case 's':
            if (strcmp(optarg, "test") && strcmp(optarg, "train")) return cli_usage_error("--set: expected test or train, got '%s'", optarg);
            a->set = optarg;
            break;
        case 'i':
            if (!want_index) return cli_usage_error("unknown option '--index'");
            if ((a->nidx = cli_parse_list("--index", optarg, a->idx, 1024)) < 0) return 2;
            break;
        case 'g': if (!cli_parse_gemm(optarg, &a->gemm_choice)) return 2; break;
        case 'v': cli_set_verbose(); break;
        case 'c':
            if (!want_index) return cli_usage_error("unknown option '--csv'");
            a->csv = 1;
            break;
        case 'h': help(); return -1;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!a->model) return cli_usage_error("--model FILE is required");
    if (want_index && a->nidx == 0 && !cli_is_table(a->dir))
        return cli_usage_error("--index I[,J...] is required (or --data FILE.csv: every row)");
    return 0;
}

/* One CSV field: name, or with a prefix ("true_") prefix and name, quoted as libcsv does */
static void csv_name(const char *prefix, const char *name)
{
    char buf[1100];
    snprintf(buf, sizeof buf, "%s%s", prefix, name);
    csv_fwrite(stdout, buf, strlen(buf));
}

/* predict on a regression model's table: row, the true values where the file has them
 * (true_<name>), then the estimates under their names. */
static int predict_values(cli_session *s, const float *est)
{
    int n = s->d.count, T = s->m->desc.classes;
    char b[32];
    printf("row");
    for (int k = 0; !s->d.unlabeled && k < T; k++) {
        putchar(',');
        csv_name("true_", cli_model_class_name(s->m, k, b, sizeof b));
    }
    for (int k = 0; k < T; k++) {
        putchar(',');
        csv_name("", cli_model_class_name(s->m, k, b, sizeof b));
    }
    putchar('\n');
    for (int i = 0; i < n; i++) {
        printf("%d", i + 1);
        for (int k = 0; !s->d.unlabeled && k < T; k++) printf(",%.9g", s->d.targets[(size_t)i * T + k]);
        for (int k = 0; k < T; k++) printf(",%.9g", est[(size_t)i * T + k]);
        putchar('\n');
    }
    return 0;
}

/* predict on a table: every row as CSV (RFC 4180, through libcsv's quoting): row, the
 * true class where the file has its target, the predicted class, then each class's
 * probability under its name; a regression's values (predict_values). */
static int predict_table(cli_session *s)
{
    int n = s->d.count, C = s->m->desc.classes;
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) return cli_fail(clfit_fail(CLFIT_ERR_NOMEM, "out of memory"));
    for (int i = 0; i < n; i++) idx[i] = i;
    float *probs = cli_session_predict(s, "table", idx, n);
    free(idx);
    if (!probs) return 1;
    if (s->m->desc.regression) {
        predict_values(s, probs);
        free(probs);
        return 0;
    }
    char b[32];
    printf("row%s,predicted", s->d.unlabeled ? "" : ",true");
    for (int k = 0; k < C; k++) {
        const char *name = cli_model_class_name(s->m, k, b, sizeof b);
        putchar(',');
        csv_fwrite(stdout, name, strlen(name));
    }
    putchar('\n');
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * C;
        int best = 0;
        for (int k = 1; k < C; k++) if (p[k] > p[best]) best = k;
        printf("%d,", i + 1);
        if (!s->d.unlabeled) {
            const char *t = cli_model_class_name(s->m, s->d.labels[i], b, sizeof b);
            csv_fwrite(stdout, t, strlen(t));
            putchar(',');
        }
        const char *name = cli_model_class_name(s->m, best, b, sizeof b);
        csv_fwrite(stdout, name, strlen(name));
        for (int k = 0; k < C; k++) printf(",%.9g", p[k]);
        putchar('\n');
    }
    free(probs);
    return 0;
}

static void evaluate_help(void)
{
    printf("usage: clfit evaluate --model FILE [--set test|train] [--backend clblast|own|slice|auto]\n"
           "                      [--device SEL] [--data DIR|FILE.csv|FILE.npz [--target COL]] [--verbose]\n\n"
           "Mean loss and accuracy of a saved model over the test set (or the training set), or\n"
           "over the table --data names (a model trained on a table: its classes and\n"
           "standardisation are the model's; --target as train's).\n"
           "The kernels run with the parameters tuned for the model's shape and batch size\n"
           "(as train ran them, so that the numbers are those train printed), else the\n"
           "device class's defaults; --backend (or its first name --gemm) forces a backend.\n");
}

int cmd_evaluate(int argc, char **argv)
{
    eval_args a = {0};
    int r = parse_eval_args(argc, argv, &a, 0, evaluate_help);
    if (r) return r < 0 ? 0 : r;
    cli_session s;
    if ((r = cli_session_open(&s, a.model, a.dir, a.target, a.set, a.dev, a.gemm_choice))) return r;
    if (s.d.unlabeled) {
        clfit_fail(CLFIT_ERR_FORMAT, "%s has no target column (%d columns, the model's inputs): evaluate needs one", a.dir,
                   s.m->desc.input);
        cli_session_close(&s);
        return cli_fail(CLFIT_ERR_FORMAT);
    }
    double loss, acc;
    clfit_status st = clfit_evaluate_shared(s.cl, s.m, &s.d, s.gemm, cli_mpi_collective(), &loss, &acc);
    if (!st) {
        printf(s.m->desc.regression ? "%s: mse: %.4f - mae: %.4f\n" : "%s: loss: %.4f - accuracy: %.4f\n",
               strcmp(a.set, "test") ? "Train" : "Test", loss, acc);
        if (!isfinite(loss))
            st = clfit_fail(CLFIT_ERR_NUMERIC, "%s: the loss is %s: the model's outputs are not finite numbers", a.model,
                            isnan(loss) ? "nan" : "inf");
    }
    if (st) cli_fail(st);
    cli_session_close(&s);
    return st ? 1 : 0;
}

static void predict_help(void)
{
    printf("usage: clfit predict --model FILE --index I[,J...] [--set test|train] [--csv]\n"
           "                     [--backend clblast|own|slice|auto] [--device SEL] [--data DIR] [--verbose]\n\n"
           "For each chosen image: the softmax probability of every class with its name, the\n"
           "predicted class and the true class. --csv: one line per image instead, index,label\n"
           "and every probability to float precision (after a header line). A model trained\n"
           "with --loss mse shows its outputs instead (the one-hot target's estimate).\n"
           "       clfit predict --model FILE --data FILE.csv|FILE.npz [--target COL]\n"
           "A table (a model trained on one): every row as CSV on stdout, row, the true class\n"
           "(where the file has the target column; without it, the file has just the model's\n"
           "input columns), the predicted class and each class's probability under its name.\n"
           "A regression model (--loss mse on a table): row, the true values where the file\n"
           "has the target columns (true_NAME), and the estimate of each under its name.\n");
}

int cmd_predict(int argc, char **argv)
{
    eval_args a = {0};
    int r = parse_eval_args(argc, argv, &a, 1, predict_help);
    if (r) return r < 0 ? 0 : r;
    cli_session s;
    if ((r = cli_session_open(&s, a.model, a.dir, a.target, a.set, a.dev, a.gemm_choice))) return r;
    int C = s.m->desc.classes;
    if (s.m->desc.regression && a.nidx) {
        cli_session_close(&s);
        return cli_usage_error("--index picks images to classify; a regression model predicts every row of --data's table");
    }
    if (cli_is_table(a.dir) && a.nidx == 0) { /* every row of the table, as CSV */
        r = predict_table(&s);
        cli_session_close(&s);
        return r;
    }
    float *probs = cli_session_predict(&s, a.set, a.idx, a.nidx);
    if (probs && a.csv) { /* machine-readable: every probability to float's precision */
        printf("index,label");
        for (int k = 0; k < C; k++) printf(",p%d", k);
        printf("\n");
        for (int i = 0; i < a.nidx; i++) {
            printf("%d,%d", a.idx[i], s.d.labels[a.idx[i]]);
            for (int k = 0; k < C; k++) printf(",%.9g", probs[(size_t)i * C + k]);
            printf("\n");
        }
        free(probs);
        cli_session_close(&s);
        return 0;
    }
    for (int i = 0; probs && i < a.nidx; i++) {
        const float *p = probs + (size_t)i * C;
        int best = 0, truth = s.d.labels[a.idx[i]];
        for (int k = 1; k < C; k++) if (p[k] > p[best]) best = k;
        char b1[32], b2[32];
        printf("%s[%d]: predicted %s (%.1f%%), true %s: %s\n", a.set, a.idx[i], cli_model_class_name(s.m, best, b1, sizeof b1),
               100.0 * p[best], cli_model_class_name(s.m, truth, b2, sizeof b2), best == truth ? "right" : "wrong");
        for (int k = 0; k < C; k++)
            printf("  %d %-12s %.4f%s\n", k, cli_model_class_name(s.m, k, b1, sizeof b1), p[k],
                   k == best && k == truth ? "  <- predicted, true" : k == best ? "  <- predicted" : k == truth ? "  <- true" : "");
    }
    int rc = probs ? 0 : 1;
    free(probs);
    cli_session_close(&s);
    return rc;
}
