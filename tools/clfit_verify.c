/* clfit verify: every kernel and CLBlast call the trainer uses, on the chosen device,
 * against the CPU reference; a table, and a non-zero exit if anything fails. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clfit/verify.h"
#include "cli.h"

typedef struct {
    int rows, failed, skipped, all;      /* all: print every row (else one per operation and size) */
    clfit_verify_row worst;     /* of the current case, by max_abs / tolerance */
    double worst_ratio;
    int case_failed, case_rows;
} verify_ui;

static void print_row(const clfit_verify_row *r)
{
    char tol[32];
    if (r->atol == 0 && r->rtol == 0) snprintf(tol, sizeof tol, "exact");
    else if (r->rtol == 0) snprintf(tol, sizeof tol, "abs %.2g", r->atol);
    else if (r->atol == 0) snprintf(tol, sizeof tol, "rel %.2g", r->rtol);
    else snprintf(tol, sizeof tol, "%.2g+%.2g rel", r->atol, r->rtol);
    printf("%-20s %-32s %-18s %10.3g %10.3g  %-14s %s\n", r->op, r->sizes, r->what, r->max_abs,
           r->max_rel, tol, r->pass ? "pass" : "FAIL");
}

static void on_row(const clfit_verify_row *r, void *user)
{
    verify_ui *ui = user;
    ui->rows++;
    ui->case_rows++;
    if (!r->pass) { ui->failed++; ui->case_failed++; }
    if (r->skipped) {
        ui->skipped++;
        printf("%-20s %-32s %-18s %s\n", r->op, r->sizes, "skipped", r->why);
        return;
    }
    if (ui->all || !r->pass) { print_row(r); return; }
    double tol = r->atol + r->rtol * fabs(r->worst_want);
    double ratio = tol > 0 ? r->max_abs / tol : (r->max_abs > 0 ? 1e300 : 0);
    if (ui->case_rows == 1 || ratio > ui->worst_ratio) { ui->worst = *r; ui->worst_ratio = ratio; }
}

/* --list: the registry, one operation a line */
static int list_ops(void)
{
    printf("%-20s %-15s %-17s %-50s %s\n", "operation", "backends", "file", "kernels", "reference");
    for (int i = 0; i < clfit_verify_nops; i++) {
        const clfit_verify_op *op = clfit_verify_op_at(i);
        char backends[64] = "";
        for (int g = 0, n = 0; g < CLFIT_GEMM_COUNT; g++)
            if (op->backends & (1u << g))
                n += snprintf(backends + n, sizeof backends - n, "%s%s", n ? "," : "", clfit_gemm_names[g]);
        printf("%-20s %-15s %-17s %-50s %s\n", op->name, *backends ? backends : "-", op->source, op->kernels,
               op->reference);
    }
    return 0;
}

static void verify_help(void)
{
    printf("usage: clfit verify [--device SEL] [--all] [--small] [--op NAME] [--seed N] [--list]\n"
           "                    [--batch 32] [--hidden 128[,W...]] [--verbose]\n\n"
           "Runs every kernel and CLBlast call the trainer uses on the device against the\n"
           "CPU reference, on fresh random inputs at several sizes, and prints: operation,\n"
           "sizes, output, max absolute error, max relative error, tolerance, pass or fail.\n"
           "Without --all, one row per operation and size: its output closest to failing.\n"
           "Exits 1 if anything fails. Run it on a new GPU or driver.\n"
           "The kernels are built with the parameters tuned for the model and batch that\n"
           "--hidden and --batch name (default: the tutorial's, 784-128-10 at batch 32),\n"
           "else the device class's defaults; $CLFIT_TUNE overrides them.\n"
           "  --list      the operations (the registry): their kernels, file, reference and\n"
           "              the backends whose training step runs them; no device needed\n"
           "  --op NAME   only this operation (gather, dense_forward, fused_grad_adam, ...)\n"
           "  --small     small sizes only\n"
           "  --seed N    repeat a run's inputs (the seed is printed)\n");
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"device", required_argument, 0, 'd'}, {"all", no_argument, 0, 'a'},
        {"small", no_argument, 0, 's'}, {"op", required_argument, 0, 'o'},
        {"seed", required_argument, 0, 'S'}, {"batch", required_argument, 0, 'b'},
        {"hidden", required_argument, 0, 'H'}, {"verbose", no_argument, 0, 'v'},
        {"list", no_argument, 0, 'l'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *dev = NULL, *only = NULL;
    int small = 0, list = 0, hidden[CLFIT_MAX_LAYERS - 1] = {128}, nhidden = 1;
    long seed = -1, batch = 32;
    verify_ui ui = {0};
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'd': dev = optarg; break;
        case 'a': ui.all = 1; break;
        case 's': small = 1; break;
        case 'o': only = optarg; break;
        case 'S': if (!cli_parse_long("--seed", optarg, 0, 2147483647L, &seed)) return 2; break;
        case 'b': if (!cli_parse_long("--batch", optarg, 1, 65536, &batch)) return 2; break;
        case 'H': if (!cli_parse_hidden(optarg, hidden, &nhidden)) return 2; break;
        case 'v': cli_set_verbose(); break;
        case 'h': verify_help(); return 0;
        case 'l': list = 1; break;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (list) return list_ops();
    if (only) {
        int known = 0;
        for (int i = 0; i < clfit_verify_nops; i++) known |= !strcmp(only, clfit_verify_op_at(i)->name);
        if (!known) return cli_usage_error("--op: no operation '%s' (clfit verify --list names them)", only);
    }
    if (seed < 0) seed = (long)(time(NULL) ^ getpid()) & 0x7fffffff;
    clfit_status st;
    clfit_model_desc d = {.input = 784, .nhidden = nhidden, .classes = CLFIT_FASHION_CLASSES};
    memcpy(d.hidden, hidden, sizeof hidden);
    clfit_cl *cl = cli_open_tuned(dev, &d, (int)batch, -1, NULL, 1, CLI_UNCHECKED);
    if (!cl) return 1;
    /* the kernels for every activation, dropout and loss: verify runs them all */
    if ((st = clfit_cl_set_family(cl, NULL))) {
        clfit_cl_close(cl);
        return cli_fail(st);
    }
    char params[256];
    printf("verify on %s (%s), seed %ld\nkernels built with %s\n\n", cl->info.name, cl->info.platform_name, seed,
           clfit_params_format_all(&cl->p, params, sizeof params));
    printf("%-20s %-32s %-18s %10s %10s  %-14s %s\n", "operation", "sizes", "output", "max abs",
           "max rel", "tolerance", "result");
    for (int i = 0; i < clfit_verify_nops; i++) {
        if (only && strcmp(only, clfit_verify_op_at(i)->name)) continue;
        int dims[16][4];
        int n = clfit_verify_sizes(clfit_verify_op_at(i)->name, small, dims, 16);
        for (int k = 0; k < n; k++) {
            ui.case_rows = ui.case_failed = 0;
            st = clfit_verify_run(cl, clfit_verify_op_at(i)->name, dims[k], (uint64_t)seed + k, on_row, &ui);
            if (st) { clfit_cl_close(cl); return cli_fail(st); }
            if (!ui.all && !ui.case_failed && ui.case_rows) print_row(&ui.worst);
        }
    }
    printf("\n%d comparisons, %d failed", ui.rows - ui.skipped, ui.failed);
    if (ui.skipped) printf(", %d skipped (each says why)", ui.skipped);
    printf("\n");
    clfit_cl_close(cl);
    return ui.failed ? 1 : 0;
}
