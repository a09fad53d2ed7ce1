/*
 * run_estimand.c - the run's headline average effect: the estimand the user
 * asked for (config estimand / --estimand), doubly robust (score/estimand.h)
 * from the run's cross-fitted nuisance models of every row - the ones the
 * final fit refitted on all rows - or of the training rows when the run has
 * no all-rows models (final_fit = "train", or a refit that ran out of time).
 * Not made with an instrument (the winner's LATE answers there).
 * It does not depend on the winner: the winner is chosen for its per-row
 * effects; the average is best made by AIPW with the run's nuisances, as
 * DoubleML's IRM and grf's average_treatment_effect make it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "score/estimand.h"
#include "util/err.h"

/* The propensity as n x K columns (a two-arm model keeps P(T = 1) only). */
static double *propensity_columns(const tt_nuisance_result *r, size_t n, int k_arms)
{
    double *e = malloc(sizeof *e * (n * (size_t)k_arms + 1));
    if (!e)
        return NULL;
    if (r->width == 1 && k_arms == 2) {
        for (size_t i = 0; i < n; i++) {
            e[n + i] = r->oof[i];
            e[i] = 1.0 - r->oof[i];
        }
    } else {
        memcpy(e, r->oof, sizeof *e * n * (size_t)k_arms);
    }
    return e;
}

static const char *learner_of(const tt_nuisance_result *r)
{
    return r && r->diag.learner[0] ? r->diag.learner : "?";
}

static void add_value(cJSON *o, const tt_estimand_value *v)
{
    cJSON_AddNumberToObject(o, "estimate", v->estimate);
    cJSON_AddItemToObject(o, "se", isfinite(v->se) ? cJSON_CreateNumber(v->se)
                                                   : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "lo", v->lo);
    cJSON_AddNumberToObject(o, "hi", v->hi);
    cJSON_AddNumberToObject(o, "rows", v->rows);
}

/* Poor overlap for the estimand asked: what a user should do about it. */
static const char *overlap_advice(tt_estimand which)
{
    switch (which) {
    case TT_ESTIMAND_ATE:
        return "the ATE puts huge weights on those rows: consider estimand = \"att\" (the "
               "treated), \"overlap\" (overlap weights), or trimming those rows";
    case TT_ESTIMAND_ATC:
        return "the ATC leans on treated rows that resemble controls: consider \"att\" or "
               "\"overlap\"";
    default:
        return "the estimand keeps its weights bounded there, but check the effect is "
               "meant for the rows it covers";
    }
}

void tt_run_estimand(run_state *s)
{
    /* An instrument is there because the treatment is confounded beyond the
     * features: an average from the propensity and outcome models would be
     * the confounded one. The IV winner's own average (a LATE) is the answer. */
    if (s->data->p_z > 0) {
        if (!s->quiet)
            fprintf(stderr, "tautune: note: an instrumental-variable problem: the headline "
                            "is the IV winner's average effect (a LATE), not an AIPW average, "
                            "which assumes no unobserved confounding\n");
        return;
    }
    const tt_config *c = s->cfg;
    const tt_estimand which = (tt_estimand)c->estimand;
    const int all = s->engine_all && s->final_nu_rc == TT_EXIT_OK;
    const tt_host_nuisances *nu = all ? &s->nuisances_all : &s->nuisances;
    const tt_dataset *d = all ? s->data : s->train;
    const size_t n = d->n;
    const int k_arms = s->data->n_arms, cont = tt_dataset_continuous(d);
    char err[512] = "";
    tt_estimand_value *v = calloc((size_t)k_arms, sizeof *v);
    double *e = NULL, *mu = NULL;
    tt_status st = v ? TT_OK : TT_ERR_NOMEM;
    if (st == TT_OK && cont) {
        if (!nu->outcome || !nu->treatment)
            st = tt_errf(err, sizeof err, TT_ERR_UNSUPPORTED, "the run has no outcome and "
                         "treatment models");
        else
            st = tt_estimand_continuous(which, n, d->t_value, d->y, nu->outcome->oof,
                                        nu->treatment->oof, d->weight, 0.05, v, err,
                                        sizeof err);
    } else if (st == TT_OK) {
        int have_mu = nu->arm_outcome != NULL;
        for (int k = 0; have_mu && k < k_arms; k++)
            have_mu = nu->arm_outcome[k] && nu->arm_outcome[k]->oof;
        if (!nu->propensity || !have_mu) {
            st = tt_errf(err, sizeof err, TT_ERR_UNSUPPORTED, "the run has no propensity or "
                         "per-arm outcome models");
        } else {
            e = propensity_columns(nu->propensity, n, k_arms);
            mu = malloc(sizeof *mu * (n * (size_t)k_arms + 1));
            for (int k = 0; mu && k < k_arms; k++)
                memcpy(mu + (size_t)k * n, nu->arm_outcome[k]->oof, sizeof *mu * n);
            st = e && mu ? tt_estimand_aipw(which, n, k_arms, d->t, d->y, e, mu, d->weight,
                                            c->clip, 0.05, v, err, sizeof err)
                         : TT_ERR_NOMEM;
        }
    }
    free(e);
    free(mu);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: warning: no %s: %s\n", tt_estimand_name(which),
                st == TT_ERR_NOMEM ? "out of memory" : err);
        free(v);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", tt_estimand_name(which));
    cJSON_AddStringToObject(o, "description", cont ? "the average marginal effect per unit of "
                                                     "the treatment, over every row"
                                                   : tt_estimand_description(which));
    cJSON_AddStringToObject(o, "method", cont ? "residual-on-residual least squares with "
                                                "cross-fitted E[Y | x, w] and E[T | x, w], HC0 "
                                                "s.e. (partially linear model)"
                                              : "AIPW (doubly robust) with cross-fitted "
                                                "propensity and per-arm outcome models, s.e. "
                                                "from its influence function");
    cJSON_AddStringToObject(o, "rows", all ? "all" : "training");
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "alpha", 0.05);
    cJSON *ln = cJSON_AddObjectToObject(o, "nuisances");
    if (cont) {
        cJSON_AddStringToObject(ln, "outcome", learner_of(nu->outcome));
        cJSON_AddStringToObject(ln, "treatment", learner_of(nu->treatment));
    } else {
        cJSON_AddStringToObject(ln, "propensity", learner_of(nu->propensity));
        cJSON *arr = cJSON_AddArrayToObject(ln, "outcome_per_arm");
        for (int k = 0; k < k_arms; k++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(learner_of(nu->arm_outcome[k])));
    }
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    size_t outside = 0, clipped = 0;
    for (int k = 1; k < k_arms; k++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "arm", s->data->arm_labels[k]);
        add_value(a, &v[k - 1]);
        cJSON_AddItemToArray(arms, a);
        outside = v[k - 1].n_outside > outside ? v[k - 1].n_outside : outside;
        clipped += v[k - 1].n_clipped;
    }
    const double share = n ? (double)outside / (double)n : 0.0;
    const int poor = !cont && share > TT_ESTIMAND_POOR_SHARE;
    if (!cont) {
        cJSON *ov = cJSON_AddObjectToObject(o, "overlap");
        cJSON_AddNumberToObject(ov, "rows_outside", (double)outside);
        cJSON_AddNumberToObject(ov, "share_outside", share);
        cJSON_AddNumberToObject(ov, "bounds_lo", TT_ESTIMAND_OVERLAP_LO);
        cJSON_AddNumberToObject(ov, "bounds_hi", 1.0 - TT_ESTIMAND_OVERLAP_LO);
        cJSON_AddNumberToObject(ov, "rows_clipped", (double)clipped);
        cJSON_AddBoolToObject(ov, "poor", poor);
        if (poor)
            cJSON_AddStringToObject(ov, "advice", overlap_advice(which));
    }
    cJSON_Delete(s->estimand_facts);
    s->estimand_facts = o;
    if (!s->quiet)
        for (int k = 1; k < k_arms; k++)
            fprintf(stderr, "tautune: average effect (%s%s%s, %s over %s %zu rows): %.6g "
                            "[%.6g, %.6g] (s.e. %.3g)\n",
                    tt_estimand_name(which), k_arms > 2 ? ", arm " : "",
                    k_arms > 2 ? s->data->arm_labels[k] : "", cont ? "DML" : "AIPW",
                    all ? "all" : "the training", n, v[k - 1].estimate, v[k - 1].lo,
                    v[k - 1].hi, v[k - 1].se);
    /* Printed even with --quiet: it changes what the number means. */
    if (poor)
        fprintf(stderr, "tautune: WARNING: poor overlap: %zu of %zu rows (%.0f %%) have a "
                        "propensity outside [%.2f, %.2f] by the models the average uses; %s\n",
                outside, n, 100.0 * share, TT_ESTIMAND_OVERLAP_LO,
                1.0 - TT_ESTIMAND_OVERLAP_LO, overlap_advice(which));
    free(v);
}
