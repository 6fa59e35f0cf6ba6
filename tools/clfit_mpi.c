/* clfit under mpirun: data-parallel training across processes (one per device) with Open
 * MPI. The library needs no MPI: this file gives clfit_fit the operations it needs between
 * processes (clfit_collective, include/clfit/fit.h) and the command line what it needs to
 * know (rank, size, the device of each), all in MPI when the build found it. A build
 * without MPI started by mpirun as several processes says so and stops (exit 2) rather
 * than train the same model several times over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifdef CLFIT_HAVE_MPI
#include <mpi.h>
#endif

static int mpi_on, mpi_rank, mpi_size = 1, mpi_local;

/* The process count mpirun (Open MPI, or a PMI launcher) announces; 1 if none. */
static int launcher_size(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
    for (int i = 0; i < 4; i++) {
        const char *v = getenv(vars[i]);
        long n;
        if (v && clfit_parse_long(v, 1, 1 << 20, &n)) return (int)n;
    }
    return 1;
}

int cli_mpi_start(int *argc, char ***argv)
{
    int n = launcher_size();
#ifdef CLFIT_HAVE_MPI
    if (n > 1) {
        MPI_Init(argc, argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
        MPI_Comm local;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, mpi_rank, MPI_INFO_NULL, &local);
        MPI_Comm_rank(local, &mpi_local);
        MPI_Comm_free(&local);
        mpi_on = 1;
    }
    return 0;
#else
    (void)argc;
    (void)argv;
    if (n > 1) {
        fprintf(stderr, "clfit: started as one of %d processes (mpirun), but this clfit was built without MPI: "
                        "install libopenmpi-dev and build again (tools/install-deps.sh does)\n", n);
        return 2;
    }
    return 0;
#endif
}

void cli_mpi_end(int rc)
{
#ifdef CLFIT_HAVE_MPI
    if (!mpi_on) return;
    /* bad usage (2) is found from the arguments alone, the same on every process: each
     * ends by itself. A failure (1) may be one process's alone, while the others wait in
     * a collective: MPI_Abort ends every process, never a hang. */
    if (rc != 0 && rc != 2) MPI_Abort(MPI_COMM_WORLD, rc);
    MPI_Finalize();
#else
    (void)rc;
#endif
}

int cli_mpi_rank(void) { return mpi_rank; }
int cli_mpi_size(void) { return mpi_size; }

#ifdef CLFIT_HAVE_MPI
/* Every process's n values side by side, then added in rank order: the same bits on every
 * process and from run to run (MPI_Allreduce promises neither order nor equality). It
 * moves size x n values where a ring would move 2n: simple and exact first. */
static clfit_status gather_sum(void *buf, size_t n, int is_double)
{
    size_t esz = is_double ? sizeof(double) : sizeof(float);
    if (n > (size_t)(1 << 30) / esz) return clfit_fail(CLFIT_ERR_ARG, "allreduce of %zu values: too many", n);
    /* every step gathers the same size: one buffer, grown once, kept */
    static char *all;
    static size_t cap;
    size_t need = esz * n * (size_t)mpi_size;
    if (need > cap) {
        char *bigger = realloc(all, need);
        if (!bigger) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory for the allreduce");
        all = bigger;
        cap = need;
    }
    MPI_Datatype t = is_double ? MPI_DOUBLE : MPI_FLOAT;
    MPI_Allgather(buf, (int)n, t, all, (int)n, t, MPI_COMM_WORLD);
    for (size_t i = 0; i < n; i++) {
        if (is_double) {
            double s = ((double *)all)[i];
            for (int r = 1; r < mpi_size; r++) s += ((double *)all)[(size_t)r * n + i];
            ((double *)buf)[i] = s;
        } else {
            float s = ((float *)all)[i];
            for (int r = 1; r < mpi_size; r++) s += ((float *)all)[(size_t)r * n + i];
            ((float *)buf)[i] = s;
        }
    }
    return CLFIT_OK;
}

static clfit_status sum_floats(float *buf, size_t n, void *user)
{
    (void)user;
    return gather_sum(buf, n, 0);
}

static clfit_status sum_doubles(double *buf, int n, void *user)
{
    (void)user;
    return gather_sum(buf, (size_t)n, 1);
}

static clfit_status broadcast(float *buf, size_t n, void *user)
{
    (void)user;
    for (size_t done = 0; done < n;) {
        int k = n - done > (1u << 30) ? 1 << 30 : (int)(n - done);
        MPI_Bcast(buf + done, k, MPI_FLOAT, 0, MPI_COMM_WORLD);
        done += (size_t)k;
    }
    return CLFIT_OK;
}

static clfit_status same(uint64_t v, const char *what, void *user)
{
    (void)user;
    uint64_t *all = malloc(sizeof *all * (size_t)mpi_size);
    if (!all) return clfit_fail(CLFIT_ERR_NOMEM, "out of memory");
    MPI_Allgather(&v, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    int differ = -1;
    for (int r = 1; r < mpi_size && differ < 0; r++)
        if (all[r] != all[0]) differ = r;
    free(all);
    if (differ >= 0)
        return clfit_fail(CLFIT_ERR_NUMERIC, "the %s of rank %d differ from rank 0's: training stopped", what, differ);
    return CLFIT_OK;
}

static const clfit_collective coll = {.sum_floats = sum_floats, .sum_doubles = sum_doubles,
                                      .broadcast = broadcast, .same = same};
#endif

const clfit_collective *cli_mpi_collective(void)
{
#ifdef CLFIT_HAVE_MPI
    static clfit_collective c;
    if (!mpi_on || mpi_size < 2) return NULL;
    c = coll;
    c.rank = mpi_rank;
    c.size = mpi_size;
    return &c;
#else
    return NULL;
#endif
}

const char *cli_mpi_device(const char *dev, char *buf, size_t size)
{
    if (!mpi_on || dev || (getenv("CLFIT_DEVICE") && *getenv("CLFIT_DEVICE"))) return dev;
    /* the local rank's GPU, cycling through the host's GPUs; else the first device */
    clfit_device_info *list;
    int n, gpus = 0;
    if (clfit_cl_devices(&list, &n)) return NULL;
    for (int i = 0; i < n; i++) gpus += (list[i].type & CL_DEVICE_TYPE_GPU) != 0;
    int want = gpus ? mpi_local % gpus : -1, k = 0;
    const char *out = NULL;
    for (int i = 0; i < n && want >= 0; i++)
        if (list[i].type & CL_DEVICE_TYPE_GPU) {
            if (k++ == want) {
                snprintf(buf, size, "%d", i);
                out = buf;
                break;
            }
        }
    free(list);
    return out;
}

void cli_mpi_report_device(const char *name)
{
#ifdef CLFIT_HAVE_MPI
    if (!mpi_on) return;
    char mine[256], host[64] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(mine, sizeof mine, "rank %d on host %s: device %s", mpi_rank, host, name);
    char *all = mpi_rank == 0 ? malloc(sizeof mine * (size_t)mpi_size) : NULL;
    MPI_Gather(mine, (int)sizeof mine, MPI_CHAR, all, (int)sizeof mine, MPI_CHAR, 0, MPI_COMM_WORLD);
    for (int r = 0; all && r < mpi_size; r++) fprintf(stderr, "clfit: %s\n", all + (size_t)r * sizeof mine);
    free(all);
#else
    (void)name;
#endif
}
