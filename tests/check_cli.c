/* The clfit command (tools/), run as a user runs it, on small data this test writes:
 * exit codes and messages for bad arguments and bad files; a save / load / evaluate round
 * trip; determinism across two runs; resume equivalence, bit for bit; NaN termination. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clfit/modelfile.h"
#include "testutil.h"

static char out[1 << 16], err[1 << 16];

/* Runs "clfit ARGS" (with --data-free args; the caller adds --data where needed) and
 * returns its exit status; stdout and stderr land in out and err. */
static int clfit(const char *args)
{
    char cmd[2048];
    /* the tuning database goes to the test's directory, not the user's; no short tune
     * before training (the class defaults) unless a test asks for one */
    snprintf(cmd, sizeof cmd, "CLFIT_CACHE_DIR=. CLFIT_QUICK_TUNE=${CLFIT_QUICK_TUNE:-0} '%s' %s", CLFIT_BINARY, args);
    return run_in_test_dir(cmd, out, sizeof out, err, sizeof err);
}

#define EXPECT(args, code, stream, text)                                                 \
    do {                                                                                 \
        int rc_ = clfit(args);                                                           \
        ck_assert_msg(rc_ == (code), "clfit %s: exit %d, want %d; stderr: %s", args, rc_, \
                      (code), err);                                                      \
        ck_assert_msg(strstr(stream, text), "clfit %s: output lacks \"%s\": %s", args,   \
                      text, stream);                                                     \
    } while (0)

static void make_data(void)
{
    test_dir_setup();
    write_learnable_split(test_dir, "train", 300, 4, 5, 10, 1);
    write_learnable_split(test_dir, "t10k", 70, 4, 5, 10, 2);
}

static int files_equal(const char *a, const char *b)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && cmp -s '%s' '%s'", test_dir, a, b);
    return system(cmd) == 0;
}

#define TRAIN "train --data . --batch 16 "

START_TEST(test_usage_errors)
{
    EXPECT("", 2, err, "usage: clfit COMMAND");
    EXPECT("bogus", 2, err, "unknown command 'bogus'");
    EXPECT("train --epochs 0", 2, err, "clfit train: --epochs: expected an integer in 1..");
    EXPECT("train --epochs abc", 2, err, "got 'abc'");
    EXPECT("train --batch -3", 2, err, "--batch");
    EXPECT("train --validation-split 1.5", 2, err, "--validation-split");
    EXPECT("train --hidden 128,,4", 2, err, "--hidden");
    EXPECT("train --lr -1", 2, err, "--lr");
    EXPECT("train --frobnicate", 2, err, "unknown option");
    EXPECT("train extra", 2, err, "unexpected argument 'extra'");
    EXPECT("evaluate", 2, err, "--model FILE is required");
    EXPECT("predict --model m.safetensors", 2, err, "--index I[,J...] is required");
    EXPECT("predict --model m.safetensors --index 1 --set validation", 2, err, "--set: expected test or train");
    EXPECT("train --gemm fast", 2, err, "--backend: expected clblast, own, slice, or auto");
    EXPECT("bench --backend fast", 2, err, "--backend: expected clblast, own, slice, or auto");
    EXPECT("verify --op nonsense", 2, err, "--op: no operation 'nonsense'");
    /* getopt's own messages are off: one line of ours, saying what is wrong */
    EXPECT("train --epochs", 2, err, "--epochs needs a value");
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
    EXPECT("train --epochs +1", 2, err, "got '+1'");
    EXPECT("train --hidden 128,", 2, err, "got '128,'");
    EXPECT("train --seed ' 7'", 2, err, "--seed");
    EXPECT("train --device ''", 2, err, "--device: an empty value");
    EXPECT("train --save ''", 2, err, "--save: an empty value");
    EXPECT("predict --model m.safetensors --index 0,", 2, err, "got '0,'");
#ifdef CLFIT_NO_MPI
    /* a build without MPI started by mpirun as 2 processes (as Open MPI announces them):
     * one line and exit 2, not two independent trainings */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "OMPI_COMM_WORLD_SIZE=2 '%s' train --data . --epochs 1", CLFIT_BINARY);
    ck_assert_int_eq(run_in_test_dir(cmd, out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "started as one of 2 processes (mpirun), but this clfit was built without MPI"));
#endif
    /* every message is one line */
    clfit("train --epochs 0");
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
}
END_TEST

START_TEST(test_help)
{
    const char *cmds[] = {"--help", "devices --help", "info --help", "train --help", "evaluate --help",
                          "predict --help", "bench --help", "verify --help", "tune --help", "summary --help"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) EXPECT(cmds[i], 0, out, "usage: clfit");
}
END_TEST

START_TEST(test_bad_files)
{
    EXPECT("train --data ./nowhere", 1, err, "nowhere/train-images-idx3-ubyte.gz: No such file");
    EXPECT("evaluate --data . --model missing.safetensors", 1, err, "missing.safetensors: No such file");
    FILE *f = fopen("/dev/null", "r");
    fclose(f);
    char path[300];
    /* not safetensors at all */
    snprintf(path, sizeof path, "%s/text.safetensors", test_dir);
    f = fopen(path, "w"); fputs("hello, I am a text file\n", f); fclose(f);
    EXPECT("evaluate --data . --model text.safetensors", 1, err, "text.safetensors:");
    /* a safetensors file of somebody else's */
    snprintf(path, sizeof path, "%s/foreign.safetensors", test_dir);
    f = fopen(path, "wb");
    const char *hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    uint64_t n = strlen(hdr);
    fwrite(&n, 8, 1, f); fputs(hdr, f); fwrite("\0\0\0\0", 4, 1, f); fclose(f);
    EXPECT("evaluate --data . --model foreign.safetensors", 1, err, "not a clfit model");
    /* a real model, truncated */
    ck_assert_int_eq(clfit(TRAIN "--epochs 1 --save m.safetensors"), 0);
    snprintf(path, sizeof path, "%s/m.safetensors", test_dir);
    struct stat sb;
    stat(path, &sb);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "head -c %ld '%s' > '%s/cut.safetensors'", (long)sb.st_size - 100, path, test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("evaluate --data . --model cut.safetensors", 1, err, "truncated");
    /* a model of another input size */
    char other[300];
    snprintf(other, sizeof other, "%s/other", test_dir);
    mkdir(other, 0755);
    write_learnable_split(other, "t10k", 30, 3, 3, 10, 5);
    EXPECT("evaluate --data other --model m.safetensors", 1, err, "takes 4x5 images, the test set in other has 3x3");
    /* the same pixel count in another shape is another model's input too */
    write_learnable_split(other, "t10k", 30, 2, 10, 10, 5);
    EXPECT("evaluate --data other --model m.safetensors", 1, err, "takes 4x5 images, the test set in other has 2x10");
    EXPECT("predict --data other --model m.safetensors --index 1", 1, err, "takes 4x5 images");
    /* more indices than the set has images (the index buffer was sized by the set) */
    char many[400] = "predict --data . --model m.safetensors --index 0";
    for (int i = 0; i < 90; i++) strcat(many, ",1");
    EXPECT(many, 0, out, "test[1]: predicted");
    /* not regular files where a model should be: one line, no hang */
    snprintf(path, sizeof path, "%s/fifo.safetensors", test_dir);
    ck_assert_int_eq(mkfifo(path, 0600) == 0 || errno == EEXIST, 1);
    EXPECT("evaluate --data . --model fifo.safetensors", 1, err, "fifo.safetensors: is a FIFO, not a regular file");
    EXPECT("evaluate --data . --model other", 1, err, "other: is a directory, not a regular file");
    /* a test set unlike the training set: found before training, naming the directory */
    write_learnable_split(other, "train", 40, 4, 5, 10, 6);
    EXPECT("train --data other --epochs 1", 1, err, "in other the test images are 2x10, the training images 4x5");
    ck_assert_ptr_null(strstr(out, "Epoch"));
    EXPECT("info --data other", 1, err, "the test images are 2x10, the training images 4x5");
    /* outputs that cannot be written are found before training */
    EXPECT(TRAIN "--epochs 1 --history no/such/dir/h.csv", 1, err, "no/such/dir/h.csv: cannot write");
    ck_assert_ptr_null(strstr(out, "Epoch"));
    EXPECT(TRAIN "--epochs 1 --profile-csv other", 1, err, "other: is a directory");
    EXPECT(TRAIN "--epochs 1 --trace /dev/null", 1, err, "/dev/null: is a device, not a regular file");
    /* a batch larger than the examples to train on: one batch of them all, said once */
    EXPECT("train --data . --batch 65536 --epochs 1 --hidden 8", 0, err,
           "--batch 65536 is more than the 300 examples to train on: batches of 300");
    ck_assert_ptr_nonnull(strstr(out, "Epoch 1/1 - 1/1"));
    EXPECT("predict --data . --model m.safetensors --index 70", 1, err, "index 70: the test set has 70 images");
    EXPECT("evaluate --data . --model m.safetensors --device 99", 1, err, "device index 99");
    EXPECT(TRAIN "--epochs 1 --save no/such/dir/m.safetensors", 1, err, "no/such/dir/m.safetensors: cannot write");
    ck_assert_ptr_null(strstr(out, "Epoch"));
    EXPECT(TRAIN "--resume m.safetensors --hidden 64", 2, err, "holds 20-128-10");
    /* no temporary files left behind by the saves */
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q '\\.tmp\\.'", test_dir);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

START_TEST(test_train_output_and_round_trip)
{
    EXPECT(TRAIN "--epochs 3 --validation-split 0.2 --save m.safetensors --history h.csv", 0, out,
           "Epoch 1/3 - 15/15 - ");
    ck_assert_ptr_nonnull(strstr(out, "Epoch 3/3 - 15/15 - "));
    ck_assert_ptr_nonnull(strstr(out, " - loss: "));
    ck_assert_ptr_nonnull(strstr(out, " - val_accuracy: "));
    /* the data is learnable: the last epoch's training accuracy is high */
    const char *acc = strstr(strstr(out, "Epoch 3/3"), "- accuracy: ");
    ck_assert_ptr_nonnull(acc);
    ck_assert_msg(atof(acc + 12) > 0.8, "epoch 3 accuracy %s", acc);
    const char *test_line = strstr(out, "Test: loss: ");
    ck_assert_ptr_nonnull(test_line);
    char expected[128];
    snprintf(expected, sizeof expected, "%.*s", (int)strcspn(test_line, "\n"), test_line);
    /* evaluate on the saved model prints exactly the same line */
    EXPECT("evaluate --data . --model m.safetensors", 0, out, expected);
    /* history: a header and three rows with validation columns */
    char path[300], csv[4096];
    snprintf(path, sizeof path, "%s/h.csv", test_dir);
    read_text_file(path, csv, sizeof csv);
    ck_assert_ptr_nonnull(strstr(csv, "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,"));
    ck_assert_ptr_nonnull(strstr(csv, "\n3,"));
    ck_assert_ptr_null(strstr(csv, ",,"));
    /* predict: probabilities for every class, the predicted and the true class */
    EXPECT("predict --data . --model m.safetensors --index 0,5", 0, out, "test[0]: predicted ");
    ck_assert_ptr_nonnull(strstr(out, "test[5]: predicted "));
    ck_assert_ptr_nonnull(strstr(out, "Ankle boot"));
    ck_assert_ptr_nonnull(strstr(out, "<- "));
    EXPECT("info --data .", 0, out, "train images: 300 x 4 x 5");
    /* finite weights (1e30) whose sums overflow float: an error, not NaN probabilities */
    clfit_model_meta meta;
    clfit_status st;
    snprintf(path, sizeof path, "%s/m.safetensors", test_dir);
    clfit_model *m = clfit_model_load(path, &meta, &st);
    ck_assert_msg(m != NULL, "%s", clfit_last_error());
    for (size_t i = 0; i < m->nparams; i++) m->params[i] = m->params[i] >= 0 ? 1e30f : -1e30f;
    snprintf(path, sizeof path, "%s/huge.safetensors", test_dir);
    ck_assert_int_eq(clfit_model_save(path, m, &meta), CLFIT_OK);
    clfit_model_free(m);
    EXPECT("predict --data . --model huge.safetensors --index 0", 1, err, "the model's outputs are not finite numbers");
    ck_assert_ptr_null(strstr(out, "nan"));
}
END_TEST

START_TEST(test_determinism_and_resume)
{
    ck_assert_int_eq(clfit(TRAIN "--epochs 2 --seed 7 --validation-split 0.1 --save a.safetensors --history a.csv"), 0);
    ck_assert_int_eq(clfit(TRAIN "--epochs 2 --seed 7 --validation-split 0.1 --save b.safetensors"), 0);
    ck_assert_msg(files_equal("a.safetensors", "b.safetensors"), "two runs with the same seed differ");
    ck_assert_int_eq(clfit(TRAIN "--epochs 2 --seed 8 --validation-split 0.1 --save c.safetensors"), 0);
    ck_assert_msg(!files_equal("a.safetensors", "c.safetensors"), "another seed gave the same model");
    /* 1 epoch, save, resume for 1 more == 2 epochs, bit for bit (weights, Adam, metadata) */
    ck_assert_int_eq(clfit(TRAIN "--epochs 1 --seed 7 --validation-split 0.1 --save r.safetensors --history r.csv"), 0);
    EXPECT("train --data . --epochs 1 --resume r.safetensors --save r.safetensors --history r.csv", 0, out,
           "Epoch 2/2 - ");
    ck_assert_msg(files_equal("a.safetensors", "r.safetensors"), "resumed training differs from uninterrupted");
    /* and the history continues where it stopped */
    char path[300], csv[4096], csv2[4096];
    snprintf(path, sizeof path, "%s/r.csv", test_dir);
    read_text_file(path, csv, sizeof csv);
    snprintf(path, sizeof path, "%s/a.csv", test_dir);
    read_text_file(path, csv2, sizeof csv2);
    ck_assert_ptr_nonnull(strstr(csv, "\n2,"));
    /* the same numbers as the uninterrupted run, up to the seconds column */
    ck_assert_int_eq(strncmp(strstr(csv, "\n2,"), strstr(csv2, "\n2,"), 30), 0);
}
END_TEST

START_TEST(test_verify_and_profile)
{
    /* verify on this machine's device: every operation passes, and says so */
    EXPECT("verify --small", 0, out, " 0 failed");
    ck_assert_ptr_nonnull(strstr(out, "fused_grad_adam"));
    ck_assert_ptr_nonnull(strstr(out, "dense_forward"));
    /* profiling: a table with the kernels of both backends, a trace and its CSV */
    EXPECT(TRAIN "--epochs 1 --backend own --profile --trace t.json --profile-csv p.csv", 0, out,
           "fused_grad_adam");
    ck_assert_ptr_nonnull(strstr(out, "device busy"));
    EXPECT(TRAIN "--epochs 1 --backend clblast --profile", 0, out, "CLBlastSgemm NN");
    ck_assert_ptr_nonnull(strstr(out, "adam_update"));
    char path[300], buf[1 << 14];
    snprintf(path, sizeof path, "%s/p.csv", test_dir);
    read_text_file(path, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "kernel,calls,total_ms,mean_us,min_us,max_us,share,gflops,gbs\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\"fused_forward_head\","));
    snprintf(path, sizeof path, "%s/t.json", test_dir);
    read_text_file(path, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "{\"traceEvents\":["));
    ck_assert_ptr_nonnull(strstr(buf, "\"ph\":\"X\""));
}
END_TEST

/* The file begins with PNG's signature. */
static int is_png(const char *name)
{
    char p[300];
    unsigned char sig[8] = {0};
    snprintf(p, sizeof p, "%s/%s", test_dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    size_t n = fread(sig, 1, 8, f);
    fclose(f);
    return n == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
}

START_TEST(test_plots)
{
    EXPECT("plot", 2, out, "usage: clfit plot KIND");
    EXPECT("plot pie", 2, err, "unknown plot 'pie'");
    EXPECT("plot image", 2, err, "clfit plot image: --index I is required");
    EXPECT("plot predictions", 2, err, "--model FILE is required");
    EXPECT("plot history", 2, err, "--history FILE.csv is required");
    EXPECT("plot image --data . --index 300", 1, err, "the train set has 300 images");
    EXPECT("plot history --history missing.csv", 1, err, "missing.csv: No such file");
    ck_assert_int_eq(clfit(TRAIN "--epochs 2 --validation-split 0.2 --save m.safetensors --history h.csv"), 0);
    const char *runs[][2] = {
        {"plot image --data . --index 3 -o a.png", "a.png"},
        {"plot samples --data . --count 12 --cols 4 -o b.png", "b.png"},
        {"plot predictions --data . --model m.safetensors --rows 2 --cols 2 --start 5 -o c.png", "c.png"},
        {"plot probabilities --data . --model m.safetensors --index 7 -o d.png", "d.png"},
        {"plot history --history h.csv -o e.png", "e.png"},
        {"plot confusion --data . --model m.safetensors -o f.png", "f.png"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        EXPECT(runs[i][0], 0, out, "Wrote ");
        ck_assert_msg(is_png(runs[i][1]), "%s: no PNG written", runs[i][0]);
    }
    EXPECT("plot predictions --data . --model m.safetensors --rows 5 --cols 3 --start 60", 1, err,
           "images 60..74: the test set has 70 images");
}
END_TEST

/* Every line of err starts with "clfit: " (no compiler or driver output among them). */
static int only_clfit_lines(void)
{
    for (const char *p = err; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "clfit: ", 7) != 0) return 0;
        if (!strchr(p, '\n')) break;
    }
    return 1;
}

START_TEST(test_tune_and_train)
{
    EXPECT("tune --show", 0, out, "0 entries");
    EXPECT("tune --batch 0", 2, err, "--batch: sizes must be in 1..65536");
    EXPECT("tune --budget 0", 2, err, "--budget");
    EXPECT("tune --only TURBO", 2, err, "--only: 'TURBO' is not a tunable");
    EXPECT("tune --only HS,", 2, err, "--only: '' is not a tunable");
    /* the one-launch step trains (its step ends in the next launch: the epoch's figures
     * are whole); a deeper model than it takes runs the own backend and says why */
    EXPECT(TRAIN "--epochs 1 --gemm slice", 0, err, "clfit: slice HS=");
    EXPECT(TRAIN "--epochs 1 --gemm slice", 0, out, "Trained 1 epoch in ");
    EXPECT(TRAIN "--epochs 1 --gemm slice --hidden 8,8", 0, err, "clfit: own VW=");
    ck_assert_ptr_nonnull(strstr(err, "slice backend needs exactly one hidden layer"));
    /* a short tune for the data's shape, which train then uses and says so */
    EXPECT("tune --input 20 --hidden 24 --batch 16 --budget 3", 0, out, "saved in ./tuning.json");
    ck_assert_ptr_nonnull(strstr(out, "   1 "));
    ck_assert_ptr_nonnull(strstr(out, "us/step"));
    EXPECT("tune --show", 0, out, "1 entry");
    ck_assert_ptr_nonnull(strstr(out, "20-24-10"));
    EXPECT(TRAIN "--epochs 1 --hidden 24", 0, err, "(tuned for 20-24-10 at batch 16, full ");
    ck_assert_msg(only_clfit_lines(), "stderr: %s", err);
    /* an untuned shape: a short tune first, kept; the next run finds it */
    setenv("CLFIT_QUICK_TUNE", "3", 1);
    EXPECT("train --data . --batch 8 --epochs 1 --hidden 24", 0, err, "a short tune first");
    ck_assert_ptr_nonnull(strstr(err, "(quick tune for 20-24-10 at batch 8"));
    EXPECT("train --data . --batch 8 --epochs 1 --hidden 24", 0, err, "(tuned for 20-24-10 at batch 8, quick ");
    ck_assert_msg(only_clfit_lines(), "stderr: %s", err);
    unsetenv("CLFIT_QUICK_TUNE");
    /* evaluate runs what train ran: the tuned entry of the model's batch */
    ck_assert_int_eq(clfit("train --data . --batch 8 --epochs 1 --hidden 24 --save m.safetensors"), 0);
    EXPECT("evaluate --data . --model m.safetensors", 0, err, "(tuned for 20-24-10 at batch 8");
    /* an entry edited into nonsense is reported and not used; training goes on */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && sed -i 's/\"RB\":[[:space:]]*[0-9]*/\"RB\": 5/' tuning.json", test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("train --data . --batch 8 --epochs 1 --hidden 24", 0, err, "outside the search space of RB");
    ck_assert_ptr_nonnull(strstr(err, "defaults: not tuned"));
    /* $CLFIT_TUNE is checked */
    setenv("CLFIT_TUNE", "RB=5", 1);
    EXPECT(TRAIN "--epochs 1", 1, err, "CLFIT_TUNE: RB=5 is not one of 1, 2, 3, 4, 6, 8");
    setenv("CLFIT_TUNE", "RB=2,CB=1", 1);
    EXPECT(TRAIN "--epochs 1", 0, err, "RB=2 CB=1");
    ck_assert_ptr_nonnull(strstr(err, "CLFIT_TUNE=RB=2,CB=1"));
    unsetenv("CLFIT_TUNE");
    setenv("CLFIT_QUICK_TUNE", "soon", 1);
    EXPECT(TRAIN "--epochs 1", 1, err, "CLFIT_QUICK_TUNE=\"soon\": expected seconds");
    unsetenv("CLFIT_QUICK_TUNE");
}
END_TEST

/* Writes a learnable table: n rows of 3 features (on scales 100, 0.01 and 1, which an
 * MLP learns from only standardised) and a string class of 3, quoted, one with a comma. */
/* test_dir/name opened for writing, and r seeded */
static FILE *open_table(const char *name, clfit_rng *r, uint64_t seed)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", test_dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    clfit_rng_seed(r, seed);
    return f;
}

static void write_table(const char *name, int n, uint64_t seed)
{
    clfit_rng r;
    FILE *f = open_table(name, &r, seed);
    static const char *const kinds[3] = {"\"a, first\"", "b", "c"};
    fprintf(f, "\xEF\xBB\xBF\"big\",small,noise,kind\r\n");
    for (int i = 0; i < n; i++) {
        int c = (int)clfit_rng_below(&r, 3);
        fprintf(f, "%.4f,%.6f,%.3f,%s\r\n", 100 + 60.0 * c + 30 * clfit_rng_uniform(&r),
                0.01 * ((c + 1) % 3) + 0.004 * clfit_rng_uniform(&r), 10 * clfit_rng_uniform(&r), kinds[c]);
    }
    fclose(f);
}

/* Your own data: a CSV table trains, evaluates and predicts with its class names and its
 * standardisation kept in the model; its errors are one line naming the file, line and
 * column; the options that go with a table are refused without one. */
START_TEST(test_table)
{
    write_table("train.csv", 600, 1);
    write_table("test.csv", 150, 2);
    EXPECT("train --data train.csv --test test.csv --epochs 8 --batch 16 --hidden 16 --save t.safetensors", 0, out,
           "Test: loss: ");
    ck_assert_msg(only_clfit_lines(), "stderr: %s", err);
    double acc = atof(strstr(out, "Test: loss: ") + strlen("Test: loss: 0.0000 - accuracy: "));
    ck_assert_msg(acc >= 0.9, "test accuracy %g: %s", acc, out);
    /* no short tune for so small a problem: the class's defaults */
    ck_assert_ptr_nonnull(strstr(err, "defaults: not tuned for 3-16-3 at batch 16"));
    char line[64];
    snprintf(line, sizeof line, "accuracy: %.4f", acc);
    EXPECT("evaluate --model t.safetensors --data test.csv", 0, out, line);
    EXPECT("predict --model t.safetensors --data test.csv", 0, out, "row,true,predicted,\"a, first\",\"b\",\"c\"\n1,");
    EXPECT("predict --model t.safetensors --data test.csv --index 0", 0, out, "test[0]: predicted ");
    EXPECT("summary --model t.safetensors", 0, out, "Classes: 0 a, first, 1 b, 2 c");
    ck_assert_ptr_nonnull(strstr(out, "normalization (Normalization)"));
    /* without the standardisation: it trains, and the model holds none */
    EXPECT("train --data train.csv --test test.csv --epochs 8 --batch 16 --hidden 16 --no-normalize --save raw.safetensors",
           0, out, "Test: loss: ");
    EXPECT("summary --model raw.safetensors", 0, out, "Classes:");
    ck_assert_ptr_null(strstr(out, "Normalization"));
    /* rows without the target column: predicted all the same */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && cut -d, -f1-3 test.csv | sed 's/\"big\"/big/' > rows.csv", test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("predict --model t.safetensors --data rows.csv", 0, out, "row,predicted,\"a, first\"");
    EXPECT("evaluate --model t.safetensors --data rows.csv", 1, err, "rows.csv has no target column");
    /* a bad cell, a ragged row, an unknown class: exit 1, one line */
    snprintf(cmd, sizeof cmd, "cd '%s' && printf 'big,small,noise,kind\\n1,2,3,b\\n1,x,3,b\\n' > bad.csv && "
             "printf 'big,small,noise,kind\\n1,2,3\\n' > rag.csv && printf 'big,small,noise,kind\\n1,2,3,zebra\\n' > new.csv",
             test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("train --data bad.csv --epochs 1", 1, err, "clfit: bad.csv: line 3, column 1 (\"small\"): not a number: \"x\"\n");
    ck_assert_msg(only_clfit_lines(), "stderr: %s", err);
    EXPECT("train --data rag.csv --epochs 1", 1, err, "rag.csv: line 2, column 3 (\"kind\"): the row ends after 3");
    EXPECT("evaluate --model t.safetensors --data new.csv", 1, err, "the target \"zebra\" is none of the model's 3 classes");
    EXPECT("train --data train.csv --target colour --epochs 1", 1, err, "no column \"colour\"");
    /* values to regress on are refused, not made into classes */
    snprintf(cmd, sizeof cmd, "cd '%s' && printf 'a,b,y\\n1,2,0.5\\n3,4,1.25\\n5,6,2\\n' > reg.csv", test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("train --data reg.csv --epochs 1 --batch 2", 1, err, "reg.csv: line 2: the target holds numbers that are not class indices");
    /* --target by index: the class column is 3 */
    EXPECT("train --data train.csv --test test.csv --target 3 --epochs 1 --batch 16", 0, out, "Test: loss: ");
    /* what goes with a table only */
    EXPECT(TRAIN "--epochs 1 --test test.csv", 2, err, "--test goes with a table (--data FILE.csv)");
    EXPECT(TRAIN "--epochs 1 --no-normalize", 2, err, "--no-normalize goes with a table");
    EXPECT("train --data train.csv --test t.safetensors", 2, err, "--test t.safetensors: expected a .csv or .npz file");
    EXPECT("evaluate --model t.safetensors --data .", 1, err, "was trained on a table");
}
END_TEST

/* Rows whose targets are values: y = 3 big - 2 small + 100 and z = big small (big and
 * small on scales far apart), one noise column; the targets' variances ~ 300 and ~ 36. */
static void write_values(const char *name, int n, uint64_t seed)
{
    clfit_rng r;
    FILE *f = open_table(name, &r, seed);
    fprintf(f, "big,small,noise,\"y\",z\r\n");
    for (int i = 0; i < n; i++) {
        double big = 10 * clfit_rng_uniform(&r), small = 0.01 * clfit_rng_uniform(&r) - 0.005;
        fprintf(f, "%.5f,%.7f,%.3f,%.5f,%.5f\r\n", big, small, clfit_rng_uniform(&r), 3 * big - 2000 * small + 100,
                big * small * 1000);
    }
    fclose(f);
}

/* Regression: --loss mse on a table's value columns trains, reports mse and mae, and
 * evaluate, predict, summary, plot and the history follow; a classifier's parts refuse. */
START_TEST(test_regression)
{
    write_values("vtrain.csv", 800, 3);
    write_values("vtest.csv", 200, 4);
    EXPECT("train --data vtrain.csv --test vtest.csv --loss mse --target y,z --epochs 40 --batch 16 --hidden 32 "
           "--validation-split 0.1 --history vh.csv --save v.safetensors", 0, out, "Test: mse: ");
    ck_assert_msg(only_clfit_lines(), "stderr: %s", err);
    ck_assert_ptr_nonnull(strstr(out, " - mse: "));
    ck_assert_ptr_nonnull(strstr(out, " - val_mae: "));
    double mse = atof(strstr(out, "Test: mse: ") + strlen("Test: mse: "));
    /* the targets' variances are ~ 300 and ~ 36 (mean ~ 170): an estimate near their means
     * would score ~ 170; a fit, far less */
    ck_assert_msg(mse < 5, "test mse %g: %s", mse, out);
    char line[64];
    snprintf(line, sizeof line, "Test: mse: %.4f - mae: ", mse);
    EXPECT("evaluate --model v.safetensors --data vtest.csv", 0, out, line);
    EXPECT("predict --model v.safetensors --data vtest.csv", 0, out, "row,\"true_y\",\"true_z\",\"y\",\"z\"\n1,");
    EXPECT("summary --model v.safetensors", 0, out, "Targets (a regression: each output estimates a value): y, z");
    /* rows without the target columns: the estimates alone */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && cut -d, -f1-3 vtest.csv > vrows.csv && head -1 vh.csv > vhead", test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("predict --model v.safetensors --data vrows.csv", 0, out, "row,\"y\",\"z\"\n1,");
    EXPECT("evaluate --model v.safetensors --data vrows.csv", 1, err, "vrows.csv has no target column");
    EXPECT("plot scatter --model v.safetensors --data vtest.csv -o vs.png", 0, out, "Wrote vs.png");
    EXPECT("plot confusion --model v.safetensors --data vtest.csv -o vc.png", 1, err, "is a regression model");
    EXPECT("plot history --history vh.csv -o vhist.png", 0, out, "Wrote vhist.png");
    EXPECT("predict --model v.safetensors --data vtest.csv --index 0", 2, err, "a regression model predicts every row");
    snprintf(cmd, sizeof cmd, "grep -qx 'epoch,loss,mae,val_loss,val_mae,seconds' '%s/vhead'", test_dir);
    ck_assert_int_eq(system(cmd), 0);
    /* one target, by default the last column (z); resumed, the same targets */
    EXPECT("train --data vtrain.csv --test vtest.csv --loss mse --epochs 2 --batch 16 --save z.safetensors", 0, out,
           "Test: mse: ");
    EXPECT("summary --model z.safetensors", 0, out, "Targets (a regression: each output estimates a value): z\n");
    EXPECT("train --data vtrain.csv --test vtest.csv --resume z.safetensors --epochs 1", 0, out, "Epoch 3/3");
    /* what a regression refuses */
    EXPECT("train --data vtrain.csv --loss mse --validation-split 0.2 --early-stopping 2 --monitor val_accuracy "
           "--epochs 1", 2, err, "--monitor val_accuracy: the model reports val_mae");
    EXPECT("train --data vtrain.csv --epochs 1 --monitor val_mae --early-stopping 1 --validation-split 0.2", 2, err,
           "--monitor val_mae: the model reports val_accuracy");
    snprintf(cmd, sizeof cmd, "cd '%s' && printf 'a,b,kind\\n1,2,cat\\n3,4,dog\\n' > s.csv", test_dir);
    ck_assert_int_eq(system(cmd), 0);
    EXPECT("train --data s.csv --loss mse --epochs 1 --batch 2", 1, err,
           "s.csv: line 2, column 2 (\"kind\"): the target is not a number (a regression's targets are values)");
    EXPECT("export --model v.safetensors --softmax -o v.onnx", 2, err, "is a regression model");
    /* the same from an .npz: float y of two columns */
    enum { N = 400 };
    static double x[N * 2];
    static float y[N * 2];
    clfit_rng r;
    clfit_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        x[2 * i] = clfit_rng_uniform(&r);
        x[2 * i + 1] = clfit_rng_uniform(&r);
        y[2 * i] = (float)(50 + 4 * x[2 * i] - 3 * x[2 * i + 1]);
        y[2 * i + 1] = (float)(x[2 * i] * x[2 * i + 1]);
    }
    npy_member t[2] = {{"x", "<f8", "(400, 2)", x, sizeof x, 0}, {"y", "<f4", "(400, 2)", y, sizeof y, 0}};
    char p[400];
    snprintf(p, sizeof p, "%s/v.npz", test_dir);
    write_npz(p, t, 2, 1);
    EXPECT("train --data v.npz --loss mse --epochs 20 --batch 16 --hidden 16 --save vn.safetensors", 0, out, "mae: ");
    EXPECT("evaluate --model vn.safetensors --data v.npz --set train", 0, out, "Train: mse: ");
    mse = atof(strstr(out, "Train: mse: ") + strlen("Train: mse: "));
    ck_assert_msg(mse < 0.05, "train mse %g: %s", mse, out);
    EXPECT("summary --model vn.safetensors", 0, out, "Targets (a regression: each output estimates a value): y0, y1");
    EXPECT("train --data v.npz --epochs 1", 1, err, "v.npz: example 1: the target holds numbers that are not class "
                                                    "indices (0..255): --loss mse regresses on them");
}
END_TEST

/* Your own data from NumPy: Keras' layout (x_train, y_train, x_test, y_test) of a table
 * (float64 features on three scales, standardised) and of images (uint8 (N, 4, 5), scaled
 * by 1/255 as IDX images are); evaluate and predict read the same file's test arrays. */
START_TEST(test_npz)
{
    enum { NTR = 600, NTE = 150 };
    static double xtr[NTR * 3], xte[NTE * 3];
    static long long ytr[NTR], yte[NTE];
    clfit_rng r;
    clfit_rng_seed(&r, 5);
    for (int i = 0; i < NTR + NTE; i++) {
        int c = (int)clfit_rng_below(&r, 3);
        double *x = i < NTR ? xtr + 3 * i : xte + 3 * (i - NTR);
        x[0] = 100 + 60.0 * c + 30 * clfit_rng_uniform(&r);
        x[1] = 0.01 * ((c + 1) % 3) + 0.004 * clfit_rng_uniform(&r);
        x[2] = 10 * clfit_rng_uniform(&r);
        if (i < NTR) ytr[i] = c;
        else yte[i - NTR] = c;
    }
    npy_member t[4] = {{"x_train", "<f8", "(600, 3)", xtr, sizeof xtr, 0}, {"y_train", "<i8", "(600,)", ytr, sizeof ytr, 0},
                       {"x_test", "<f8", "(150, 3)", xte, sizeof xte, 0}, {"y_test", "<i8", "(150,)", yte, sizeof yte, 0}};
    char p[400];
    snprintf(p, sizeof p, "%s/t.npz", test_dir);
    write_npz(p, t, 4, 1);
    EXPECT("train --data t.npz --epochs 8 --batch 16 --hidden 16 --save n.safetensors", 0, out, "Test: loss: ");
    double acc = atof(strstr(out, "Test: loss: ") + strlen("Test: loss: 0.0000 - accuracy: "));
    ck_assert_msg(acc >= 0.9, "test accuracy %g: %s", acc, out);
    char line[64];
    snprintf(line, sizeof line, "accuracy: %.4f", acc);
    EXPECT("evaluate --model n.safetensors --data t.npz", 0, out, line);
    EXPECT("predict --model n.safetensors --data t.npz", 0, out, "row,true,predicted,\"class 0\",\"class 1\",\"class 2\"\n1,");
    EXPECT("train --data t.npz --target 3 --epochs 1", 2, err, "--target goes with a CSV file");
    /* images */
    static unsigned char img[NTR * 20], lab[NTR];
    for (int i = 0; i < NTR; i++) {
        lab[i] = (unsigned char)clfit_rng_below(&r, 10);
        for (int k = 0; k < 20; k++) img[i * 20 + k] = (unsigned char)((k % 10 == lab[i] ? 160 : 0) + clfit_rng_below(&r, 90));
    }
    npy_member im[2] = {{"x", "|u1", "(600, 4, 5)", img, sizeof img, 0}, {"y", "|u1", "(600,)", lab, sizeof lab, 0}};
    snprintf(p, sizeof p, "%s/img.npz", test_dir);
    write_npz(p, im, 2, 0);
    EXPECT("train --data img.npz --epochs 3 --batch 16 --save i.safetensors", 0, out, "Epoch 3/3");
    ck_assert_ptr_null(strstr(out, "Test:")); /* x and y alone: no test set */
    EXPECT("summary --model i.safetensors", 0, out, "4x5 images");
    /* its images are the IDX folder's kind: evaluate takes either */
    EXPECT("evaluate --model i.safetensors --data img.npz", 0, out, "Test: loss: ");
    EXPECT("evaluate --model n.safetensors --data img.npz", 1, err, "img.npz: 20 features, the model takes 3 inputs");
}
END_TEST

/* The compiler's warnings reach the user only with --verbose: kernels with a #warning,
 * compiled afresh (an empty PoCL cache). */
START_TEST(test_compiler_output_only_verbose)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/k' && cp '%s'/kernels/*.cl '%s/k/' && "
             "printf '#warning clfit test warning\\n' >> '%s/k/act.cl'",
             test_dir, CLFIT_SOURCE_DIR, test_dir, test_dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/k", test_dir);
    setenv("CLFIT_KERNEL_DIR", cmd, 1);
    snprintf(cmd, sizeof cmd, "%s/pocl", test_dir);
    setenv("POCL_CACHE_DIR", cmd, 1);
    EXPECT(TRAIN "--epochs 1", 0, out, "Epoch 1/1");
    ck_assert_msg(!strstr(err, "warning"), "stderr: %s", err);
    ck_assert_msg(only_clfit_lines(), "stderr: %s", err);
    EXPECT(TRAIN "--epochs 1 --verbose", 0, err, "clfit test warning");
    unsetenv("CLFIT_KERNEL_DIR");
    unsetenv("POCL_CACHE_DIR");
}
END_TEST

/* Keras' model.summary(): the tutorial's 101,770 parameters, and a saved model's
 * metadata */
START_TEST(test_summary)
{
    EXPECT("summary", 0, out, "Total params: 101,770 (397.54 KB)");
    ck_assert_ptr_nonnull(strstr(out, "dense_0 (Dense, relu)        (None, 128)               100,480"));
    ck_assert_ptr_nonnull(strstr(out, "Optimizer params (Adam's m and v): 203,540"));
    EXPECT("summary --hidden 8,4 --input 20 --classes 3", 0, out, "Total params: 219");
    ck_assert_int_eq(clfit(TRAIN "--epochs 2 --save s.safetensors"), 0);
    EXPECT("summary --model s.safetensors", 0, out, "Trained: 2 epochs, 38 optimizer steps, seed 42, batch 16");
    ck_assert_ptr_nonnull(strstr(out, "4x5 images"));
    EXPECT("summary --model s.safetensors --hidden 3", 2, err, "--model takes its shape from the file");
    EXPECT("summary --model missing.safetensors", 1, err, "missing.safetensors: No such file");
}
END_TEST

/* Keras' EarlyStopping(restore_best_weights) and ModelCheckpoint(save_best_only): the run
 * stops by itself, keeps its best epoch (the final file is the best epoch's, bit for bit),
 * and a resume continues from there. */
START_TEST(test_early_stopping)
{
    EXPECT(TRAIN "--validation-split 0.2 --early-stopping 2 --min-delta 0.05 --epochs 50 --save es.safetensors "
                 "--save-best best.safetensors", 0, out, "early stopping: val_loss has not improved by more than 0.05 for 2 epochs");
    ck_assert_ptr_null(strstr(out, "Epoch 50/50"));
    const char *kept = strstr(out, "Kept the weights of epoch ");
    ck_assert_ptr_nonnull(kept);
    long best = atol(kept + strlen("Kept the weights of epoch "));
    ck_assert_int_ge(best, 1);
    ck_assert_msg(files_equal("es.safetensors", "best.safetensors"), "the final model is not the best epoch's");
    char want[64];
    snprintf(want, sizeof want, "Saved es.safetensors (epoch %ld)", best);
    ck_assert_ptr_nonnull(strstr(out, want));
    snprintf(want, sizeof want, "Epoch %ld/%ld", best + 1, best + 1);
    EXPECT("train --data . --resume es.safetensors --epochs 1", 0, out, want);
    /* what they need and go with */
    EXPECT(TRAIN "--early-stopping 2 --epochs 1", 2, err, "need --validation-split");
    EXPECT(TRAIN "--monitor val_accuracy --epochs 1", 2, err, "go with --early-stopping or --save-best");
    EXPECT(TRAIN "--early-stopping 2 --monitor accuracy", 2, err, "--monitor: expected val_loss, val_accuracy or val_mae");
    EXPECT(TRAIN "--validation-split 0.2 --monitor val_accuracy --save-best b2.safetensors --epochs 2", 0, out, "Epoch 2/2");
}
END_TEST

/* The model's parts from the command line: they train, are said on stderr, saved, shown by
 * summary, and a resume continues them bit for bit (dropout masks by step, the optimizer's
 * state, the cosine schedule over --schedule-epochs, the plateau's state); bad ones get
 * one line and exit 2. */
START_TEST(test_parts)
{
#define PARTS "--hidden 16,8 --activation gelu,tanh --dropout 0.2,0.1 --optimizer adamw --weight-decay 1e-3 " \
              "--lr-schedule cosine --warmup-epochs 1 --seed 3 "
    EXPECT(TRAIN PARTS "--epochs 3 --save a.safetensors", 0, err,
           "clfit: model: activations gelu,tanh, dropout 0.2,0.1, loss crossentropy, optimizer adamw, weight decay 0.001");
    ck_assert_ptr_nonnull(strstr(out, "Test: loss: "));
    ck_assert_int_eq(clfit(TRAIN PARTS "--epochs 1 --schedule-epochs 3 --save r.safetensors"), 0);
    EXPECT("train --data . --epochs 2 --resume r.safetensors --save r.safetensors", 0, out, "Epoch 3/3 - ");
    ck_assert_msg(files_equal("a.safetensors", "r.safetensors"), "a resumed parts model differs from the uninterrupted one");
    EXPECT("summary --model a.safetensors", 0, out, "dense_0 (Dense, gelu)");
    ck_assert_ptr_nonnull(strstr(out, "dropout_1 (Dropout 0.1)"));
    ck_assert_ptr_nonnull(strstr(out, "lr 0.001 cosine (warm-up 1 epochs)"));
    EXPECT("train --data . --epochs 1 --resume a.safetensors", 0, err, "epochs 4 to 4 run at learning rate 0");
    EXPECT("train --data . --epochs 1 --resume a.safetensors --activation relu", 2, err, "come from a.safetensors");
    /* SGD with Nesterov momentum, L2, clipping and the plateau schedule on a validation split;
     * MSE; on both backends that take them */
#define SGD "--hidden 12 --activation silu --optimizer sgd --momentum 0.9 --nesterov --l2 0.01 --clipnorm 1 --lr 0.05 " \
            "--lr-schedule plateau --plateau-patience 0 --plateau-factor 0.5 --validation-split 0.2 --loss mse "
    for (int g = 0; g < 2; g++) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, TRAIN SGD "--backend %s --epochs 3 --save s%d.safetensors", g ? "own" : "clblast", g);
        EXPECT(cmd, 0, out, "Epoch 3/3");
        snprintf(cmd, sizeof cmd, TRAIN SGD "--backend %s --epochs 2 --save t%d.safetensors", g ? "own" : "clblast", g);
        ck_assert_int_eq(clfit(cmd), 0);
        snprintf(cmd, sizeof cmd, "train --data . --epochs 1 --resume t%d.safetensors --save t%d.safetensors --backend %s", g,
                 g, g ? "own" : "clblast");
        ck_assert_int_eq(clfit(cmd), 0);
        char a[32], b[32];
        snprintf(a, sizeof a, "s%d.safetensors", g);
        snprintf(b, sizeof b, "t%d.safetensors", g);
        ck_assert_msg(files_equal(a, b), "%s: a resumed SGD + plateau model differs", g ? "own" : "clblast");
    }
    /* a model slice cannot run: own instead, said */
    EXPECT(TRAIN "--hidden 8 --activation tanh --backend slice --epochs 1", 0, err, "slice backend runs ReLU, no dropout and cross-entropy only");
    EXPECT(TRAIN "--hidden 8 --optimizer rmsprop --backend slice --epochs 1", 0, err, "slice backend applies plain Adam only");
    /* what is wrong, in one line */
    EXPECT(TRAIN "--activation swish", 2, err, "--activation: 'swish' is not one of relu");
    EXPECT(TRAIN "--hidden 8 --activation relu,tanh", 2, err, "--activation names 2 activations for 1 hidden layers");
    EXPECT(TRAIN "--dropout 1", 2, err, "--dropout");
    EXPECT(TRAIN "--optimizer lbfgs", 2, err, "--optimizer: expected one of adam, adamw, sgd, rmsprop");
    EXPECT(TRAIN "--optimizer sgd --nesterov", 2, err, "--nesterov needs --optimizer sgd and a --momentum above 0");
    EXPECT(TRAIN "--momentum 0.9", 2, err, "--momentum and --nesterov go with --optimizer sgd or rmsprop");
    EXPECT(TRAIN "--warmup-epochs 1", 2, err, "go with --lr-schedule cosine");
    EXPECT(TRAIN "--loss hinge", 2, err, "--loss: expected one of crossentropy, mse");
    EXPECT(TRAIN "--lr-schedule cosine --warmup-epochs 3 --schedule-epochs 2", 2, err, "leaves nothing");
    EXPECT("summary --model a.safetensors --dropout 0.5", 2, err, "--model takes its parts from the file");
    EXPECT("summary --hidden 8 --activation gelu --dropout 0.5", 0, out, "dropout_0 (Dropout 0.5)");
#undef PARTS
#undef SGD
}
END_TEST

START_TEST(test_nan_stops_training)
{
    /* a learning rate of 1e30 drives the weights to infinity and the loss to NaN */
    EXPECT(TRAIN "--epochs 5 --lr 1e30 --hidden 16,16", 1, err, "loss is ");
    ck_assert_ptr_nonnull(strstr(err, "training stopped"));
    ck_assert_ptr_null(strstr(out, "Test:"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, make_data, test_dir_teardown);
    /* test_tune_and_train's short tunes and runs take over 120 s in the sanitizer build when
     * ctest -j2 shares the 2 cores (seen once in a fresh-clone run); 300 leaves room */
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_summary);
    tcase_add_test(tc, test_early_stopping);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_train_output_and_round_trip);
    tcase_add_test(tc, test_determinism_and_resume);
    tcase_add_test(tc, test_nan_stops_training);
    tcase_add_test(tc, test_parts);
    tcase_add_test(tc, test_verify_and_profile);
    tcase_add_test(tc, test_plots);
    tcase_add_test(tc, test_tune_and_train);
    tcase_add_test(tc, test_compiler_output_only_verbose);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_npz);
    tcase_add_test(tc, test_regression);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
