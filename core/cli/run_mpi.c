/* run_mpi.c - starting and ending a run over MPI (run_mpi.h); without MPI
 * built in, the refusal. */
#include "cli/run_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TT_HAVE_MPI
#include <mpi.h>

#include <unistd.h>

#include "linalg/linalg.h"
#include "search/mpi_pool.h"
#include "search/mpi_wire.h"
#endif

/* Started by a launcher with several ranks: Open MPI's mpirun (and srun
 * with Open MPI) set OMPI_COMM_WORLD_SIZE, PMI launchers PMI_SIZE. */
static int launched_ranks(void)
{
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
}

#ifndef TT_HAVE_MPI

int tt_run_mpi_begin(const run_args *a, run_mpi **out)
{
    *out = NULL;
    int ranks = launched_ranks();
    if (a->mpi || a->mpi_slots > 0 || a->mpi_timeout > 0 || ranks > 1) {
        fprintf(stderr, "tautune: %s, but this tautune was built without MPI: install Open MPI "
                        "(Debian: openmpi-bin libopenmpi-dev) and build again, or run without "
                        "mpirun and --mpi\n",
                a->mpi ? "--mpi asks for a run over MPI" : ranks > 1
                         ? "started by mpirun with several ranks"
                         : "--mpi-slots/--mpi-timeout ask for a run over MPI");
        return -1;
    }
    return 0;
}

int tt_run_mpi_total_slots(const run_mpi *m)
{
    (void)m;
    return 0;
}

int tt_run_mpi_worker(run_mpi *m, run_cli *cli)
{
    (void)m;
    (void)cli;
    return TT_EXIT_ERROR;
}

int tt_run_mpi_share(run_mpi *m, run_state *s, const char *dir, tt_search_options *opt,
                     volatile sig_atomic_t *stop)
{
    (void)m, (void)s, (void)dir, (void)opt, (void)stop;
    return TT_EXIT_ERROR;
}

void tt_run_mpi_search_over(run_mpi *m)
{
    (void)m;
}

int tt_run_mpi_end(run_mpi *m, int rc, int quiet)
{
    (void)m;
    (void)quiet;
    return rc;
}

uint64_t tt_run_data_hash(const run_state *s)
{
    (void)s;
    return 0;
}

#else /* TT_HAVE_MPI */

/* mpirun binds each rank to a core when it starts 2 ranks or fewer, and
 * OpenBLAS then runs one thread where a local run on the same machine runs
 * one per core: a different order of sums, and scores that differ from the
 * local run's in their last bits. Every rank computes with what a local run
 * would use - OPENBLAS_NUM_THREADS when set, else every online core - so
 * `mpirun ... --jobs N` repeats `run --jobs N` bit for bit on machines of
 * the same kind (docs/cluster.md). */
static void same_blas_threads_as_local(void)
{
    if (getenv("OPENBLAS_NUM_THREADS") || getenv("OMP_NUM_THREADS"))
        return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores >= 1 && cores <= 1024)
        tt_linalg_set_threads((int)cores);
}

int tt_run_mpi_begin(const run_args *a, run_mpi **out)
{
    *out = NULL;
    int ranks = launched_ranks();
    if (!a->mpi && ranks <= 1) {
        if (a->mpi_slots > 0 || a->mpi_timeout > 0) {
            fprintf(stderr, "tautune run: --mpi-slots and --mpi-timeout belong to a run over MPI: "
                            "start it with mpirun and --mpi\n");
            return -1;
        }
        return 0;
    }
    int provided = 0;
    /* One thread calls MPI (the search loop's, or a worker's loop). */
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "tautune: MPI could not start\n");
        return -1;
    }
    /* A peer that died must cost an error code, not the job. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    run_mpi *m = calloc(1, sizeof *m);
    if (!m) {
        fprintf(stderr, "tautune: out of memory\n");
        MPI_Finalize();
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    same_blas_threads_as_local();
    m->slots = a->mpi_slots > 0 ? a->mpi_slots : 1;
    m->timeout = a->mpi_timeout > 0 ? a->mpi_timeout : TT_MPI_TIMEOUT_DEFAULT;
    if (m->size < 2) {
        if (m->rank == 0)
            fprintf(stderr, "tautune: --mpi needs 2 or more ranks (rank 0 searches, the others "
                            "run trials): mpirun -n N with N >= 2\n");
        MPI_Finalize();
        free(m);
        return -1;
    }
    *out = m;
    return 1;
}

int tt_run_mpi_total_slots(const run_mpi *m)
{
    return m ? (m->size - 1) * m->slots : 0;
}

void tt_run_mpi_search_over(run_mpi *m)
{
    if (m && m->pool)
        tt_mpi_pool_quiet(m->pool);
}

int tt_run_mpi_end(run_mpi *m, int rc, int quiet)
{
    if (!m)
        return rc;
    if (!m->shared) {
        /* Workers wait in the set-up broadcast: tell them the run is off. */
        tt_mpi_setup h;
        memset(&h, 0, sizeof h);
        char err[256];
        if (tt_mpi_bcast(&h, sizeof h, 10.0 * m->timeout, NULL, err, sizeof err) != TT_OK)
            fprintf(stderr, "tautune: mpi: %s\n", err);
    }
    int lost = 0;
    if (m->pool) {
        tt_mpi_pool_stats st;
        tt_mpi_pool_stats_of(m->pool, &st);
        if (!quiet && (st.trials > 0 || st.ranks_dead > 0))
            fprintf(stderr, "tautune: mpi: %d worker rank%s (%d trial slot%s), %zu trials (%zu "
                            "lost to %d dead rank%s); rank 0 per trial: %.2f ms busy, %.2f ms "
                            "CPU over %.1f s; messages: request %.0f B, result %.0f B on "
                            "average\n",
                    st.ranks_ready + st.ranks_dead, st.ranks_ready + st.ranks_dead == 1 ? "" : "s",
                    st.slots, st.slots == 1 ? "" : "s", st.trials, st.lost, st.ranks_dead,
                    st.ranks_dead == 1 ? "" : "s",
                    st.trials ? 1000.0 * st.busy_seconds / (double)st.trials : 0.0,
                    st.trials ? 1000.0 * st.cpu_seconds / (double)st.trials : 0.0,
                    st.span_seconds, st.request_bytes, st.result_bytes);
        lost = tt_mpi_pool_lost_a_rank(m->pool);
        tt_mpi_pool_free(m->pool); /* stops the working ranks */
    }
    if (rc != TT_EXIT_OK)
        /* mpirun --enable-recovery (which a run that survives a dead rank
         * needs) exits 0 whatever rank 0 returns: say it where it shows. */
        fprintf(stderr, "tautune: mpi: rank 0 exits with code %d\n", rc);
    /* With a dead rank MPI_Finalize may wait for it for ever; everything is
     * written by now, so a guard ends the wait. */
    tt_mpi_finalize_guarded(lost ? 3 : 30, rc);
    free(m);
    return rc;
}

#endif /* TT_HAVE_MPI */
