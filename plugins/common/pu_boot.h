/*
 * pu_boot.h - seeded bootstrap intervals for estimators without analytic ones.
 *
 * The plugin supplies a way to fit one replica of whatever it bootstraps (a
 * final-stage learner, or a whole meta-learner) on a resample of its training
 * rows, and to predict effects with a replica. Replicas are fitted lazily, on
 * the first interval/average/save request, so a search that never asks for
 * intervals never pays for them.
 *
 * Resamples: B draws of n rows with replacement, stratified by arm (each arm
 * keeps its own row count, so no replica loses an arm), from host->seed.
 * Intervals are normal-approximation bootstrap intervals around the plugin's
 * own point estimate: tau_hat(x) +- z_{1-alpha/2} sd_b(tau_b(x)), with sd the
 * standard deviation over replicas. (Symmetric around the point estimate,
 * stable with a few dozen replicas; percentile intervals need hundreds.) The
 * average effect uses sd_b of each replica's mean effect over the rows.
 * Method text for results.json: "bootstrap (normal, B resamples)".
 */
#ifndef TT_PLUGINS_PU_BOOT_H
#define TT_PLUGINS_PU_BOOT_H

#include <stddef.h>

#include <tautune/plugin.h>

typedef struct pu_boot_ops {
    /* Fit one replica on training rows idx[0..n-1] (indices into the rows
     * the plugin kept; repeats allowed). */
    int (*fit)(void *ctx, const size_t *idx, size_t n, void **replica, char *err, size_t errlen);
    /* Effects of a replica: rows->n x (K-1) column-major. */
    int (*effect)(void *ctx, const void *replica, const tt_plugin_data *rows, double *out,
                  char *err, size_t errlen);
    int (*save)(void *ctx, const void *replica, const tt_plugin_sink *sink, char *err,
                size_t errlen);
    int (*load)(void *ctx, const tt_plugin_source *src, void **replica, char *err,
                size_t errlen);
    void (*destroy)(void *ctx, void *replica); /* NULL replica: no-op */
} pu_boot_ops;

typedef struct pu_boot {
    const tt_plugin_host *host;
    const pu_boot_ops *ops;
    void *ctx;            /* handed to every op (usually the plugin instance) */
    int n_arms;
    size_t resamples;     /* B */
    size_t n;             /* training rows the resamples index */
    int *arm;             /* n training arms (copied), for stratification; NULL after load */
    void **replicas;      /* B, NULL until fitted */
    int fitted;
} pu_boot;

#define PU_BOOT_DEFAULT_RESAMPLES 30

/* The replica count a plugin should use: the run's intervals.resamples
 * (host->interval_resamples) when the host is ABI >= 1.2 (abi_minor >= 2 and
 * struct_size covers the field) and sets it (> 0), else
 * PU_BOOT_DEFAULT_RESAMPLES. The count is a setting of the run, never a
 * hyperparameter, so plugins must not expose it in their schema. */
size_t pu_boot_resamples(const tt_plugin_host *host);

/* Set up (nothing fitted): arm is copied; resamples 0 means
 * PU_BOOT_DEFAULT_RESAMPLES. Returns 0; TT_ERR_INVALID for fewer than 2 (or
 * absurdly many) resamples, fewer than 2 arms, or an arm outside
 * 0..n_arms-1; TT_ERR_NOMEM. On error b holds nothing to free. */
int pu_boot_init(pu_boot *b, const tt_plugin_host *host, const pu_boot_ops *ops, void *ctx,
                 int n_arms, size_t resamples, size_t n, const int *arm, char *err,
                 size_t errlen);
void pu_boot_free(pu_boot *b); /* destroys replicas; NULL-safe */

/* Fit the replicas now if not yet done (polls host->should_stop between
 * them). Stopped after at least two replicas, it keeps those: b->resamples
 * becomes their count and the intervals use them. Stopped before, it fails
 * with TT_ERR_STOPPED. */
int pu_boot_ensure(pu_boot *b, char *err, size_t errlen);

/* point: the plugin's own effects for rows (rows->n x (K-1)). */
int pu_boot_interval(pu_boot *b, const tt_plugin_data *rows, const double *point, double alpha,
                     double *lo, double *hi, char *err, size_t errlen);
/* ate: filled with the mean of point per arm; lo/hi around it. */
int pu_boot_average(pu_boot *b, const tt_plugin_data *rows, const double *point, double alpha,
                    double *ate, double *lo, double *hi, char *err, size_t errlen);

/* save fits the replicas first, so a saved model can give intervals - unless
 * it was stopped before two were fitted (the run's budget ran out): then it
 * saves the model without replicas ("resamples 0", with a warning through
 * the host's log), and intervals of that model fail with
 * TT_ERR_UNSUPPORTED. */
int pu_boot_save(pu_boot *b, const tt_plugin_sink *sink, char *err, size_t errlen);
/* load: b is uninitialised; ops and ctx as for init. The replicas (and their
 * count) come from the stream, already fitted; there are no training rows,
 * so afterwards b->n is 0 and b->arm is NULL. */
int pu_boot_load(pu_boot *b, const tt_plugin_host *host, const pu_boot_ops *ops, void *ctx,
                 const tt_plugin_source *src, char *err, size_t errlen);

/* "bootstrap (normal, B resamples)" into buf. */
void pu_boot_method(const pu_boot *b, char *buf, size_t len);

#endif
