/*
 * run_mpi.h - `tautune run` over MPI (docs/cluster.md): the run-level
 * set-up around the MPI trial pool (search/mpi_pool.h, mpi_worker.h).
 *
 * Under `mpirun -n N tautune run cfg.lua --mpi`, every rank starts the same
 * command. Rank 0 is the run: config, data, nuisance models, the searcher,
 * trials.jsonl, the refit and the report, exactly as a local run. Ranks
 * 1..N-1 are workers: each reads the same config and data itself (no run
 * folder), waits for rank 0's set-up broadcast - the hash of rank 0's rows,
 * which it checks against its own, the limits of a trial, and the nuisance
 * models' files, which it adopts and never fits - then runs the trials rank
 * 0 sends, each in a forked isolated child, until rank 0 says stop.
 *
 * Compiled with or without MPI: without it (TT_HAVE_MPI unset) `--mpi`, or
 * being started by mpirun with several ranks, is refused with a message.
 */
#ifndef TT_CLI_RUN_MPI_H
#define TT_CLI_RUN_MPI_H

#include <signal.h>
#include <stdint.h>

#include "cli/run.h"
#include "search/pool.h"
#include "search/search.h"

/* Default seconds of silence after which a worker rank is dead. */
#define TT_MPI_TIMEOUT_DEFAULT 30.0

struct tt_mpi_pool;

typedef struct run_mpi {
    int rank, size;
    int slots;                   /* trials at once per worker rank */
    double timeout;              /* seconds of silence: a dead rank */
    int shared;                  /* rank 0: the set-up broadcast went out */
    struct tt_mpi_pool *pool;    /* rank 0: the worker ranks, once set up */
    tt_trial_pool backend;       /* rank 0: pool as the search's backend */
} run_mpi;

/* Whether this is a run over MPI: --mpi, or started by mpirun with 2 or more
 * ranks. 0: a local run (*out NULL). 1: MPI is initialised and *out is the
 * caller's until tt_run_mpi_end / tt_run_mpi_worker. -1 after a message on
 * stderr: this tautune was built without MPI, or MPI cannot start. */
int tt_run_mpi_begin(const run_args *a, run_mpi **out);

/* Worker slots over every worker rank: the default batch width (--jobs). */
int tt_run_mpi_total_slots(const run_mpi *m);

/* A worker rank's whole life (run_mpi_worker.c): set up, serve, end MPI,
 * free m. Returns the process's exit code: 0 whenever rank 0 can report
 * the problem (a non-zero worker exit would make mpirun kill rank 0 before
 * it has written what finished). */
int tt_run_mpi_worker(run_mpi *m, run_cli *cli);

/* Rank 0, once the nuisance models are in dir (run_mpi_share.c): broadcast
 * the set-up (data hash, trial limits from opt, the nuisance files), wait
 * for every worker rank's answer, and point opt->pool at the worker ranks.
 * A TT_EXIT_* code after a message: TT_EXIT_DATA when a rank refused (its
 * data differ from rank 0's, say), TT_EXIT_INTERRUPTED at *stop. */
int tt_run_mpi_share(run_mpi *m, run_state *s, const char *dir, tt_search_options *opt,
                     volatile sig_atomic_t *stop);

/* Rank 0 once the search is over: the workers stop their heartbeats while
 * it refits and reports. No-op without a pool. */
void tt_run_mpi_search_over(run_mpi *m);

/* Rank 0 after the run: tells workers still waiting for the set-up that
 * the run is off, or the working ones to stop; prints the pool's figures
 * (unless quiet); ends MPI (not when a rank died: MPI_Finalize may then
 * wait for it for ever) and frees m. Returns rc. */
int tt_run_mpi_end(run_mpi *m, int rc, int quiet);

/* A fingerprint of the rows every trial sees (the training and validation
 * datasets, and every value in them): equal on two ranks when they read
 * the same data the same way. */
uint64_t tt_run_data_hash(const run_state *s);

#endif
