/*
 * abtest_analyse.c - one outcome of `tautune abtest` as its results.json
 * object: per-arm summaries, then every treated arm against the control by
 * each method the data allow (abtest.h says which and why), each method's
 * comparisons corrected together.
 *
 * Which methods: with a constant assignment probability (an ordinary A/B/N
 * test), difference in means (Welch), CUPED when a pre-period column is
 * named, Lin's regression when there are features, AIPW when cross-fitted
 * outcome models were made. With propensities known per row (data assigned
 * adaptively, e.g. by `tautune assign`), the plain comparisons are biased:
 * the arm means are inverse-propensity weighted (Hajek), AIPW uses the known
 * propensities, and the design value says what the stated design (default:
 * every arm equally likely) would have earned.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/abtest.h"
#include "report/results.h"
#include "util/err.h"

static cJSON *effect_json(const char *arm, const tt_ab_effect *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "arm", arm);
    cJSON_AddItemToObject(o, "estimate", tt_json_number(e->estimate));
    cJSON_AddItemToObject(o, "se", tt_json_number(e->se));
    cJSON_AddItemToObject(o, "lo", tt_json_number(e->lo));
    cJSON_AddItemToObject(o, "hi", tt_json_number(e->hi));
    cJSON_AddItemToObject(o, "df", tt_json_number(e->df)); /* null: the normal */
    cJSON_AddItemToObject(o, "p", tt_json_number(e->p));
    cJSON_AddItemToObject(o, "p_adjusted", tt_json_number(e->p_adj));
    return o;
}

/* A method's object with its K - 1 effects, corrected together. */
static cJSON *method_json(const ab_input *in, const char *key, const char *label,
                          tt_ab_effect *effects)
{
    const size_t m = (size_t)in->n_arms - 1;
    tt_ab_correct(effects, m, in->correction, in->alpha);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    if (!o || !arr) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return NULL;
    }
    cJSON_AddStringToObject(o, "method", key);
    cJSON_AddStringToObject(o, "label", label);
    for (size_t k = 0; k < m; k++)
        cJSON_AddItemToArray(arr, effect_json(in->arm_labels[k + 1], &effects[k]));
    cJSON_AddItemToObject(o, "effects", arr);
    return o;
}

static cJSON *arms_json(const ab_input *in, const tt_ab_arm *arms, const double *hajek)
{
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; arr && k < in->n_arms; k++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "label", in->arm_labels[k]);
        cJSON_AddNumberToObject(a, "n", (double)arms[k].n);
        cJSON_AddItemToObject(a, "mean", tt_json_number(arms[k].mean));
        cJSON_AddItemToObject(a, "sd", tt_json_number(arms[k].sd));
        cJSON_AddItemToObject(a, "se", tt_json_number(arms[k].se));
        if (hajek)
            cJSON_AddItemToObject(a, "weighted_mean", tt_json_number(hajek[k]));
        cJSON_AddItemToArray(arr, a);
    }
    return arr;
}

/* Welch's comparisons of arms (raw or CUPED-adjusted) against arm 0. */
static void welch_all(const ab_input *in, const tt_ab_arm *arms, tt_ab_effect *effects)
{
    for (int k = 1; k < in->n_arms; k++)
        effects[k - 1] = tt_ab_welch(&arms[0], &arms[k], in->alpha);
}

static cJSON *cuped_json(const ab_input *in, const tt_ab_effect *welch, tt_ab_effect *effects,
                         char *err, size_t errlen)
{
    const size_t n = in->n, m = (size_t)in->n_arms - 1;
    double theta = tt_ab_cuped_theta(n, in->y, in->pre);
    if (!isfinite(theta)) {
        tt_errf(err, errlen, TT_ERR_DATA, "CUPED: the pre-period column '%s' is constant",
                in->pre_name);
        return NULL;
    }
    double *adj = malloc(sizeof *adj * n);
    tt_ab_arm *arms = malloc(sizeof *arms * (size_t)in->n_arms);
    if (!adj || !arms) {
        free(adj);
        free(arms);
        tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    tt_ab_cuped_adjust(n, in->y, in->pre, theta, adj);
    tt_ab_arm_stats(n, in->n_arms, in->t, adj, arms);
    welch_all(in, arms, effects);
    /* The pooled variance before and after: 1 - ratio = rho^2 of the rows. */
    double my = 0, ma = 0, vy = 0, va = 0;
    for (size_t i = 0; i < n; i++)
        my += in->y[i], ma += adj[i];
    my /= (double)n, ma /= (double)n;
    for (size_t i = 0; i < n; i++)
        vy += (in->y[i] - my) * (in->y[i] - my), va += (adj[i] - ma) * (adj[i] - ma);
    free(adj);
    free(arms);
    char label[256];
    snprintf(label, sizeof label, "CUPED (pre-period %s)", in->pre_name);
    cJSON *o = method_json(in, "cuped", label, effects);
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "pre", in->pre_name);
    cJSON_AddItemToObject(o, "theta", tt_json_number(theta));
    cJSON_AddItemToObject(o, "variance_reduction", tt_json_number(vy > 0 ? 1 - va / vy : NAN));
    /* Per comparison: how much of Welch's variance CUPED removed. */
    cJSON *red = cJSON_CreateArray();
    for (size_t k = 0; red && k < m; k++)
        cJSON_AddItemToArray(red, tt_json_number(1 - effects[k].se * effects[k].se /
                                                         (welch[k].se * welch[k].se)));
    cJSON_AddItemToObject(o, "se2_reduction", red);
    return o;
}

static int add_method(cJSON *methods, cJSON *m)
{
    if (!m)
        return -1;
    cJSON_AddItemToArray(methods, m);
    return 0;
}

cJSON *tt_ab_analyse(const ab_input *in, char *err, size_t errlen)
{
    const size_t K = (size_t)in->n_arms, m = K - 1;
    tt_ab_arm *arms = malloc(sizeof *arms * K);
    tt_ab_effect *welch = malloc(sizeof *welch * m), *eff = malloc(sizeof *eff * m);
    double *hajek = in->e_known ? malloc(sizeof *hajek * K) : NULL;
    cJSON *o = cJSON_CreateObject(), *methods = cJSON_CreateArray(),
          *notes = cJSON_CreateArray();
    int bad = !arms || !welch || !eff || (in->e_known && !hajek) || !o || !methods || !notes;
    if (bad) {
        tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    cJSON_AddStringToObject(o, "name", in->outcome);
    tt_ab_arm_stats(in->n, in->n_arms, in->t, in->y, arms);
    if (in->e_known) {
        tt_ab_hajek(in->n, in->n_arms, in->t, in->y, in->e_known, in->alpha, hajek, eff);
        if (add_method(methods, method_json(in, "hajek", "weighted means (Hajek, known "
                                            "propensities)", eff)))
            goto nomem;
        cJSON_AddItemToArray(notes, cJSON_CreateString(
            "assignment probabilities vary by row (data.propensity): plain differences in "
            "means, CUPED and Lin's regression assume one probability per arm and are not "
            "shown; arm means are weighted by 1 / propensity"));
    } else {
        welch_all(in, arms, welch);
        memcpy(eff, welch, sizeof *eff * m);
        if (add_method(methods, method_json(in, "welch", "difference in means (Welch)", eff)))
            goto nomem;
        if (in->pre) {
            cJSON *c = cuped_json(in, welch, eff, err, errlen);
            if (!c)
                goto fail;
            cJSON_AddItemToArray(methods, c);
        }
        if (in->p > 0) {
            size_t dropped = 0;
            if (tt_ab_lin(in->n, in->n_arms, in->t, in->y, in->p, in->x, in->alpha, eff,
                          &dropped, err, errlen) != TT_OK)
                goto fail;
            char label[128];
            snprintf(label, sizeof label, "regression adjustment (Lin, %zu features, HC2)",
                     in->p);
            cJSON *l = method_json(in, "lin", label, eff);
            if (add_method(methods, l))
                goto nomem;
            cJSON_AddNumberToObject(l, "features", (double)in->p);
            cJSON_AddNumberToObject(l, "columns_dropped", (double)dropped);
        }
    }
    if (in->mu) {
        tt_ab_aipw(in->n, in->n_arms, in->t, in->y, in->mu, in->e_aipw, in->alpha, eff);
        char label[256];
        snprintf(label, sizeof label, "AIPW (%s)", in->aipw_how);
        if (add_method(methods, method_json(in, "aipw", label, eff)))
            goto nomem;
    }
    cJSON_AddItemToObject(o, "arms", arms_json(in, arms, hajek));
    cJSON_AddItemToObject(o, "methods", methods);
    methods = NULL;
    if (in->e_known) {
        tt_ab_design_value dv;
        if (tt_ab_design_value_of(in->n, in->n_arms, in->t, in->y, in->e_known, in->design,
                                  in->alpha, in->resamples, in->seed, &dv, err, errlen) != TT_OK)
            goto fail;
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, "value", tt_json_number(dv.value));
        cJSON_AddItemToObject(d, "lo", tt_json_number(dv.lo));
        cJSON_AddItemToObject(d, "hi", tt_json_number(dv.hi));
        cJSON_AddItemToObject(d, "actual", tt_json_number(dv.actual));
        cJSON_AddItemToObject(d, "uplift", tt_json_number(dv.uplift));
        cJSON_AddItemToObject(d, "uplift_lo", tt_json_number(dv.uplift_lo));
        cJSON_AddItemToObject(d, "uplift_hi", tt_json_number(dv.uplift_hi));
        cJSON_AddNumberToObject(d, "resamples", (double)dv.resamples);
        cJSON *des = cJSON_CreateArray();
        for (size_t k = 0; k < K; k++)
            cJSON_AddItemToArray(des, cJSON_CreateNumber(in->design[k]));
        cJSON_AddItemToObject(d, "design", des);
        cJSON_AddItemToObject(o, "design_value", d);
    }
    cJSON_AddItemToObject(o, "notes", notes);
    free(arms);
    free(welch);
    free(eff);
    free(hajek);
    return o;
nomem:
    tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
fail:
    free(arms);
    free(welch);
    free(eff);
    free(hajek);
    cJSON_Delete(o);
    cJSON_Delete(methods);
    cJSON_Delete(notes);
    return NULL;
}
