/* clfit plot: the tutorial's pictures, and a history and a confusion matrix, as PNG. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/plot.h"
#include "cli.h"
#include "clfit/io.h"

static void plot_help(void)
{
    printf("usage: clfit plot KIND [OPTIONS]\n\n"
           "Draws a PNG (-o FILE, default KIND.png):\n"
           "  image --index I [--set train|test]       one image with a colour bar\n"
           "  samples [--count 25] [--cols 5] [--set]   the first images with their class names\n"
           "  predictions --model FILE [--rows 5] [--cols 3] [--start I] [--set test]\n"
           "                                            images labelled \"Predicted NN%% (True)\",\n"
           "                                            blue if right, red if wrong, beside\n"
           "                                            their class probabilities\n"
           "  probabilities --model FILE --index I [--set test]\n"
           "                                            one image's probabilities, named\n"
           "  history --history FILE.csv                loss and accuracy per epoch\n"
           "  confusion --model FILE [--set test]       the confusion matrix, with accuracies\n"
           "  scatter --model FILE --data FILE.csv|.npz a regression model's estimates against\n"
           "                                            the true values, one point per row\n"
           "Common: --data DIR, --device SEL, --backend clblast|own|slice|auto (with a model;\n"
           "--gemm is its first name).\n");
}

typedef struct {
    const char *kind, *out, *set, *model, *history, *dir, *dev;
    long index, count, cols, rows, start;
    int have_index, have_cols, gemm_choice;
} plot_args;

/* Class names for a model of `classes` classes (Fashion-MNIST's for 10). */
static const char *const *class_names(int classes)
{
    static char buf[256][16];
    static const char *names[256];
    for (int c = 0; c < classes && c < 256; c++) names[c] = cli_class_name(c, classes, buf[c], sizeof buf[c]);
    return names;
}

static int done_msg(clfit_status st, const char *path)
{
    if (st) return cli_fail(st);
    printf("Wrote %s\n", path);
    return 0;
}

static int plot_image(const plot_args *a)
{
    clfit_dataset d;
    if (cli_load_split(a->dir, a->set, 256, &d)) return 1;
    int rc;
    if (a->index >= d.count) {
        fprintf(stderr, "clfit: --index %ld: the %s set has %d images (0..%d)\n", a->index, a->set, d.count, d.count - 1);
        rc = 1;
    } else {
        char title[96];
        snprintf(title, sizeof title, "%s[%ld]: %s", a->set, a->index,
                 class_names(CLFIT_FASHION_CLASSES)[d.labels[a->index] % CLFIT_FASHION_CLASSES]);
        rc = done_msg(clfit_plot_image(a->out, d.images + (size_t)a->index * d.rows * d.cols, d.rows, d.cols, title), a->out);
    }
    clfit_dataset_free(&d);
    return rc;
}

static int plot_samples(const plot_args *a)
{
    clfit_dataset d;
    if (cli_load_split(a->dir, a->set, 256, &d)) return 1;
    int n = a->count < d.count ? (int)a->count : d.count;
    int maxlabel = 0;
    for (int i = 0; i < d.count; i++) if (d.labels[i] > maxlabel) maxlabel = d.labels[i];
    int classes = maxlabel + 1 > CLFIT_FASHION_CLASSES ? maxlabel + 1 : CLFIT_FASHION_CLASSES;
    int cols = a->have_cols ? (int)a->cols : 5;
    int rc = done_msg(clfit_plot_samples(a->out, d.images, d.rows, d.cols, d.labels, n, cols, class_names(classes)), a->out);
    clfit_dataset_free(&d);
    return rc;
}

/* The examples start .. start+n-1 of the session's set, predicted; NULL on failure. */
static float *predict_range(cli_session *s, const char *set, long start, int n, int **idx_out)
{
    if (start + n > s->d.count) {
        fprintf(stderr, "clfit: images %ld..%ld: the %s set has %d images\n", start, start + n - 1, set, s->d.count);
        return NULL;
    }
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) { fprintf(stderr, "clfit: out of memory\n"); return NULL; }
    for (int i = 0; i < n; i++) idx[i] = (int)start + i;
    float *probs = cli_session_predict(s, set, idx, n);
    if (!probs || !idx_out) free(idx);
    else *idx_out = idx;
    return probs;
}

static int plot_with_model(const plot_args *a)
{
    cli_session s;
    if (cli_session_open(&s, a->model, a->dir, NULL, a->set, a->dev, a->gemm_choice)) return 1;
    int C = s.m->desc.classes, D = s.d.rows * s.d.cols, rc = 1;
    /* a table's model names its own classes */
    const char *const *names = s.m->class_names ? (const char *const *)s.m->class_names : class_names(C);
    float *probs = NULL;
    if (s.m->desc.regression != !strcmp(a->kind, "scatter")) {
        fprintf(stderr, "clfit: plot %s: %s is a %s; %s\n", a->kind, a->model,
                s.m->desc.regression ? "regression model" : "classifier",
                s.m->desc.regression ? "plot scatter draws its estimates" : "plot scatter is a regression model's");
    } else if (!strcmp(a->kind, "scatter")) {
        if (s.d.unlabeled || !s.d.targets) {
            fprintf(stderr, "clfit: plot scatter: %s has no target columns to compare the estimates with\n", a->dir);
        } else if ((probs = predict_range(&s, a->set, 0, s.d.count, NULL))) {
            double sq = 0;
            for (size_t i = 0; i < (size_t)s.d.count * C; i++) sq += ((double)probs[i] - s.d.targets[i]) * (probs[i] - s.d.targets[i]);
            printf("%s mse: %.4f\n", a->dir, sq / ((double)s.d.count * C));
            rc = done_msg(clfit_plot_scatter(a->out, s.d.targets, probs, s.d.count, C, names, NULL), a->out);
        }
    } else if (!strcmp(a->kind, "predictions") && !s.d.images) {
        fprintf(stderr, "clfit: plot predictions draws the images; %s is a table (probabilities and confusion take "
                        "one)\n", a->dir);
    } else if (!strcmp(a->kind, "predictions")) {
        int rows = (int)a->rows, cols = a->have_cols ? (int)a->cols : 3, n = rows * cols;
        if ((probs = predict_range(&s, a->set, a->start, n, NULL)))
            rc = done_msg(clfit_plot_predictions(a->out, s.d.images + (size_t)a->start * D, s.d.rows, s.d.cols, probs,
                                                 s.d.labels + a->start, C, rows, cols, names), a->out);
    } else if (!strcmp(a->kind, "probabilities")) {
        if ((probs = predict_range(&s, a->set, a->index, 1, NULL))) {
            char title[96];
            snprintf(title, sizeof title, "%s[%ld]: true %s", a->set, a->index, names[s.d.labels[a->index]]);
            rc = done_msg(clfit_plot_probabilities(a->out, probs, C, s.d.labels[a->index], names, title, NULL), a->out);
        }
    } else { /* confusion */
        int *counts = calloc((size_t)C * C, sizeof *counts);
        if (counts && (probs = predict_range(&s, a->set, 0, s.d.count, NULL))) {
            long right = 0;
            for (int i = 0; i < s.d.count; i++) {
                const float *p = probs + (size_t)i * C;
                int best = 0;
                for (int k = 1; k < C; k++) if (p[k] > p[best]) best = k;
                counts[s.d.labels[i] * C + best]++;
                right += best == s.d.labels[i];
            }
            printf("%s accuracy: %.4f\n", a->set, (double)right / s.d.count);
            rc = done_msg(clfit_plot_confusion(a->out, counts, C, names, NULL), a->out);
        } else if (!counts) fprintf(stderr, "clfit: out of memory\n");
        free(counts);
    }
    free(probs);
    cli_session_close(&s);
    return rc;
}

int cmd_plot(int argc, char **argv)
{
    enum { O_INDEX = 1000, O_SET, O_COUNT, O_COLS, O_ROWS, O_START, O_MODEL, O_HIST, O_DATA, O_DEV, O_GEMM };
    static const struct option opts[] = {
        {"index", required_argument, 0, O_INDEX}, {"set", required_argument, 0, O_SET},
        {"count", required_argument, 0, O_COUNT}, {"cols", required_argument, 0, O_COLS},
        {"rows", required_argument, 0, O_ROWS}, {"start", required_argument, 0, O_START},
        {"model", required_argument, 0, O_MODEL}, {"history", required_argument, 0, O_HIST},
        {"data", required_argument, 0, O_DATA}, {"device", required_argument, 0, O_DEV},
        {"gemm", required_argument, 0, O_GEMM}, {"backend", required_argument, 0, O_GEMM}, {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'}, {0}};
    static const char *const kinds[] = {"image", "samples", "predictions", "probabilities", "history", "confusion",
                                        "scatter"};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        plot_help();
        return argc < 2 ? 2 : 0;
    }
    plot_args a = {.kind = argv[1], .count = 25, .rows = 5, .gemm_choice = -1};
    int known = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) known |= !strcmp(a.kind, kinds[i]);
    if (!known)
        return cli_usage_error("unknown plot '%s' (image, samples, predictions, probabilities, history, confusion, scatter)",
                               a.kind);
    static char cmd[64];
    snprintf(cmd, sizeof cmd, "clfit plot %s", a.kind);
    cli_cmd = cmd;
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_INDEX: if (!cli_parse_long("--index", optarg, 0, 1000000000, &a.index)) return 2; a.have_index = 1; break;
        case O_SET:
            if (strcmp(optarg, "test") && strcmp(optarg, "train")) return cli_usage_error("--set: expected test or train, got '%s'", optarg);
            a.set = optarg;
            break;
        case O_COUNT: if (!cli_parse_long("--count", optarg, 1, 10000, &a.count)) return 2; break;
        case O_COLS: if (!cli_parse_long("--cols", optarg, 1, 100, &a.cols)) return 2; a.have_cols = 1; break;
        case O_ROWS: if (!cli_parse_long("--rows", optarg, 1, 100, &a.rows)) return 2; break;
        case O_START: if (!cli_parse_long("--start", optarg, 0, 1000000000, &a.start)) return 2; break;
        case O_MODEL: a.model = optarg; break;
        case O_HIST: a.history = optarg; break;
        case O_DATA: a.dir = optarg; break;
        case O_DEV: a.dev = optarg; break;
        case O_GEMM: if (!cli_parse_gemm(optarg, &a.gemm_choice)) return 2; break;
        case 'o': a.out = optarg; break;
        case 'h': plot_help(); return 0;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    char out[64];
    if (!a.out) { snprintf(out, sizeof out, "%s.png", a.kind); a.out = out; }
    clfit_status ost = clfit_check_writable(a.out);
    if (ost) return cli_fail(ost);
    int needs_model = !strcmp(a.kind, "predictions") || !strcmp(a.kind, "probabilities") || !strcmp(a.kind, "confusion") ||
                      !strcmp(a.kind, "scatter");
    if (needs_model && !a.model) return cli_usage_error("--model FILE is required");
    if (!strcmp(a.kind, "history") && !a.history) return cli_usage_error("--history FILE.csv is required");
    if ((!strcmp(a.kind, "image") || !strcmp(a.kind, "probabilities")) && !a.have_index)
        return cli_usage_error("--index I is required");
    if (!a.set) a.set = !strcmp(a.kind, "samples") || !strcmp(a.kind, "image") ? "train" : "test";
    if (!strcmp(a.kind, "image")) return plot_image(&a);
    if (!strcmp(a.kind, "samples")) return plot_samples(&a);
    if (!strcmp(a.kind, "history")) {
        clfit_history h;
        clfit_status st = clfit_history_read(a.history, &h);
        if (st) return cli_fail(st);
        st = clfit_plot_history(a.out, &h);
        clfit_history_free(&h);
        return done_msg(st, a.out);
    }
    return plot_with_model(&a);
}
