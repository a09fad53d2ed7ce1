/*
 * pu_final.h - the final stage shared by the DR family, dml_nonparam and
 * transformed_outcome: per treated arm k, a regression of a target g_k (a
 * pseudo-outcome) on the effect modifiers x, with optional weights, giving
 * theta_k(x), intervals and an average effect.
 *
 * Kinds (one per plugin family member; the forest stage of issue 9 becomes
 * one more kind here, so dr_forest and causal_forest_dml reuse every caller):
 *   PU_FINAL_LINEAR   OLS of g_k on phi(x), HC1 intervals        (pu_linear.h)
 *   PU_FINAL_SPARSE   debiased lasso of g_k on phi(x)            (pu_linear.h)
 *   PU_FINAL_LEARNER  a slot learner on x, bootstrap intervals   (pu_slot.h, pu_boot.h)
 *   PU_FINAL_FOREST   a regression forest of the host (ABI 1.3) on x per arm,
 *                     intervals est +- z sqrt(var) from the little-bags
 *                     variance; the average effect is the mean estimate with
 *                     the MEAN OF THE ROW BOUNDS as its interval (the forest
 *                     gives no covariance between rows, and averaging the
 *                     bounds is the conservative choice: it assumes perfectly
 *                     correlated row errors)                      (pu_forest.h)
 * Rows: each arm's regression uses the rows where the row mask of that arm
 * is set (NULL = all rows) - the DR learner uses every row, dml_nonparam too.
 * For PU_FINAL_SPARSE the phi intercept is the lasso's own intercept.
 *
 * Memory: host->alloc; the final stage copies what its lazy bootstrap needs
 * (x, targets, weights, arms), never keeping the caller's pointers.
 */
#ifndef TT_PLUGINS_PU_FINAL_H
#define TT_PLUGINS_PU_FINAL_H

#include <stddef.h>

#include <tautune/plugin.h>

#include "pu_boot.h"
#include "pu_linear.h"
#include "pu_forest.h"
#include "pu_slot.h"

typedef enum pu_final_kind {
    PU_FINAL_LINEAR = 0,
    PU_FINAL_SPARSE,
    PU_FINAL_LEARNER,
    PU_FINAL_FOREST
} pu_final_kind;

typedef struct pu_final_spec {
    pu_final_kind kind;
    pu_phi phi;          /* LINEAR / SPARSE (p_x is set by fit) */
    pu_slot slot;        /* LEARNER */
    size_t resamples;    /* LEARNER: bootstrap replicas (0 = PU_BOOT_DEFAULT_RESAMPLES) */
    pu_forest_cfg forest; /* FOREST (not saved: the fitted forests carry their settings) */
} pu_final_spec;

typedef struct pu_final pu_final;

int pu_final_new(const tt_plugin_host *host, const pu_final_spec *spec, int n_arms,
                 pu_final **out, char *err, size_t errlen);
void pu_final_free(pu_final *f); /* NULL-safe */

/* x: n x p_x column-major; arm: n arms (for bootstrap stratification);
 * target: n x (K-1) column-major (column k-1 = g_k); weight: n x (K-1) or
 * NULL; mask: n x (K-1) 0/1 or NULL (all rows for every arm). */
int pu_final_fit(pu_final *f, size_t n, size_t p_x, const double *x, const int *arm,
                 const double *target, const double *weight, const unsigned char *mask,
                 char *err, size_t errlen);

int pu_final_effect(pu_final *f, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen);
int pu_final_interval(pu_final *f, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen);
int pu_final_average(pu_final *f, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen);

int pu_final_save(pu_final *f, const tt_plugin_sink *sink, char *err, size_t errlen);
int pu_final_load(const tt_plugin_host *host, const tt_plugin_source *src, pu_final **out,
                  char *err, size_t errlen);

/* "HC1 sandwich", "debiased lasso", pu_boot_method's text or
 * "forest variance (little bags)". */
const char *pu_final_method(const pu_final *f);

/* A FOREST final stage's split-frequency importance (pu_forest_importance),
 * averaged over the treated arms' forests, into out (p values);
 * TT_ERR_UNSUPPORTED for the other kinds. */
int pu_final_importance(pu_final *f, double *out, size_t p, char *err, size_t errlen);

#endif
