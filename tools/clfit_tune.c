/* clfit tune: search the kernels' tunables for a device, model and batch sizes, and keep
 * the fastest in the tuning database; --show lists the database. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void tune_help(void)
{
    printf("usage: clfit tune [--batch N[,N...]] [--hidden W[,W...]] [--input N] [--classes N]\n"
           "                  [--budget SECONDS] [--only NAME[,NAME...]] [--device SEL] [--verbose]\n"
           "       clfit tune --show\n\n"
           "Searches the training step's tunables (the backend; the fused kernels' vector\n"
           "width, register blocks, super-tiles and work-group sizes; the small kernels'\n"
           "work-group sizes; their search spaces are listed in host/params.c) for the\n"
           "device, the model and each batch size. Every candidate is built and checked\n"
           "against the CPU reference on the device before it is timed: a wrong one is\n"
           "reported and discarded, however fast. The fastest goes into the tuning database,\n"
           "which train, bench, evaluate, predict and verify use (a device not yet tuned runs\n"
           "its class's defaults; train and bench tune briefly first).\n\n"
           "  --batch N[,N...]   batch sizes to tune for (default 32)\n"
           "  --hidden W[,W...]  hidden layer widths (default 128)\n"
           "  --input N          inputs per example (default 784, 28x28 images)\n"
           "  --classes N        classes (default 10)\n"
           "  --budget SECONDS   per batch size: no new candidate starts after this (default 120)\n"
           "  --only NAME[,...]  search only these tunables (e.g. BACKEND, or HS,SWGS,KS); the\n"
           "                     others keep the device class's defaults\n"
           "  --device SEL       OpenCL device index or name substring ($CLFIT_DEVICE)\n"
           "  --verbose          the compiler's output\n"
           "  --show             list the database: device, driver, model, batch, the chosen\n"
           "                     parameters, their time and the class defaults' time\n");
}

/* --only: tunable names, comma-separated, into a bit mask. */
static int parse_only(const char *s, unsigned *mask)
{
    *mask = 0;
    const char *p = s;
    do {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[32];
        int id = -1;
        if (n > 0 && n < sizeof name) {
            memcpy(name, p, n);
            name[n] = '\0';
            id = clfit_param_find(name);
        }
        if (id < 0) {
            cli_usage_error("--only: '%.*s' is not a tunable (see clfit tune --help, host/params.c)", (int)(n < 64 ? n : 64), p);
            return 0;
        }
        *mask |= 1u << id;
        p = end ? end + 1 : NULL;
    } while (p);
    return 1;
}

static void progress(const clfit_tune_event *ev, void *user)
{
    (void)user;
    char p[256];
    clfit_params_format(ev->params, p, sizeof p);
    printf("%4d %6.1fs  %-8s %-62s ", ev->index, ev->elapsed, *ev->varied ? ev->varied : "start", p);
    if (ev->outcome == CLFIT_CAND_TIMED)
        printf("%9.1f us/step%s", ev->us, ev->is_best ? "  best" : "");
    else
        printf("%s: %s", ev->outcome == CLFIT_CAND_WRONG ? "WRONG, discarded" : "failed", ev->why);
    if (cli_verbose()) printf("  (build %.2f s, check %.2f s, timing %.2f s)", ev->build_s, ev->check_s, ev->time_s);
    printf("\n");
    fflush(stdout);
}

static int show(void)
{
    char path[4200];
    if (!clfit_tunedb_path(path, sizeof path)) {
        fprintf(stderr, "clfit: no cache directory (set CLFIT_CACHE_DIR or HOME)\n");
        return 1;
    }
    clfit_tune_entry *e;
    int n;
    clfit_status st = clfit_tunedb_list(&e, &n);
    if (st) return cli_fail(st);
    printf("%s: %d entr%s\n", path, n, n == 1 ? "y" : "ies");
    if (n)
        printf("\n%-44s %-14s %-12s %5s %9s %9s %7s %-5s %-10s %s\n", "device", "driver", "model", "batch", "us/step",
               "defaults", "speedup", "kind", "date", "parameters");
    for (int i = 0; i < n; i++) {
        char p[256];
        printf("%-44.44s %-14.14s %-12.12s %5d %9.1f %9.1f %6.2fx %-5s %-10.10s %s\n", e[i].device, e[i].driver,
               e[i].arch, e[i].batch, e[i].us_per_step, e[i].default_us_per_step,
               e[i].us_per_step > 0 ? e[i].default_us_per_step / e[i].us_per_step : 0, e[i].kind, e[i].date,
               clfit_params_format(&e[i].params, p, sizeof p));
        if (e[i].default_us_per_step > 0 && e[i].us_per_step > e[i].default_us_per_step)
            printf("  ^ slower than the defaults it was measured with (an older clfit's entry): not used; "
                   "clfit tune again\n");
    }
    free(e);
    return 0;
}

int cmd_tune(int argc, char **argv)
{
    enum { O_BATCH = 1000, O_HIDDEN, O_INPUT, O_CLASSES, O_BUDGET, O_ONLY, O_DEV, O_SHOW, O_VERBOSE };
    static const struct option opts[] = {
        {"batch", required_argument, 0, O_BATCH}, {"hidden", required_argument, 0, O_HIDDEN},
        {"input", required_argument, 0, O_INPUT}, {"classes", required_argument, 0, O_CLASSES},
        {"budget", required_argument, 0, O_BUDGET}, {"only", required_argument, 0, O_ONLY},
        {"device", required_argument, 0, O_DEV},
        {"show", no_argument, 0, O_SHOW}, {"verbose", no_argument, 0, O_VERBOSE},
        {"help", no_argument, 0, 'h'}, {0}};
    int batches[16] = {32}, nbatch = 1, hidden[CLFIT_MAX_LAYERS - 1] = {128}, nhidden = 1, want_show = 0;
    long input = 784, classes = 10;
    double budget = 120;
    unsigned only = 0;
    const char *dev = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_BATCH:
            if ((nbatch = cli_parse_list("--batch", optarg, batches, 16)) < 0) return 2;
            for (int i = 0; i < nbatch; i++)
                if (batches[i] < 1 || batches[i] > 65536) return cli_usage_error("--batch: sizes must be in 1..65536");
            break;
        case O_HIDDEN: if (!cli_parse_hidden(optarg, hidden, &nhidden)) return 2; break;
        case O_INPUT: if (!cli_parse_long("--input", optarg, 1, 1 << 20, &input)) return 2; break;
        case O_CLASSES: if (!cli_parse_long("--classes", optarg, 2, 256, &classes)) return 2; break;
        case O_BUDGET: if (!cli_parse_double("--budget", optarg, 1, 86400, &budget)) return 2; break;
        case O_ONLY:
            if (!parse_only(optarg, &only)) return 2;
            break;
        case O_DEV: dev = optarg; break;
        case O_SHOW: want_show = 1; break;
        case O_VERBOSE: cli_set_verbose(); break;
        case 'h': tune_help(); return 0;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (want_show) return show();
    clfit_model_desc d = {.input = (int)input, .nhidden = nhidden, .classes = (int)classes};
    memcpy(d.hidden, hidden, sizeof hidden);
    clfit_status st;
    clfit_cl *cl = clfit_cl_open_for(dev, NULL, &d, &st); /* compiled for d's family, as train runs it */
    if (!cl) return cli_fail(st);
    char arch[128], path[4200] = "(no cache directory)";
    clfit_arch_format(&d, arch, sizeof arch);
    clfit_tunedb_path(path, sizeof path);
    int rc = 0;
    for (int i = 0; i < nbatch && !rc; i++) {
        printf("tuning %s at batch %d on %s (%s; class %s), budget %.0f s\n\n", arch, batches[i], cl->info.name,
               cl->info.driver, clfit_device_class_names[cl->cls], budget);
        printf("%4s %7s  %-8s %-62s %s\n", "#", "time", "varied", "parameters", "result");
        clfit_tune_opts o = {.budget_s = budget, .only = only, .progress = progress};
        clfit_tune_entry e;
        st = clfit_tune(cl, &d, batches[i], &o, &e);
        if (st) { rc = cli_fail(st); break; }
        char p[256];
        printf("\nbatch %d: %s: %.1f us/step; the %s defaults %.1f us/step (%.2fx); %d candidates timed, %d wrong "
               "and discarded, %.0f s\n",
               batches[i], clfit_params_format(&e.params, p, sizeof p), e.us_per_step,
               clfit_device_class_names[cl->cls], e.default_us_per_step, e.default_us_per_step / e.us_per_step,
               e.candidates, e.rejected, e.seconds);
        if ((st = clfit_tunedb_store(&e))) { rc = cli_fail(st); break; }
        printf("saved in %s\n%s", path, i + 1 < nbatch ? "\n" : "");
    }
    clfit_cl_close(cl);
    return rc;
}
