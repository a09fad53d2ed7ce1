/* run_report.c - report.html and summary.md at the end of a run. The pages
 * see the validation rows exactly as the scores did (same rows, same scoring
 * propensity and nuisances), the refitted winner's effects, and the effects
 * of the best trials of the next best estimators, refitted with their own
 * seeds so they are the trials' models. Those refits run in isolated
 * children too: one that fails or crashes only drops its candidate from the
 * plots, with a note on stderr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "report/report.h"
#include "score/rscore.h"
#include "score/score_nuisance.h"
#include "util/clock.h"

/* Candidates the Qini plot compares: the winner and the next best estimators. */
#define REPORT_TOP 3

/* The refitted winner (the search's best, or the fallback refitted in its
 * place), then the best ok trial of each other estimator, best first
 * (indices into trials). */
static size_t top_trials(const run_state *s, long *idx, size_t max)
{
    const tt_search_outcome *o = &s->outcome;
    size_t n = 0;
    if (o->best < 0 || max == 0)
        return 0;
    idx[n++] = s->winner_index;
    while (n < max) {
        long pick = -1;
        for (size_t i = 0; i < o->n_trials; i++) {
            const tt_trial_result *r = &o->trials[i];
            if (r->status != TT_TRIAL_OK || !isfinite(r->objective))
                continue;
            int seen = 0;
            for (size_t j = 0; j < n; j++)
                seen |= o->trials[idx[j]].estimator == r->estimator;
            if (seen)
                continue;
            if (pick < 0 || (s->maximize ? r->objective > o->trials[pick].objective
                                         : r->objective < o->trials[pick].objective))
                pick = (long)i;
        }
        if (pick < 0)
            break;
        idx[n++] = pick;
    }
    return n;
}

/* Doubly robust pseudo-outcomes of every treated arm from the scoring
 * nuisances (cross-fitted on the validation rows), propensities clipped as
 * the scores clip them; NULL when the run has none. */
static double *pseudo_outcomes(const run_state *s)
{
    const tt_score_nuisance *nu = tt_score_context_nuisance(s->scores);
    if (!nu)
        return NULL;
    size_t n = s->valid->n;
    int k_arms = s->data->n_arms;
    double *g = malloc(sizeof *g * (n * (size_t)(k_arms - 1) + 1));
    if (g && !tt_dr_pseudo(nu, s->valid->t, s->valid->y, s->cfg->clip, g)) {
        free(g);
        g = NULL;
    }
    return g;
}

/* Rows of an all-rows effect array at the validation rows. */
static double *valid_rows(const run_state *s, const double *all)
{
    if (!all)
        return NULL;
    size_t n = s->valid->n, n_all = s->data->n;
    int k_eff = s->data->n_arms - 1;
    double *v = malloc(sizeof *v * (n * (size_t)k_eff + 1));
    for (int k = 0; v && k < k_eff; k++)
        for (size_t i = 0; i < n; i++)
            v[(size_t)k * n + i] = all[(size_t)k * n_all + s->split.valid[i]];
    return v;
}

void tt_run_report(run_state *s, const char *dir, const cJSON *results)
{
    char err[1024] = "";
    size_t n = s->valid->n;
    int k_eff = s->data->n_arms - 1;
    long idx[REPORT_TOP];
    size_t n_top = s->winner_tau ? top_trials(s, idx, REPORT_TOP) : 0;
    tt_report_candidate top[REPORT_TOP];
    double *taus[REPORT_TOP] = {NULL};
    size_t used = 0;
    for (size_t c = 0; c < n_top; c++) {
        const tt_trial_result *r = &s->outcome.trials[idx[c]];
        if (c == 0) {
            taus[c] = valid_rows(s, s->winner_tau);
        } else if (!r->effects && s->plan.end > 0 && tt_now() + r->seconds > s->plan.end) {
            /* Its refit (about its trial's time) would outrun the budget. */
            fprintf(stderr, "tautune: note: report: %s (trial %zu) is left out of the plots: "
                            "the budget has no time left to refit it\n", r->desc->name, r->id);
        } else {
            taus[c] = malloc(sizeof(double) * (n * (size_t)k_eff + 1));
            if (taus[c] && tt_run_refit_effects(s, r, s->stop, taus[c], err, sizeof err)) {
                fprintf(stderr, "tautune: warning: report: refitting %s (trial %zu) failed at "
                                "%s; it is left out of the plots\n", r->desc->name, r->id, err);
                free(taus[c]);
                taus[c] = NULL;
            }
        }
        if (taus[c])
            top[used++] = (tt_report_candidate){.estimator = r->desc->name, .trial = r->id,
                                                .tau = taus[c]};
    }
    double *pseudo = pseudo_outcomes(s);
    double *lo = valid_rows(s, s->winner_lo), *hi = valid_rows(s, s->winner_hi);
    tt_report_input in = {
        .results = results, .trials = s->outcome.trials, .n_trials = s->outcome.n_trials,
        .n = n, .n_arms = s->data->n_arms,
        .arm_labels = (const char *const *)s->data->arm_labels,
        /* A continuous treatment's t holds strata, not arms: no arm curves. */
        .t = tt_dataset_continuous(s->valid) ? NULL : s->valid->t,
        .y = s->valid->y, .prop = tt_score_context_propensity(s->scores), .clip = s->cfg->clip,
        .cost = s->costs, .pseudo = pseudo, .winner_lo = lo && hi ? lo : NULL,
        .winner_hi = lo && hi ? hi : NULL, .top = top, .n_top = used,
    };
    if (tt_report_write_html(dir, &in, err, sizeof err) != TT_OK)
        fprintf(stderr, "tautune: warning: report.html: %s\n", err);
    if (tt_report_write_summary(dir, &in, err, sizeof err) != TT_OK)
        fprintf(stderr, "tautune: warning: summary.md: %s\n", err);
    for (size_t c = 0; c < REPORT_TOP; c++)
        free(taus[c]);
    free(pseudo);
    free(lo);
    free(hi);
}
