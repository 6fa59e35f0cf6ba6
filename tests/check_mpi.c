/* clfit train under mpirun (tools/clfit_mpi.c, clfit_fit's data parallelism): 2 processes
 * against 1 at the same global batch on small data made here. Tolerances: the two runs
 * differ only in how each batch's gradient is summed (two halves added, against one
 * sum over the batch), a rounding of ~1e-7 relative per step, which Adam's 1/sqrt(v)
 * amplifies at most to lr-sized moves: the first epoch's loss within rtol 1e-5, the
 * weights after 2 epochs within 1e-4 (the bound). And: the same bits run to run,
 * and when 1 epoch is saved and resumed for 1 more;
 * the batch's divisibility refused on every rank (exit 2); one failing rank ends both in
 * bounded time with its message. Runs where the build found MPI (tests/CMakeLists.txt). */
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "clfit/modelfile.h"
#include "testutil.h"

static char out[1 << 16], err[1 << 16];

/* Runs PREFIX clfit ARGS in the test directory (PREFIX: "" or an mpirun line); exit
 * status, with stdout and stderr in out and err. At most 120 s. */
static int run(const char *prefix, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "CLFIT_CACHE_DIR=. CLFIT_QUICK_TUNE=0 timeout 120 %s '%s' %s", prefix, CLFIT_BINARY, args);
    return run_in_test_dir(cmd, out, sizeof out, err, sizeof err);
}

#define MPIRUN2 MPIEXEC " --allow-run-as-root --oversubscribe -np 2"
#define TRAIN "train --data . --hidden 16 --batch 16 --gemm clblast "

static clfit_model *load(const char *name)
{
    char path[320];
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    clfit_status st;
    clfit_model *m = clfit_model_load(path, NULL, &st);
    ck_assert_msg(m != NULL, "%s", clfit_last_error());
    return m;
}

/* The first line's loss "Epoch 1/2 - ... - loss: X" */
static double first_loss(const char *text)
{
    const char *p = strstr(text, "loss: ");
    ck_assert_ptr_nonnull(p);
    return atof(p + 6);
}

static void make_data(void)
{
    test_dir_setup();
    write_learnable_split(test_dir, "train", 250, 4, 5, 10, 1);
    write_learnable_split(test_dir, "t10k", 70, 4, 5, 10, 2);
}

START_TEST(test_two_ranks_match_one)
{
    ck_assert_int_eq(run("", TRAIN "--epochs 2 --save one.safetensors"), 0);
    double l1 = first_loss(out);
    ck_assert_int_eq(run(MPIRUN2, TRAIN "--epochs 2 --save two.safetensors"), 0);
    double l2 = first_loss(out);
    ck_assert_msg(fabs(l1 - l2) <= 1e-5 * fabs(l1) + 1e-4, "epoch 1 loss: 1 rank %g, 2 ranks %g", l1, l2);
    ck_assert_ptr_nonnull(strstr(err, "rank 1 on host"));
    clfit_model *a = load("one.safetensors"), *b = load("two.safetensors");
    ck_assert_int_eq(a->step, b->step);
    ASSERT_CLOSE("weights, 2 ranks against 1", b->params, a->params, a->nparams, 1e-4, 0);
    /* the same rank count and flags: the same bits */
    ck_assert_int_eq(run(MPIRUN2, TRAIN "--epochs 2 --save again.safetensors"), 0);
    clfit_model *c = load("again.safetensors");
    ck_assert_msg(memcmp(b->params, c->params, b->nparams * sizeof(float)) == 0, "two runs of 2 ranks differ");
    /* 1 epoch, saved and resumed for 1 more under mpirun: the same bits as 2 at once */
    ck_assert_int_eq(run(MPIRUN2, TRAIN "--epochs 1 --save half.safetensors"), 0);
    ck_assert_int_eq(run(MPIRUN2, "train --data . --gemm clblast --resume half.safetensors --epochs 1 --save resumed.safetensors"), 0);
    clfit_model *r = load("resumed.safetensors");
    ck_assert_int_eq(r->step, b->step);
    ck_assert_msg(memcmp(b->params, r->params, b->nparams * sizeof(float)) == 0, "resumed under mpirun differs");
    clfit_model_free(r);
    clfit_model_free(a);
    clfit_model_free(b);
    clfit_model_free(c);
}
END_TEST

/* `train ARGS --save FILE` on one process and on two: the first epoch's loss and the
 * weights within the gradient sum's rounding (the bounds of test_two_ranks_match_one). */
static void assert_two_ranks_match_one(const char *args)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --save one.safetensors", args);
    ck_assert_int_eq(run("", cmd), 0);
    double l1 = first_loss(out);
    snprintf(cmd, sizeof cmd, "%s --save two.safetensors", args);
    ck_assert_int_eq(run(MPIRUN2, cmd), 0);
    double l2 = first_loss(out);
    ck_assert_msg(fabs(l1 - l2) <= 1e-5 * fabs(l1) + 1e-4, "%s: epoch 1 loss: 1 rank %g, 2 ranks %g", args, l1, l2);
    clfit_model *a = load("one.safetensors"), *b = load("two.safetensors");
    ASSERT_CLOSE("weights, 2 ranks against 1", b->params, a->params, a->nparams, 1e-4, 0);
    clfit_model_free(a);
    clfit_model_free(b);
}

/* The own backend under mpirun: its fused kernels store the gradient instead of applying
 * Adam; the same bounds against one process of own. */
START_TEST(test_own_backend)
{
    assert_two_ranks_match_one("train --data . --hidden 16 --batch 16 --backend own --epochs 2");
    ck_assert_ptr_nonnull(strstr(err, "clfit: own VW="));
}
END_TEST

/* Dropout under mpirun: each process's rows draw the masks one process draws for them (the
 * mask's counter numbers the row of the whole batch), so 2 ranks train what 1 does, within
 * the gradient sum's rounding; with another mask per row they would differ by far more. */
START_TEST(test_dropout_two_ranks_match_one)
{
    assert_two_ranks_match_one("train --data . --hidden 16,12 --activation gelu,tanh --dropout 0.3,0.2 --batch 16 "
                               "--epochs 2 --backend own");
    assert_two_ranks_match_one("train --data . --hidden 16,12 --activation gelu,tanh --dropout 0.3,0.2 --batch 16 "
                               "--epochs 2 --backend clblast");
}
END_TEST

/* A CSV table under mpirun: every process reads and standardises the same file, trains on
 * its share of each batch and evaluates its share of the test rows (their features, not
 * images); 2 ranks train and evaluate what 1 does. */
START_TEST(test_table_two_ranks_match_one)
{
    char path[400];
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", test_dir, k ? "test.csv" : "train.csv");
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        clfit_rng r;
        clfit_rng_seed(&r, 11 + (uint64_t)k);
        fprintf(f, "a,b,c,kind\n");
        for (int i = 0; i < (k ? 90 : 320); i++) {
            int c = (int)clfit_rng_below(&r, 3);
            fprintf(f, "%.4f,%.5f,%.3f,%s\n", 50 + 40.0 * c + 30 * clfit_rng_uniform(&r), 0.01 * c + 0.02 * clfit_rng_uniform(&r),
                    clfit_rng_uniform(&r), c == 0 ? "x" : c == 1 ? "y" : "z");
        }
        fclose(f);
    }
    assert_two_ranks_match_one("train --data train.csv --test test.csv --hidden 12 --batch 16 --epochs 3 --backend own");
    ck_assert_ptr_nonnull(strstr(out, "Test: loss: "));
    /* evaluate shares the test rows among the processes: the same correct count */
    ck_assert_int_eq(run("", "evaluate --model one.safetensors --data test.csv"), 0);
    const char *a = strstr(out, "accuracy: ");
    ck_assert_ptr_nonnull(a);
    char one[32];
    snprintf(one, sizeof one, "%.16s", a);
    ck_assert_int_eq(run(MPIRUN2, "evaluate --model one.safetensors --data test.csv"), 0);
    ck_assert_msg(strstr(out, one) != NULL, "1 rank: %s; 2 ranks: %s", one, out);
}
END_TEST

START_TEST(test_batch_must_divide)
{
    ck_assert_int_eq(run(MPIRUN2, "train --data . --batch 15 --epochs 1"), 2);
    ck_assert_ptr_nonnull(strstr(err, "--batch 15 does not divide by the 2 processes"));
}
END_TEST

START_TEST(test_failing_rank_ends_all)
{
    /* rank 1 reads a data directory that does not exist */
    int rc = run(MPIRUN2 " sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then exec \"$0\" \"$@\" --data nowhere; "
                 "else exec \"$0\" \"$@\"; fi'", TRAIN "--epochs 1");
    ck_assert_int_ne(rc, 0);
    ck_assert_int_ne(rc, 124); /* not the timeout */
    ck_assert_ptr_nonnull(strstr(err, "nowhere/train-images-idx3-ubyte.gz: No such file"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mpi");
    TCase *tc = tcase_create("mpirun");
    tcase_add_checked_fixture(tc, make_data, test_dir_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_two_ranks_match_one);
    tcase_add_test(tc, test_own_backend);
    tcase_add_test(tc, test_dropout_two_ranks_match_one);
    tcase_add_test(tc, test_table_two_ranks_match_one);
    tcase_add_test(tc, test_batch_must_divide);
    tcase_add_test(tc, test_failing_rank_ends_all);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
