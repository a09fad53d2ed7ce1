/*
 * worker.h - running trials in isolated worker processes.
 *
 * Each trial runs in a forked child: the data and every cached model are
 * shared copy-on-write, the result comes back over a pipe as a protocol.h
 * message. A child that crashes, aborts, hangs past its timeout, runs into
 * its memory cap or exits without a result becomes a failed or timed-out
 * trial with the cause (signal, exit code, tail of its stderr); the run goes
 * on. The pool holds up to `jobs` children at once.
 *
 * Not thread-safe: one pool is driven by one thread (the search loop).
 */
#ifndef TT_SEARCH_WORKER_H
#define TT_SEARCH_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "search/pool.h"
#include "search/trial.h"

typedef struct tt_worker_limits {
    int jobs;               /* children at once, >= 1 */
    double trial_timeout;   /* seconds of wall time per trial; 0 = none */
    double deadline;        /* tt_now() value of the run's end; 0 = none */
    double grace;           /* seconds a child may run past the deadline while it
                             * stops (its plugin sees should_stop at the deadline);
                             * then it is killed */
    size_t memory_cap;      /* bytes of address space per child (RLIMIT_AS); 0 = none */
    int own_group;          /* children in process groups of their own, killed with the
                             * pool's process (isolate.h; MPI worker ranks) */
} tt_worker_limits;

typedef struct tt_pool tt_pool;

tt_pool *tt_pool_new(const tt_worker_limits *limits); /* NULL on out of memory */

/* Kills every running child and frees the pool. NULL is a no-op. */
void tt_pool_free(tt_pool *pool);

size_t tt_pool_running(const tt_pool *pool);
int tt_pool_has_room(const tt_pool *pool);

/* Start one trial; slot is the caller's handle for it (returned by wait).
 * TT_ERR_IO when fork or pipe fails. */
tt_status tt_pool_launch(tt_pool *pool, size_t slot, const tt_trial_problem *problem,
                         const tt_plugin_descriptor *desc, const double *point, uint64_t seed,
                         volatile sig_atomic_t *stop_flag, char *err, size_t errlen);

/* Wait up to max_wait seconds for one child to finish (or to be killed for
 * its timeout). Returns 1 and fills *slot and the computed fields of *result
 * (status, error, seconds, objective, ate, scores, oracle) when one did;
 * 0 when none finished in time. result->terms (the objective's per-row
 * terms, or NULL) is then the caller's to free. */
int tt_pool_wait(tt_pool *pool, double max_wait, size_t *slot, tt_trial_result *result);

/* Kill every running child (their trials are dropped, not recorded). */
void tt_pool_kill_all(tt_pool *pool);

/* The pool as a backend of the search loop (pool.h); it borrows pool, which
 * must outlive it. */
tt_trial_pool tt_pool_backend(tt_pool *pool);

#endif
