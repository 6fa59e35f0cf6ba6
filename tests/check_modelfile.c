/* safetensors model files (host/modelfile.c): an exact round trip of weights, Adam state
 * and metadata; and clear errors for files that are truncated, foreign or mismatched. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/modelfile.h"
#include "testutil.h"

static char path[300];

static void make_dir(void)
{
    test_dir_setup();
    snprintf(path, sizeof path, "%s/m.safetensors", test_dir);
}

static clfit_model *random_model(const clfit_model_desc *d, clfit_model_meta *meta)
{
    clfit_status st;
    clfit_model *m = clfit_model_new(d, test_seed(), &st);
    ck_assert_ptr_nonnull(m);
    clfit_rng r;
    clfit_rng_seed(&r, test_seed() + 1);
    for (int l = 0; l < m->nlayers; l++) { /* every real entry non-trivial, padding zero */
        const clfit_layer *L = &m->layer[l];
        fill_uniform(&r, m->params + L->b_off, L->out, -1, 1);
        fill_uniform(&r, m->m + L->w_off, (size_t)L->in * L->out, -1, 1);
        fill_uniform(&r, m->v + L->b_off, L->out, 0, 1);
    }
    m->step = 12345;
    m->adam.lr = 0.0003f;
    *meta = (clfit_model_meta){.epoch = 7, .seed = 18446744073709551557ull, .batch = 93,
                               .validation_split = 0.1, .rows = 4, .cols = 5};
    return m;
}

START_TEST(test_round_trip)
{
    clfit_model_desc d = {.input = 20, .nhidden = 2, .hidden = {33, 7}, .classes = 10};
    clfit_model_meta meta, back_meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_status st;
    clfit_model *back = clfit_model_load(path, &back_meta, &st);
    ck_assert_msg(back != NULL, "%s", clfit_last_error());
    /* bit-identity is the claim: floats are stored as their bytes */
    ck_assert_uint_eq(back->nparams, m->nparams);
    ck_assert_int_eq(memcmp(back->params, m->params, m->nparams * 4), 0);
    ck_assert_int_eq(memcmp(back->m, m->m, m->nparams * 4), 0);
    ck_assert_int_eq(memcmp(back->v, m->v, m->nparams * 4), 0);
    ck_assert_int_eq(back->step, 12345);
    ck_assert_int_eq(memcmp(&back->adam, &m->adam, sizeof m->adam), 0);
    ck_assert_int_eq(memcmp(&back->desc, &m->desc, sizeof m->desc), 0);
    ck_assert_int_eq(back_meta.epoch, 7);
    ck_assert(back_meta.seed == meta.seed);
    ck_assert_int_eq(back_meta.batch, 93);
    ck_assert(back_meta.validation_split == 0.1); /* %.17g round-trips a double exactly */
    ck_assert_int_eq(back_meta.rows, 4);
    clfit_model_free(back);
    clfit_model_free(m);
}
END_TEST

/* Rewrites the saved file's JSON header: the text from `from` up to `until` (NULL: `from`
 * itself) becomes `to`; the length field follows, the data stays. */
static void edit_header(const char *from, const char *until, const char *to)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(size + 256);
    ck_assert_int_eq(fread(buf, 1, size, f), size);
    fclose(f);
    uint64_t hlen;
    memcpy(&hlen, buf, 8);
    char *hdr = malloc(hlen + 256);
    memcpy(hdr, buf + 8, hlen);
    hdr[hlen] = '\0';
    char *at = strstr(hdr, from);
    ck_assert_msg(at != NULL, "header lacks %s: %s", from, hdr);
    char *end = until ? strstr(at, until) : at + strlen(from);
    ck_assert_msg(end != NULL, "header lacks %s after %s", until, from);
    size_t room = hlen + strlen(to) + 1;
    char *edited = malloc(room);
    snprintf(edited, room, "%.*s%s%s", (int)(at - hdr), hdr, to, end);
    uint64_t nlen = strlen(edited);
    f = fopen(path, "wb");
    fwrite(&nlen, 8, 1, f);
    fwrite(edited, 1, nlen, f);
    fwrite(buf + 8 + hlen, 1, size - 8 - hlen, f);
    fclose(f);
    free(buf); free(hdr); free(edited);
}

/* The parts (format 2) round trip too: activations, dropout, loss, every optimizer setting
 * and the schedule's state. */
START_TEST(test_round_trip_parts)
{
    clfit_model_desc d = {.input = 20, .nhidden = 2, .hidden = {33, 7}, .classes = 10,
                          .act = {CLFIT_ACT_GELU, CLFIT_ACT_LEAKY_RELU}, .dropout = {0.2f, 0.55f}, .loss = CLFIT_LOSS_MSE};
    clfit_model_meta meta, back_meta;
    clfit_model *m = random_model(&d, &meta);
    clfit_optim *o = &m->opt;
    o->kind = CLFIT_OPT_SGD;
    o->momentum = 0.9f;
    o->nesterov = 1;
    o->weight_decay = 3e-4f;
    o->l2 = 0.125f;
    o->clipnorm = 2.5f;
    o->sched = CLFIT_SCHED_PLATEAU;
    o->factor = 0.3f;
    o->patience = 4;
    o->lr_scale = 0.09f;
    o->best = 0.4321;
    o->bad_epochs = 2;
    o->sched_epochs = 20;
    o->sched_steps = 469;
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_status st;
    clfit_model *back = clfit_model_load(path, &back_meta, &st);
    ck_assert_msg(back != NULL, "%s", clfit_last_error());
    ck_assert_int_eq(memcmp(&back->desc, &m->desc, sizeof m->desc), 0);
    ck_assert_int_eq(memcmp(&back->opt, &m->opt, sizeof m->opt), 0);
    ck_assert(back->dropout_seed == meta.seed);
    clfit_model_free(back);
    clfit_model_free(m);
}
END_TEST

/* A table's model keeps its standardisation (two tensors) and its class names (a JSON
 * array, names with quotes and commas included); a deviation that is not positive and
 * class names that do not fit the model are refused. */
START_TEST(test_round_trip_table)
{
    clfit_model_desc d = {.input = 3, .nhidden = 1, .hidden = {5}, .classes = 3};
    clfit_model_meta meta, back_meta;
    clfit_model *m = random_model(&d, &meta);
    meta.rows = 1;
    meta.cols = 3;
    static const float mean[3] = {1.5f, -2.0f, 1e6f}, sd[3] = {0.25f, 1.0f, 3e5f};
    static const char *const names[3] = {"a, first", "b \"q\"", "\u00e9t\u00e9"};
    m->norm_mean = malloc(sizeof mean);
    m->norm_std = malloc(sizeof sd);
    memcpy(m->norm_mean, mean, sizeof mean);
    memcpy(m->norm_std, sd, sizeof sd);
    m->class_names = calloc(3, sizeof *m->class_names);
    for (int c = 0; c < 3; c++) m->class_names[c] = strdup(names[c]);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_status st;
    clfit_model *back = clfit_model_load(path, &back_meta, &st);
    ck_assert_msg(back != NULL, "%s", clfit_last_error());
    ck_assert_int_eq(memcmp(back->norm_mean, mean, sizeof mean), 0);
    ck_assert_int_eq(memcmp(back->norm_std, sd, sizeof sd), 0);
    for (int c = 0; c < 3; c++) ck_assert_str_eq(back->class_names[c], names[c]);
    ck_assert_int_eq(memcmp(back->params, m->params, m->nparams * sizeof(float)), 0);
    clfit_model_free(back);
    clfit_model_free(m);
    /* the edits: each one line naming what is wrong */
    static const struct { const char *from, *to, *what; } bad[] = {
        {"\"class_names\":\"[", "\"class_names\":\"[\\\"x\\\",", "not a JSON array of the model's 3 class names"},
        {"\"class_names\":\"[", "\"class_names\":\"[\\\"b \\\\\\\"q\\\\\\\"\\\",", "not a JSON array"},
        {"\"class_names\":\"", "\"class_names\":\"{}", "not a JSON array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        m = random_model(&d, &meta);
        meta.rows = 1;
        meta.cols = 3;
        m->class_names = calloc(3, sizeof *m->class_names);
        for (int c = 0; c < 3; c++) m->class_names[c] = strdup(names[c]);
        ASSERT_OK(clfit_model_save(path, m, &meta));
        clfit_model_free(m);
        edit_header(bad[i].from, NULL, bad[i].to);
        back = clfit_model_load(path, NULL, &st);
        ck_assert_msg(back == NULL, "edit %zu loads", i);
        ck_assert_msg(strstr(clfit_last_error(), bad[i].what), "\"%s\" lacks \"%s\"", clfit_last_error(), bad[i].what);
    }
    /* a deviation of 0 would divide by nothing */
    m = random_model(&d, &meta);
    meta.rows = 1;
    meta.cols = 3;
    m->norm_mean = calloc(3, sizeof(float));
    m->norm_std = calloc(3, sizeof(float));
    m->norm_std[0] = m->norm_std[2] = 1.0f;
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    back = clfit_model_load(path, NULL, &st);
    ck_assert_ptr_null(back);
    ck_assert_msg(strstr(clfit_last_error(), "tensor normalize.std holds 0 at element 1: not a usable deviation"), "%s",
                  clfit_last_error());
}
END_TEST

/* A file written before format 2 (no parts in its metadata) is the tutorial's family:
 * ReLU, no dropout, cross-entropy, plain Adam at a constant rate. */
START_TEST(test_format_1_loads)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10, .act = {CLFIT_ACT_TANH}};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    m->opt.kind = CLFIT_OPT_RMSPROP;
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    edit_header(",\"format_version\"", ",\"layout\"", "");
    clfit_status st;
    clfit_model *back = clfit_model_load(path, NULL, &st);
    ck_assert_msg(back != NULL, "%s", clfit_last_error());
    ck_assert(clfit_model_desc_plain(&back->desc));
    ck_assert_int_eq(back->opt.kind, CLFIT_OPT_ADAM);
    ck_assert(clfit_optim_fused(&back->opt) && back->opt.sched == CLFIT_SCHED_CONSTANT);
    clfit_model_free(back);
}
END_TEST

/* Saves a model, then rewrites the JSON header with `from` replaced by `to` (same file
 * otherwise; the length field is updated), and expects loading to fail with `what`. */
static void expect_header_edit_fails(const char *from, const char *to, const char *what)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    edit_header(from, NULL, to);
    clfit_status st;
    clfit_model *back = clfit_model_load(path, NULL, &st);
    ck_assert_msg(back == NULL, "the edit %.80s -> %.80s loads", from, to);
    ck_assert_int_eq(st, CLFIT_ERR_FORMAT);
    ck_assert_msg(strstr(clfit_last_error(), what), "\"%s\" lacks \"%s\"", clfit_last_error(), what);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "m.safetensors"));
}

START_TEST(test_mismatched_files)
{
    expect_header_edit_fails("\"architecture\":\"20-8-10\"", "\"architecture\":\"20-9-10\"", "needs");
    expect_header_edit_fails("\"architecture\":\"20-8-10\"", "\"architecture\":\"big\"", "architecture");
    expect_header_edit_fails("\"format\":\"clfit\"", "\"format\":\"pt\"", "not a clfit model");
    expect_header_edit_fails("\"dtype\":\"F32\"", "\"dtype\":\"F16\"", "dtype F16, expected F32");
    expect_header_edit_fails("\"dense_1.bias\"", "\"dense_1.bias_renamed\"", "unexpected entry \"dense_1.bias_renamed\"");
    expect_header_edit_fails("\"input_shape\":\"4x5\"", "\"input_shape\":\"5x5\"", "input_shape");
    expect_header_edit_fails("\"epoch\":\"7\",", "", "lacks \"epoch\"");
    expect_header_edit_fails("{\"__metadata__\"", "[{\"__metadata__\"", "not a JSON object");
}
END_TEST

/* Metadata a person or a program got wrong, each found by its key and replaced by a bad
 * value (the old value is left behind as an unused key, so the file stays JSON): every
 * number is parsed whole and within its range. */
START_TEST(test_bad_metadata_values)
{
    static const struct { const char *key, *value, *what; } bad[] = {
        {"epoch", "abc", "epoch \"abc\" is not an integer"}, {"epoch", "3junk", "epoch"}, {"epoch", "1.5", "epoch"},
        {"epoch", "9223372036854775807", "epoch"}, {"step", "9223372036854775807", "step"},
        {"seed", "-1", "seed"}, {"seed", " 7", "seed"}, {"batch", "32.9", "batch"}, {"batch", "4294967297", "batch"},
        {"batch", "65537", "batch"}, {"batch", "+32", "batch"}, {"adam_lr", "-1", "adam_lr"}, {"adam_lr", "0", "adam_lr"},
        {"adam_beta1", "2", "adam_beta1"}, {"adam_beta2", "1", "adam_beta2"}, {"adam_epsilon", "0", "adam_epsilon"},
        {"adam_epsilon", "-1", "adam_epsilon"}, {"adam_epsilon", "inf", "adam_epsilon"}, {"adam_lr", "nan", "adam_lr"},
        {"validation_split", "1", "validation_split"}, {"validation_split", "0.999999", "in [0, 0.99]"},
        {"input_shape", "4x5x1", "input_shape"},
        {"input_shape", "4x5junk", "input_shape"}, {"input_shape", "-4x-5", "input_shape"},
        {"input_shape", "65536x65536", "input_shape"}, {"input_shape", "3x7", "input_shape"},
        {"architecture", "20-8-10-", "architecture"}, {"architecture", " 20-8-10", "architecture"},
        {"architecture", "20-+8-10", "architecture"}, {"architecture", "20-1048576-10", "hidden width 1048576"},
        {"architecture", "20-8-1000", "class count 1000"},
        /* the parts */
        {"activations", "swish", "activations \"swish\""}, {"activations", "relu,relu", "activations"},
        {"activations", "", "activations"}, {"dropout", "1", "dropout"}, {"dropout", "0.5,0.5", "dropout"},
        {"dropout", "nan", "dropout"}, {"loss", "l1", "loss \"l1\" is not one of crossentropy mse"},
        {"optimizer", "lbfgs", "optimizer"}, {"momentum", "1", "momentum"}, {"nesterov", "2", "nesterov"},
        {"nesterov", "1", "nesterov"}, {"rho", "1", "rho"}, {"weight_decay", "-1", "weight_decay"},
        {"clipnorm", "inf", "clipnorm"}, {"lr_schedule", "step", "lr_schedule"}, {"plateau_patience", "-1", "plateau_patience"},
        {"lr_scale", "0", "lr_scale"}, {"lr_gamma", "2", "lr_gamma"}, {"warmup_epochs", "-1", "warmup_epochs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char from[64], to[128];
        snprintf(from, sizeof from, "\"%s\":\"", bad[i].key);
        snprintf(to, sizeof to, "\"%s\":\"%s\",\"was_%s\":\"", bad[i].key, bad[i].value, bad[i].key);
        expect_header_edit_fails(from, to, bad[i].what);
    }
    /* a 200 KB value gives a short message */
    char *big = malloc(200001);
    memset(big, '7', 200000);
    big[200000] = '\0';
    char *to = malloc(200100);
    snprintf(to, 200100, "\"input_shape\":\"%s\",\"was\":\"", big);
    expect_header_edit_fails("\"input_shape\":\"", to, "input_shape");
    ck_assert_int_lt(strlen(clfit_last_error()), 400);
    free(big);
    free(to);
}
END_TEST

/* The safetensors rules: each tensor once, its bytes whole offsets that cover the data
 * with no overlap or gap; nothing but spaces after the JSON. */
START_TEST(test_bad_structure)
{
    /* dense_0.weight is [0,640] and dense_0.bias [640,672] in this model */
    expect_header_edit_fails("[640,672]", "[636,668]", "overlap or leave a gap");
    expect_header_edit_fails("[640,672]", "[644,676]", "overlap or leave a gap");
    expect_header_edit_fails("[640,672]", "[640.5,672.5]", "data_offsets are not two whole byte offsets");
    expect_header_edit_fails("[640,672]", "[640,671]", "data_offsets");
    expect_header_edit_fails("\"dense_1.bias\"", "\"dense_0.bias\"", "\"dense_0.bias\" appears twice");
    expect_header_edit_fails("\"format\":\"clfit\"", "\"format\":\"clfit\",\"format\":\"pt\"", "appears twice");
    expect_header_edit_fails("}}", "}}\\u0000", "after the JSON header");
}
END_TEST

/* A header padded with NUL bytes, not spaces: 8 NULs added after the JSON. */
START_TEST(test_nul_padding)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size), *out = calloc(1, size + 8);
    FILE *f = fopen(path, "rb");
    ck_assert_int_eq(fread(buf, 1, size, f), size);
    fclose(f);
    uint64_t hlen;
    memcpy(&hlen, buf, 8);
    uint64_t hlen2 = hlen + 8;
    memcpy(out, &hlen2, 8);
    memcpy(out + 8, buf + 8, hlen);                                   /* then 8 NULs (calloc) */
    memcpy(out + 8 + hlen2, buf + 8 + hlen, size - 8 - hlen);
    f = fopen(path, "wb");
    ck_assert_int_eq(fwrite(out, 1, size + 8, f), size + 8);
    fclose(f);
    free(buf);
    free(out);
    clfit_status st;
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "byte 0x00 after the JSON header"));
}
END_TEST

/* Weights and Adam's moments must be numbers (and v not negative): a NaN would otherwise
 * evaluate, or train and save a model of NaNs, with exit 0. */
START_TEST(test_non_finite_values)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    static const struct { int kind; float value; const char *what; } bad[] = {
        {0, NAN, "tensor dense_0.weight holds nan at element 3"},
        {1, INFINITY, "tensor adam_m.dense_0.weight holds inf at element 3"},
        {2, NAN, "tensor adam_v.dense_0.weight holds nan"},
        {2, -1.0f, "tensor adam_v.dense_0.weight holds -1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clfit_model_meta meta;
        clfit_model *m = random_model(&d, &meta);
        float *a = bad[i].kind == 0 ? m->params : bad[i].kind == 1 ? m->m : m->v;
        a[m->layer[0].w_off + 3] = bad[i].value;
        ASSERT_OK(clfit_model_save(path, m, &meta));
        clfit_model_free(m);
        clfit_status st;
        ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
        ck_assert_int_eq(st, CLFIT_ERR_FORMAT);
        ck_assert_msg(strstr(clfit_last_error(), bad[i].what), "\"%s\" lacks \"%s\"", clfit_last_error(), bad[i].what);
    }
}
END_TEST

/* Not a regular file: one clear line, never a hang (a FIFO) or an endless read. */
START_TEST(test_not_regular_files)
{
    char fifo[320];
    snprintf(fifo, sizeof fifo, "%s/fifo.safetensors", test_dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    const char *paths[] = {fifo, test_dir, "/dev/zero"};
    const char *what[] = {"is a FIFO, not a regular file", "is a directory, not a regular file", "is a device, not a regular file"};
    for (int i = 0; i < 3; i++) {
        clfit_status st;
        ck_assert_ptr_null(clfit_model_load(paths[i], NULL, &st));
        ck_assert_int_eq(st, CLFIT_ERR_IO);
        ck_assert_msg(strstr(clfit_last_error(), what[i]), "%s", clfit_last_error());
    }
    /* a small file that claims a large model is refused before anything is allocated for it */
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    expect_header_edit_fails("\"architecture\":\"20-8-10\"", "\"architecture\":\"20-65536-10\"", "needs 24379512");
}
END_TEST

/* The saved file's mode follows the umask; a killed save's temporary file is the fixed
 * "<path>.tmp", which the next save replaces. */
START_TEST(test_save_mode_and_temp)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    mode_t old = umask(022);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb"); /* what a save killed midway leaves */
    fputs("partial", f);
    fclose(f);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    umask(old);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0644);
    ck_assert_int_ne(stat(tmp, &sb), 0); /* replaced, then renamed into place */
    clfit_model_free(m);
}
END_TEST

START_TEST(test_truncated_and_trailing)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    clfit_status st;
    ck_assert_int_eq(truncate(path, sb.st_size - 4), 0);
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "truncated"));
    ck_assert_int_eq(truncate(path, 100), 0); /* inside the header */
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "header length"));
    ck_assert_int_eq(truncate(path, 3), 0);
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "truncated"));
    /* bytes after the tensors */
    m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    clfit_model_free(m);
    FILE *f = fopen(path, "ab");
    fputs("extra", f);
    fclose(f);
    ck_assert_ptr_null(clfit_model_load(path, NULL, &st));
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "the tensors account for"));
}
END_TEST

START_TEST(test_save_failure_keeps_old_file)
{
    clfit_model_desc d = {.input = 20, .nhidden = 1, .hidden = {8}, .classes = 10};
    clfit_model_meta meta;
    clfit_model *m = random_model(&d, &meta);
    ASSERT_OK(clfit_model_save(path, m, &meta));
    /* a directory that cannot be written: the save fails, names the path, leaves no temp */
    char ro[300];
    snprintf(ro, sizeof ro, "%s/missing-dir/m.safetensors", test_dir);
    ck_assert_int_eq(clfit_model_save(ro, m, &meta), CLFIT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "missing-dir"));
    /* the arch string helpers */
    char arch[64];
    clfit_arch_format(&m->desc, arch, sizeof arch);
    ck_assert_str_eq(arch, "20-8-10");
    clfit_model_desc back;
    ASSERT_OK(clfit_arch_parse("784-128-64-10", &back));
    ck_assert_int_eq(back.nhidden, 2);
    ck_assert_int_eq(back.hidden[1], 64);
    ck_assert_int_eq(clfit_arch_parse("784", &back), CLFIT_ERR_ARG);
    ck_assert_int_eq(clfit_arch_parse("784--10", &back), CLFIT_ERR_ARG);
    clfit_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("modelfile");
    TCase *tc = tcase_create("safetensors");
    tcase_add_checked_fixture(tc, make_dir, test_dir_teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_round_trip_parts);
    tcase_add_test(tc, test_format_1_loads);
    tcase_add_test(tc, test_mismatched_files);
    tcase_add_test(tc, test_truncated_and_trailing);
    tcase_add_test(tc, test_save_failure_keeps_old_file);
    tcase_add_test(tc, test_bad_metadata_values);
    tcase_add_test(tc, test_bad_structure);
    tcase_add_test(tc, test_nul_padding);
    tcase_add_test(tc, test_non_finite_values);
    tcase_add_test(tc, test_round_trip_table);
    tcase_add_test(tc, test_not_regular_files);
    tcase_add_test(tc, test_save_mode_and_temp);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
