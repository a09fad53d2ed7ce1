/* run_winner.c - what a run hands on: the winning trial refitted on the
 * training rows with the trial's own seed (so it is that trial's model, not a
 * look-alike), its effects and intervals for every row (cate.csv), its
 * average effect with an interval on the validation rows (and, from a plugin
 * with ABI 1.4's average_effect_oob, on the training rows out of bag), and
 * the model file that `tautune predict` applies to new rows (model.ttm). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "report/cate.h"
#include "search/search.h"
#include "util/clock.h"

#define WINNER_ALPHA 0.05

typedef struct winner {
    const tt_plugin_descriptor *desc;
    void *inst;
    tt_host_ctx ctx;
    tt_plugin_host host;
    uint64_t seed;
    double *tau, *lo, *hi; /* every data row */
} winner;

static void winner_free(winner *w)
{
    if (w->inst)
        w->desc->destroy(w->inst);
    free(w->tau);
    free(w->lo);
    free(w->hi);
}

static int fail(const char *stage, const char *plugin, const char *err)
{
    fprintf(stderr, "tautune: refitting the winner (%s) failed at %s: %s; cate.csv and the "
                    "model file are not written\n", plugin, stage, err);
    return TT_EXIT_ERROR;
}

/* Effects (and intervals, where the plugin has them) for every data row. */
static int effects_all_rows(run_state *s, winner *w, char *err, size_t errlen)
{
    tt_plugin_data all = tt_run_view(s->data);
    size_t cells = all.n * (size_t)(s->data->n_arms - 1);
    w->tau = malloc(sizeof *w->tau * (cells + 1));
    if (!w->tau)
        return snprintf(err, errlen, "out of memory"), -1;
    if (w->desc->effect(w->inst, &all, w->tau, err, errlen) != TT_OK)
        return -1;
    if (!(w->desc->capabilities & TT_PLUGIN_CAP_INTERVALS))
        return 0;
    w->lo = malloc(sizeof *w->lo * (cells + 1));
    w->hi = malloc(sizeof *w->hi * (cells + 1));
    char why[512] = "";
    if (!w->lo || !w->hi ||
        w->desc->effect_interval(w->inst, &all, WINNER_ALPHA, w->lo, w->hi, why, sizeof why)) {
        fprintf(stderr, "tautune: warning: the winner gave no intervals (%s)\n",
                why[0] ? why : "out of memory");
        free(w->lo);
        free(w->hi);
        w->lo = w->hi = NULL;
    }
    return 0;
}

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* "average_effect": per treated arm on the validation rows. */
static cJSON *average_effect(run_state *s, winner *w)
{
    tt_plugin_data valid = tt_run_view(s->valid);
    int k_eff = s->data->n_arms - 1;
    double ate[k_eff], lo[k_eff], hi[k_eff];
    char err[512] = "";
    const char *method = tt_plugin_average_method(w->desc);
    tt_plugin_average_fn avg = tt_plugin_average_effect(w->desc);
    int have = 0;
    if (avg && avg(w->inst, &valid, WINNER_ALPHA, ate, lo, hi, err, sizeof err) == TT_OK) {
        have = 1;
    } else if (avg) {
        fprintf(stderr, "tautune: warning: the winner's average_effect failed: %s\n", err);
    }
    if (!have) {
        /* Fallback: the mean effect, with the mean of the row bounds (an
         * interval at least as wide as the average's when rows covary fully). */
        size_t nv = s->valid->n;
        double *tau = malloc(sizeof *tau * (nv * (size_t)k_eff + 1));
        double *rl = w->lo ? malloc(sizeof *rl * (nv * (size_t)k_eff + 1)) : NULL;
        double *rh = w->lo ? malloc(sizeof *rh * (nv * (size_t)k_eff + 1)) : NULL;
        int ok = tau && w->desc->effect(w->inst, &valid, tau, err, sizeof err) == TT_OK;
        int ok_iv = ok && rl && rh &&
                    w->desc->effect_interval(w->inst, &valid, WINNER_ALPHA, rl, rh, err,
                                             sizeof err) == TT_OK;
        for (int k = 0; ok && k < k_eff; k++) {
            double m = 0, ml = 0, mh = 0;
            for (size_t i = 0; i < nv; i++) {
                m += tau[(size_t)k * nv + i];
                if (ok_iv) {
                    ml += rl[(size_t)k * nv + i];
                    mh += rh[(size_t)k * nv + i];
                }
            }
            ate[k] = m / (double)nv;
            lo[k] = ok_iv ? ml / (double)nv : NAN;
            hi[k] = ok_iv ? mh / (double)nv : NAN;
        }
        free(tau);
        free(rl);
        free(rh);
        if (!ok)
            return NULL;
        have = 1;
        method = ok_iv ? "mean of the row intervals (conservative)" : NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rows", "validation");
    cJSON_AddNumberToObject(o, "alpha", WINNER_ALPHA);
    if (method)
        cJSON_AddStringToObject(o, "interval_method", method);
    else
        cJSON_AddNullToObject(o, "interval_method");
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    for (int k = 0; k < k_eff; k++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arm", s->data->arm_labels[k + 1]);
        cJSON_AddNumberToObject(a, "estimate", ate[k]);
        cJSON_AddItemToObject(a, "lo", number_or_null(lo[k]));
        cJSON_AddItemToObject(a, "hi", number_or_null(hi[k]));
        cJSON_AddItemToArray(arms, a);
    }
    return o;
}

/* "average_effect_oob": the plugin's own average over the training rows of
 * the refit, from out-of-bag estimates (grf's average_treatment_effect),
 * when it offers one; NULL (with a warning if it failed) otherwise. */
static cJSON *average_effect_oob(run_state *s, winner *w)
{
    tt_plugin_average_oob_fn oob = tt_plugin_average_effect_oob(w->desc);
    if (!oob)
        return NULL;
    int k_eff = s->data->n_arms - 1;
    double ate[k_eff], lo[k_eff], hi[k_eff], se[k_eff];
    char err[512] = "";
    if (oob(w->inst, WINNER_ALPHA, ate, lo, hi, se, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune: warning: the winner's average_effect_oob failed: %s\n", err);
        return NULL;
    }
    const char *method = tt_plugin_average_oob_method(w->desc);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rows", "training (out-of-bag)");
    cJSON_AddNumberToObject(o, "alpha", WINNER_ALPHA);
    cJSON_AddItemToObject(o, "method", method ? cJSON_CreateString(method) : cJSON_CreateNull());
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    for (int k = 0; k < k_eff; k++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arm", s->data->arm_labels[k + 1]);
        cJSON_AddItemToObject(a, "estimate", number_or_null(ate[k]));
        cJSON_AddItemToObject(a, "se", number_or_null(se[k]));
        cJSON_AddItemToObject(a, "lo", number_or_null(lo[k]));
        cJSON_AddItemToObject(a, "hi", number_or_null(hi[k]));
        cJSON_AddItemToArray(arms, a);
    }
    return o;
}

static int write_model(run_state *s, winner *w, const tt_trial_result *best, const char *path,
                       char *err, size_t errlen)
{
    tt_model_state_buffer buf = {0};
    tt_plugin_sink sink = tt_model_state_sink(&buf);
    if (w->desc->save(w->inst, &sink, err, errlen) != TT_OK || buf.failed) {
        if (buf.failed)
            snprintf(err, errlen, "out of memory saving the plugin's state");
        free(buf.bytes);
        return -1;
    }
    const tt_host_nuisances *nu = s->engine ? &s->nuisances : NULL;
    tt_learner *mu[s->data->n_arms];
    for (int k = 0; k < s->data->n_arms; k++)
        mu[k] = nu && nu->arm_outcome ? nu->arm_outcome[k]->full : NULL;
    tt_model m = {
        .plugin = (char *)w->desc->name, .plugin_version = (char *)w->desc->version,
        .n_params = w->desc->n_params, .params = best->point, .seed = w->seed,
        .n_arms = s->data->n_arms, .arm_labels = s->data->arm_labels,
        .id_name = s->data->id_name, .p_x = s->data->p_x, .p_w = s->data->p_w,
        .x_names = s->data->x_names, .w_names = s->data->w_names, .prep = s->prep,
        .propensity = nu && nu->propensity ? nu->propensity->full : NULL,
        .prop_width = nu && nu->propensity ? nu->propensity->width : 0,
        .outcome = nu && nu->outcome ? nu->outcome->full : NULL,
        .arm_outcome = nu && nu->arm_outcome ? mu : NULL,
        .state = buf.bytes, .state_len = buf.len,
    };
    tt_status st = tt_model_write(path, &m, err, errlen);
    free(buf.bytes);
    return st == TT_OK ? 0 : -1;
}

/* Create the trial's instance with the trial's seed and fit it on the
 * training rows; on failure says where in err. */
static int refit(run_state *s, const tt_trial_result *r, volatile sig_atomic_t *stop, winner *w,
                 const char **stage, char *err, size_t errlen)
{
    w->desc = r->desc;
    w->seed = tt_search_trial_seed(s->cfg->seed, r->id);
    w->ctx = (tt_host_ctx){.plugin_name = w->desc->name, .stop_flag = stop,
                           .nuisances = s->engine ? &s->nuisances : NULL,
                           .capabilities = w->desc->capabilities,
                           .interval_resamples = s->cfg->interval_resamples};
    tt_host_services_init(&w->host, &w->ctx, w->seed);
    tt_plugin_data train = tt_run_view(s->train);
    *stage = "create";
    if (w->desc->create(&w->host, r->point, s->data->n_arms, &w->inst, err, errlen) || !w->inst) {
        w->inst = NULL;
        return -1;
    }
    *stage = "fit";
    return w->desc->fit(w->inst, &train, err, errlen) == TT_OK ? 0 : -1;
}

int tt_run_refit_effects(run_state *s, const tt_trial_result *r, volatile sig_atomic_t *stop,
                         double *tau, char *err, size_t errlen)
{
    winner w = {0};
    const char *stage = "";
    tt_plugin_data valid = tt_run_view(s->valid);
    int rc = refit(s, r, stop, &w, &stage, err, errlen);
    if (rc == 0 && w.desc->effect(w.inst, &valid, tau, err, errlen) != TT_OK)
        rc = -1;
    winner_free(&w);
    return rc;
}

int tt_run_winner(run_state *s, const char *dir, volatile sig_atomic_t *stop, cJSON **facts)
{
    *facts = NULL;
    const tt_trial_result *best = &s->outcome.trials[s->outcome.best];
    double start = tt_now();
    char err[1024] = "", path[4096];
    winner w = {0};
    unsigned char *is_valid = NULL;
    const char *stage = "";
    int rc = TT_EXIT_OK;
    if (refit(s, best, stop, &w, &stage, err, sizeof err)) {
        rc = fail(stage, best->desc->name, err);
        goto out;
    }
    if (effects_all_rows(s, &w, err, sizeof err)) {
        rc = fail("effect", w.desc->name, err);
        goto out;
    }
    /* The split as data-row flags: s->split indexes the dataset's rows. */
    is_valid = calloc(s->data->n + 1, 1);
    for (size_t i = 0; is_valid && i < s->split.n_valid; i++)
        is_valid[s->split.valid[i]] = 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "estimator", w.desc->name);
    cJSON_AddNumberToObject(o, "trial", (double)best->id);
    tt_cate_rows rows = {.n = s->data->n, .n_arms = s->data->n_arms,
                         .arm_labels = (const char *const *)s->data->arm_labels,
                         .row = s->data->row, .id_name = s->data->id_name,
                         .ids = (const char *const *)s->data->ids, .t = s->data->t,
                         .is_valid = is_valid,
                         .tau = w.tau, .lo = w.lo, .hi = w.hi};
    snprintf(path, sizeof path, "%s/cate.csv", dir);
    if (tt_cate_write(path, &rows, err, sizeof err) == TT_OK)
        cJSON_AddStringToObject(o, "effects", "cate.csv");
    else
        fprintf(stderr, "tautune: %s\n", err);
    cJSON *avg = average_effect(s, &w);
    if (avg)
        cJSON_AddItemToObject(o, "average_effect", avg);
    cJSON *avg_oob = average_effect_oob(s, &w);
    if (avg_oob)
        cJSON_AddItemToObject(o, "average_effect_oob", avg_oob);
    if (w.desc->capabilities & TT_PLUGIN_CAP_SAVE_LOAD) {
        snprintf(path, sizeof path, "%s/model.ttm", dir);
        if (write_model(s, &w, best, path, err, sizeof err) == 0)
            cJSON_AddStringToObject(o, "model", "model.ttm");
        else
            fprintf(stderr, "tautune: the winner's model file was not written: %s\n", err);
    } else {
        fprintf(stderr, "tautune: note: %s cannot save its state; no model file\n",
                w.desc->name);
    }
    cJSON_AddNumberToObject(o, "seconds", tt_now() - start);
    *facts = o;
    /* The report plots the winner's validation effects: hand them over. */
    s->winner_tau = w.tau;
    s->winner_lo = w.lo;
    s->winner_hi = w.hi;
    w.tau = w.lo = w.hi = NULL;
out:
    free(is_valid);
    winner_free(&w);
    return rc;
}
