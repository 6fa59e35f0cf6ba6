/* The tunables (host/params.c), the tuning database and the tuner (host/tune.c):
 * parsing and formatting with clear errors; every class default inside the search space;
 * the database's round trip, replacement by key, and entries edited into nonsense being
 * reported and not used; a short search on the device that returns a checked, timed
 * result; and a fast wrong candidate discarded and reported, never chosen. */
#include <string.h>
#include <sys/stat.h>

#include "clfit/tune.h"
#include "testutil.h"

START_TEST(test_params_parse)
{
    clfit_params p, q;
    clfit_params_default(CLFIT_CLASS_CPU_AVX512, &p);
    q = p;
    ASSERT_OK(clfit_params_parse("RB=8,CB=1,BACKEND=clblast", "test", &q));
    ck_assert_int_eq(q.v[CLFIT_P_RB], 8);
    ck_assert_int_eq(q.v[CLFIT_P_CB], 1);
    ck_assert_int_eq(q.v[CLFIT_P_BACKEND], CLFIT_GEMM_CLBLAST);
    ck_assert_int_eq(q.v[CLFIT_P_VW], p.v[CLFIT_P_VW]); /* the rest untouched */
    ASSERT_OK(clfit_params_parse("", "test", &q));
    struct { const char *s, *msg; } bad[] = {
        {"RB=5", "RB=5 is not one of 1, 2, 3, 4, 6, 8"},
        {"FOO=1", "unknown tunable FOO"},
        {"RB", "expected NAME=VALUE"},
        {"RB=", "expected NAME=VALUE"},
        {"=4", "expected NAME=VALUE"},
        {"VW=8x", "VW=8x is not one of"},
        {"BACKEND=fast", "BACKEND=fast is not one of clblast, own"},
        {"RB=4,,CB=2", "expected NAME=VALUE"},
        {"FWGS=99999999999999999999", "is not one of"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clfit_params r = p;
        ck_assert_int_eq(clfit_params_parse(bad[i].s, "CLFIT_TUNE", &r), CLFIT_ERR_ARG);
        ck_assert_msg(strstr(clfit_last_error(), bad[i].msg), "'%s': %s", bad[i].s, clfit_last_error());
        ck_assert_ptr_nonnull(strstr(clfit_last_error(), "CLFIT_TUNE"));
        ck_assert_int_eq(memcmp(&r, &p, sizeof p), 0); /* unchanged on error */
    }
    char buf[256];
    q = p;
    q.v[CLFIT_P_BACKEND] = CLFIT_GEMM_CLBLAST;
    clfit_params_format(&q, buf, sizeof buf); /* only what matters to CLBlast's step */
    ck_assert_ptr_nonnull(strstr(buf, "clblast "));
    ck_assert_ptr_null(strstr(buf, "RB="));
    ck_assert_ptr_nonnull(strstr(buf, "WGS="));
}
END_TEST

START_TEST(test_class_defaults_in_space)
{
    for (int c = 0; c < CLFIT_CLASS_COUNT; c++) {
        clfit_params p;
        clfit_params_default(c, &p);
        for (int i = 0; i < CLFIT_P_COUNT; i++)
            ck_assert_msg(clfit_param_allowed(i, p.v[i]), "%s default %s=%d outside its space",
                          clfit_device_class_names[c], clfit_tunables[i].name, p.v[i]);
    }
    /* every tunable has a name, a description and a space */
    for (int i = 0; i < CLFIT_P_COUNT; i++) {
        ck_assert_int_gt(clfit_tunables[i].n, 1);
        ck_assert_int_eq(clfit_param_find(clfit_tunables[i].name), i);
    }
}
END_TEST

static clfit_device_info fake_device(const char *name)
{
    clfit_device_info d = {0};
    snprintf(d.platform_name, sizeof d.platform_name, "Test Platform");
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.driver, sizeof d.driver, "1.0");
    return d;
}

static clfit_tune_entry entry(const clfit_device_info *d, const char *arch, int batch, int rb)
{
    clfit_tune_entry e = {0};
    snprintf(e.platform, sizeof e.platform, "%s", d->platform_name);
    snprintf(e.device, sizeof e.device, "%s", d->name);
    snprintf(e.driver, sizeof e.driver, "%s", d->driver);
    snprintf(e.arch, sizeof e.arch, "%s", arch);
    e.batch = batch;
    clfit_params_default(CLFIT_CLASS_CPU_AVX2, &e.params);
    e.params.v[CLFIT_P_RB] = rb;
    e.us_per_step = 100;
    e.default_us_per_step = 150;
    snprintf(e.kind, sizeof e.kind, "full");
    snprintf(e.date, sizeof e.date, "2026-11-28T00:00:00Z");
    return e;
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_db_roundtrip)
{
    setenv("CLFIT_CACHE_DIR", test_dir, 1);
    clfit_device_info dev = fake_device("dev A"), other = fake_device("dev B");
    clfit_model_desc d = {.input = 784, .nhidden = 1, .hidden = {128}, .classes = 10};
    clfit_tune_entry e, got;
    int found = 1;
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found)); /* no file yet */
    ck_assert_int_eq(found, 0);
    e = entry(&dev, "784-128-10", 32, 6);
    ASSERT_OK(clfit_tunedb_store(&e));
    e = entry(&dev, "784-128-10", 128, 2);
    ASSERT_OK(clfit_tunedb_store(&e));
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(got.params.v[CLFIT_P_RB], 6);
    ck_assert_str_eq(got.kind, "full");
    ck_assert_double_eq_tol(got.us_per_step, 100, 1e-9);
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 128, &got, &found));
    ck_assert_int_eq(got.params.v[CLFIT_P_RB], 2);
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 64, &got, &found)); /* another batch */
    ck_assert_int_eq(found, 0);
    ASSERT_OK(clfit_tunedb_lookup(&other, &d, 32, &got, &found)); /* another device */
    ck_assert_int_eq(found, 0);
    clfit_model_desc deeper = d;
    deeper.nhidden = 2;
    deeper.hidden[1] = 64;
    ASSERT_OK(clfit_tunedb_lookup(&dev, &deeper, 32, &got, &found)); /* another model */
    ck_assert_int_eq(found, 0);
    /* storing the same key again replaces it */
    e = entry(&dev, "784-128-10", 32, 8);
    ASSERT_OK(clfit_tunedb_store(&e));
    clfit_tune_entry *all;
    int n;
    ASSERT_OK(clfit_tunedb_list(&all, &n));
    ck_assert_int_eq(n, 2);
    free(all);
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found));
    ck_assert_int_eq(got.params.v[CLFIT_P_RB], 8);
    /* an older tuner's entry slower than its defaults is not used, and said so */
    e.us_per_step = 160;
    ASSERT_OK(clfit_tunedb_store(&e));
    ck_assert_int_eq(clfit_tunedb_lookup(&dev, &d, 32, &got, &found), CLFIT_ERR_FORMAT);
    ck_assert_int_eq(found, 0);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "measured 160 us/step against the defaults' 150: slower, not used"));
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

/* A database edited by hand: what is wrong is said, and nothing of it is used. */
START_TEST(test_db_bad_entries)
{
    setenv("CLFIT_CACHE_DIR", test_dir, 1);
    clfit_device_info dev = fake_device("dev A");
    clfit_model_desc d = {.input = 784, .nhidden = 1, .hidden = {128}, .classes = 10};
    clfit_tune_entry got;
    int found;
    const char *head = "{\"format\": \"clfit tuning 1\", \"entries\": [{\"platform\": \"Test Platform\", "
                       "\"device\": \"dev A\", \"driver\": \"1.0\", \"model\": \"784-128-10\", \"batch\": 32, "
                       "\"params\": {";
    const char *good = "\"BACKEND\": \"own\", \"VW\": 8, \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, "
                       "\"RG\": 4, \"CG\": 1, \"SXE_WGS\": 64, \"WGS\": 64";
    struct { const char *params, *msg; } bad[] = {
        {"\"BACKEND\": \"own\", \"VW\": 7, \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, \"RG\": 4, \"CG\": 1, "
         "\"SXE_WGS\": 64, \"WGS\": 64", "outside the search space of VW"},
        {"\"BACKEND\": \"fast\", \"VW\": 8, \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, \"RG\": 4, \"CG\": 1, "
         "\"SXE_WGS\": 64, \"WGS\": 64", "outside the search space of BACKEND"},
        {"\"VW\": 8", "lacks BACKEND"},
        /* an entry from before the slice backend may lack its tunables, unless it is slice */
        {"\"BACKEND\": \"slice\", \"VW\": 8, \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, \"RG\": 4, \"CG\": 1, "
         "\"SXE_WGS\": 64, \"WGS\": 64", "lacks HS"},
        {"\"BACKEND\": \"own\", \"VW\": 8, \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, \"RG\": 4, \"CG\": 1, "
         "\"SXE_WGS\": 64, \"WGS\": 64, \"TURBO\": 1", "an unknown tunable TURBO"},
        {"\"BACKEND\": \"own\", \"VW\": 8.5, \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, \"RG\": 4, \"CG\": 1, "
         "\"SXE_WGS\": 64, \"WGS\": 64", "VW"},
        {"\"BACKEND\": \"own\", \"VW\": \"8\", \"FWGS\": 16, \"RB\": 4, \"CB\": 2, \"GWGS\": 16, \"RG\": 4, \"CG\": 1, "
         "\"SXE_WGS\": 64, \"WGS\": 64", "VW"},
    };
    char text[2048];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(text, sizeof text, "%s%s}}]}", head, bad[i].params);
        write_file("tuning.json", text);
        found = 1;
        ck_assert_int_eq(clfit_tunedb_lookup(&dev, &d, 32, &got, &found), CLFIT_ERR_FORMAT);
        ck_assert_int_eq(found, 0);
        ck_assert_msg(strstr(clfit_last_error(), bad[i].msg), "%s: %s", bad[i].params, clfit_last_error());
        ck_assert_ptr_nonnull(strstr(clfit_last_error(), "tuning.json"));
    }
    snprintf(text, sizeof text, "%s%s}}]}", head, good); /* the same, well formed */
    write_file("tuning.json", text);
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(got.params.v[CLFIT_P_VW], 8);
    /* tunables added after the entry was written: the values that run the kernels as then */
    ck_assert_int_eq(got.params.v[CLFIT_P_TR], 1);
    ck_assert_int_eq(got.params.v[CLFIT_P_TC], 1);
    ck_assert_int_eq(got.params.v[CLFIT_P_KC], 1024);
    /* not JSON, not ours, the wrong shape: an empty database, and storing replaces it */
    const char *junk[] = {"not json at all", "{\"format\": \"other\", \"entries\": []}", "[1, 2, 3]",
                          "{\"format\": \"clfit tuning 1\", \"entries\": 5}", ""};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        write_file("tuning.json", junk[i]);
        found = 1;
        ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found));
        ck_assert_int_eq(found, 0);
    }
    clfit_tune_entry e = entry(&dev, "784-128-10", 32, 3);
    ASSERT_OK(clfit_tunedb_store(&e));
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found));
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(got.params.v[CLFIT_P_RB], 3);
    /* a directory in the database's place: nothing found, storing fails with its reason */
    char path[512];
    snprintf(path, sizeof path, "%s/tuning.json", test_dir);
    remove(path);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ASSERT_OK(clfit_tunedb_lookup(&dev, &d, 32, &got, &found));
    ck_assert_int_eq(found, 0);
    ck_assert_int_eq(clfit_tunedb_store(&e), CLFIT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clfit_last_error(), "tuning.json"));
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

typedef struct {
    int timed, wrong, wrong_rb;
    int broken, default_rb;     /* broken: the kernels are wrong unless RB is default_rb */
} events;

static void count(const clfit_tune_event *ev, void *user)
{
    events *c = user;
    if (ev->outcome == CLFIT_CAND_TIMED) {
        c->timed++;
        ck_assert_msg(ev->us > 0, "a timed candidate has a time");
        ck_assert_msg(!c->broken || ev->params->v[CLFIT_P_RB] == c->default_rb ||
                          ev->params->v[CLFIT_P_BACKEND] == CLFIT_GEMM_CLBLAST,
                      "a broken candidate (RB=%d) was timed", ev->params->v[CLFIT_P_RB]);
    } else if (ev->outcome == CLFIT_CAND_WRONG) {
        c->wrong++;
        c->wrong_rb += ev->params->v[CLFIT_P_RB] != c->default_rb;
        ck_assert_ptr_nonnull(ev->why);
        ck_assert_msg(strstr(ev->why, "off by"), "the report says how far off: %s", ev->why);
    }
}

static const clfit_model_desc small_model = {.input = 33, .nhidden = 1, .hidden = {24}, .classes = 10};

START_TEST(test_tune_small)
{
    setenv("CLFIT_CACHE_DIR", test_dir, 1);
    events c = {.default_rb = tcl->p.v[CLFIT_P_RB]};
    clfit_tune_opts o = {.budget_s = 20, .quick = 1, .progress = count, .user = &c};
    clfit_tune_entry e;
    ASSERT_OK(clfit_tune(tcl, &small_model, 7, &o, &e));
    ck_assert_int_ge(e.candidates, 2);
    ck_assert_int_eq(e.candidates, c.timed);
    ck_assert_int_eq(e.rejected, 0); /* the real kernels are right whatever their tunables */
    ck_assert(e.us_per_step > 0 && e.default_us_per_step > 0);
    /* never slower than the defaults it was compared with: the winner kept only if faster */
    ck_assert_msg(e.us_per_step <= e.default_us_per_step, "%g us/step against the defaults' %g", e.us_per_step,
                  e.default_us_per_step);
    ck_assert_str_eq(e.kind, "quick");
    ck_assert_str_eq(e.arch, "33-24-10");
    ck_assert_int_eq(e.batch, 7);
    ck_assert_str_eq(e.device, tcl->info.name);
    for (int i = 0; i < CLFIT_P_COUNT; i++) ck_assert(clfit_param_allowed(i, e.params.v[i]));
    ck_assert_int_eq(memcmp(&tcl->p, &e.params, sizeof e.params), 0); /* cl left built with it */
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

/* Kernels that compute wrong answers whenever RB is not the class default: the tuner must
 * report every such candidate as wrong, time none of them, and never choose one. */
START_TEST(test_tune_discards_wrong)
{
    setenv("CLFIT_CACHE_DIR", test_dir, 1);
    int rb = tcl->p.v[CLFIT_P_RB];
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/k' && cp '%s'/kernels/*.cl '%s/k/' && "
             "{ printf '#if RB != %d\\n#define fma(a, b, c) ((a) * (b) + (c) + 1e-3f)\\n#endif\\n'; "
             "cat '%s/kernels/fused.cl'; } > '%s/k/fused.cl'",
             test_dir, CLFIT_SOURCE_DIR, test_dir, rb, CLFIT_SOURCE_DIR, test_dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/k", test_dir);
    setenv("CLFIT_KERNEL_DIR", cmd, 1);
    events c = {.broken = 1, .default_rb = rb};
    clfit_tune_opts o = {.budget_s = 30, .quick = 1, .progress = count, .user = &c};
    clfit_tune_entry e;
    ASSERT_OK(clfit_tune(tcl, &small_model, 7, &o, &e));
    unsetenv("CLFIT_KERNEL_DIR");
    ck_assert_int_ge(c.wrong_rb, 1);
    ck_assert_int_eq(c.wrong, c.wrong_rb);
    ck_assert_int_eq(e.rejected, c.wrong);
    ck_assert_int_eq(e.params.v[CLFIT_P_RB], rb);
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

/* Fused kernels that are wrong whatever their tunables (every fma in fused.cl off by
 * 1e-3): before training, clfit_cl_prepare finds the own backend wrong and uses the next
 * (clblast), saying why; with the backend forced it refuses in one line naming the
 * operation and what to do; the tuner whose defaults (own) fail starts from the next
 * backend's instead of giving up. */
START_TEST(test_wrong_backend_falls_back)
{
    setenv("CLFIT_CACHE_DIR", test_dir, 1);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/k' && cp '%s'/kernels/*.cl '%s/k/' && "
             "{ printf '#pragma push_macro(\"fma\")\\n#undef fma\\n#define fma(a, b, c) ((a) * (b) + (c) + 1e-3f)\\n'; "
             "cat '%s/kernels/fused.cl'; printf '#pragma pop_macro(\"fma\")\\n'; } > '%s/k/fused.cl'",
             test_dir, CLFIT_SOURCE_DIR, test_dir, CLFIT_SOURCE_DIR, test_dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/k", test_dir);
    setenv("CLFIT_KERNEL_DIR", cmd, 1);
    clfit_params p = tcl->p;
    p.v[CLFIT_P_BACKEND] = CLFIT_GEMM_OWN;
    p.v[CLFIT_P_SXE_WGS] = 2; /* a program not built yet: from the edited sources */
    ASSERT_OK(clfit_cl_set_params(tcl, &p));
    char note[1024];
    ASSERT_OK(clfit_cl_prepare(tcl, &small_model, 7, NULL, 1, 0, note, sizeof note));
    ck_assert_int_eq(tcl->p.v[CLFIT_P_BACKEND], CLFIT_GEMM_CLBLAST);
    ck_assert_msg(strstr(note, "clblast instead (own: fused_") && strstr(note, "off by"), "%s", note);
    ASSERT_OK(clfit_cl_set_params(tcl, &p));
    ck_assert_int_eq(clfit_cl_prepare(tcl, &small_model, 7, NULL, 1, CLFIT_KEEP_BACKEND, note, sizeof note),
                     CLFIT_ERR_CHECK);
    ck_assert_msg(strstr(clfit_last_error(), "own: fused_") && strstr(clfit_last_error(), "run 'clfit tune'"), "%s",
                  clfit_last_error());
    ck_assert_int_eq(tcl->p.v[CLFIT_P_BACKEND], CLFIT_GEMM_OWN); /* as it was */
    clfit_status st;
    clfit_cl *fresh = clfit_cl_open(NULL, &st); /* its programs all from the edited sources */
    ck_assert_msg(fresh != NULL, "%s", clfit_last_error());
    events c = {.default_rb = 0};
    clfit_tune_opts o = {.budget_s = 20, .quick = 1, .progress = count, .user = &c};
    clfit_tune_entry e;
    ASSERT_OK(clfit_tune(fresh, &small_model, 7, &o, &e));
    ck_assert_int_ne(e.params.v[CLFIT_P_BACKEND], CLFIT_GEMM_OWN);
    ck_assert_int_ge(e.rejected, 1);
    clfit_cl_close(fresh);
    unsetenv("CLFIT_KERNEL_DIR");
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

/* The backend is a tunable like any other: on a device of the GPU classes (the search
 * starts from the slice backend there, and tries the backend first), the tuner keeps the
 * one-launch step when the fused kernels are slower, and moves to them when it is. The
 * loser is made slow by an edited kernel file (sed expression `edit` on kernels/`file`)
 * that adds 0 * sin(sin(...(x))) to each of its loads or products: many times the work. */
static clfit_gemm tune_with_slow(const char *file, const char *edit)
{
    char cmd[4096], dir[600];
    snprintf(dir, sizeof dir, "%s/k-%s", test_dir, file);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/kernels/*.cl '%s/' && sed '%s' '%s/kernels/%s' > '%s/%s'",
             dir, CLFIT_SOURCE_DIR, dir, edit, CLFIT_SOURCE_DIR, file, dir, file);
    ck_assert_int_eq(system(cmd), 0);
    setenv("CLFIT_KERNEL_DIR", dir, 1);
    tcl->cls = CLFIT_CLASS_GPU_OTHER;
    events c = {.default_rb = 0};
    /* the backend alone, with a budget that leaves room for its candidates after a slow
     * start, also in the sanitizer build and beside other suites: at batch 64 a timing is
     * 256 steps of the 16,384 rows, not 2,341 as at batch 7 */
    clfit_tune_opts o = {.budget_s = 60, .quick = 1, .only = 1u << CLFIT_P_BACKEND, .progress = count, .user = &c};
    clfit_tune_entry e;
    ASSERT_OK(clfit_tune(tcl, &small_model, 64, &o, &e));
    unsetenv("CLFIT_KERNEL_DIR");
    ck_assert_int_eq(e.rejected, 0);
    ck_assert_msg(e.us_per_step > 0, "timed");
    return (clfit_gemm)e.params.v[CLFIT_P_BACKEND];
}

/* Each loser in its own test process, so that no program built before its edit is
 * reused: fused.cl slowed at every vector load (the own kernels' inner loops; slice.cl has
 * none), and slice.cl at every product (a plain multiply-add plus the sines). */
static const struct { const char *file, *edit, *winner; } slowed[] = {
    {"fused.cl", "s|^#define VLOAD(p) \\(.*\\)$|#define VLOAD(p) (\\1 + 0.0f * sin(sin(sin(\\1))))|", "slice"},
    {"slice.cl", "1i #define fma(a, b, c) ((a) * (b) + (c) + 0.0f * sin(sin(sin(sin(sin(sin(b)))))))", "own"},
};

START_TEST(test_tune_chooses_backend)
{
    setenv("CLFIT_CACHE_DIR", test_dir, 1);
    ck_assert_str_eq(clfit_gemm_names[tune_with_slow(slowed[_i].file, slowed[_i].edit)], slowed[_i].winner);
    unsetenv("CLFIT_CACHE_DIR");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tune");
    TCase *tc = tcase_create("params and database");
    tcase_add_checked_fixture(tc, test_dir_setup, test_dir_teardown);
    tcase_add_test(tc, test_params_parse);
    tcase_add_test(tc, test_class_defaults_in_space);
    tcase_add_test(tc, test_db_roundtrip);
    tcase_add_test(tc, test_db_bad_entries);
    suite_add_tcase(s, tc);
    TCase *dev = tcase_create("tuner");
    tcase_add_checked_fixture(dev, test_dir_setup, test_dir_teardown);
    tcase_add_checked_fixture(dev, cl_setup, cl_teardown);
    tcase_set_timeout(dev, 300);
    tcase_add_test(dev, test_tune_small);
    tcase_add_test(dev, test_tune_discards_wrong);
    tcase_add_test(dev, test_wrong_backend_falls_back);
    tcase_add_loop_test(dev, test_tune_chooses_backend, 0, 2);
    suite_add_tcase(s, dev);
    return run_suite(s);
}
