/*
 * scores.h - the one entry point to every score of METRICS.md.
 *
 * 1. A static catalogue (tt_score_catalogue): name, direction, what a score
 *    needs, one line of description. tt_score_check validates a configured
 *    name before any work starts.
 * 2. A scoring context (tt_score_context), built once per run from the
 *    training and validation views: it copies what the scores need of the
 *    validation rows, holds the scoring propensity (fitted on train and
 *    predicted on validation by propensity.c, or the user's known
 *    propensities), the options (clip, per-arm costs, ERUPT policy, Thompson
 *    draws, seed, energy threads) and the validation-cross-fitted nuisances
 *    of r_score and dr_mse (score_nuisance.h).
 * 3. tt_scores_compute: the scores of one candidate's effects.
 *
 * Thread-safety: a built context is read-only; tt_scores_compute may be
 * called from several threads (or forked workers) on one context.
 * Ownership: the context copies everything it keeps; the caller's arrays may
 * be freed after the build.
 */
#ifndef TT_SCORE_SCORES_H
#define TT_SCORE_SCORES_H

#include <stddef.h>
#include <stdint.h>

#include "score/score_value.h"
#include "tautune/plugin.h"

/* Effects beyond this magnitude are refused (the trial fails, naming the
 * row): squared and divided by clipped propensities they would overflow.
 * The data layer refuses outcomes past the same bound (TT_FRAME_MAX_MAGNITUDE). */
#define TT_SCORE_MAX_MAGNITUDE 1e100

typedef enum tt_score_direction {
    TT_SCORE_MIN = 0,  /* lower is better */
    TT_SCORE_MAX,      /* higher is better */
    TT_SCORE_REPORT    /* a figure reported alongside, not for ranking */
} tt_score_direction;

/* What a score needs (bit flags). */
#define TT_SCORE_NEEDS_BINARY 1u     /* exactly 2 arms */
#define TT_SCORE_NEEDS_INTERVALS 2u  /* the candidate's effect intervals */
#define TT_SCORE_NEEDS_INSTRUMENT 4u /* an instrument column (IV problems) */
#define TT_SCORE_NEEDS_NUISANCE 8u   /* validation-cross-fitted nuisances */
#define TT_SCORE_CONTINUOUS 16u      /* also defined for a continuous treatment (r_score,
                                      * dr_mse, the ate figures); the others need arms and
                                      * are null there, with that reason */

typedef struct tt_score_info {
    const char *name;
    tt_score_direction direction;
    unsigned needs;
    const char *description; /* one line */
} tt_score_info;

/* The catalogue, in report order; *n receives its length. Static. */
const tt_score_info *tt_score_catalogue(size_t *n);

/* Catalogue entry by name, or NULL. */
const tt_score_info *tt_score_find(const char *name);

/* Can `name` be computed for a problem with n_arms arms (and an instrument
 * or not)? Unknown name: TT_ERR_CONFIG, the message lists the valid names.
 * A binary-only score with n_arms > 2, or an IV score without an instrument:
 * TT_ERR_CONFIG saying why. Call it while validating the config. */
tt_status tt_score_check(const char *name, int n_arms, int has_instrument, char *err,
                         size_t errlen);

typedef enum tt_erupt_policy {
    TT_ERUPT_GREEDY = 0, /* METRICS.md default */
    TT_ERUPT_THOMPSON
} tt_erupt_policy;

typedef struct tt_score_options {
    double clip;                /* propensity clip c in [0, 0.5); default 0.05 */
    const double *cost;         /* K per-arm costs, cost[0] ignored (0); NULL: all 0 */
    /* Thompson (METRICS.md): s from the candidate's intervals; a candidate
     * without intervals uses one pooled s per arm for every row, the standard
     * error of the validation difference in means of arm k and the control,
     * sqrt(var_k / n_k + var_0 / n_0). Binary: closed form Phi(mu / s). */
    tt_erupt_policy erupt_policy;
    int thompson_draws;         /* Monte-Carlo draws per row for K > 2; default 200 */
    uint64_t seed;              /* run seed; streams "score:folds", "score:thompson" */
    int folds;                  /* nuisance cross-fitting folds; default 5 */
    int fit_nuisances;          /* 0: skip them; r_score and dr_mse are then null */
    double alpha_ridge, alpha_logistic; /* nuisance penalties; default 1.0 each */
    int qini_weighted;          /* IPW-weight the qini/auuc curves; default 0 */
    int energy_standardize;     /* default 1 (METRICS.md "differs") */
    int energy_threads;         /* <= 0: TT_ENERGY_DEFAULT_THREADS */
    /* 0 (default): the energy scores are exact on every validation row.
     * Otherwise, with more rows than this, they use energy.h's seeded
     * subsample (the same rows for every candidate); report it with
     * tt_score_context_energy_rows. */
    size_t energy_max_rows;
    /* Known propensities of the validation rows (n_valid x K column-major),
     * replacing the fitted scoring propensity; NULL: fit one on train. */
    const double *known_propensity;
    /* IV problems: instrument value of each validation row (0..n_instrument-1,
     * 0 the reference), and optionally P(z = g | row) (n_valid x n_instrument)
     * for weighting; NULL / 0 when there is no instrument. */
    const int *instrument;
    int n_instrument;
    const double *instrument_propensity;
    /* Cross-fitted scoring (K-fold cross-validated candidates): the fold of
     * every validation row (0..row_folds-1). The scoring nuisances are then
     * cross-fitted over these folds, and the scoring propensity (without
     * known_propensity) is their out-of-fold one instead of a model fitted
     * on train (which may then be NULL); fit_nuisances must be set. NULL:
     * the validation rows are one holdout. */
    const int *row_fold;
    int row_folds;
} tt_score_options;

/* Defaults as documented above. */
void tt_score_options_init(tt_score_options *opts);

typedef struct tt_score_context tt_score_context;

/* Build the context. A continuous treatment (valid->t_value set, t NULL, two
 * "arms"): no propensity is fitted (train unused), tt_scores_treat_shares is
 * TT_ERR_UNSUPPORTED, and only the TT_SCORE_CONTINUOUS scores have values.
 * train: x, w, t (and weight) set, used only to fit the
 * scoring propensity (ignored when opts->known_propensity is set; may then be
 * NULL). valid: the validation rows (x, w, t, y set), with the same columns.
 * Errors: bad options (TT_ERR_INVALID / TT_ERR_CONFIG), unusable rows
 * (TT_ERR_DATA), a model that cannot be fitted (its status, with the message
 * prefixed by what was being fitted). Free with tt_score_context_free.
 * valid->x is borrowed by the energy scores: it must outlive the context
 * (everything else is copied or not kept). */
tt_status tt_score_context_build(const tt_plugin_data *train, const tt_plugin_data *valid,
                                 const tt_score_options *opts, tt_score_context **out,
                                 char *err, size_t errlen);

void tt_score_context_free(tt_score_context *ctx); /* NULL is a no-op */

/* The scoring propensity (n_valid x K, unclipped), for diagnostics. */
const double *tt_score_context_propensity(const tt_score_context *ctx);

/* Rows the energy and psw_energy scores use: n_valid, or the subsample's
 * size when opts->energy_max_rows applies. */
size_t tt_score_context_energy_rows(const tt_score_context *ctx);

/* The cross-fitted nuisances, or NULL when not fitted. */
struct tt_score_nuisance;
const struct tt_score_nuisance *tt_score_context_nuisance(const tt_score_context *ctx);

/* Compute scores of one candidate. tau_hat: n_valid x (K-1) column-major;
 * lo, hi: the same shape, the candidate's effect intervals, or both NULL.
 * names: n_names score names; n_names == 0 means every catalogue score that
 * applies to this problem (binary-only scores skipped for K > 2, IV scores
 * skipped without an instrument). out: room for max values; *n_out receives
 * how many were written, in the order asked (catalogue order for "all").
 * A score that cannot be computed for this candidate is is_null with a reason
 * (e.g. "needs intervals", "g(n) = 0"), never an error. Errors: an unknown or
 * inapplicable name (TT_ERR_CONFIG, as tt_score_check), max too small,
 * non-finite tau_hat, lo/hi only one given (TT_ERR_INVALID). */
tt_status tt_scores_compute(const tt_score_context *ctx, const double *tau_hat, const double *lo,
                            const double *hi, const char *const *names, size_t n_names,
                            tt_score_value *out, size_t max, size_t *n_out, char *err,
                            size_t errlen);

/* Per-arm shares of rows the configured ERUPT policy gives each arm
 * (shares: K values summing to 1). Same inputs as tt_scores_compute. */
tt_status tt_scores_treat_shares(const tt_score_context *ctx, const double *tau_hat,
                                 const double *lo, const double *hi, double *shares, char *err,
                                 size_t errlen);

#endif
