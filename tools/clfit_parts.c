/* The command line's model parts (--activation, --dropout, --loss, --optimizer and its
 * settings, --lr-schedule and its settings): parsed into a cli_parts, then applied to a
 * new model's description and optimizer, or checked against a resumed one. */
#include <stdio.h>
#include <string.h>

#include "clfit/io.h"
#include "clfit/parts.h"
#include "cli.h"

const struct option cli_parts_options[] = {
    {"activation", required_argument, 0, CLI_P_ACT}, {"dropout", required_argument, 0, CLI_P_DROPOUT},
    {"loss", required_argument, 0, CLI_P_LOSS}, {"optimizer", required_argument, 0, CLI_P_OPT},
    {"momentum", required_argument, 0, CLI_P_MOMENTUM}, {"nesterov", no_argument, 0, CLI_P_NESTEROV},
    {"rho", required_argument, 0, CLI_P_RHO}, {"weight-decay", required_argument, 0, CLI_P_WD},
    {"l2", required_argument, 0, CLI_P_L2}, {"clipnorm", required_argument, 0, CLI_P_CLIP},
    {"lr-schedule", required_argument, 0, CLI_P_SCHED}, {"warmup-epochs", required_argument, 0, CLI_P_WARMUP},
    {"lr-gamma", required_argument, 0, CLI_P_GAMMA}, {"plateau-factor", required_argument, 0, CLI_P_FACTOR},
    {"plateau-patience", required_argument, 0, CLI_P_PATIENCE}, {"schedule-epochs", required_argument, 0, CLI_P_SCHED_EPOCHS},
    {0}};

const char *const cli_parts_help =
    "  --activation A[,A...]   each hidden layer's activation, or one for all: relu\n"
    "                          (default), linear, tanh, sigmoid, gelu (exact, erf),\n"
    "                          leaky_relu (slope 0.01), silu\n"
    "  --dropout R[,R...]      each hidden layer's dropout rate in training, or one for\n"
    "                          all, in [0, 0.99] (inverted: kept units scaled by 1/(1-R))\n"
    "  --loss L                crossentropy (softmax, the default) or mse (mean squared\n"
    "                          error: against the one-hot label on images, against the\n"
    "                          target columns' values on a table: a regression)\n"
    "  --optimizer O           adam (Keras', the default), adamw (decoupled weight decay),\n"
    "                          sgd, rmsprop (PyTorch's formulas)\n"
    "  --momentum M            sgd, rmsprop: momentum in [0, 0.999] (default 0)\n"
    "  --nesterov              sgd: Nesterov momentum (needs --momentum)\n"
    "  --rho R                 rmsprop: decay of the mean square (default 0.9)\n"
    "  --weight-decay W        adamw: p -= lr W p each step; the others: W p added to the\n"
    "                          gradient (PyTorch's weight_decay); default 0\n"
    "  --l2 A                  scikit-learn's alpha: A/(2 batch) sum W^2 added to the loss\n"
    "                          (weights, not biases); default 0\n"
    "  --clipnorm N            scale the gradient to global norm N when it is above\n"
    "  --lr-schedule S         constant (default), exponential (lr gamma^(epoch-1)), cosine\n"
    "                          (linear warm-up, then cosine to 0 at the last step) or\n"
    "                          plateau (lr times factor after patience epochs without a\n"
    "                          better val_loss, or loss without validation)\n"
    "  --warmup-epochs N       cosine: warm-up epochs (default 0; may be fractional)\n"
    "  --schedule-epochs N     cosine: the epochs it spans (default: this run's --epochs;\n"
    "                          a resume continues it)\n"
    "  --lr-gamma G            exponential: factor per epoch (default 0.9)\n"
    "  --plateau-factor F      plateau: factor (default 0.1)\n"
    "  --plateau-patience N    plateau: epochs without improvement (default 10)\n";

/* "a,b,c" or "a": n items into out (each at most 31 characters); 0 when malformed */
static int split_list(const char *s, char out[][32], int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (n == max || len == 0 || len >= 32) return 0;
        memcpy(out[n], p, len);
        out[n++][len] = '\0';
        if (!p[len]) return n;
        p += len + 1;
    }
}

int cli_parts_parse(cli_parts *p, int code, const char *arg)
{
    double x;
    long v;
    char q[64];
    switch (code) {
    case CLI_P_ACT: case CLI_P_DROPOUT: {
        char items[CLFIT_MAX_LAYERS - 1][32];
        int n = split_list(arg, items, CLFIT_MAX_LAYERS - 1);
        const char *opt = code == CLI_P_ACT ? "--activation" : "--dropout";
        if (!n) {
            cli_usage_error("%s: expected a comma-separated list of at most %d items, got '%s'", opt, CLFIT_MAX_LAYERS - 1,
                            clfit_quote(arg, q, sizeof q));
            return 0;
        }
        for (int i = 0; i < n; i++) {
            if (code == CLI_P_ACT) {
                int a = clfit_act_find(items[i]);
                if (a < 0) {
                    char names[160];
                    cli_usage_error("--activation: '%s' is not one of %s", clfit_quote(items[i], q, sizeof q),
                                    clfit_act_names(names, sizeof names));
                    return 0;
                }
                p->act[i] = a;
            } else {
                if (!cli_parse_double("--dropout", items[i], 0, 0.99, &x)) return 0;
                p->dropout[i] = (float)x;
            }
        }
        if (code == CLI_P_ACT) p->nact = n;
        else p->ndropout = n;
        return 1;
    }
    case CLI_P_LOSS: case CLI_P_OPT: case CLI_P_SCHED: {
        const char *const *names = code == CLI_P_LOSS ? clfit_loss_names : code == CLI_P_OPT ? clfit_opt_names : clfit_sched_names;
        int n = code == CLI_P_LOSS ? CLFIT_LOSS_COUNT : code == CLI_P_OPT ? CLFIT_OPT_COUNT : CLFIT_SCHED_COUNT;
        int i = clfit_part_find(names, n, arg);
        const char *opt = code == CLI_P_LOSS ? "--loss" : code == CLI_P_OPT ? "--optimizer" : "--lr-schedule";
        if (i < 0) {
            char want[128] = "";
            for (int k = 0; k < n; k++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", k ? ", " : "", names[k]);
            cli_usage_error("%s: expected one of %s, got '%s'", opt, want, clfit_quote(arg, q, sizeof q));
            return 0;
        }
        if (code == CLI_P_LOSS) p->loss = i;
        else if (code == CLI_P_OPT) p->opt = i;
        else p->sched = i;
        return 1;
    }
    case CLI_P_MOMENTUM: if (!cli_parse_double("--momentum", arg, 0, 0.999, &x)) return 0; p->momentum = x; break;
    case CLI_P_NESTEROV: p->nesterov = 1; break;
    case CLI_P_RHO: if (!cli_parse_double("--rho", arg, 0, 0.999999, &x)) return 0; p->rho = x; break;
    case CLI_P_WD: if (!cli_parse_double("--weight-decay", arg, 0, 10, &x)) return 0; p->wd = x; break;
    case CLI_P_L2: if (!cli_parse_double("--l2", arg, 0, 1e6, &x)) return 0; p->l2 = x; break;
    case CLI_P_CLIP: if (!cli_parse_double("--clipnorm", arg, 1e-30, 1e30, &x)) return 0; p->clip = x; break;
    case CLI_P_WARMUP: if (!cli_parse_double("--warmup-epochs", arg, 0, 1e6, &x)) return 0; p->warmup = x; break;
    case CLI_P_GAMMA: if (!cli_parse_double("--lr-gamma", arg, 1e-6, 1, &x)) return 0; p->gamma = x; break;
    case CLI_P_FACTOR: if (!cli_parse_double("--plateau-factor", arg, 1e-6, 0.999999, &x)) return 0; p->factor = x; break;
    case CLI_P_PATIENCE: if (!cli_parse_long("--plateau-patience", arg, 0, 1000000, &v)) return 0; p->patience = v; break;
    case CLI_P_SCHED_EPOCHS:
        if (!cli_parse_long("--schedule-epochs", arg, 1, 1000000, &v)) return 0;
        p->sched_epochs = v;
        break;
    default: return -1;
    }
    p->seen |= 1u << (code - CLI_P_ACT);
    return 1;
}

#define SEEN(p, code) ((p)->seen & (1u << ((code) - CLI_P_ACT)))

void cli_parts_init(cli_parts *p)
{
    memset(p, 0, sizeof *p);
    p->loss = p->opt = p->sched = -1;
}

int cli_parts_given(const cli_parts *p)
{
    return p->seen || p->nact || p->ndropout || p->loss >= 0 || p->opt >= 0 || p->sched >= 0;
}

int cli_parts_apply(const cli_parts *p, clfit_model_desc *d, clfit_optim *o)
{
    if (p->nact > 1 && p->nact != d->nhidden)
        return cli_usage_error("--activation names %d activations for %d hidden layers", p->nact, d->nhidden);
    if (p->ndropout > 1 && p->ndropout != d->nhidden)
        return cli_usage_error("--dropout gives %d rates for %d hidden layers", p->ndropout, d->nhidden);
    if ((p->nact || p->ndropout) && d->nhidden == 0)
        return cli_usage_error("--activation and --dropout apply to hidden layers: the model has none");
    for (int l = 0; l < d->nhidden; l++) {
        if (p->nact) d->act[l] = (clfit_act)p->act[p->nact == 1 ? 0 : l];
        if (p->ndropout) d->dropout[l] = p->dropout[p->ndropout == 1 ? 0 : l];
    }
    if (p->loss >= 0) d->loss = (clfit_loss)p->loss;
    int kind = p->opt >= 0 ? p->opt : CLFIT_OPT_ADAM;
    if ((SEEN(p, CLI_P_MOMENTUM) || p->nesterov) && kind != CLFIT_OPT_SGD && kind != CLFIT_OPT_RMSPROP)
        return cli_usage_error("--momentum and --nesterov go with --optimizer sgd or rmsprop");
    if (p->nesterov && (kind != CLFIT_OPT_SGD || !(p->momentum > 0)))
        return cli_usage_error("--nesterov needs --optimizer sgd and a --momentum above 0");
    if (SEEN(p, CLI_P_RHO) && kind != CLFIT_OPT_RMSPROP) return cli_usage_error("--rho goes with --optimizer rmsprop");
    int sched = p->sched >= 0 ? p->sched : CLFIT_SCHED_CONSTANT;
    if ((SEEN(p, CLI_P_WARMUP) || SEEN(p, CLI_P_SCHED_EPOCHS)) && sched != CLFIT_SCHED_COSINE)
        return cli_usage_error("--warmup-epochs and --schedule-epochs go with --lr-schedule cosine");
    if (SEEN(p, CLI_P_SCHED_EPOCHS) && SEEN(p, CLI_P_WARMUP) && p->warmup >= p->sched_epochs)
        return cli_usage_error("--warmup-epochs %g leaves nothing of the %ld --schedule-epochs", p->warmup, p->sched_epochs);
    if (SEEN(p, CLI_P_GAMMA) && sched != CLFIT_SCHED_EXPONENTIAL) return cli_usage_error("--lr-gamma goes with --lr-schedule exponential");
    if ((SEEN(p, CLI_P_FACTOR) || SEEN(p, CLI_P_PATIENCE)) && sched != CLFIT_SCHED_PLATEAU)
        return cli_usage_error("--plateau-factor and --plateau-patience go with --lr-schedule plateau");
    o->kind = (clfit_opt_kind)kind;
    if (SEEN(p, CLI_P_MOMENTUM)) o->momentum = (float)p->momentum;
    o->nesterov = p->nesterov;
    if (SEEN(p, CLI_P_RHO)) o->rho = (float)p->rho;
    if (SEEN(p, CLI_P_WD)) o->weight_decay = (float)p->wd;
    if (SEEN(p, CLI_P_L2)) o->l2 = (float)p->l2;
    if (SEEN(p, CLI_P_CLIP)) o->clipnorm = (float)p->clip;
    o->sched = (clfit_sched_kind)sched;
    if (SEEN(p, CLI_P_WARMUP)) o->warmup_epochs = (float)p->warmup;
    if (SEEN(p, CLI_P_SCHED_EPOCHS)) o->sched_epochs = p->sched_epochs;
    if (SEEN(p, CLI_P_GAMMA)) o->gamma = (float)p->gamma;
    if (SEEN(p, CLI_P_FACTOR)) o->factor = (float)p->factor;
    if (SEEN(p, CLI_P_PATIENCE)) o->patience = (int)p->patience;
    return 0;
}

int cli_parts_check_resume(const cli_parts *p, const char *file)
{
    if (cli_parts_given(p))
        return cli_usage_error("the model's parts (activations, dropout, loss, optimizer, schedule) come from %s when "
                               "resuming: give none of their options", file);
    return 0;
}

void cli_parts_describe(const clfit_model *m, char *buf, size_t size)
{
    char a[160], d[160] = "-";
    const clfit_optim *o = &m->opt;
    for (int l = 0, k = 0; l < m->desc.nhidden; l++)
        k += snprintf(d + k, sizeof d - k, "%s%g", l ? "," : "", (double)m->desc.dropout[l]);
    int n = snprintf(buf, size, "activations %s, dropout %s, loss %s, optimizer %s", clfit_acts_format(&m->desc, a, sizeof a),
                     d, clfit_loss_names[m->desc.loss], clfit_opt_names[o->kind]);
    if (n < 0 || (size_t)n >= size) return;
    if (o->momentum > 0) n += snprintf(buf + n, size - n, " (momentum %g%s)", (double)o->momentum, o->nesterov ? ", nesterov" : "");
    if ((size_t)n < size && o->kind == CLFIT_OPT_RMSPROP) n += snprintf(buf + n, size - n, " rho %g", (double)o->rho);
    if ((size_t)n < size && o->weight_decay > 0) n += snprintf(buf + n, size - n, ", weight decay %g", (double)o->weight_decay);
    if ((size_t)n < size && o->l2 > 0) n += snprintf(buf + n, size - n, ", l2 %g", (double)o->l2);
    if ((size_t)n < size && o->clipnorm > 0) n += snprintf(buf + n, size - n, ", clipnorm %g", (double)o->clipnorm);
    if ((size_t)n < size) n += snprintf(buf + n, size - n, ", lr %g %s", (double)m->adam.lr, clfit_sched_names[o->sched]);
    if ((size_t)n < size && o->sched == CLFIT_SCHED_COSINE)
        snprintf(buf + n, size - n, " (warm-up %g epochs)", (double)o->warmup_epochs);
    else if ((size_t)n < size && o->sched == CLFIT_SCHED_EXPONENTIAL)
        snprintf(buf + n, size - n, " (gamma %g)", (double)o->gamma);
    else if ((size_t)n < size && o->sched == CLFIT_SCHED_PLATEAU)
        snprintf(buf + n, size - n, " (factor %g, patience %d)", (double)o->factor, o->patience);
}
