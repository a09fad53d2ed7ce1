/*
 * host.h - the services table the core hands to plugin instances.
 *
 * tt_host_services_init() fills a tt_plugin_host whose allocator is malloc,
 * whose logger forwards to tt_log (prefixed with the plugin name), whose
 * learners are core/learn's, and whose should_stop reads *stop_flag (may be
 * NULL = never stop). The table and ctx must outlive every instance created
 * with it. tt_host_services_init() also stores the seed in ctx, because the
 * learner_create callback only gets host_ctx and derives learner seeds from it.
 */
#ifndef TT_PLUGIN_HOST_H
#define TT_PLUGIN_HOST_H

#include <signal.h>
#include <stdint.h>

#include "nuisance/nuisance.h"
#include "tautune/plugin.h"

/* The run's nuisance models as the table serves them (nuisance_oof and
 * nuisance_predict): the engine's chosen results, fitted on the training
 * rows with features [x, w] (p_x + p_w columns). Borrowed. */
typedef struct tt_host_nuisances {
    const tt_nuisance_result *propensity;          /* or NULL */
    const tt_nuisance_result *outcome;             /* or NULL */
    const tt_nuisance_result *const *arm_outcome;  /* n_arms entries, or NULL */
    /* ABI 1.7, data with a binary instrument (or NULL): P(Z = 1 | x, w), and
     * P(T = 1 | x, w, Z = z) for z = 0, 1. A known (declared) instrument
     * propensity is a result without a model (full NULL): predict then
     * serves instrument_known, the design's constant. */
    const tt_nuisance_result *instrument;
    const tt_nuisance_result *treatment_given_z[2];
    double instrument_known;        /* in (0, 1): data.z_propensity's constant; 0: none */
    /* ABI 1.8, a continuous treatment (continuous != 0): E[T | x, w] instead
     * of the propensity (which is NULL there). */
    const tt_nuisance_result *treatment;
    int continuous;
    int n_arms;
    size_t p_x, p_w;
} tt_host_nuisances;

typedef struct tt_host_ctx {
    const char *plugin_name;        /* for log prefixes */
    volatile sig_atomic_t *stop_flag;
    double deadline;                /* tt_now() value after which should_stop is true; 0 = none */
    uint64_t seed;                  /* set by tt_host_services_init */
    const tt_host_nuisances *nuisances; /* NULL: the run has none */
    uint32_t capabilities;          /* the plugin's, to check what it declared it needs */
    size_t interval_resamples;      /* served as host->interval_resamples (0 = plugin default) */
    double last_poll;               /* tt_now() of the last should_stop (set by
                                     * tt_host_services_init): its gap guesses the next
                                     * unit of work's length */
} tt_host_ctx;

void tt_host_services_init(tt_plugin_host *host, tt_host_ctx *ctx, uint64_t seed);

/* The table's learner_create: the learner's seed derives from ctx's seed
 * and the learner's name (host_ctx is a tt_host_ctx, or NULL for seed 0). */
int tt_host_learner_create(void *host_ctx, const char *name, const char *const *keys,
                           const double *values, size_t n_params, tt_learner **out, char *err,
                           size_t errlen);

#endif
