/*
 * mpi_pool.h - rank 0's side of a search over MPI: the worker ranks as a
 * backend of the search loop (pool.h). Built only with MPI (TT_HAVE_MPI).
 *
 * Every rank from 1 to size - 1 is a worker (mpi_worker.h) that runs up to
 * its announced number of trials at once, each in a forked, isolated child.
 * The pool sends a trial to the ready rank with the most free slots and
 * reads results, heartbeats and late set-up answers with non-blocking
 * probes. A rank from which nothing has come for `timeout` seconds - it
 * died, hangs, or its machine is gone - is marked dead: each trial it was
 * running comes back from wait() as a failed trial ("worker rank 3 stopped
 * answering ..."), and the search goes on with the other ranks. A result
 * that arrives from a rank after that is ignored.
 *
 * Not thread-safe: one pool is driven by the search loop's thread, the only
 * thread that calls MPI.
 */
#ifndef TT_SEARCH_MPI_POOL_H
#define TT_SEARCH_MPI_POOL_H

#include <signal.h>
#include <stddef.h>

#include "search/pool.h"
#include "util/err.h"

typedef struct tt_mpi_pool tt_mpi_pool;

/* A pool over ranks 1..size-1 of MPI_COMM_WORLD, all still setting up;
 * timeout: seconds of silence after which a rank counts as dead (> 0).
 * NULL on out of memory. */
tt_mpi_pool *tt_mpi_pool_new(int size, double timeout);

/* Sends every ready rank TT_TAG_STOP and frees the pool. NULL is a no-op. */
void tt_mpi_pool_free(tt_mpi_pool *pool);

/* Wait until every worker rank has answered the set-up (ready or refused),
 * at most setup_timeout seconds (a rank silent that long is dead) or until
 * *stop. TT_ERR_DATA with the first refusal (a rank whose data differ from
 * rank 0's, say) as the message; TT_ERR_IO when no rank is ready;
 * otherwise TT_OK (ranks that died are counted by tt_mpi_pool_stats). */
tt_status tt_mpi_pool_gather(tt_mpi_pool *pool, double setup_timeout,
                             volatile sig_atomic_t *stop, char *err, size_t errlen);

/* The pool as the search loop's backend; borrows pool. */
tt_trial_pool tt_mpi_pool_backend(tt_mpi_pool *pool);

/* The search is over: tells every ready rank to stop its heartbeats, which
 * nobody reads while rank 0 refits and reports (they would only pile up in
 * its queue); tt_mpi_pool_free then stops the ranks. */
void tt_mpi_pool_quiet(tt_mpi_pool *pool);

typedef struct tt_mpi_pool_stats {
    int ranks_ready;            /* worker ranks that took trials */
    int ranks_dead;             /* of all worker ranks: marked dead (silent) */
    int slots;                  /* trial slots of the ready ranks, at the start */
    size_t trials;              /* results received (or lost to a dead rank) */
    size_t lost;                /* of those, lost to a dead rank */
    double request_bytes;       /* mean size of a trial request */
    double result_bytes;        /* mean size of a result message (result + log) */
    double busy_seconds;        /* rank 0's time from the first launch to the last
                                 * result that it did not spend asleep waiting */
    double span_seconds;        /* from the first launch to the last result */
    double cpu_seconds;         /* rank 0's CPU time over that span (every thread:
                                 * the search loop, its sink, MPI's progress) */
} tt_mpi_pool_stats;

void tt_mpi_pool_stats_of(const tt_mpi_pool *pool, tt_mpi_pool_stats *st);

/* 1 when a rank was marked dead: MPI_Finalize may then wait for it for
 * ever, and the caller should leave without it. */
int tt_mpi_pool_lost_a_rank(const tt_mpi_pool *pool);

#endif
