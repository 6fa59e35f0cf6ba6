/* clfit summary: Keras' model.summary() for a saved model (--model FILE) or a new one
 * (--hidden, --input, --classes): each layer's output shape and parameters, the totals
 * and their bytes, Adam's state, and for a saved model its metadata. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clfit/parts.h"
#include "cli.h"

static void summary_help(void)
{
    printf("usage: clfit summary [--model FILE | --hidden 128[,W...] [--input 784] [--classes 10]\n"
           "                     [--activation A[,A...]] [--dropout R[,R...]] [--loss L] [--optimizer O]]\n\n"
           "The model's layers as Keras' model.summary() shows them: each layer's output shape\n"
           "and parameter count, the total, trainable and optimizer-state (Adam's m and v)\n"
           "parameters with their bytes; for a saved model also what it was trained with\n"
           "(epochs, optimizer steps, seed, batch, learning rate, image shape, validation\n"
           "split) and its parts (activations, dropout, loss, optimizer, schedule). The parts'\n"
           "options are train's (clfit train --help).\n");
}

/* 101770 -> "101,770" */
static const char *grouped(size_t n, char *buf, size_t size)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%zu", n), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *bytes(double b, char *buf, size_t size)
{
    if (b >= 1048576) snprintf(buf, size, "%.2f MB", b / 1048576);
    else if (b >= 1024) snprintf(buf, size, "%.2f KB", b / 1024);
    else snprintf(buf, size, "%.0f B", b);
    return buf;
}

int cmd_summary(int argc, char **argv)
{
    enum { O_MODEL = 1000, O_HIDDEN, O_INPUT, O_CLASSES };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"hidden", required_argument, 0, O_HIDDEN},
        {"input", required_argument, 0, O_INPUT}, {"classes", required_argument, 0, O_CLASSES},
        {"help", no_argument, 0, 'h'}, {0}};
    struct option all[sizeof opts / sizeof opts[0] + CLI_PARTS_NOPTIONS];
    cli_options_join(all, opts, cli_parts_options);
    cli_parts parts;
    cli_parts_init(&parts);
    const char *model = NULL;
    int hidden[CLFIT_MAX_LAYERS - 1] = {128}, nhidden = 1, have_shape = 0;
    long input = 784, classes = 10;
    int c;
    while ((c = cli_getopt(argc, argv, "h", all)) != -1) {
        int pr = cli_parts_parse(&parts, c, optarg);
        if (pr == 0) return 2;
        if (pr == 1) continue;
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_HIDDEN: if (!cli_parse_hidden(optarg, hidden, &nhidden)) return 2; have_shape = 1; break;
        case O_INPUT: if (!cli_parse_long("--input", optarg, 1, CLFIT_MAX_INPUT, &input)) return 2; have_shape = 1; break;
        case O_CLASSES: if (!cli_parse_long("--classes", optarg, 2, CLFIT_MAX_CLASSES, &classes)) return 2; have_shape = 1; break;
        case 'h': summary_help(); return 0;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (model && have_shape) return cli_usage_error("--model takes its shape from the file: no --hidden, --input or --classes");
    if (model && cli_parts_given(&parts)) return cli_usage_error("--model takes its parts from the file: no --activation, --optimizer, ...");
    clfit_status st;
    clfit_model_meta meta = {0};
    clfit_model_desc d = {.input = (int)input, .nhidden = nhidden, .classes = (int)classes};
    memcpy(d.hidden, hidden, sizeof hidden);
    clfit_optim opt;
    clfit_optim_defaults(&opt);
    if (!model && cli_parts_apply(&parts, &d, &opt)) return 2;
    clfit_model *m = model ? clfit_model_load(model, &meta, &st) : NULL;
    if (model && !m) return cli_fail(st);
    if (m) {
        d = m->desc;
        opt = m->opt;
    }
    clfit_layer layer[CLFIT_MAX_LAYERS];
    int nl;
    size_t np;
    if ((st = clfit_model_layout(&d, layer, &nl, &np))) {
        clfit_model_free(m);
        return cli_fail(st);
    }
    char arch[128], g[32], b[32];
    clfit_arch_format(&d, arch, sizeof arch);
    printf("Model: %s%s%s\n", arch, model ? " from " : " (new)", model ? model : "");
    printf("%-28s %-20s %12s\n", "Layer (type)", "Output Shape", "Param #");
    printf("%.62s\n", "==============================================================");
    char shape[32];
    if (m) snprintf(shape, sizeof shape, "(None, %d)", meta.rows * meta.cols);
    else snprintf(shape, sizeof shape, "(None, %d)", d.input);
    printf("%-28s %-20s %12s\n", "flatten (Flatten)", shape, "0");
    size_t total = 0, frozen = 0;
    if (m && m->norm_mean) { /* Keras' Normalization: a mean and a deviation per input, not trained */
        frozen = 2 * (size_t)d.input;
        printf("%-28s %-20s %12s\n", "normalization (Normalization)", shape, grouped(frozen, g, sizeof g));
    }
    for (int l = 0; l < nl; l++) {
        size_t n = (size_t)layer[l].in * layer[l].out + layer[l].out;
        char name[40];
        snprintf(name, sizeof name, "dense_%d (Dense%s%s)", l, l < nl - 1 ? ", " : "", l < nl - 1 ? clfit_acts[d.act[l]].name : "");
        snprintf(shape, sizeof shape, "(None, %d)", layer[l].out);
        printf("%-28s %-20s %12s\n", name, shape, grouped(n, g, sizeof g));
        if (l < nl - 1 && d.dropout[l] > 0) {
            snprintf(name, sizeof name, "dropout_%d (Dropout %g)", l, (double)d.dropout[l]);
            printf("%-28s %-20s %12s\n", name, shape, "0");
        }
        total += n;
    }
    printf("%.62s\n", "==============================================================");
    printf("Total params: %s (%s)\n", grouped(total + frozen, g, sizeof g), bytes(4.0 * (total + frozen), b, sizeof b));
    printf("Trainable params: %s (%s)\n", grouped(total, g, sizeof g), bytes(4.0 * total, b, sizeof b));
    printf("Non-trainable params: %s (%s)\n", grouped(frozen, g, sizeof g), bytes(4.0 * frozen, b, sizeof b));
    printf("Optimizer params (%s): %s (%s)\n", opt.kind <= CLFIT_OPT_ADAMW ? "Adam's m and v" : "its m and v",
           grouped(2 * total, g, sizeof g), bytes(8.0 * total, b, sizeof b));
    printf("Loss: %s; optimizer: %s\n", clfit_loss_names[d.loss], clfit_opt_names[opt.kind]);
    if (m) {
        char data[64];
        if (m->norm_mean || m->class_names) snprintf(data, sizeof data, "a table of %d features", meta.cols);
        else snprintf(data, sizeof data, "%dx%d images", meta.rows, meta.cols);
        printf("\nTrained: %ld epoch%s, %ld optimizer steps, seed %" PRIu64 ", batch %d, learning rate %.9g, "
               "validation split %g, %s\n", meta.epoch, meta.epoch == 1 ? "" : "s", m->step, meta.seed,
               meta.batch, (double)m->adam.lr, meta.validation_split, data);
        printf("Adam: beta1 %.9g, beta2 %.9g, epsilon %.9g\n", (double)m->adam.beta1, (double)m->adam.beta2,
               (double)m->adam.eps);
        char parts_text[512];
        cli_parts_describe(m, parts_text, sizeof parts_text);
        printf("Parts: %s\n", parts_text);
        if (m->norm_mean) printf("Inputs: standardised with the training rows' mean and deviation (kept in the model)\n");
        if (m->class_names && d.regression) {
            printf("Targets (a regression: each output estimates a value):");
            for (int c = 0; c < d.classes; c++) printf("%s %s", c ? "," : "", m->class_names[c]);
            printf("\n");
        } else if (m->class_names) {
            printf("Classes:");
            for (int c = 0; c < d.classes; c++) printf("%s %d %s", c ? "," : "", c, m->class_names[c]);
            printf("\n");
        }
    }
    clfit_model_free(m);
    return 0;
}
