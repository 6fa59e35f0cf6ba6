/* clfit bench: training speed on the real data, after building and warming up; what the
 * tutorial spends outside its epochs; and with --peak the device's fma peak. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfit/fit.h"
#include "clfit/modelfile.h"
#include "cli.h"

typedef struct {
    double *seconds;
    int n;
    double setup;               /* clfit_fit's time before its first epoch */
    double comm;                /* the timed epochs' time in the allreduce (under mpirun) */
} bench_times;

static clfit_status record_epoch(const clfit_progress *p, const clfit_model *m, void *user)
{
    (void)m;
    bench_times *bt = user;
    if (p->epoch_done) {
        bt->seconds[bt->n++] = p->seconds;
        bt->comm += p->comm_seconds;
    }
    bt->setup = p->setup_seconds;
    return CLFIT_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench_help(void)
{
    printf("usage: clfit bench [--batch 32] [--epochs 1] [--hidden 128[,W...]] [--backend clblast|own|slice|auto]\n"
           "                   [--peak] [--device SEL] [--data DIR] [--verbose]\n\n"
           "Builds the kernels and warms up, then times --epochs training epochs on the\n"
           "training set and prints one summary line (mean over the timed epochs):\n"
           "  bench: S s/epoch - N steps/s - N images/s - G GFLOP/s (G GFLOP/epoch counted)\n"
           "where the counted FLOPs are the GEMMs' 2*M*N*K and Adam's 12 per parameter. Then\n"
           "one more epoch runs with profiling on and its per-kernel table is printed, and\n"
           "the tutorial's time outside its epochs: loading the data, opening the device\n"
           "(building the program, looking up the tuning), the upload, the test set's\n"
           "evaluation. The kernels run with the tuned parameters (a short tune first on a\n"
           "device not yet tuned for the model and batch).\n"
           "  --peak   also measure the device's fma peak with an OpenCL kernel (float4, float8\n"
           "           and float16 chains) and give the step's share of it\n"
           "Compare with another trainer in the same run (tools/bench-vs-torch.sh): these\n"
           "machines are noisy.\n");
}

int cmd_bench(int argc, char **argv)
{
    enum { O_BATCH = 1000, O_EPOCHS, O_HIDDEN, O_GEMM, O_DEV, O_DATA, O_PEAK, O_VERBOSE };
    static const struct option opts[] = {
        {"batch", required_argument, 0, O_BATCH}, {"epochs", required_argument, 0, O_EPOCHS},
        {"hidden", required_argument, 0, O_HIDDEN}, {"gemm", required_argument, 0, O_GEMM},
        {"backend", required_argument, 0, O_GEMM},
        {"device", required_argument, 0, O_DEV}, {"data", required_argument, 0, O_DATA},
        {"peak", no_argument, 0, O_PEAK}, {"verbose", no_argument, 0, O_VERBOSE},
        {"help", no_argument, 0, 'h'}, {0}};
    long batch = 32, epochs = 1;
    int hidden[CLFIT_MAX_LAYERS - 1] = {128}, nhidden = 1, gemm_choice = -1, peak = 0;
    const char *dev = NULL, *dir = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_BATCH: if (!cli_parse_long("--batch", optarg, 1, 65536, &batch)) return 2; break;
        case O_EPOCHS: if (!cli_parse_long("--epochs", optarg, 1, 1000, &epochs)) return 2; break;
        case O_HIDDEN: if (!cli_parse_hidden(optarg, hidden, &nhidden)) return 2; break;
        case O_GEMM: if (!cli_parse_gemm(optarg, &gemm_choice)) return 2; break;
        case O_DEV: dev = optarg; break;
        case O_DATA: dir = optarg; break;
        case O_PEAK: peak = 1; break;
        case O_VERBOSE: cli_set_verbose(); break;
        case 'h': bench_help(); return 0;
        default: return CLI_BAD_OPTION;
        }
    }
    if (optind < argc) return cli_usage_error("unexpected argument '%s'", argv[optind]);

    clfit_status st;
    clfit_dataset train = {0}, test = {0};
    clfit_cl *cl = NULL;
    clfit_model *m = NULL;
    clfit_profiler *prof = NULL;
    bench_times bt = {calloc((size_t)epochs + 1, sizeof(double)), 0, 0, 0};
    int rc = 1;
    double t_load = now();
    if (!bt.seconds) { fprintf(stderr, "clfit: out of memory\n"); goto done; }
    if (cli_load_split(dir, "train", CLFIT_FASHION_CLASSES, &train)) goto done;
    if (cli_load_split(dir, "test", CLFIT_FASHION_CLASSES, &test)) goto done;
    t_load = now() - t_load;
    if (batch > train.count) {
        rc = cli_mpi_size() > 1 /* each host's data answers for itself: a failure that ends all */
                 ? cli_fail(clfit_fail(CLFIT_ERR_ARG, "--batch %ld is more than the %d examples to train on", batch, train.count))
                 : cli_usage_error("--batch %ld is more than the %d examples to train on", batch, train.count);
        goto done;
    }
    clfit_model_desc d = {.input = train.rows * train.cols, .nhidden = nhidden, .classes = CLFIT_FASHION_CLASSES};
    memcpy(d.hidden, hidden, sizeof hidden);
    m = clfit_model_new(&d, 42, &st);
    if (!m) { cli_fail(st); goto done; }
    double t_open = now();
    /* under mpirun: rank 0 prints; a backend whose gradient goes to memory (cli_open_tuned) */
    int ranks = cli_mpi_size();
    char devbuf[16];
    dev = cli_mpi_device(dev, devbuf, sizeof devbuf);
    if (ranks > 1) {
        if (batch % ranks != 0) {
            rc = cli_usage_error("--batch %ld does not divide by the %d processes", batch, ranks);
            goto done;
        }
        if (cli_mpi_rank() != 0 && !freopen("/dev/null", "w", stdout)) goto done;
    }
    cl = cli_open_tuned(dev, &d, (int)batch, gemm_choice, &m->opt, ranks, ranks > 1 ? CLI_LOOKUP : CLI_QUICK_TUNE);
    if (!cl) goto done;
    t_open = now() - t_open;
    clfit_gemm gemm = (clfit_gemm)cl->p.v[CLFIT_P_BACKEND];
    /* build and warm up: the same shapes on random data */
    double warm_us;
    st = clfit_time_steps(cl, &d, (int)batch, gemm, 50, 50, &warm_us);
    if (st) { cli_fail(st); goto done; }
    clfit_fit_opts o = {.epochs = (int)epochs, .batch = (int)batch, .shuffle = 1, .seed = 42,
                        .gemm = gemm, .progress = record_epoch, .user = &bt, .coll = cli_mpi_collective()};
    st = clfit_fit(cl, m, &train, &o);
    if (st) { cli_fail(st); goto done; }
    double t_upload = bt.setup, t_eval = now(), loss, acc;
    st = clfit_evaluate(cl, m, &test, gemm, &loss, &acc);
    if (st) { cli_fail(st); goto done; }
    t_eval = now() - t_eval;
    double total = 0, best = 1e300;
    for (int i = 0; i < bt.n; i++) { total += bt.seconds[i]; if (bt.seconds[i] < best) best = bt.seconds[i]; }
    double sec = total / bt.n, comm = bt.comm / bt.n;
    int steps = (train.count + (int)batch - 1) / (int)batch, last = train.count - (steps - 1) * (int)batch;
    double gemm_f, adam_f, flops = clfit_model_step_flops(&d, (int)batch, &gemm_f, &adam_f) * (steps - 1) +
                                   clfit_model_step_flops(&d, last, NULL, NULL);
    char arch[128], params[256];
    clfit_arch_format(&d, arch, sizeof arch);
    printf("device: %s; model %s, batch %ld; %s; %d timed epoch(s), fastest %.3f s\n", cl->info.name, arch,
           batch, clfit_params_format(&cl->p, params, sizeof params), bt.n, best);
    /* one profiled epoch */
    prof = clfit_profiler_new();
    if (!prof || (st = clfit_cl_set_profiler(cl, prof))) { cli_fail(prof ? st : CLFIT_ERR_NOMEM); goto done; }
    o.epochs = 1;
    o.initial_epoch = epochs;
    bt.n = 0;
    st = clfit_fit(cl, m, &train, &o);
    clfit_cl_set_profiler(cl, NULL);
    if (st) { cli_fail(st); goto done; }
    printf("\nOne more epoch with profiling on (%.3f s with its events):\n", bt.seconds[0]);
    clfit_profiler_print(prof, stdout);
    printf("\nThe tutorial's time outside its epochs: %.2f s = start %.2f (load the data %.2f, open the device, "
           "build and look up the tuning %.2f), upload %.2f, evaluate the test set %.2f\n",
           t_load + t_open + t_upload + t_eval, t_load + t_open, t_load, t_open, t_upload, t_eval);
    if (peak) {
        double g[3], top;
        int width = 0;
        st = clfit_peak_gflops(cl, g, &top, &width);
        if (st) { cli_fail(st); goto done; }
        printf("peak: fma chains %.1f (float4), %.1f (float8), %.1f (float16) GFLOP/s; the step runs at %.1f%% "
               "of %.1f\n", g[0], g[1], g[2], 100 * flops / sec * 1e-9 / top, top);
    }
    printf("\nbench: %.3f s/epoch - %.0f steps/s - %.0f images/s - %.1f GFLOP/s (%.1f GFLOP/epoch counted)\n",
           sec, steps / sec, train.count / sec, flops / sec * 1e-9, flops * 1e-9);
    if (ranks > 1)
        printf("bench: %d processes; the allreduce of %zu gradient floats a step took %.3f s/epoch, %.1f%% of the "
               "epoch\n", ranks, m->nparams, comm, 100 * comm / sec);
    rc = 0;
done:
    free(bt.seconds);
    clfit_profiler_free(prof);
    clfit_cl_close(cl);
    clfit_model_free(m);
    clfit_dataset_free(&train);
    clfit_dataset_free(&test);
    return rc;
}
