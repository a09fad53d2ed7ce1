/*
 * pu_meta.h - the scaffold of a bootstrapped meta-learner (s_learner,
 * t_learner, x_learner, da_learner).
 *
 * Such a plugin is, apart from its maths, always the same: it keeps a copy of
 * the training rows, fits one "core" (every fitted model of one whole
 * learner) on all rows as the point estimate, and bootstraps the whole
 * learner by fitting more cores on resamples of those rows (pu_boot, lazily).
 * The plugin supplies the core ops (a pu_boot_ops: fit on idx, effect, save,
 * load, destroy); pu_meta does the rest of the callbacks' work.
 *
 * Ownership: the plugin embeds a pu_meta in its instance and passes the
 * instance as ctx; every op gets that ctx back. pu_meta owns the training
 * copy (train), the per-row nuisance array nuis (stored by the prepare op,
 * e.g. n x K propensities), the training means of w (w_mean), the point core
 * and the bootstrap with its replicas; pu_meta_reset releases all of them
 * (and is all destroy needs from the scaffold). The plugin owns everything
 * else (its slots, other training summaries, the instance itself).
 *
 * Saved form (after the plugin's own header lines): the point core through
 * ops.save, then pu_boot_save's replicas.
 * Memory: host->alloc / host->release.
 */
#ifndef TT_PLUGINS_PU_META_H
#define TT_PLUGINS_PU_META_H

#include <stddef.h>

#include <tautune/plugin.h>

#include "pu_boot.h"
#include "pu_slot.h"

typedef struct pu_meta_ops {
    const char *name; /* the plugin's name, for "<name> is not fitted" */
    pu_boot_ops core; /* one whole learner: the point estimate and every replica */
    /* Optional. Called by pu_meta_fit after the training copy is made and
     * before the point core is fitted: the place for the plugin's training
     * summaries and for fetching per-row nuisances into meta->nuis. */
    int (*prepare)(void *ctx, const tt_plugin_data *train, char *err, size_t errlen);
    /* Non-zero: pu_meta_fit keeps the training means of w in meta->w_mean
     * (for learners that evaluate their models at a typical w). */
    int keep_w_mean;
} pu_meta_ops;

/* The training rows, column-major as in tt_plugin_data, copied by fit. */
typedef struct pu_meta_train {
    size_t n, p_x, p_w;
    double *x, *w, *y, *wt; /* wt NULL: unit weights */
    int *t;
} pu_meta_train;

typedef struct pu_meta {
    const tt_plugin_host *host;
    const pu_meta_ops *ops;
    void *ctx;           /* the plugin instance, handed to every op */
    int n_arms;
    size_t p_x, p_w;     /* of the fit (or the plugin's loaded header) */
    pu_meta_train train; /* empty after load */
    double *nuis;        /* per-row nuisances kept by prepare; NULL if none */
    double *w_mean;      /* p_w training means of w (ops->keep_w_mean), else NULL */
    void *point;         /* the point core; NULL until fitted */
    pu_boot boot;
    int boot_ready;      /* boot initialised (by fit or load) */
} pu_meta;

/* Set up an empty scaffold (nothing allocated). */
void pu_meta_init(pu_meta *m, const tt_plugin_host *host, const pu_meta_ops *ops, void *ctx,
                  int n_arms);
/* Release the training copy, nuis, w_mean, the point core and the bootstrap. */
void pu_meta_reset(pu_meta *m);

/* Forget any earlier fit, copy d, call prepare, fit the point core on all
 * rows and set up the (unfitted) bootstrap. On failure nothing is kept. */
int pu_meta_fit(pu_meta *m, const tt_plugin_data *d, char *err, size_t errlen);

/* TT_OK when fitted (or loaded), else "<name> is not fitted". */
int pu_meta_check(const pu_meta *m, char *err, size_t errlen);

/* The callbacks' bodies: point effects, bootstrap intervals around them, the
 * average effect with its bootstrap interval. */
int pu_meta_effect(pu_meta *m, const tt_plugin_data *rows, double *out, char *err,
                   size_t errlen);
int pu_meta_interval(pu_meta *m, const tt_plugin_data *rows, double alpha, double *lo,
                     double *hi, char *err, size_t errlen);
int pu_meta_average(pu_meta *m, const tt_plugin_data *rows, double alpha, double *ate,
                    double *lo, double *hi, char *err, size_t errlen);

/* The point core then the replicas (the plugin writes / reads its header
 * first; load expects m->n_arms, p_x, p_w and the plugin's settings set). */
int pu_meta_save(pu_meta *m, const tt_plugin_sink *sink, char *err, size_t errlen);
int pu_meta_load(pu_meta *m, const tt_plugin_source *src, char *err, size_t errlen);
/* Reads a "w_mean" line of p_w values into a new m->w_mean; non-zero when
 * out of memory or the line is not that. */
int pu_meta_load_w_mean(pu_meta *m, const tt_plugin_source *src);

/* ---- row gathering on the training copy, for the cores' fits ---- */

/* The entries of idx whose arm is `arm`, as a new list (host->alloc). */
size_t *pu_meta_select(const pu_meta *m, const size_t *idx, size_t n_idx, int arm, size_t *cnt);

/* Features of the training rows list[0..cnt-1]: [x, w] (with_w) or x; a new
 * cnt x p column-major array, or NULL. */
double *pu_meta_features(const pu_meta *m, const size_t *list, size_t cnt, int with_w);

/* A new slot learner fitted to target on features f (cnt x p) of the rows in
 * list, with those rows' sample weights (none when the data had none). */
int pu_meta_fit_learner(const pu_meta *m, const pu_slot *slot, const size_t *list, size_t cnt,
                        size_t p, const double *f, const double *target, tt_learner **out,
                        char *err, size_t errlen);

/* Every arm's rows within idx: their list, count, [x, w] features and
 * outcomes. pu_meta_groups_make fails with "arm %d has no training rows"
 * (TT_ERR_DATA) for an empty arm; free is safe on a partly made g. */
typedef struct pu_meta_groups {
    size_t **list;
    size_t *cnt;
    double **fxw;
    double **y;
} pu_meta_groups;

int pu_meta_groups_make(const pu_meta *m, const size_t *idx, size_t n_idx, pu_meta_groups *g,
                        char *err, size_t errlen);
void pu_meta_groups_free(const pu_meta *m, pu_meta_groups *g);

#endif
