/*
 * nuisance.h - cross-fitted nuisance models, their selection and their cache.
 *
 * Roles (arms are labels 0..K-1; arm 0 is control):
 *   TT_NUISANCE_PROPENSITY  e(x) = P(W = k | x): width 1 (P(W = 1)) for two
 *                           arms, K columns otherwise; chosen by log-loss;
 *   TT_NUISANCE_OUTCOME     m(x) = E[Y | x] over all rows; chosen by MSE;
 *   TT_NUISANCE_ARM_OUTCOME mu_k(x) = E[Y | x, W = k], trained on arm k's rows,
 *                           predicted for every row; MSE on arm k's rows.
 * Instrumental variables (data with a binary instrument z, two arms):
 *   TT_NUISANCE_INSTRUMENT  r(x) = P(Z = 1 | x): width 1; log-loss on z;
 *   TT_NUISANCE_TREATMENT_GIVEN_Z  p_z(x) = P(W = 1 | x, Z = z) for z = arm
 *                           (0 or 1), trained on the rows with Z = z,
 *                           predicted for every row; log-loss on those rows.
 * A continuous treatment (data t_value):
 *   TT_NUISANCE_TREATMENT   E[T | x] = a regression of t_value: width 1,
 *                           chosen by MSE (diag.r2 against T's variance).
 *                           The arm-based roles do not exist there; arm
 *                           holds the treatment's strata (dataset.h) for the
 *                           folds only.
 * Cross-fitting: K folds (default 5), stratified by arm (by arm and
 * instrument value when there is an instrument), from the seed. Row i
 * of the out-of-fold predictions comes from a model that never saw row i;
 * the result also holds a model fitted on all rows, for new x.
 *
 * Cache: a result is keyed by (role, arm, learner spec, fold plan); asking
 * again returns the same result without refitting. Results stay owned by the
 * engine until tt_nuisance_engine_free.
 *
 * Thread-safety: one engine per thread (learners may use threads inside).
 * Library code: never prints.
 */
#ifndef TT_NUISANCE_NUISANCE_H
#define TT_NUISANCE_NUISANCE_H

#include <stddef.h>
#include <stdint.h>

#include "learn/learner.h"

typedef enum tt_nuisance_role {
    TT_NUISANCE_PROPENSITY = 0,
    TT_NUISANCE_OUTCOME,
    TT_NUISANCE_ARM_OUTCOME,
    TT_NUISANCE_INSTRUMENT,
    TT_NUISANCE_TREATMENT_GIVEN_Z,
    TT_NUISANCE_TREATMENT
} tt_nuisance_role;

/* "propensity", "outcome", "mu", "instrument", "treatment_given_z", "treatment" */
const char *tt_nuisance_role_name(tt_nuisance_role role);

/* Propensity-like roles: a classifier (classify = 1) scored by log-loss. */
int tt_nuisance_role_classifies(tt_nuisance_role role);

/* Roles fitted per group (arm): ARM_OUTCOME (the arm) and TREATMENT_GIVEN_Z
 * (the instrument value); the others take arm -1. */
int tt_nuisance_role_per_group(tt_nuisance_role role);

#define TT_NUISANCE_MAX_PARAMS 16
#define TT_NUISANCE_NAME_LEN 32

/* A learner with hyperparameters (keys not listed take their defaults). */
typedef struct tt_nuisance_spec {
    const char *learner;
    size_t n_params;
    const char *keys[TT_NUISANCE_MAX_PARAMS];
    double values[TT_NUISANCE_MAX_PARAMS];
} tt_nuisance_spec;

/* Training data, borrowed (must outlive the engine): column-major x (n x p);
 * y the outcome (may be NULL if only propensities are asked); arm in
 * 0..n_arms-1 (may be NULL for outcome-only use); weight may be NULL;
 * zbin: a binary instrument, 0 or 1 per row (NULL without one; the IV roles
 * need it). */
typedef struct tt_nuisance_data {
    size_t n, p;
    const double *x;
    const double *y;
    const int32_t *arm;
    size_t n_arms;
    const double *weight;
    const int32_t *zbin;
    const double *t_value;  /* a continuous treatment (n values), or NULL; with it, arm
                             * holds strata for the folds and only OUTCOME and TREATMENT
                             * may be asked */
} tt_nuisance_data;

typedef struct tt_nuisance_diag {
    char learner[TT_NUISANCE_NAME_LEN]; /* "known" for given propensities */
    size_t n_params;
    char keys[TT_NUISANCE_MAX_PARAMS][TT_NUISANCE_NAME_LEN];
    double values[TT_NUISANCE_MAX_PARAMS];
    double oof_loss;       /* log-loss (propensity) or MSE (outcomes), out of fold */
    double r2;             /* outcomes: 1 - MSE / variance of y; NAN for propensity */
    double auc;            /* two-arm propensity: AUC of e for W = 1; NAN otherwise */
    double calibration;    /* propensity: expected calibration error, 10 bins; NAN otherwise */
    double prop_min, prop_max; /* propensity: range of the predicted probabilities */
    size_t n_outside;      /* rows with a probability outside [0.05, 0.95] */
    size_t n_candidates;   /* candidates evaluated by the selection (1 if fixed) */
    double seconds;        /* wall time spent, selection included */
} tt_nuisance_diag;

/* diag.learner of a classifying role whose rows all have one class: the
 * out-of-fold values are that class (0 or 1), no model is fitted (full is
 * NULL) and new rows get the same value. */
#define TT_NUISANCE_CONSTANT "constant"

typedef struct tt_nuisance_result {
    tt_nuisance_role role;
    int arm;               /* ARM_OUTCOME: the arm; otherwise -1 */
    size_t n, width;       /* rows, values per row */
    double *oof;           /* n x width column-major, out-of-fold */
    tt_learner *full;      /* fitted on all (role-relevant) rows; NULL for "known" */
    tt_nuisance_diag diag;
} tt_nuisance_result;

typedef struct tt_nuisance_engine tt_nuisance_engine;

/* folds >= 2 (0 = 5). TT_ERR_DATA if an arm has fewer rows than folds
 * (a fold would train without it) or a label is out of range. */
tt_status tt_nuisance_engine_new(const tt_nuisance_data *data, size_t folds, uint64_t seed,
                                 tt_nuisance_engine **out, char *err, size_t errlen);
void tt_nuisance_engine_free(tt_nuisance_engine *e);

/* The fold of each training row (n values in 0..folds-1). */
const uint32_t *tt_nuisance_folds(const tt_nuisance_engine *e, size_t *folds);

/* Cross-fits one spec for (role, arm); cached. arm is ignored (use -1)
 * except for the per-group roles. For the classifying roles a learner with a
 * "classify" parameter gets classify = 1. */
tt_status tt_nuisance_fit(tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                          const tt_nuisance_spec *spec, const tt_nuisance_result **out,
                          char *err, size_t errlen);

/* Cross-fits every candidate in order and returns the one with the lowest
 * out-of-fold loss; it becomes the role's choice (tt_nuisance_chosen).
 * Nothing here looks at a clock: which candidates run is the caller's plan
 * (nuisance_cost.h sizes it by estimated work), so the same data and seed
 * always choose the same model. cands NULL / n_cands 0: the default
 * candidates of the role (below). Candidates that fail (unknown learner, a
 * fit that does not converge) are skipped; if all fail the last error is
 * returned. */
tt_status tt_nuisance_select(tt_nuisance_engine *e, tt_nuisance_role role, int arm,
                             const tt_nuisance_spec *cands, size_t n_cands,
                             const tt_nuisance_result **out, char *err, size_t errlen);

/* Progress of the engine's work: called before every cross-fitting fit
 * (fold 0..folds-1, then fold == folds for the fit on all rows). NULL fn
 * switches it off. The callback must not call back into the engine. */
typedef void (*tt_nuisance_progress_fn)(void *ctx, tt_nuisance_role role, int arm,
                                        const char *learner, size_t fold, size_t folds);
void tt_nuisance_set_progress(tt_nuisance_engine *e, tt_nuisance_progress_fn fn, void *ctx);

/* Hands a result made elsewhere (read back by nuisance_io.h) to the engine,
 * which takes ownership of *r (the struct and what it points to; freed with
 * the engine) and makes it the choice of (r->role, r->arm). r->n must be the
 * engine's row count. On error nothing is taken. */
tt_status tt_nuisance_adopt(tt_nuisance_engine *e, tt_nuisance_result *r, char *err,
                            size_t errlen);

/* Frees what a result owns (its out-of-fold values and model) and zeroes it;
 * for results that never reached an engine. */
void tt_nuisance_result_clear(tt_nuisance_result *r);

/* The default candidates for a role: *cands points at n static specs. */
void tt_nuisance_default_candidates(tt_nuisance_role role, const tt_nuisance_spec **cands,
                                    size_t *n);

/* Known propensities (n x width column-major, width 1 for two arms = P(W = 1),
 * else n_arms), in (0, 1): they become the propensity choice, with
 * diagnostics, and no model is fitted. */
tt_status tt_nuisance_set_propensity(tt_nuisance_engine *e, const double *prop, size_t width,
                                     const tt_nuisance_result **out, char *err,
                                     size_t errlen);

/* A randomised instrument's known P(Z = 1) (in (0, 1)) for every row: it
 * becomes the instrument choice, learner "known", with no model. */
tt_status tt_nuisance_set_instrument(tt_nuisance_engine *e, double p_z1,
                                     const tt_nuisance_result **out, char *err, size_t errlen);

/* The role's current choice (from select or set_propensity), or NULL. */
const tt_nuisance_result *tt_nuisance_chosen(const tt_nuisance_engine *e,
                                             tt_nuisance_role role, int arm);

/* Diagnostics of one out-of-fold result (exposed for tests / known columns). */
void tt_nuisance_diagnose(const tt_nuisance_data *d, tt_nuisance_result *r);

#endif
