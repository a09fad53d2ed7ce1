/*
 * pool.h - where the search loop sends its trials: one small interface with
 * two backends, the local pool of forked workers (worker.h, tt_pool_backend)
 * and the pool of MPI worker ranks (mpi_pool.h). The loop (search.c) only
 * launches, waits and asks how much room there is; which backend runs the
 * trials decides nothing about which trials run (the batch rule in search.c
 * does), so the same seed and batch width give the same trials on either.
 *
 * A backend's functions follow worker.h's contract:
 *  - launch: start trial `t` (the caller's slot is its handle); TT_ERR_* with
 *    a message when it cannot be started at all.
 *  - wait: up to max_wait seconds for one trial to end; 1 with *slot and the
 *    computed fields of *result (status, error, seconds, objective, ate,
 *    scores, oracle, terms, effects, log: all owned by the caller) when one
 *    did, 0 otherwise. A trial the backend lost (a dead rank) comes back as a
 *    failed result with the cause, never silently.
 *  - kill_all: drop every running trial (not recorded).
 * Not thread-safe: driven by the search loop's thread.
 */
#ifndef TT_SEARCH_POOL_H
#define TT_SEARCH_POOL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "search/trial.h"

/* One trial to start: what the local pool needs (problem, desc) and what a
 * remote one sends (id, estimator index, point, seed). */
typedef struct tt_trial_launch {
    size_t slot;                        /* the caller's handle */
    size_t id;                          /* the trial's id (1-based) */
    size_t estimator;                   /* index into the config's estimators */
    const tt_trial_problem *problem;
    const tt_plugin_descriptor *desc;
    const double *point;                /* desc->n_params values */
    uint64_t seed;
    volatile sig_atomic_t *stop_flag;
} tt_trial_launch;

typedef struct tt_trial_pool_ops {
    size_t (*running)(void *impl);
    int (*has_room)(void *impl);
    tt_status (*launch)(void *impl, const tt_trial_launch *t, char *err, size_t errlen);
    int (*wait)(void *impl, double max_wait, size_t *slot, tt_trial_result *result);
    void (*kill_all)(void *impl);
} tt_trial_pool_ops;

/* A backend: its functions and its state (borrowed; the creator frees it). */
typedef struct tt_trial_pool {
    const tt_trial_pool_ops *ops;
    void *impl;
} tt_trial_pool;

#endif
