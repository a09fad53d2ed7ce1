/* scores_context.c - building the shared scoring context (scores.h). */
#include "score/scores.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/energy.h"
#include "score/policy.h"
#include "score/propensity.h"
#include "score/scores_impl.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/order.h"
#include "util/rng.h"

void tt_score_context_free(tt_score_context *ctx)
{
    if (!ctx)
        return;
    free(ctx->y);
    free(ctx->t);
    free(ctx->prop);
    free(ctx->cost);
    free(ctx->qini_weight);
    free(ctx->instrument);
    free(ctx->instrument_prop);
    tt_score_nuisance_free(&ctx->nu);
    free(ctx->pooled_s);
    free(ctx->arm_value);
    free(ctx);
}

const double *tt_score_context_propensity(const tt_score_context *ctx)
{
    return ctx->prop;
}

size_t tt_score_context_energy_rows(const tt_score_context *ctx)
{
    return ctx->energy_rows;
}

const struct tt_score_nuisance *tt_score_context_nuisance(const tt_score_context *ctx)
{
    return ctx->has_nu ? &ctx->nu : NULL;
}

static tt_status check_options(const tt_plugin_data *v, const tt_score_options *o, char *err,
                               size_t errlen)
{
    if (!(o->clip >= 0.0 && o->clip < 0.5))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "scores: clip %g outside [0, 0.5)", o->clip);
    if (o->thompson_draws < 1)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "scores: thompson draws %d < 1",
                       o->thompson_draws);
    if (o->fit_nuisances && o->folds < 2)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "scores: folds %d < 2", o->folds);
    if (o->row_fold && (o->row_folds < 2 || !o->fit_nuisances))
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "scores: cross-fitted scoring needs >= 2 folds and the scoring nuisances");
    if (o->erupt_policy != TT_ERUPT_GREEDY && o->erupt_policy != TT_ERUPT_THOMPSON)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "scores: unknown erupt policy %d",
                       (int)o->erupt_policy);
    for (int k = 1; o->cost && k < v->n_arms; k++)
        if (!isfinite(o->cost[k]))
            return tt_errf(err, errlen, TT_ERR_CONFIG, "scores: cost of arm %d is not finite", k);
    for (size_t i = 0; o->known_propensity && i < v->n * (size_t)v->n_arms; i++)
        if (!(o->known_propensity[i] >= 0.0 && o->known_propensity[i] <= 1.0))
            return tt_errf(err, errlen, TT_ERR_DATA,
                           "scores: known propensity of row %zu, arm %zu is %g, not in [0, 1]",
                           i % v->n, i / v->n, o->known_propensity[i]);
    if (o->instrument) {
        if (o->n_instrument < 2)
            return tt_errf(err, errlen, TT_ERR_DATA, "scores: the instrument has %d values",
                           o->n_instrument);
        for (size_t i = 0; i < v->n; i++)
            if (o->instrument[i] < 0 || o->instrument[i] >= o->n_instrument)
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "scores: instrument of row %zu is %d, outside 0..%d", i,
                               o->instrument[i], o->n_instrument - 1);
    }
    return TT_OK;
}

static double *copy_doubles(const double *src, size_t count)
{
    double *d = tt_malloc_array(count + 1, sizeof *d);
    if (d && count)
        memcpy(d, src, count * sizeof *d);
    return d;
}

/* Thompson's s for candidates without intervals: the standard error of the
 * difference in means of arm k and the control on the validation rows,
 * sqrt(var_k / n_k + var_0 / n_0) with sample variances. It depends only on
 * the data, so every interval-less candidate is sampled alike, and it is the
 * uncertainty of the simplest effect estimate this data supports. */
static void arm_moments(const tt_score_context *c, int k, double *var, double *count)
{
    double s = 0.0, ss = 0.0, m = 0.0;
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i] == k) {
            s += c->y[i];
            m++;
        }
    const double mean = m > 0 ? s / m : 0.0;
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i] == k)
            ss += (c->y[i] - mean) * (c->y[i] - mean);
    *var = m > 1 ? ss / (m - 1) : 0.0;
    *count = m;
}

static void pooled_sd(const tt_score_context *c)
{
    double v0, n0;
    arm_moments(c, 0, &v0, &n0);
    for (int k = 1; k < c->n_arms; k++) {
        double vk, nk;
        arm_moments(c, k, &vk, &nk);
        c->pooled_s[k - 1] = (nk > 0 && n0 > 0) ? sqrt(vk / nk + v0 / n0) : 0.0;
    }
}

static tt_status fill_propensity(tt_score_context *c, const tt_plugin_data *train,
                                 const tt_plugin_data *v, const tt_score_options *o, char *err,
                                 size_t errlen)
{
    const size_t nk = v->n * (size_t)v->n_arms;
    if (o->known_propensity) {
        memcpy(c->prop, o->known_propensity, nk * sizeof *c->prop);
        return TT_OK;
    }
    if (o->row_fold) { /* cross-fitted: the nuisances' out-of-fold propensity */
        memcpy(c->prop, c->nu.e_hat, nk * sizeof *c->prop);
        return TT_OK;
    }
    if (!train)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "scores: no training rows and no known propensities");
    /* Same penalty and stream as the run's scoring propensity always had, so
     * results do not move when the trial code switches to this context. */
    tt_status st = tt_scoring_propensity(train, v, o->alpha_logistic,
                                         tt_rng_derive(o->seed, "scoring"), c->prop, err, errlen);
    if (st != TT_OK)
        tt_err_prefix(err, errlen, "scoring propensity");
    return st;
}

/* The scoring nuisances of r_score and dr_mse: over the given folds, or
 * folds of their own. Sets c->has_nu on success. */
static tt_status fit_score_nuisances(tt_score_context *c, const tt_plugin_data *valid,
                                     const tt_score_options *o, char *err, size_t errlen)
{
    uint64_t seed = tt_rng_derive(o->seed, "score:nuisance");
    tt_status st = o->row_fold
                       ? tt_score_nuisance_fit_folds(valid, o->row_fold, o->row_folds, seed,
                                                     o->alpha_ridge, o->alpha_logistic, 1,
                                                     &c->nu, err, errlen)
                       : tt_score_nuisance_fit(valid, o->folds, seed, o->alpha_ridge,
                                               o->alpha_logistic, 1, &c->nu, err, errlen);
    c->has_nu = st == TT_OK;
    return st;
}

/* IV problems (two arms, a binary instrument): the scoring nuisances of
 * iv_dr_mse on the same folds. A failure costs that score only (its reason
 * is kept), never the run. */
static void fit_iv_nuisances(tt_score_context *c, const tt_plugin_data *valid,
                             const tt_score_options *o)
{
    if (!c->has_nu || !c->instrument || c->n_instrument != 2 || c->n_arms != 2)
        return;
    double *known = NULL;
    if (c->instrument_prop) /* P(z = 1 | row) is column 1 */
        known = c->instrument_prop + c->n;
    char nerr[160] = "";
    if (tt_score_nuisance_fit_iv(valid, c->instrument, known, o->alpha_logistic,
                                 tt_rng_derive(o->seed, "score:iv"), &c->nu, nerr,
                                 sizeof nerr) != TT_OK)
        snprintf(c->iv_reason, sizeof c->iv_reason, "%s", nerr);
}

/* The instrument groups and their propensities, when the options have them. */
static tt_status copy_instrument(tt_score_context *c, const tt_score_options *o, char *err,
                                 size_t errlen)
{
    if (!o->instrument)
        return TT_OK;
    const size_t n = c->n;
    c->n_instrument = o->n_instrument;
    c->instrument = tt_malloc_array(n + 1, sizeof *c->instrument);
    if (c->instrument)
        memcpy(c->instrument, o->instrument, n * sizeof *c->instrument);
    if (o->instrument_propensity)
        c->instrument_prop = copy_doubles(o->instrument_propensity, n * (size_t)o->n_instrument);
    if (!c->instrument || (o->instrument_propensity && !c->instrument_prop))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "scores: out of memory");
    return TT_OK;
}

/* A continuous treatment (valid->t_value): no arms, so no propensity, energy,
 * policy or uplift figures; the scoring nuisances (m_hat and E[T | x, w])
 * serve r_score and dr_mse. c->t holds the strata (above the median or not)
 * that stratify the nuisance folds, as dataset.h's strata do the split. */
static tt_status build_continuous(tt_score_context *c, const tt_plugin_data *valid,
                                  const tt_score_options *o, char *err, size_t errlen)
{
    const size_t n = valid->n;
    c->continuous = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(valid->t_value[i]) || !isfinite(valid->y[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "scores: validation row %zu has a "
                           "non-finite treatment or outcome", i);
        c->mean_y += valid->y[i] / (double)n;
    }
    if (tt_median_split(valid->t_value, n, c->t) < 0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "scores: out of memory");
    for (size_t i = 0; i < 2 * n; i++)
        c->prop[i] = 0.5; /* never used to weigh anything: there are no arms */
    for (int k = 0; k < 2; k++)
        c->arm_value[k] = NAN;
    c->pooled_s[0] = 0.0;
    if (!o->fit_nuisances) {
        snprintf(c->nu_reason, sizeof c->nu_reason, "scoring nuisances were not fitted");
        return TT_OK;
    }
    tt_plugin_data v = *valid;
    v.t = c->t;
    char nerr[160] = "";
    tt_status st = copy_instrument(c, o, err, errlen);
    if (st != TT_OK)
        return st;
    st = fit_score_nuisances(c, &v, o, nerr, sizeof nerr);
    if (st == TT_ERR_NOMEM || (st != TT_OK && o->row_fold))
        return tt_errf(err, errlen, st, "%s", nerr);
    if (!c->has_nu)
        snprintf(c->nu_reason, sizeof c->nu_reason, "%s", nerr);
    fit_iv_nuisances(c, &v, o);
    return TT_OK;
}

tt_status tt_score_context_build(const tt_plugin_data *train, const tt_plugin_data *valid,
                                 const tt_score_options *opts, tt_score_context **out,
                                 char *err, size_t errlen)
{
    *out = NULL;
    const int cont = valid && TT_PLUGIN_DATA_HAS(valid, t_value) && valid->t_value;
    if (cont && (valid->n_arms != 2 || !valid->y || valid->n < 2 || !opts ||
                 opts->known_propensity))
        return tt_errf(err, errlen, TT_ERR_INVALID, "scores: a continuous treatment takes "
                       "outcomes, two strata and no propensities");
    if (!valid || !opts || (!valid->t && !cont) || !valid->y || valid->n_arms < 2 ||
        valid->n == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "scores: validation rows need arms, outcomes and at least 2 arms");
    tt_status st = check_options(valid, opts, err, errlen);
    if (st != TT_OK)
        return st;
    const size_t n = valid->n, p = valid->p_x, K = (size_t)valid->n_arms;
    tt_score_context *c = calloc(1, sizeof *c);
    if (!c)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "scores: out of memory");
    c->n = n;
    c->p = p;
    c->n_arms = valid->n_arms;
    c->clip = opts->clip;
    c->erupt_policy = opts->erupt_policy;
    c->thompson_draws = opts->thompson_draws;
    c->seed = opts->seed;
    c->energy_standardize = opts->energy_standardize;
    c->energy_threads = opts->energy_threads;
    c->energy_max_rows = opts->energy_max_rows;
    c->energy_rows = n;
    c->has_cost = opts->cost != NULL;
    /* Borrowed, not copied: at a million rows the copy was 48 MB of the main
     * process, for the energy scores alone. */
    c->x = valid->x;
    c->y = copy_doubles(valid->y, n);
    c->t = tt_malloc_array(n + 1, sizeof *c->t);
    c->prop = tt_malloc_array(n * K + 1, sizeof *c->prop);
    c->cost = calloc(K, sizeof *c->cost);
    c->pooled_s = tt_malloc_array(K, sizeof *c->pooled_s);
    c->arm_value = tt_malloc_array(K, sizeof *c->arm_value);
    if ((!c->x && n * p > 0) || !c->y || !c->t || !c->prop || !c->cost || !c->pooled_s || !c->arm_value) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "scores: out of memory for %zu rows", n);
        goto fail;
    }
    if (cont) {
        if ((st = build_continuous(c, valid, opts, err, errlen)) != TT_OK)
            goto fail;
        *out = c;
        return TT_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (valid->t[i] < 0 || (size_t)valid->t[i] >= K || !isfinite(valid->y[i])) {
            st = tt_errf(err, errlen, TT_ERR_DATA,
                         "scores: validation row %zu has arm %d or a non-finite outcome", i,
                         valid->t[i]);
            goto fail;
        }
        c->t[i] = valid->t[i];
        c->mean_y += valid->y[i] / (double)n;
    }
    for (size_t k = 1; opts->cost && k < K; k++)
        c->cost[k] = opts->cost[k];
    if (opts->row_fold && !opts->known_propensity) {
        /* The propensity comes from the cross-fitted nuisances: fit them
         * first, and without them there is no propensity to score with. */
        char nerr[160] = "";
        st = fit_score_nuisances(c, valid, opts, nerr, sizeof nerr);
        if (st != TT_OK) {
            tt_errf(err, errlen, st, "%s", nerr);
            goto fail;
        }
    }
    st = fill_propensity(c, train, valid, opts, err, errlen);
    if (st != TT_OK)
        goto fail;
    if (opts->qini_weighted) {
        c->qini_weight = tt_malloc_array(n + 1, sizeof *c->qini_weight);
        if (!c->qini_weight) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "scores: out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            const double e = c->prop[(size_t)c->t[i] * n + i];
            c->qini_weight[i] = 1.0 / fmin(fmax(e, c->clip), 1.0 - c->clip);
        }
    }
    if ((st = copy_instrument(c, opts, err, errlen)) != TT_OK)
        goto fail;
    if (opts->energy_max_rows > 0 && n > opts->energy_max_rows) {
        unsigned char *keep = malloc(n);
        st = keep ? tt_energy_subsample(n, c->t, c->n_arms, opts->energy_max_rows, opts->seed,
                                        keep, &c->energy_rows)
                  : TT_ERR_NOMEM;
        free(keep);
        if (st != TT_OK) {
            st = tt_errf(err, errlen, st, "scores: cannot draw the energy subsample");
            goto fail;
        }
    }
    pooled_sd(c);
    for (size_t k = 0; k < K; k++)
        c->arm_value[k] = tt_arm_value(n, c->t, c->y, c->prop, c->clip, (int)k);
    if (opts->fit_nuisances && !c->has_nu) {
        char nerr[160] = "";
        st = fit_score_nuisances(c, valid, opts, nerr, sizeof nerr);
        /* Data too thin for the folds (or a model that cannot be fitted)
         * costs r_score and dr_mse, not the run: they become null with the
         * reason. Running out of memory is still fatal. */
        if (st == TT_ERR_NOMEM) {
            tt_errf(err, errlen, st, "%s", nerr);
            goto fail;
        }
        if (!c->has_nu)
            snprintf(c->nu_reason, sizeof c->nu_reason, "%s", nerr);
        st = TT_OK;
    } else if (!opts->fit_nuisances) {
        snprintf(c->nu_reason, sizeof c->nu_reason, "scoring nuisances were not fitted");
    }
    fit_iv_nuisances(c, valid, opts);
    *out = c;
    return TT_OK;
fail:
    tt_score_context_free(c);
    return st;
}
