/*
 * mpi_worker.h - a worker rank's side of a search over MPI: the loop that
 * takes trial requests from rank 0, runs each in a forked, isolated child
 * through the local pool (worker.h, so a plugin that crashes costs one
 * trial, never the rank) and sends back the result with the trial's log.
 * Built only with MPI (TT_HAVE_MPI).
 *
 * The rank's own process is the only one that calls MPI: the children
 * compute and answer over their pipe, as they do in a local run.
 */
#ifndef TT_SEARCH_MPI_WORKER_H
#define TT_SEARCH_MPI_WORKER_H

#include <signal.h>
#include <stddef.h>

#include "search/trial.h"
#include "search/worker.h"

typedef struct tt_mpi_worker_stats {
    size_t trials;       /* trials run (results sent) */
    int peer_lost;       /* rank 0's stop said another rank died */
    int rank0_lost;      /* rank 0 was silent for TT_MPI_RANK0_TIMEOUTS timeouts during
                          * the search (it died): the loop left without a stop */
} tt_mpi_worker_stats;

/* Serve rank 0 until it sends TT_TAG_STOP, *stop is set (SIGTERM from
 * mpirun) or, during the search, nothing came from rank 0 for
 * TT_MPI_RANK0_TIMEOUTS timeouts (6 beats each: it died). problem and descs[0..n_descs) (the config's estimators, in
 * config order: a request names one by index) are this rank's own copies,
 * set up from the same config and data as rank 0's. limits.jobs is the
 * rank's number of trial slots. beat: seconds between heartbeats to rank 0.
 * Returns 0 after a stop, -1 when MPI failed (rank 0 is gone). */
int tt_mpi_worker_serve(const tt_trial_problem *problem, const tt_plugin_descriptor *const *descs,
                        size_t n_descs, const tt_worker_limits *limits, double beat,
                        volatile sig_atomic_t *stop, tt_mpi_worker_stats *stats);

#endif
