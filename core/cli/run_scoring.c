/* run_scoring.c - the objective and the shared scoring context of a run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "util/rng.h"

/* Oracle figures a config may rank by (benchmark mode), and their direction. */
static const struct {
    const char *name;
    int maximize;
} oracles[] = {{"pehe", 0}, {"ate_error", 0}, {"cate_corr", 1}, {"policy_true", 1}};

/* What "auto" means for this problem. METRICS.md chose energy for randomized
 * assignment and psw_energy otherwise; measured since then, psw_energy is a
 * poor selector on confounded data, so observational data without an
 * instrument now get dr_mse. From one run's trials (every trial carries every
 * score), the oracle sqrt(PEHE) of the trial each score would pick:
 *   confounded_nonlinear, 4000 rows, seeds 1-4: dr_mse 0.25-0.31,
 *     psw_energy 0.63-1.14 (best trial of the run 0.23-0.28);
 *   synthetic (the quickstart data), seeds 1-2: dr_mse 0.143 / 0.101,
 *     psw_energy 0.415 / 0.313 (best 0.139 / 0.101);
 *   IHDP replications 1-10, 60 s searches: tuned winner 1.81 driven by dr_mse,
 *     6.53 by psw_energy.
 * On randomized data energy stays (rct_nonlinear: energy 0.408 / 0.341,
 * dr_mse 0.499 / 0.323). Instrument problems: dr_mse and psw_energy assume no
 * unobserved confounding, which is what an instrument is for; with a binary
 * instrument iv_dr_mse (DRIV pseudo-outcomes) measures the effect on
 * compliers (tests/bench/iv compares the scores' picks), other instruments
 * keep psw_energy. */
const char *tt_run_auto_metric(const tt_config *c, const tt_dataset *d)
{
    /* A continuous treatment: the scores that need arms are null there. On
     * pricing (seeds 1-4, presets.continuous.medium) r_score's first pick was
     * the run's best trial 4 of 4 (oracle sqrt PEHE 0.122), dr_mse's 0.150. */
    if (tt_dataset_continuous(d))
        return tt_run_binary_instrument(d) ? "iv_dr_mse" : "r_score";
    if (d->p_z > 0)
        return tt_run_binary_instrument(d) ? "iv_dr_mse" : "psw_energy";
    if (c->randomized)
        return "energy";
    return "dr_mse";
}

/* "auto" resolved, checked against the problem, and its direction. */
static int resolve_metric(run_state *s)
{
    const tt_config *c = s->cfg;
    const tt_dataset *d = s->data;
    char err[1024];
    s->metric = strcmp(c->metric, "auto") ? c->metric : tt_run_auto_metric(c, d);
    for (size_t i = 0; i < sizeof oracles / sizeof oracles[0]; i++) {
        if (strcmp(s->metric, oracles[i].name) != 0)
            continue;
        if (!d->tau) {
            fprintf(stderr, "tautune: %s: metric '%s' is an oracle figure and needs a true-effect "
                            "column (data.true_effect)\n", c->path, s->metric);
            return TT_EXIT_USAGE;
        }
        s->maximize = oracles[i].maximize;
        return TT_EXIT_OK;
    }
    /* The IV scores need the binary instrument the IV nuisances use. */
    int has_instrument = tt_run_binary_instrument(d);
    const char *why_not = d->p_z > 0 && !has_instrument
                              ? " (data.z's first column must be coded 0/1 with both values "
                                "and the data need two arms)"
                              : "";
    if (tt_score_check(s->metric, d->n_arms, has_instrument, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: %s: metric: %s%s\n", c->path, err, why_not);
        return TT_EXIT_USAGE;
    }
    for (size_t i = 0; i < c->n_scores; i++)
        if (tt_score_check(c->scores[i], d->n_arms, has_instrument, err, sizeof err) != TT_OK) {
            fprintf(stderr, "tautune: %s: scoring.scores: %s%s\n", c->path, err, why_not);
            return TT_EXIT_USAGE;
        }
    if (tt_dataset_continuous(d) &&
        !(tt_score_find(s->metric)->needs & TT_SCORE_CONTINUOUS)) {
        fprintf(stderr, "tautune: %s: metric '%s' needs arms, and the treatment '%s' is "
                        "continuous; rank by r_score or dr_mse (or iv_dr_mse with a binary "
                        "instrument), or leave metric = \"auto\"\n", c->path, s->metric,
                d->t_name);
        return TT_EXIT_USAGE;
    }
    s->maximize = tt_score_find(s->metric)->direction == TT_SCORE_MAX;
    return TT_EXIT_OK;
}

/* scoring.costs names the treated arms; the scores want all K, arm 0 free. */
static int arm_costs(run_state *s)
{
    const tt_config *c = s->cfg;
    int k_arms = s->data->n_arms;
    if (!c->costs)
        return TT_EXIT_OK;
    if (c->n_costs != (size_t)(k_arms - 1)) {
        fprintf(stderr, "tautune: %s: scoring.costs has %zu values; the data have %d treated "
                        "arm%s (%s", c->path, c->n_costs, k_arms - 1, k_arms == 2 ? "" : "s",
                s->data->arm_labels[1]);
        for (int k = 2; k < k_arms; k++)
            fprintf(stderr, ", %s", s->data->arm_labels[k]);
        fprintf(stderr, ")\n");
        return TT_EXIT_USAGE;
    }
    s->costs = calloc((size_t)k_arms, sizeof *s->costs);
    if (!s->costs) {
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    memcpy(s->costs + 1, c->costs, c->n_costs * sizeof *s->costs);
    return TT_EXIT_OK;
}

int tt_run_build_scores(run_state *s)
{
    int rc;
    if ((rc = resolve_metric(s)) || (rc = arm_costs(s)))
        return rc;
    const tt_config *c = s->cfg;
    tt_score_options so;
    tt_score_options_init(&so);
    so.seed = c->seed;
    so.clip = c->clip;
    so.cost = s->costs;
    so.erupt_policy = c->erupt_thompson ? TT_ERUPT_THOMPSON : TT_ERUPT_GREEDY;
    so.qini_weighted = c->qini_weighted;
    so.energy_standardize = c->energy_standardize;
    so.energy_max_rows = c->energy_max_rows;
    /* Known propensities (data.propensity) are the truth of the design: they
     * replace the estimate everywhere. Randomized data without them have the
     * same odds on every row: the training rows' arm shares are the
     * propensity, and a model fitted to them could only add noise. */
    so.known_propensity = s->valid->propensity;
    if (!so.known_propensity && c->randomized) {
        size_t nv = s->valid->n, k_arms = (size_t)s->data->n_arms;
        s->arm_share_prop = malloc(sizeof *s->arm_share_prop * nv * k_arms);
        if (!s->arm_share_prop) {
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        /* K folds: every row is scored, so every row's arm counts. */
        const size_t *counts = s->n_folds >= 2 ? s->valid_counts : s->train_counts;
        double rows = (double)(s->n_folds >= 2 ? s->valid->n : s->train->n);
        for (size_t k = 0; k < k_arms; k++)
            for (size_t i = 0; i < nv; i++)
                s->arm_share_prop[k * nv + i] = (double)counts[k] / rows;
        so.known_propensity = s->arm_share_prop;
        s->prop_model = "arm shares of the training rows (data.randomized)";
    } else if (so.known_propensity) {
        s->prop_model = "known (data.propensity)";
    }
    /* K folds: the scoring nuisances and propensity are cross-fitted over
     * the candidates' folds. */
    int *row_fold = NULL;
    if (s->n_folds >= 2) {
        row_fold = malloc(sizeof *row_fold * (s->valid->n + 1));
        if (!row_fold) {
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        for (int k = 0; k < s->n_folds; k++)
            for (size_t r = 0; r < s->folds[k].rows; r++)
                row_fold[s->folds[k].first + r] = k;
        so.row_fold = row_fold;
        so.row_folds = s->n_folds;
    }
    /* IV problems with a binary instrument (the first data.z column, 0/1 on
     * every row): the instrument groups iv_energy and iv_dr_mse, with the
     * design's P(Z = 1) when data.z_propensity declares it. */
    int *zgroup = NULL;
    double *zprop = NULL;
    const tt_dataset *v = s->valid;
    if (tt_run_binary_instrument(s->data) && v->n > 0) {
        zgroup = malloc(sizeof *zgroup * v->n);
        zprop = c->z_propensity > 0.0 ? malloc(sizeof *zprop * 2 * v->n) : NULL;
        if (!zgroup || (c->z_propensity > 0.0 && !zprop)) {
            free(zgroup);
            free(zprop);
            free(row_fold);
            fprintf(stderr, "tautune: out of memory\n");
            return TT_EXIT_ERROR;
        }
        for (size_t i = 0; i < v->n; i++) {
            zgroup[i] = v->z[i] == 1.0;
            if (zprop) {
                zprop[i] = 1.0 - c->z_propensity;
                zprop[v->n + i] = c->z_propensity;
            }
        }
        so.instrument = zgroup;
        so.n_instrument = 2;
        so.instrument_propensity = zprop;
    }
    tt_plugin_data train = tt_run_view(s->train), valid = tt_run_view(s->valid);
    char err[1024];
    tt_status st = tt_score_context_build(&train, &valid, &so, &s->scores, err, sizeof err);
    free(row_fold);
    free(zgroup);
    free(zprop);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: cannot prepare the scores: %s\n", s->data->source, err);
        return st == TT_ERR_CONFIG ? TT_EXIT_USAGE : st == TT_ERR_DATA ? TT_EXIT_DATA
                                                                        : TT_EXIT_ERROR;
    }
    /* A continuous treatment has no propensity to summarise (overlap is
     * E[T | x]'s residual spread, in the nuisance facts). */
    if (!tt_dataset_continuous(s->valid))
        tt_propensity_summarise(tt_score_context_propensity(s->scores), s->valid->t,
                                s->valid->n, c->clip, &s->prop_summary);
    if (!s->quiet && s->valid->propensity)
        fprintf(stderr, "tautune: scoring propensity: the known propensity columns of the data "
                        "(data.propensity), not an estimate\n");
    if (!s->quiet && s->prop_summary.outside_clip > 0)
        fprintf(stderr, "tautune: warning: %zu of %zu validation rows have a propensity outside "
                        "[%g, %g] (clipped in the scores; overlap is weak)\n",
                s->prop_summary.outside_clip, s->valid->n, c->clip, 1 - c->clip);
    size_t energy_rows = tt_score_context_energy_rows(s->scores);
    if (!s->quiet && energy_rows < s->valid->n)
        fprintf(stderr, "tautune: energy scores use a seeded subsample of %zu of the %zu "
                        "validation rows (scoring.energy_max_rows)\n", energy_rows, s->valid->n);
    return TT_EXIT_OK;
}
