/* run_ensemble.c - after the search, an ensemble of its best trials
 * (search/ensemble.h: greedy forward selection with replacement on their
 * out-of-sample effects, Caruana et al. 2004), and, when it beats the best
 * single trial by its honest (nested) score, the ensemble handed on instead:
 * every member refitted as a winner would be (final_fit), cate.csv with the
 * weighted effects, model.ttm holding the members and their weights.
 *
 * Candidates: the ok trials whose out-of-sample effects the search kept,
 * best first, at most ENSEMBLE_CANDIDATES. The metric must have per-row
 * terms (score/score_terms.h: dr_mse, r_score, the IPW policy scores):
 * the ensemble is selected and scored by their means on row sets, which
 * the energy scores (pair sums) do not allow; the run then says why there
 * is none.
 *
 * Intervals of an ensemble: the weighted average of its members' bounds,
 * row by row - the interval of the weighted average when the members' errors
 * are perfectly correlated, wider otherwise (members of one search mostly
 * err alike); `tautune predict` does the same. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "report/results.h"
#include "model/model.h"
#include "report/cate.h"
#include "score/oracle.h"
#include "score/score_terms.h"
#include "search/ensemble.h"
#include "search/search.h"
#include "util/clock.h"
#include "util/rng.h"

/* More candidates rarely change the pick (the greedy steps keep returning
 * to the best few) and each costs a terms evaluation per step. */
#define ENSEMBLE_CANDIDATES 32

typedef struct terms_ctx {
    const tt_score_context *scores;
    const char *metric;
} terms_ctx;

static int metric_terms(void *ctx, const double *tau, double *terms)
{
    const terms_ctx *c = ctx;
    return tt_score_terms(c->scores, c->metric, tau, terms);
}

/* The candidates: indices into outcome.trials, best objective first. */
static size_t pick_candidates(const run_state *s, long *idx, size_t max)
{
    const tt_search_outcome *o = &s->outcome;
    size_t cells = s->valid->n * (size_t)(s->data->n_arms - 1), n = 0;
    for (size_t i = 0; i < o->n_trials; i++) {
        const tt_trial_result *r = &o->trials[i];
        if (r->status != TT_TRIAL_OK || !isfinite(r->objective) || !r->effects ||
            r->n_effects != cells)
            continue;
        /* Insert in order; keep the best max. */
        size_t at = n < max ? n++ : max;
        while (at > 0 && (s->maximize ? o->trials[idx[at - 1]].objective < r->objective
                                      : o->trials[idx[at - 1]].objective > r->objective)) {
            if (at < max)
                idx[at] = idx[at - 1];
            at--;
        }
        if (at < max)
            idx[at] = (long)i;
    }
    return n;
}

void tt_run_ensemble(run_state *s)
{
    run_ensemble *e = &s->ensemble;
    memset(e, 0, sizeof *e);
    e->facts = cJSON_CreateObject();
    if (!e->facts)
        return;
    cJSON *f = e->facts;
    const char *why = NULL;
    if (!s->cfg->ensemble)
        why = "switched off (ensemble = false)";
    else if (tt_score_terms_missing(s->scores, s->metric))
        why = tt_score_terms_missing(s->scores, s->metric);
    long idx[ENSEMBLE_CANDIDATES];
    size_t n_cand = why ? 0 : pick_candidates(s, idx, ENSEMBLE_CANDIDATES);
    if (!why && n_cand < 2)
        why = "fewer than two trials with out-of-sample effects";
    if (why) {
        cJSON_AddBoolToObject(f, "built", 0);
        cJSON_AddStringToObject(f, "reason", why);
        return;
    }
    size_t n = s->valid->n, cols = (size_t)(s->data->n_arms - 1);
    const double *cands[ENSEMBLE_CANDIDATES];
    for (size_t c = 0; c < n_cand; c++)
        cands[c] = s->outcome.trials[idx[c]].effects;
    terms_ctx tc = {s->scores, s->metric};
    tt_ensemble_options opt = {.maximize = s->maximize,
                               .seed = tt_rng_derive(s->cfg->seed, "ensemble"),
                               .strata = s->valid->t};
    tt_ensemble_result res;
    char err[512];
    double t0 = tt_now();
    if (tt_ensemble_build(cands, n_cand, n, cols, metric_terms, &tc, &opt, &res, err,
                          sizeof err) != TT_OK) {
        cJSON_AddBoolToObject(f, "built", 0);
        cJSON_AddStringToObject(f, "reason", err);
        return;
    }
    cJSON_AddBoolToObject(f, "built", 1);
    cJSON_AddStringToObject(f, "method", "greedy forward selection with replacement "
                                         "(Caruana et al. 2004) on the out-of-sample effects");
    cJSON_AddNumberToObject(f, "candidates", (double)n_cand);
    cJSON_AddNumberToObject(f, "steps", (double)res.steps);
    cJSON *mem = cJSON_AddArrayToObject(f, "members");
    e->n_members = res.n_members;
    e->trial = calloc(res.n_members + 1, sizeof *e->trial);
    e->weight = calloc(res.n_members + 1, sizeof *e->weight);
    if (!e->trial || !e->weight) {
        e->n_members = 0;
        tt_ensemble_result_free(&res);
        return;
    }
    for (size_t j = 0; j < res.n_members; j++) {
        const tt_trial_result *t = &s->outcome.trials[idx[res.member[j]]];
        e->trial[j] = idx[res.member[j]];
        e->weight[j] = res.weight[j];
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "trial", (double)t->id);
        cJSON_AddStringToObject(m, "estimator", t->desc->name);
        cJSON_AddNumberToObject(m, "weight", res.weight[j]);
        cJSON_AddItemToArray(mem, m);
    }
    /* The scores: in sample (selected and scored on the same rows) and
     * honest (nested halves), against the best single trial the same way. */
    cJSON_AddItemToObject(f, "score", tt_json_number(res.score));
    cJSON_AddItemToObject(f, "single_score", tt_json_number(res.single_score));
    cJSON_AddItemToObject(f, "honest", tt_json_number(res.honest));
    cJSON_AddItemToObject(f, "honest_se", tt_json_number(res.honest_se));
    cJSON_AddItemToObject(f, "single_honest", tt_json_number(res.single_honest));
    cJSON_AddItemToObject(f, "diff", tt_json_number(res.diff));
    cJSON_AddItemToObject(f, "diff_se", tt_json_number(res.diff_se));
    cJSON_AddBoolToObject(f, "wins", res.wins);
    e->wins = res.wins;
    /* Its out-of-sample effects: for cate.csv and, with the truth, its
     * oracle error on the same rows as the trials'. */
    e->effects = malloc(sizeof *e->effects * (n * cols + 1));
    if (e->effects) {
        tt_ensemble_effects(cands, n, cols, &res, e->effects);
        if (s->valid->tau) {
            cJSON *or = cJSON_AddObjectToObject(f, "oracle");
            cJSON_AddItemToObject(or, "pehe", tt_json_number(tt_oracle_pehe(
                                                  n, s->data->n_arms, e->effects, s->valid->tau)));
        }
    }
    cJSON_AddNumberToObject(f, "seconds", tt_now() - t0);
    tt_ensemble_result_free(&res);
}

/* Members an ensemble usually has: the reserve counts this many of the best
 * trials (IHDP's ensembles have 3-8 members). */
#define RESERVE_MEMBERS 8

double tt_run_ensemble_reserve(const run_state *s)
{
    if (!s->cfg->ensemble || tt_score_terms_missing(s->scores, s->metric))
        return 0;
    long idx[RESERVE_MEMBERS];
    size_t n = pick_candidates(s, idx, RESERVE_MEMBERS);
    if (n < 2)
        return 0;
    double need = s->cfg->final_fit_train ? 0 : s->nu_final_estimate;
    for (size_t j = 0; j < n; j++)
        need += tt_run_refit_minimum(s, &s->outcome.trials[idx[j]]);
    return need;
}

void tt_run_ensemble_free(run_ensemble *e)
{
    cJSON_Delete(e->facts);
    free(e->trial);
    free(e->weight);
    free(e->effects);
    memset(e, 0, sizeof *e);
}

/* model.ttm with every member: the run's shared parts once, each member's
 * point, seed, saved state and weight. */
static int write_members(run_state *s, const run_refit *r, const char *path, char *err,
                         size_t errlen)
{
    const run_ensemble *e = &s->ensemble;
    tt_model_member *mem = calloc(e->n_members, sizeof *mem);
    if (!mem)
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t j = 0; j < e->n_members; j++) {
        const tt_trial_result *t = r[j].trial;
        mem[j] = (tt_model_member){
            .plugin = (char *)t->desc->name, .plugin_version = (char *)t->desc->version,
            .n_params = t->desc->n_params, .params = t->point,
            .seed = tt_search_trial_seed(s->cfg->seed, t->id), .state_file = r[j].state_file,
            .state_len = r[j].state_len, .weight = e->weight[j]};
        tt_run_plugin_origin(s, t->desc, &mem[j]);
    }
    tt_learner *mu[s->data->n_arms];
    tt_model m;
    tt_run_model_base(s, r[0].all_rows, mu, &m);
    m.n_members = e->n_members;
    m.members = mem;
    int rc = tt_model_write(path, &m, err, errlen) == TT_OK ? 0 : -1;
    for (size_t j = 0; j < e->n_members; j++)
        tt_run_plugin_origin_free(&mem[j]);
    free(mem);
    return rc;
}

/* The members' average effects, weighted alike (estimate and bounds). */
static cJSON *weighted_average_effect(const run_state *s, const run_refit *r)
{
    const run_ensemble *e = &s->ensemble;
    int k_eff = s->data->n_arms - 1;
    cJSON *o = cJSON_CreateObject();
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(r[0].average_effect, "rows");
    cJSON_AddStringToObject(o, "rows", cJSON_IsString(first) ? first->valuestring : "validation");
    cJSON_AddNumberToObject(o, "alpha", 0.05);
    cJSON_AddStringToObject(o, "interval_method",
                            "weighted average of the members' intervals (exact when their "
                            "errors are perfectly correlated, wider otherwise)");
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    for (int k = 0; k < k_eff; k++) {
        double est = 0, lo = 0, hi = 0;
        for (size_t j = 0; j < e->n_members; j++) {
            const cJSON *a = cJSON_GetArrayItem(
                cJSON_GetObjectItemCaseSensitive(r[j].average_effect, "arms"), k);
            const cJSON *ve = cJSON_GetObjectItemCaseSensitive(a, "estimate");
            const cJSON *vl = cJSON_GetObjectItemCaseSensitive(a, "lo");
            const cJSON *vh = cJSON_GetObjectItemCaseSensitive(a, "hi");
            est += e->weight[j] * (cJSON_IsNumber(ve) ? ve->valuedouble : NAN);
            lo += e->weight[j] * (cJSON_IsNumber(vl) ? vl->valuedouble : NAN);
            hi += e->weight[j] * (cJSON_IsNumber(vh) ? vh->valuedouble : NAN);
        }
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arm", s->data->arm_labels[k + 1]);
        cJSON_AddItemToObject(a, "estimate", tt_json_number(est));
        cJSON_AddItemToObject(a, "lo", tt_json_number(lo));
        cJSON_AddItemToObject(a, "hi", tt_json_number(hi));
        cJSON_AddItemToArray(arms, a);
    }
    return o;
}

/* cate.csv, model.ttm and the winner facts of the refitted members. */
static cJSON *hand_on_members(run_state *s, const char *dir, run_refit *r)
{
    const run_ensemble *e = &s->ensemble;
    size_t n = s->data->n, nv = s->valid->n, k_eff = (size_t)(s->data->n_arms - 1);
    size_t cells = n * k_eff;
    char err[1024], path[4200];
    int all_iv = 1, all_state = 1, all_avg = 1;
    for (size_t j = 0; j < e->n_members; j++) {
        all_iv &= r[j].lo && r[j].hi;
        all_state &= r[j].has_state;
        all_avg &= r[j].average_effect != NULL;
    }
    double *tau = calloc(cells + 1, sizeof *tau);
    double *lo = all_iv ? calloc(cells + 1, sizeof *lo) : NULL;
    double *hi = all_iv ? calloc(cells + 1, sizeof *hi) : NULL;
    double *oos = e->effects ? calloc(cells + 1, sizeof *oos) : NULL;
    unsigned char *is_valid = calloc(n + 1, 1);
    if (!tau || (all_iv && (!lo || !hi)) || !is_valid) {
        free(tau), free(lo), free(hi), free(oos), free(is_valid);
        return NULL;
    }
    for (size_t j = 0; j < e->n_members; j++)
        for (size_t i = 0; i < cells; i++) {
            tau[i] += e->weight[j] * r[j].tau[i];
            if (all_iv) {
                lo[i] += e->weight[j] * r[j].lo[i];
                hi[i] += e->weight[j] * r[j].hi[i];
            }
        }
    /* Out-of-sample effects of the ensemble on the scored rows. */
    for (size_t i = 0; i < nv; i++)
        is_valid[s->split.valid[i]] = 1;
    for (size_t k = 0; oos && k < k_eff; k++)
        for (size_t i = 0; i < nv; i++)
            oos[k * n + s->split.valid[i]] = e->effects[k * nv + i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "estimator", "ensemble");
    cJSON_AddNumberToObject(o, "trial", (double)s->outcome.trials[s->outcome.best].id);
    cJSON_AddBoolToObject(o, "ensemble", 1);
    cJSON *mem = cJSON_AddArrayToObject(o, "members");
    for (size_t j = 0; j < e->n_members; j++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "trial", (double)r[j].trial->id);
        cJSON_AddStringToObject(m, "estimator", r[j].trial->desc->name);
        cJSON_AddNumberToObject(m, "weight", e->weight[j]);
        cJSON_AddItemToArray(mem, m);
    }
    tt_cate_rows rows = {.n = n, .n_arms = s->data->n_arms,
                         .arm_labels = (const char *const *)s->data->arm_labels,
                         .row = s->data->row, .id_name = s->data->id_name,
                         .ids = (const char *const *)s->data->ids, .t = s->data->t,
                         .t_value = s->data->t_value, .t_name = s->data->t_name,
                         .is_valid = is_valid, .tau = tau, .lo = lo, .hi = hi, .oos_tau = oos};
    snprintf(path, sizeof path, "%s/cate.csv", dir);
    if (tt_cate_write(path, &rows, err, sizeof err) == TT_OK)
        cJSON_AddStringToObject(o, "effects", "cate.csv");
    else
        fprintf(stderr, "tautune: %s\n", err);
    if (all_avg)
        cJSON_AddItemToObject(o, "average_effect", weighted_average_effect(s, r));
    cJSON *ff = cJSON_AddObjectToObject(o, "final_fit");
    cJSON_AddStringToObject(ff, "rows", r[0].all_rows ? "all" : "train");
    cJSON_AddNumberToObject(ff, "n", (double)(r[0].all_rows ? n : s->train->n));
    s->final_all_rows = r[0].all_rows;
    if (all_state) {
        snprintf(path, sizeof path, "%s/model.ttm", dir);
        if (write_members(s, r, path, err, sizeof err) == 0)
            cJSON_AddStringToObject(o, "model", "model.ttm");
        else
            fprintf(stderr, "tautune: the ensemble's model file was not written: %s\n", err);
    } else {
        fprintf(stderr, "tautune: note: a member of the ensemble cannot save its state; no "
                        "model file\n");
    }
    /* The report plots the ensemble's out-of-sample effects (in place of
     * the best trial's, handed on before). */
    free(s->winner_importance); /* the best trial's, not the ensemble's */
    free(s->winner_model_importance);
    s->winner_importance = s->winner_model_importance = NULL;
    free(s->winner_tau);
    free(s->winner_lo);
    free(s->winner_hi);
    s->winner_tau = oos;
    s->winner_lo = lo;
    s->winner_hi = hi;
    s->winner_index = s->outcome.best;
    free(tau);
    free(is_valid);
    return o;
}

int tt_run_ensemble_winner(run_state *s, const char *dir, double deadline,
                           volatile sig_atomic_t *stop, cJSON **facts)
{
    run_ensemble *e = &s->ensemble;
    *facts = NULL;
    double start = tt_now();
    /* Every member refitted as a winner: one fit of each (and the final
     * nuisance models) must fit before the deadline, or the single winner
     * is handed on. Each member's refit then gets a share of the time left
     * in proportion to its full estimate; a bootstrap cut short keeps the
     * replicas fitted by then (pu_boot.h). */
    double need = s->cfg->final_fit_train ? 0 : s->nu_final_estimate, full[e->n_members + 1];
    double full_sum = 0;
    for (size_t j = 0; j < e->n_members; j++) {
        const tt_trial_result *t = &s->outcome.trials[e->trial[j]];
        need += tt_run_refit_minimum(s, t);
        full[j] = fmax(tt_run_refit_estimate(s, t), 1e-3);
        full_sum += full[j];
    }
    if (deadline > 0 && start + need > deadline) {
        char why[160];
        snprintf(why, sizeof why, "its %zu members' refits need ~%.1fs; %.1fs are left",
                 e->n_members, need, deadline - start);
        cJSON_AddStringToObject(e->facts, "not_handed_on", why);
        if (!s->quiet)
            fprintf(stderr, "tautune: the ensemble beats the best trial but is not handed on: "
                            "%s\n", why);
        return TT_EXIT_REFIT;
    }
    int all_rows = !s->cfg->final_fit_train;
    if (all_rows) {
        int nrc = tt_run_fit_final_nuisances(s, dir, stop, deadline);
        if (nrc)
            return nrc == TT_EXIT_INTERRUPTED ? nrc : TT_EXIT_REFIT;
    }
    run_refit *r = calloc(e->n_members, sizeof *r);
    if (!r)
        return TT_EXIT_ERROR;
    int rc = TT_EXIT_OK;
    for (size_t j = 0; j < e->n_members && rc == TT_EXIT_OK; j++) {
        r[j] = (run_refit){.trial = &s->outcome.trials[e->trial[j]], .winner = 1,
                           .all_rows = all_rows, .state_dir = dir};
        double by = deadline;
        if (deadline > 0) {
            by = tt_now() + (deadline - tt_now()) * full[j] / full_sum;
            full_sum -= full[j];
        }
        int st = tt_run_refit(s, &r[j], by, stop);
        if (st == -2) {
            rc = TT_EXIT_INTERRUPTED;
        } else if (st != 0) {
            char why[1200];
            snprintf(why, sizeof why, "refitting member %s (trial %zu) failed at %s: %s",
                     r[j].trial->desc->name, r[j].trial->id, r[j].step, r[j].error);
            cJSON_AddStringToObject(e->facts, "not_handed_on", why);
            fprintf(stderr, "tautune: the ensemble is not handed on: %s\n", why);
            rc = TT_EXIT_REFIT;
        }
    }
    if (rc == TT_EXIT_OK) {
        *facts = hand_on_members(s, dir, r);
        if (*facts) {
            cJSON_AddNumberToObject(*facts, "seconds", tt_now() - start);
            cJSON_AddBoolToObject(e->facts, "chosen", 1);
        } else {
            rc = TT_EXIT_ERROR;
        }
    }
    for (size_t j = 0; j < e->n_members; j++)
        tt_run_refit_clear(&r[j]);
    free(r);
    return rc;
}
