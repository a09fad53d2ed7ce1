/* run_winner.c - what a run hands on: the winning trial refitted on the
 * training rows with the trial's own seed (so it is that trial's model, not a
 * look-alike: its effects on the validation rows are out of sample), then -
 * final_fit = "all", the default - the same trial fitted once more on every
 * row with its nuisance models refitted on every row too, so the model
 * handed on has seen all the data (as FLAML's retrain_full). Handed on:
 * effects and intervals for every row (cate.csv, with the out-of-sample
 * effects beside them), the average effect with an interval on the
 * validation rows (from the training-rows model, which never saw them; and,
 * from a plugin with ABI 1.4's average_effect_oob, out of bag), and the model
 * file that `tautune predict` applies to new rows (model.ttm).
 *
 * The refit runs in an isolated child (run_refit.c); this file only writes
 * what came back. When the winner's refit fails or crashes, the next best
 * successful trials are refitted in its place, a few at most, so the run
 * still hands on a model - and says loudly that it is not the winner's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "model/model.h"
#include "report/cate.h"
#include "util/clock.h"

/* Refits tried at most: the winner and this many minus one fallbacks. Each
 * costs a full fit; past a few, something is wrong beyond one trial. */
#define MAX_REFITS 4

/* Refit candidates: the search's best, then every other ok trial with an
 * objective, best first (indices into trials; caller frees). */
static long *candidates(const run_state *s, size_t *n)
{
    const tt_search_outcome *o = &s->outcome;
    long *idx = malloc(sizeof *idx * (o->n_trials + 1));
    *n = 0;
    if (!idx)
        return NULL;
    idx[(*n)++] = o->best;
    for (size_t i = 0; i < o->n_trials; i++)
        if ((long)i != o->best && o->trials[i].status == TT_TRIAL_OK &&
            isfinite(o->trials[i].objective))
            idx[(*n)++] = (long)i;
    /* Insertion sort after the first: a few hundred trials at most. */
    for (size_t a = 2; a < *n; a++) {
        long v = idx[a];
        double ov = o->trials[v].objective;
        size_t b = a;
        while (b > 1 && (s->maximize ? o->trials[idx[b - 1]].objective < ov
                                     : o->trials[idx[b - 1]].objective > ov)) {
            idx[b] = idx[b - 1];
            b--;
        }
        idx[b] = v;
    }
    return idx;
}

void tt_run_model_base(const run_state *s, int all_rows, tt_learner **mu, tt_model *m)
{
    const tt_host_nuisances *nu = !s->engine ? NULL
                                  : all_rows ? &s->nuisances_all
                                             : &s->nuisances;
    for (int k = 0; k < s->data->n_arms; k++)
        mu[k] = nu && nu->arm_outcome ? nu->arm_outcome[k]->full : NULL;
    *m = (tt_model){
        .n_arms = s->data->n_arms, .arm_labels = s->data->arm_labels,
        .id_name = s->data->id_name, .p_x = s->data->p_x, .p_w = s->data->p_w,
        .x_names = s->data->x_names, .w_names = s->data->w_names, .prep = s->prep,
        .propensity = nu && nu->propensity ? nu->propensity->full
                      : nu && nu->treatment ? nu->treatment->full : NULL,
        .prop_width = nu && nu->propensity ? nu->propensity->width
                      : nu && nu->treatment ? 1 : 0,
        .continuous = tt_dataset_continuous(s->data),
        .outcome = nu && nu->outcome ? nu->outcome->full : NULL,
        .arm_outcome = nu && nu->arm_outcome ? mu : NULL,
    };
}

static int write_model(run_state *s, const run_refit *r, uint64_t seed, const char *path,
                       char *err, size_t errlen)
{
    const tt_plugin_descriptor *desc = r->trial->desc;
    tt_model_member one = {
        .plugin = (char *)desc->name, .plugin_version = (char *)desc->version,
        .n_params = desc->n_params, .params = r->trial->point, .seed = seed,
        .state_file = r->state_file, .state_len = r->state_len, .weight = 1,
    };
    tt_run_plugin_origin(s, desc, &one);
    tt_learner *mu[s->data->n_arms];
    tt_model m;
    tt_run_model_base(s, r->all_rows, mu, &m);
    m.n_members = 1;
    m.members = &one;
    int rc = tt_model_write(path, &m, err, errlen) == TT_OK ? 0 : -1;
    tt_run_plugin_origin_free(&one);
    return rc;
}

/* cate.csv, model.ttm and the facts of a refit that worked; the effects are
 * handed to s for the report. fin: the same trial fitted on every row
 * (final_fit = "all"), or NULL: then r's model is the one handed on. With
 * fin, cate.csv's tau/lo/hi and model.ttm are fin's, the out-of-sample
 * oos_tau columns and the validation rows' average effect are r's (the
 * selection-time model never saw those rows), and the report plots r's. */
static cJSON *hand_on(run_state *s, const char *dir, run_refit *r, run_refit *fin)
{
    run_refit *m = fin ? fin : r; /* the model handed on */
    char err[1024], path[4096];
    const tt_trial_result *t = r->trial;
    /* The rows whose oos figures are out of sample, as data-row flags
     * (s->split indexes the dataset's rows): the validation rows; with K
     * folds every row (out of fold), or fold 0's rows when the model handed
     * on is fold 0's training-rows refit. */
    size_t n_oos = s->n_folds >= 2 && !fin ? s->folds[0].rows : s->split.n_valid;
    unsigned char *is_valid = calloc(s->data->n + 1, 1);
    for (size_t i = 0; is_valid && i < n_oos; i++)
        is_valid[s->split.valid[i]] = 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "estimator", t->desc->name);
    cJSON_AddNumberToObject(o, "trial", (double)t->id);
    tt_cate_rows rows = {.n = s->data->n, .n_arms = s->data->n_arms,
                         .arm_labels = (const char *const *)s->data->arm_labels,
                         .row = s->data->row, .id_name = s->data->id_name,
                         .ids = (const char *const *)s->data->ids, .t = s->data->t,
                         .t_value = s->data->t_value, .t_name = s->data->t_name,
                         .is_valid = is_valid, .tau = m->tau, .lo = m->lo, .hi = m->hi,
                         .oos_tau = fin ? r->tau : NULL};
    snprintf(path, sizeof path, "%s/cate.csv", dir);
    if (tt_cate_write(path, &rows, err, sizeof err) == TT_OK)
        cJSON_AddStringToObject(o, "effects", "cate.csv");
    else
        fprintf(stderr, "tautune: %s\n", err);
    free(is_valid);
    if (r->average_effect) {
        cJSON_AddItemToObject(o, "average_effect", r->average_effect);
        r->average_effect = NULL;
    } else if (fin && fin->average_effect) {
        /* K folds: no model missed the rows; the final model's average over
         * every row, which it was fitted on. */
        cJSON_ReplaceItemInObject(fin->average_effect, "rows",
                                  cJSON_CreateString("all (final model, in sample)"));
        cJSON_AddItemToObject(o, "average_effect", fin->average_effect);
        fin->average_effect = NULL;
    }
    if (m->average_effect_oob) {
        if (fin) /* out of bag over every row now */
            cJSON_ReplaceItemInObject(m->average_effect_oob, "rows",
                                      cJSON_CreateString("all (out-of-bag)"));
        cJSON_AddItemToObject(o, "average_effect_oob", m->average_effect_oob);
    }
    m->average_effect_oob = NULL;
    cJSON *ff = cJSON_AddObjectToObject(o, "final_fit");
    cJSON_AddStringToObject(ff, "rows", fin ? "all" : "train");
    cJSON_AddNumberToObject(ff, "n", (double)(fin ? s->data->n : s->train->n));
    s->final_all_rows = fin != NULL;
    if (m->has_state) {
        snprintf(path, sizeof path, "%s/model.ttm", dir);
        if (write_model(s, m, tt_search_trial_seed(s->cfg->seed, t->id), path, err,
                        sizeof err) == 0)
            cJSON_AddStringToObject(o, "model", "model.ttm");
        else
            fprintf(stderr, "tautune: the winner's model file was not written: %s\n", err);
    } else {
        fprintf(stderr, "tautune: note: %s cannot save its state; no model file\n",
                t->desc->name);
    }
    /* The report plots the out-of-sample effects (r's) with the intervals of
     * the model handed on: hand them over. */
    s->winner_tau = r->tau;
    s->winner_lo = m->lo;
    s->winner_hi = m->hi;
    free(s->winner_importance);
    free(s->winner_model_importance);
    s->winner_importance = m->importance;
    s->winner_model_importance = m->model_importance;
    s->winner_importance_method = tt_plugin_variable_importance_method(t->desc);
    r->tau = m->lo = m->hi = NULL;
    m->importance = m->model_importance = NULL;
    return o;
}

/* K folds: the trial's out-of-fold effects (kept by the search, in s->valid's
 * fold-major order) as effects of every data row, in r->tau: what the light
 * training-rows refit gives with one holdout, without refitting. -1 with
 * r->step/error when the search did not keep them (a trial read back by
 * --resume). */
static int out_of_fold(const run_state *s, run_refit *r)
{
    const tt_trial_result *t = r->trial;
    size_t n = s->valid->n, k_eff = (size_t)(s->data->n_arms - 1);
    if (!t->effects || t->n_effects != n * k_eff) {
        snprintf(r->step, sizeof r->step, "effects");
        snprintf(r->error, sizeof r->error, "its out-of-fold effects were not kept (a trial "
                                            "of the run being resumed)");
        return -1;
    }
    r->tau = malloc(sizeof *r->tau * (s->data->n * k_eff + 1));
    if (!r->tau) {
        snprintf(r->step, sizeof r->step, "effects");
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < k_eff; k++)
        for (size_t i = 0; i < n; i++)
            r->tau[k * s->data->n + s->split.valid[i]] = t->effects[k * n + i];
    return 0;
}

static cJSON *failure_facts(const run_refit *r)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "trial", (double)r->trial->id);
    cJSON_AddStringToObject(f, "estimator", r->trial->desc->name);
    cJSON_AddStringToObject(f, "step", r->step);
    cJSON_AddStringToObject(f, "error", r->error);
    cJSON_AddBoolToObject(f, "crashed", r->crashed);
    return f;
}

/* Refits of one plugin at most: a second trial may have hyperparameters
 * that work (a lasso that converges), a third is unlikely to. */
#define MAX_REFITS_PER_PLUGIN 2

/* A crash, or a failure at create or save, comes from the plugin rather
 * than from its hyperparameters: its other trials would fail the same way. */
static int rules_out_plugin(const run_refit *r, int failures_of_plugin)
{
    return r->crashed || strcmp(r->step, "save") == 0 || strcmp(r->step, "create") == 0 ||
           failures_of_plugin >= MAX_REFITS_PER_PLUGIN;
}

/* How many refits of desc failed so far. */
static int plugin_failures(const cJSON *failures, const tt_plugin_descriptor *desc)
{
    int n = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, failures)
    {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(f, "estimator");
        n += cJSON_IsString(e) && strcmp(e->valuestring, desc->name) == 0;
    }
    return n;
}

/* The end of the run's tolerance past its budget (max(2 s, 3 %)), less the
 * report's half second: the last moment a refit may still run. */
static double last_refit_moment(const run_state *s)
{
    return s->plan.end > 0 ? s->plan.end + fmax(2.0, 0.03 * s->plan.budget) - 0.5 : 0;
}

static double least_refit(const run_state *s, long t)
{
    return tt_run_refit_least(s, &s->outcome.trials[t]);
}

/* When the winner's refit cannot finish in the time left, or a refit ran
 * out of time (the next best by score is often as slow: the same estimator,
 * or one as dear), the next try is the best-scoring remaining candidate
 * whose least refit fits the time left, else the cheapest of them - a late
 * model beats none. Moves it to cand[from]. */
static void fitting_first(const run_state *s, long *cand, size_t from, size_t n, double left)
{
    size_t pick = from, cheapest = from;
    int found = 0;
    for (size_t c = from; c < n; c++) {
        double need = least_refit(s, cand[c]);
        if (need < least_refit(s, cand[cheapest]))
            cheapest = c;
        if (!found && need <= left) {
            pick = c;
            found = 1;
        }
    }
    if (!found)
        pick = cheapest;
    long v = cand[pick];
    memmove(cand + from + 1, cand + from, (pick - from) * sizeof *cand);
    cand[from] = v;
}

int tt_run_winner(run_state *s, const char *dir, double deadline, volatile sig_atomic_t *stop,
                  cJSON **facts)
{
    *facts = NULL;
    s->stop = stop;
    double start = tt_now();
    size_t n_cand;
    long *cand = candidates(s, &n_cand);
    if (!cand) {
        fprintf(stderr, "tautune: out of memory refitting the winner\n");
        return TT_EXIT_ERROR;
    }
    const tt_trial_result *best = &s->outcome.trials[s->outcome.best];
    cJSON *failures = cJSON_CreateArray();
    const char *ruled_out[MAX_REFITS];
    size_t n_ruled = 0, tries = 0;
    int rc = TT_EXIT_OK, out_of_time = 0;
    cJSON *o = NULL;
    for (size_t c = 0; c < n_cand && tries < MAX_REFITS && !o; c++) {
        if (s->plan.end > 0 && (out_of_time || c == 0)) {
            double left = last_refit_moment(s) - tt_now();
            if (left <= 0) {
                fprintf(stderr, "tautune: no time is left for %s refit (the run may end at "
                                "most max(2 s, 3 %%) past its budget); give a larger --budget\n",
                        c ? "another" : "the winner's");
                /* A model not handed on for lack of time is a failed refit
                 * (exit 7), never a silent success. */
                run_refit none = {.trial = &s->outcome.trials[cand[c]]};
                snprintf(none.step, sizeof none.step, "budget");
                snprintf(none.error, sizeof none.error, "no time was left for its refit");
                cJSON_AddItemToArray(failures, failure_facts(&none));
                rc = TT_EXIT_REFIT;
                break;
            }
            if (out_of_time || least_refit(s, cand[0]) > left) {
                fitting_first(s, cand, c, n_cand, left);
                if (c == 0 && cand[0] != s->outcome.best) {
                    /* Not a plugin failure (the exit code stays 0), but the
                     * model handed on is not the winner's: said as loudly. */
                    run_refit skipped = {.trial = best};
                    snprintf(skipped.step, sizeof skipped.step, "budget");
                    snprintf(skipped.error, sizeof skipped.error,
                             "its refit (~%.1fs by its trials' pace) cannot finish in the "
                             "~%.1fs the budget leaves", least_refit(s, s->outcome.best), left);
                    fprintf(stderr, "tautune: the winner (trial %zu, %s): %s; refitting the "
                                    "best trial that can\n", best->id, best->desc->name,
                            skipped.error);
                    cJSON_AddItemToArray(failures, failure_facts(&skipped));
                }
            }
        }
        /* With a final fit to follow, the training-rows refit gives only what
         * is needed of it (out-of-sample effects, the validation rows'
         * average effect): its row intervals and saved state would be
         * thrown away. */
        run_refit r = {.trial = &s->outcome.trials[cand[c]], .winner = 1,
                       .light = !s->cfg->final_fit_train,
                       .importance_wanted = s->cfg->final_fit_train, .state_dir = dir};
        int skip = 0;
        for (size_t k = 0; k < n_ruled; k++)
            skip |= strcmp(ruled_out[k], r.trial->desc->name) == 0;
        if (skip)
            continue;
        tries++;
        if (c > 0)
            fprintf(stderr, "tautune: falling back to trial %zu (%s), the next best\n",
                    r.trial->id, r.trial->desc->name);
        /* The training-rows refit leaves the final fit its share of the time. */
        double train_by = s->train_refit_deadline > 0 && deadline > 0
                              ? fmin(deadline, s->train_refit_deadline)
                              : deadline;
        /* K folds: the out-of-fold effects are the trial's own; the model
         * handed on is the final fit. */
        int st;
        if (s->n_folds >= 2) {
            st = 0;
            if (out_of_fold(s, &r) != 0 && !s->quiet) /* handed on without oos figures */
                fprintf(stderr, "tautune: note: trial %zu: %s\n", r.trial->id, r.error);
        } else {
            st = tt_run_refit(s, &r, train_by, stop);
        }
        if (st == -2) {
            rc = TT_EXIT_INTERRUPTED;
            break;
        }
        if (st == 0) {
            run_refit fin = {.trial = r.trial, .winner = 1, .all_rows = 1,
                             .importance_wanted = 1, .state_dir = dir};
            int final_ok = 0;
            char why[1200] = "";
            if (!s->cfg->final_fit_train) {
                /* The selected model, refitted on every row the user gave:
                 * the chosen nuisance models first, then the trial. */
                int nrc = tt_run_fit_final_nuisances(s, dir, stop, deadline);
                int fst = nrc == TT_EXIT_OK ? tt_run_refit(s, &fin, deadline, stop) : -1;
                if (nrc == TT_EXIT_INTERRUPTED || fst == -2) {
                    tt_run_refit_clear(&fin);
                    tt_run_refit_clear(&r);
                    rc = TT_EXIT_INTERRUPTED;
                    break;
                }
                final_ok = fst == 0;
                if (fst != 0 && nrc == TT_EXIT_OK && !fin.late) {
                    /* The plugin itself failed on every row (a crash, a
                     * save that fails): a refit failure like any other -
                     * the next best trial is tried. */
                    fprintf(stderr, "tautune: refitting %s (trial %zu) failed at %s: %s (its "
                                    "final fit on every row)\n", fin.trial->desc->name,
                            fin.trial->id, fin.step, fin.error);
                    cJSON_AddItemToArray(failures, failure_facts(&fin));
                    if (rules_out_plugin(&fin, plugin_failures(failures, fin.trial->desc)) &&
                        n_ruled < MAX_REFITS)
                        ruled_out[n_ruled++] = fin.trial->desc->name;
                    rc = TT_EXIT_REFIT;
                    tt_run_refit_clear(&fin);
                    tt_run_refit_clear(&r);
                    continue;
                }
                if (!final_ok)
                    snprintf(why, sizeof why, "%s%s%s",
                             nrc ? "its nuisance models could not be refitted" : fin.step,
                             nrc ? "" : ": ", nrc ? "" : fin.error);
            }
            if (why[0]) {
                /* Out of time (or no every-row nuisances): the selected
                 * model on the training rows is handed on instead. */
                fprintf(stderr, "tautune: the final fit of %s (trial %zu) on every row failed "
                                "(%s); model.ttm and cate.csv hold its training-rows refit\n",
                        r.trial->desc->name, r.trial->id, why);
                /* The light refit kept no model: refit in full, within the
                 * run's tolerance past its budget (max(2 s, 3 %)) - a late
                 * model beats none. */
                tt_run_refit_clear(&r);
                r.light = 0;
                if (tt_run_refit(s, &r, last_refit_moment(s), stop) != 0) {
                    fprintf(stderr, "tautune: refitting %s (trial %zu) failed at %s: %s\n",
                            r.trial->desc->name, r.trial->id, r.step, r.error);
                    out_of_time |= r.late;
                    cJSON_AddItemToArray(failures, failure_facts(&r));
                    tt_run_refit_clear(&r);
                    tt_run_refit_clear(&fin);
                    rc = TT_EXIT_REFIT;
                    continue;
                }
            }
            o = hand_on(s, dir, &r, final_ok ? &fin : NULL);
            if (why[0])
                cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(o, "final_fit"),
                                        "error", why);
            tt_run_refit_clear(&fin);
            s->winner_index = cand[c];
        } else {
            fprintf(stderr, "tautune: refitting %s (trial %zu) failed at %s: %s\n",
                    r.trial->desc->name, r.trial->id, r.step, r.error);
            out_of_time |= r.late;
            cJSON_AddItemToArray(failures, failure_facts(&r));
            if (rules_out_plugin(&r, plugin_failures(failures, r.trial->desc)) &&
                n_ruled < MAX_REFITS)
                ruled_out[n_ruled++] = r.trial->desc->name;
            rc = TT_EXIT_REFIT;
        }
        tt_run_refit_clear(&r);
    }
    free(cand);
    /* Every refit tried and the files written: what the run spent after the
     * search on its winner. */
    if (o)
        cJSON_AddNumberToObject(o, "seconds", tt_now() - start);
    if (cJSON_GetArraySize(failures) == 0) {
        cJSON_Delete(failures);
        *facts = o;
        return rc;
    }
    /* Failures are facts too, so they reach results.json and the report. */
    if (!o) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "estimator", best->desc->name);
        cJSON_AddNumberToObject(o, "trial", (double)best->id);
        cJSON_AddNumberToObject(o, "seconds", tt_now() - start);
        if (rc != TT_EXIT_INTERRUPTED)
            fprintf(stderr, "tautune: no refit worked: cate.csv and the model file are not "
                            "written\n");
    } else if (s->winner_index != s->outcome.best) {
        cJSON_AddItemToObject(o, "fallback_from",
                              cJSON_Duplicate(cJSON_GetArrayItem(failures, 0), 1));
        fprintf(stderr, "tautune: cate.csv and the model file are those of trial %zu (%s), "
                        "not of the search's winner\n", s->outcome.trials[s->winner_index].id,
                s->outcome.trials[s->winner_index].desc->name);
    }
    cJSON_AddItemToObject(o, "refit_failures", failures);
    *facts = o;
    return rc;
}
