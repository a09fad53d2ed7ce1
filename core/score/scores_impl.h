/*
 * scores_impl.h - internal to core/score: the layout of tt_score_context,
 * shared by scores_context.c (build) and scores.c (compute).
 */
#ifndef TT_SCORE_SCORES_IMPL_H
#define TT_SCORE_SCORES_IMPL_H

#include "score/score_nuisance.h"
#include "score/scores.h"

/* Catalogue indices, in catalogue order (scores_catalogue.c). */
enum {
    SC_ENERGY, SC_PSW_ENERGY, SC_IV_ENERGY, SC_ERUPT, SC_ERUPT_NET, SC_TREAT_SHARE,
    SC_NORM_ERUPT, SC_QINI, SC_AUUC, SC_POLICY_VALUE, SC_POLICY_GAIN, SC_POLICY_GAIN_BEST,
    SC_POLICY_RISK, SC_R_SCORE, SC_DR_MSE, SC_IV_DR_MSE, SC_ATE, SC_ATE_SD, SC_ATE_LO, SC_ATE_HI,
    SC_COUNT
};

struct tt_score_context {
    size_t n, p;
    int n_arms;
    const double *x;            /* n x p: the validation rows' x, borrowed (scores.h) */
    double *y;                  /* a copy: n */
    int *t;                     /* n */
    double *prop;               /* n x K scoring propensity, unclipped */
    double clip;
    double *cost;               /* K, cost[0] = 0 */
    int has_cost;
    tt_erupt_policy erupt_policy;
    int thompson_draws;
    uint64_t seed;
    double *qini_weight;        /* n IPW weights, or NULL when unweighted */
    int energy_standardize, energy_threads;
    size_t energy_max_rows, energy_rows;
    int *instrument;            /* n, or NULL */
    int n_instrument;
    double *instrument_prop;    /* n x n_instrument, or NULL */
    tt_score_nuisance nu;
    int has_nu;
    char nu_reason[160];        /* why there are no nuisances */
    char iv_reason[160];        /* why nu has no IV nuisances (IV problems) */
    double *pooled_s;           /* K-1: Thompson s for candidates without intervals */
    double *arm_value;          /* K: Hajek value of giving every row arm k */
    double mean_y;
    int continuous;             /* a continuous treatment: t holds strata, the arm-based
                                 * scores are null (only TT_SCORE_CONTINUOUS ones count) */
};

#endif
