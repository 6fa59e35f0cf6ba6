/* clfit: the command line. Each subcommand parses its options, calls the library, and
 * turns a failed status into one line on stderr. Exit codes: 0 success, 1 the work
 * failed (bad file, device error, NaN loss), 2 bad usage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/cl.h"
#include "clfit/data.h"
#include "clfit/fit.h"
#include "clfit/modelfile.h"
#include "clfit/table.h"
#include "cli.h"
#include "clfit/io.h"

/* ---------- shared helpers ---------- */

const char *cli_cmd = "clfit";

int cli_usage_error(const char *fmt, ...)
{
    /* one line of at most a few hundred characters, whatever was typed */
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof msg) memcpy(msg + sizeof msg - 4, "...", 4);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20) *p = '?';
    /* under mpirun every process sees the same arguments: rank 0 says it once */
    if (cli_mpi_rank() == 0) fprintf(stderr, "%s: %s (see '%s --help')\n", cli_cmd, msg, cli_cmd);
    return 2;
}

int cli_fail(clfit_status st)
{
    (void)st;
    if (cli_mpi_size() > 1) fprintf(stderr, "clfit (rank %d of %d): %s\n", cli_mpi_rank(), cli_mpi_size(), clfit_last_error());
    else fprintf(stderr, "clfit: %s\n", clfit_last_error());
    return 1;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    char so[64];
    snprintf(so, sizeof so, ":%s", shortopts); /* ':' first: a missing value returns ':' */
    opterr = 0;
    int li = -1;
    int c = getopt_long(argc, argv, so, longopts, &li);
    char q[64];
    const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";
    if (c == ':') {
        cli_usage_error("%s needs a value", clfit_quote(arg, q, sizeof q));
        return '?';
    }
    if (c == '?') {
        if (optopt > ' ' && optopt < 127 && arg[0] == '-' && arg[1] != '-') cli_usage_error("unknown option '-%c'", optopt);
        else cli_usage_error("unknown option '%s'", clfit_quote(arg, q, sizeof q));
        return '?';
    }
    if (c != -1 && optarg && !*optarg) {
        const char *name = li >= 0 ? longopts[li].name : NULL;
        if (name) cli_usage_error("--%s: an empty value", name);
        else cli_usage_error("-%c: an empty value", c);
        return '?';
    }
    return c;
}

int cli_parse_long(const char *opt, const char *s, long min, long max, long *out)
{
    char q[64];
    if (!clfit_parse_long(s, min, max, out)) {
        cli_usage_error("%s: expected an integer in %ld..%ld, got '%s'", opt, min, max, clfit_quote(s, q, sizeof q));
        return 0;
    }
    return 1;
}

int cli_parse_double(const char *opt, const char *s, double min, double max, double *out)
{
    char q[64];
    if (!clfit_parse_double(s, min, max, out)) {
        cli_usage_error("%s: expected a number in [%g, %g], got '%s'", opt, min, max, clfit_quote(s, q, sizeof q));
        return 0;
    }
    return 1;
}

/* "3,17,42" -> up to max ints, each >= 0; returns the count or -1 (usage error printed). */
void cli_options_join(struct option *out, const struct option *a, const struct option *b)
{
    int n = 0;
    for (; a->name; a++) out[n++] = *a;
    for (; b->name; b++) out[n++] = *b;
    memset(&out[n], 0, sizeof out[n]);
}

int cli_parse_list(const char *opt, const char *s, int *out, int max)
{
    int n = 0;
    const char *p = s;
    char q[64];
    for (;;) {
        char item[24];
        size_t len = strcspn(p, ",");
        long v;
        if (n == max || len == 0 || len >= sizeof item) break;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!clfit_parse_long(item, 0, 1000000000, &v)) break;
        out[n++] = (int)v;
        if (!p[len]) return n;
        p += len + 1;
    }
    cli_usage_error("%s: expected a comma-separated list of at most %d non-negative integers, got '%s'", opt, max,
                    clfit_quote(s, q, sizeof q));
    return -1;
}

int cli_parse_hidden(const char *s, int *hidden, int *n)
{
    int k = cli_parse_list("--hidden", s, hidden, CLFIT_MAX_LAYERS - 1);
    if (k < 0) return 0;
    for (int i = 0; i < k; i++)
        if (hidden[i] < 1 || hidden[i] > CLFIT_MAX_WIDTH) {
            cli_usage_error("--hidden: widths must be in 1..%d, got %d", CLFIT_MAX_WIDTH, hidden[i]);
            return 0;
        }
    *n = k;
    return 1;
}

const char *cli_class_name(int c, int classes, char *buf, size_t size)
{
    if (classes == CLFIT_FASHION_CLASSES) return clfit_fashion_classes[c];
    snprintf(buf, size, "class %d", c);
    return buf;
}

const char *cli_model_class_name(const clfit_model *m, int c, char *buf, size_t size)
{
    if (m->class_names && c >= 0 && c < m->desc.classes) return m->class_names[c];
    return cli_class_name(c, m->desc.classes, buf, size);
}

/* path ends in ext (".csv"), in any case, after at least one character */
static int has_ext(const char *path, const char *ext)
{
    size_t n = path ? strlen(path) : 0, e = strlen(ext);
    return n > e && !strcasecmp(path + n - e, ext);
}

int cli_is_npz(const char *path) { return has_ext(path, ".npz"); }

int cli_is_table(const char *path) { return has_ext(path, ".csv") || has_ext(path, ".npz"); }

int cli_load_table(const char *path, const char *set, const char *target, const clfit_model *m, int regression,
                   clfit_dataset *d)
{
    clfit_status st;
    if (m) regression = m->desc.regression;
    if (cli_is_npz(path)) {
        if (target) return cli_usage_error("--target goes with a CSV file; an .npz has its x and y arrays");
        st = clfit_npz_load(path, strcmp(set, "train") ? "test" : "train", d);
        if (st == CLFIT_ERR_ARG && !strcmp(set, "file")) st = clfit_npz_load(path, "train", d);
        if (st == CLFIT_ERR_ARG && !strcmp(set, "test")) return 0; /* the archive has no test set */
    } else {
        clfit_csv_spec spec = {.target = target, .class_names = m && !regression ? m->class_names : NULL,
                               .nclasses = m && m->class_names && !regression ? m->desc.classes : 0,
                               .features = m ? m->desc.input : 0, .regression = regression,
                               /* a regression model's own target columns, by name */
                               .targets = m && regression ? m->class_names : NULL,
                               .ntargets = m && regression && m->class_names ? m->desc.classes : 0};
        st = clfit_csv_load(path, &spec, d);
    }
    if (st) return cli_fail(st);
    if (regression && !d->unlabeled && d->ntargets < 1) {
        clfit_dataset_free(d);
        return cli_fail(clfit_fail(CLFIT_ERR_FORMAT, "%s: no numeric targets to regress on", path));
    }
    if (!m) return 0;
    if (regression && !d->unlabeled && d->ntargets != m->desc.classes) {
        int have = d->ntargets;
        clfit_dataset_free(d);
        return cli_fail(clfit_fail(CLFIT_ERR_FORMAT, "%s: %d target values per row, the model estimates %d", path, have,
                                   m->desc.classes));
    }
    if (d->rows * d->cols != m->desc.input) {
        int have = d->rows * d->cols;
        clfit_dataset_free(d);
        return cli_fail(clfit_fail(CLFIT_ERR_FORMAT, "%s: %d features, the model takes %d inputs", path, have, m->desc.input));
    }
    for (int i = 0; i < d->count; i++)
        if (d->labels[i] >= m->desc.classes) {
            int label = d->labels[i];
            clfit_dataset_free(d);
            return cli_fail(clfit_fail(CLFIT_ERR_FORMAT, "%s: row %d has class %d; the model has classes 0..%d", path, i + 1,
                                       label, m->desc.classes - 1));
        }
    if (m->norm_mean && d->features) clfit_standardize_apply(d->features, d->count, d->cols, m->norm_mean, m->norm_std);
    if (m->norm_mean && !d->features) {
        clfit_dataset_free(d);
        return cli_fail(clfit_fail(CLFIT_ERR_FORMAT, "%s holds images; the model was trained on a table's features", path));
    }
    return 0;
}

int cli_fit_normalization(clfit_model *m, const clfit_dataset *d, int n)
{
    m->norm_mean = malloc((size_t)d->cols * sizeof(float));
    m->norm_std = malloc((size_t)d->cols * sizeof(float));
    if (!m->norm_mean || !m->norm_std) return cli_fail(clfit_fail(CLFIT_ERR_NOMEM, "out of memory"));
    clfit_standardize_fit(d->features, n, d->cols, m->norm_mean, m->norm_std);
    return 0;
}

int cli_target_names(clfit_model *m, const clfit_dataset *d)
{
    int T = m->desc.classes;
    if (!(m->class_names = calloc((size_t)T, sizeof *m->class_names))) return cli_fail(clfit_fail(CLFIT_ERR_NOMEM, "out of memory"));
    for (int k = 0; k < T; k++) {
        char b[16];
        snprintf(b, sizeof b, T == 1 ? "y" : "y%d", k);
        const char *name = d->target_names && d->ntargets == T ? d->target_names[k] : b;
        if (!(m->class_names[k] = strdup(name))) return cli_fail(clfit_fail(CLFIT_ERR_NOMEM, "out of memory"));
    }
    return 0;
}

int cli_load_split(const char *dir, const char *set, int classes, clfit_dataset *d)
{
    const char *split = strcmp(set, "train") == 0 ? "train" : "t10k";
    clfit_status st = clfit_dataset_load(clfit_data_dir(dir), split, classes, d);
    return st ? cli_fail(st) : 0;
}

int cli_parse_gemm(const char *s, int *choice)
{
    if (!strcmp(s, "auto")) { *choice = -1; return 1; }
    char names[64] = "";
    for (int g = 0, n = 0; g < CLFIT_GEMM_COUNT; g++) {
        if (!strcmp(s, clfit_gemm_names[g])) { *choice = g; return 1; }
        n += snprintf(names + n, sizeof names - n, "%s, ", clfit_gemm_names[g]);
    }
    cli_usage_error("--backend: expected %sor auto, got '%s'", names, s);
    return 0;
}

void cli_set_verbose(void)
{
    setenv("CLFIT_VERBOSE", "1", 1);
}

int cli_verbose(void)
{
    const char *v = getenv("CLFIT_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

/* The quick tune's progress: a dot per candidate, every candidate with --verbose. */
static void quick_progress(const clfit_tune_event *ev, void *user)
{
    (void)user;
    if (cli_verbose()) {
        char p[256];
        clfit_params_format(ev->params, p, sizeof p);
        if (ev->outcome == CLFIT_CAND_TIMED)
            fprintf(stderr, "clfit: tune %3d %5.1fs %-8s %-58s %8.1f us/step\n", ev->index, ev->elapsed,
                    ev->varied, p, ev->us);
        else
            fprintf(stderr, "clfit: tune %3d %5.1fs %-8s %s: %s: %s\n", ev->index, ev->elapsed, ev->varied, p,
                    ev->outcome == CLFIT_CAND_WRONG ? "wrong, discarded" : "failed", ev->why);
    } else {
        fputc('.', stderr);
    }
    fflush(stderr);
}

clfit_cl *cli_open_tuned(const char *dev, const clfit_model_desc *d, int batch, int gemm_choice,
                         const clfit_optim *opt, int ranks, cli_tune_policy policy)
{
    clfit_device_info *list = NULL;
    int count, chosen;
    clfit_status st = clfit_cl_devices(&list, &count);
    if (!st) st = clfit_cl_pick(list, count, dev, &chosen);
    if (st) { free(list); cli_fail(st); return NULL; }
    clfit_device_info info = list[chosen];
    free(list);
    double budget = CLI_QUICK_TUNE_SECONDS;
    const char *qt = getenv("CLFIT_QUICK_TUNE");
    if (qt && *qt) {
        char *end;
        budget = strtod(qt, &end);
        if (*end || !(budget >= 0 && budget <= 3600)) {
            fprintf(stderr, "clfit: CLFIT_QUICK_TUNE=\"%s\": expected seconds in [0, 3600]\n", qt);
            return NULL;
        }
    }
    clfit_tune_entry e;
    int found = 0;
    st = clfit_tunedb_lookup(&info, d, batch, &e, &found);
    if (st) fprintf(stderr, "clfit: %s\n", clfit_last_error()); /* a bad entry: defaults, and say so */
    clfit_cl *cl = clfit_cl_open_for(dev, found ? &e.params : NULL, d, &st);
    if (!cl) { cli_fail(st); return NULL; }
    char arch[128], from[2048], text[256];
    clfit_arch_format(d, arch, sizeof arch);
    if (found) {
        snprintf(from, sizeof from, "tuned for %s at batch %d, %s %.10s, %.0f us/step", arch, batch, e.kind, e.date,
                 e.us_per_step);
    } else if (policy == CLI_QUICK_TUNE && budget > 0 && !(getenv("CLFIT_TUNE") && *getenv("CLFIT_TUNE"))) {
        fprintf(stderr, "clfit: %s is not tuned for %s at batch %d: a short tune first (%.0f s at most; "
                        "'clfit tune' searches longer)", info.name, arch, batch, budget);
        fprintf(stderr, cli_verbose() ? "\n" : " ");
        clfit_tune_opts o = {.budget_s = budget, .quick = 1, .progress = quick_progress};
        st = clfit_tune(cl, d, batch, &o, &e);
        if (!cli_verbose()) fputc('\n', stderr);
        if (st) { cli_fail(st); clfit_cl_close(cl); return NULL; }
        if ((st = clfit_tunedb_store(&e))) fprintf(stderr, "clfit: tuning not saved: %s\n", clfit_last_error());
        snprintf(from, sizeof from, "quick tune for %s at batch %d: %.0f us/step, defaults %.0f", arch, batch,
                 e.us_per_step, e.default_us_per_step);
    } else {
        snprintf(from, sizeof from, "%s defaults: not tuned for %s at batch %d", clfit_device_class_names[cl->cls],
                 arch, batch);
    }
    if (getenv("CLFIT_TUNE") && *getenv("CLFIT_TUNE"))
        snprintf(from + strlen(from), sizeof from - strlen(from), "; CLFIT_TUNE=%s", getenv("CLFIT_TUNE"));
    if (gemm_choice >= 0 && gemm_choice != cl->p.v[CLFIT_P_BACKEND]) {
        clfit_params p = cl->p;
        p.v[CLFIT_P_BACKEND] = gemm_choice;
        if ((st = clfit_cl_set_params(cl, &p))) { cli_fail(st); clfit_cl_close(cl); return NULL; }
        snprintf(from + strlen(from), sizeof from - strlen(from), "; --backend %s", clfit_gemm_names[gemm_choice]);
    }
    const char *why;
    int g = cl->p.v[CLFIT_P_BACKEND], run = clfit_backend_choose(g, d, opt, ranks, &why);
    if (run != g) {
        clfit_params p = cl->p;
        p.v[CLFIT_P_BACKEND] = run;
        if ((st = clfit_cl_set_params(cl, &p))) { cli_fail(st); clfit_cl_close(cl); return NULL; }
        snprintf(from + strlen(from), sizeof from - strlen(from), "; %s%s: %s instead", why,
                 ranks > 1 && opt ? " (under mpirun)" : "", clfit_gemm_names[run]);
    }
    if (policy != CLI_UNCHECKED) {
        /* clear of the device's known defects, and checked against the reference once */
        const char *tune = getenv("CLFIT_TUNE");
        int keep = (gemm_choice >= 0 ? CLFIT_KEEP_BACKEND : 0) | (tune && *tune ? CLFIT_KEEP_PARAMS : 0);
        char note[1024];
        if ((st = clfit_cl_prepare(cl, d, batch, opt, ranks, keep, note, sizeof note))) {
            cli_fail(st);
            clfit_cl_close(cl);
            return NULL;
        }
        if (*note) snprintf(from + strlen(from), sizeof from - strlen(from), "; %s", note);
    }
    if (cl->limits && *cl->limits) {
        if (cli_verbose()) { /* each change on its own line */
            char buf[512];
            snprintf(buf, sizeof buf, "%s", cl->limits);
            for (char *save = NULL, *c = strtok_r(buf, ";", &save); c; c = strtok_r(NULL, ";", &save))
                fprintf(stderr, "clfit: %s lowered %s\n", cl->info.name, c + (*c == ' '));
        } else {
            snprintf(from + strlen(from), sizeof from - strlen(from), "; lowered to what %s allows: %s", cl->info.name,
                     cl->limits);
        }
    }
    if (cli_mpi_rank() == 0) fprintf(stderr, "clfit: %s (%s)\n", clfit_params_format(&cl->p, text, sizeof text), from);
    if (cli_verbose())
        fprintf(stderr, "clfit: program %s in %.2f s%s%s\n", cl->program_cached ? "loaded from the cache" : "compiled",
                cl->build_seconds, cl->build_log ? "; build log:\n" : "", cl->build_log ? cl->build_log : "");
    return cl;
}

int cli_session_open(cli_session *s, const char *model, const char *dir, const char *target, const char *set,
                     const char *dev, int gemm_choice)
{
    int rc = 1;
    clfit_status st;
    memset(s, 0, sizeof *s);
    s->m = clfit_model_load(model, &s->meta, &st);
    if (!s->m) return cli_fail(st);
    if (cli_is_table(dir)) {
        if (cli_load_table(dir, strcmp(set, "train") ? "file" : "train", target, s->m, 0, &s->d)) goto fail;
    } else if (target) {
        rc = cli_usage_error("--target goes with a table (--data FILE.csv)");
        goto fail;
    } else if (s->m->norm_mean || s->m->class_names || s->meta.rows == 1) {
        fprintf(stderr, "clfit: %s was trained on a table; --data names a folder of images\n", model);
        goto fail;
    } else if (cli_load_split(dir, set, s->m->desc.classes, &s->d)) {
        goto fail;
    } else if (s->d.rows != s->meta.rows || s->d.cols != s->meta.cols) {
        fprintf(stderr, "clfit: %s takes %dx%d images, the %s set in %s has %dx%d\n", model, s->meta.rows, s->meta.cols,
                set, clfit_data_dir(dir), s->d.rows, s->d.cols);
        goto fail;
    }
    s->cl = cli_open_tuned(dev, &s->m->desc, s->meta.batch, gemm_choice, NULL, 1, CLI_LOOKUP);
    if (!s->cl) goto fail;
    s->gemm = (clfit_gemm)s->cl->p.v[CLFIT_P_BACKEND];
    return 0;
fail:
    cli_session_close(s);
    return rc;
}

void cli_session_close(cli_session *s)
{
    clfit_cl_close(s->cl);
    clfit_dataset_free(&s->d);
    clfit_model_free(s->m);
    memset(s, 0, sizeof *s);
}

float *cli_session_predict(cli_session *s, const char *set, const int *idx, int n)
{
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= s->d.count) {
            fprintf(stderr, "clfit: index %d: the %s set has %d images (0..%d)\n", idx[i], set,
                    s->d.count, s->d.count - 1);
            return NULL;
        }
    float *probs = malloc((size_t)n * s->m->desc.classes * sizeof *probs);
    if (!probs) { fprintf(stderr, "clfit: out of memory\n"); return NULL; }
    clfit_status st = clfit_predict(s->cl, s->m, &s->d, s->gemm, idx, n, probs);
    if (st) { free(probs); cli_fail(st); return NULL; }
    return probs;
}

/* ---------- clfit devices ---------- */

static int cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *sel = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        if (c == 'd') sel = optarg;
        else if (c == 'h') {
            printf("usage: clfit devices [--device SEL]\n\n"
                   "Lists every OpenCL platform and device with its index, type, compute units,\n"
                   "global memory and OpenCL C version; '*' marks the device clfit would use\n"
                   "(--device, else $CLFIT_DEVICE, else the first GPU, else the first device).\n");
            return 0;
        } else return CLI_BAD_OPTION;
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    clfit_device_info *list;
    int n, chosen = -1;
    clfit_status st = clfit_cl_devices(&list, &n);
    if (st) return cli_fail(st);
    st = clfit_cl_pick(list, n, sel, &chosen);
    if (st) { free(list); return cli_fail(st); }
    printf("   idx  type         CUs  global mem  OpenCL C           device (platform)\n");
    for (int i = 0; i < n; i++) {
        const clfit_device_info *d = &list[i];
        const char *type = d->type & CL_DEVICE_TYPE_GPU ? "GPU" : d->type & CL_DEVICE_TYPE_CPU ? "CPU"
                         : d->type & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "other";
        printf(" %s %3d  %-11s %4u  %7.1f GiB  %-17.17s  %s (%s)\n", i == chosen ? "*" : " ", i, type,
               d->compute_units, d->global_mem / 1073741824.0, d->c_version, d->name, d->platform_name);
    }
    free(list);
    return 0;
}

/* ---------- clfit info ---------- */

static int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'D'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *dir = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        if (c == 'D') dir = optarg;
        else if (c == 'h') {
            printf("usage: clfit info [--data DIR]\n\n"
                   "The tutorial's look at the data: the shape of the four arrays, the pixel\n"
                   "range, and how many images each class has, with its name.\n"
                   "  --data DIR   the IDX files (default $CLFIT_DATA, else %s)\n", CLFIT_DEFAULT_DATA_DIR);
            return 0;
        } else return CLI_BAD_OPTION;
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    clfit_dataset d[2];
    if (cli_load_split(dir, "train", 256, &d[0])) return 1;
    if (cli_load_split(dir, "test", 256, &d[1])) { clfit_dataset_free(&d[0]); return 1; }
    printf("data: %s\n", clfit_data_dir(dir));
    const char *names[2] = {"train", "test"};
    int maxlabel = 0;
    for (int s = 0; s < 2; s++) {
        int lo = 255, hi = 0;
        for (size_t i = 0; i < (size_t)d[s].count * d[s].rows * d[s].cols; i++) {
            if (d[s].images[i] < lo) lo = d[s].images[i];
            if (d[s].images[i] > hi) hi = d[s].images[i];
        }
        for (int i = 0; i < d[s].count; i++) if (d[s].labels[i] > maxlabel) maxlabel = d[s].labels[i];
        printf("%-5s images: %d x %d x %d (uint8, pixels %d..%d)   labels: %d\n", names[s], d[s].count,
               d[s].rows, d[s].cols, lo, hi, d[s].count);
    }
    int classes = maxlabel + 1;
    int rc = 0;
    if (d[0].rows != d[1].rows || d[0].cols != d[1].cols) {
        fprintf(stderr, "clfit: in %s the test images are %dx%d, the training images %dx%d: no model takes both\n",
                clfit_data_dir(dir), d[1].rows, d[1].cols, d[0].rows, d[0].cols);
        rc = 1;
    }
    printf("\nclass  name          train   test\n");
    for (int k = 0; k < classes; k++) {
        int n[2] = {0, 0};
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < d[s].count; i++) n[s] += d[s].labels[i] == k;
        char buf[32];
        printf("%5d  %-12s %6d %6d\n", k, cli_class_name(k, classes, buf, sizeof buf), n[0], n[1]);
    }
    clfit_dataset_free(&d[0]);
    clfit_dataset_free(&d[1]);
    return rc;
}

/* ---------- main ---------- */

static void main_help(FILE *f)
{
    fprintf(f,
            "usage: clfit COMMAND [OPTIONS]\n\n"
            "Trains and checks neural networks with OpenCL kernels (Fashion-MNIST by default).\n\n"
            "commands:\n"
            "  devices    list OpenCL devices and the one clfit would use\n"
            "  info       shapes, pixel range and class counts of the data\n"
            "  train      train a model (Keras' fit), then evaluate it on the test set\n"
            "  evaluate   loss and accuracy of a saved model\n"
            "  predict    class probabilities of chosen images\n"
            "  bench      time training epochs, with a per-kernel table\n"
            "  verify     check every kernel on the device against the CPU reference\n"
            "  tune       search the kernels' parameters for this device, keep the fastest\n"
            "  plot       the tutorial's pictures, a history and a confusion matrix (PNG)\n"
            "  summary    the model's layers and parameters (Keras' model.summary())\n"
            "  export     a saved model as an ONNX graph (ONNX Runtime runs it)\n\n"
            "'clfit COMMAND --help' describes each. Environment: CLFIT_DATA (data directory),\n"
            "CLFIT_DEVICE (device index or name), CLFIT_CACHE_DIR (tuning database),\n"
            "CLFIT_QUICK_TUNE (seconds of the short tune before a first train), CLFIT_TUNE\n"
            "(tunables to force), CLFIT_VERBOSE, CLFIT_KERNEL_DIR (read kernels from disk).\n");
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
        {"devices", cmd_devices}, {"info", cmd_info}, {"train", cmd_train},
        {"evaluate", cmd_evaluate}, {"predict", cmd_predict}, {"bench", cmd_bench},
        {"verify", cmd_verify}, {"plot", cmd_plot}, {"tune", cmd_tune}, {"summary", cmd_summary}, {"export", cmd_export},
    };
    if (argc < 2) { main_help(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        main_help(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            static char cmd[64];
            snprintf(cmd, sizeof cmd, "clfit %s", cmds[i].name);
            cli_cmd = cmd;
            int rc = cli_mpi_start(&argc, &argv);
            if (rc) return rc;
            /* under mpirun train, bench and evaluate share the work; the other commands
             * run on rank 0 alone, and every rank prints nothing but rank 0 */
            int shared = cmds[i].fn == cmd_train || cmds[i].fn == cmd_bench || cmds[i].fn == cmd_evaluate;
            if (cli_mpi_rank() != 0 && !shared) {
                cli_mpi_end(0);
                return 0;
            }
            if (cli_mpi_rank() != 0 && !freopen("/dev/null", "w", stdout)) rc = 1;
            if (!rc) rc = cmds[i].fn(argc - 1, argv + 1);
            cli_mpi_end(rc);
            return rc;
        }
    }
    fprintf(stderr, "clfit: unknown command '%s' (see 'clfit --help')\n", argv[1]);
    return 2;
}
