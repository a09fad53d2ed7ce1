/* scores.c - computing the catalogue's scores for one candidate (scores.h). */
#include "score/scores.h"
#include "util/intern.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/ate.h"
#include "score/energy.h"
#include "score/policy.h"
#include "score/rscore.h"
#include "score/scores_impl.h"
#include "score/uplift.h"
#include "util/err.h"
#include "util/mem.h"

static void set_value(tt_score_value *s, const char *name, double v)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->value = v;
}

static void set_null(tt_score_value *s, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_null(tt_score_value *s, const char *name, const char *fmt, ...)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->value = NAN;
    s->is_null = 1;
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    s->reason = tt_intern_text(reason);
}

/* A NaN from a score function means "undefined here": null with why. */
static void set_or_null(tt_score_value *s, const char *name, double v, const char *why)
{
    if (isfinite(v))
        set_value(s, name, v);
    else if (isinf(v)) /* not the case why describes: the arithmetic ran out of range */
        set_null(s, name, "the score overflowed (%s): the outcome or the effects are too large "
                 "for double arithmetic; rescale the outcome", v > 0 ? "+inf" : "-inf");
    else
        set_null(s, name, "%s", why);
}

/* Work shared by several scores of one candidate, computed on first use. */
typedef struct cache {
    double *pi;          /* the configured erupt policy, n x K */
    double *greedy;      /* the greedy policy (== pi when erupt is greedy) */
    int uplift_done;
    double qini, auuc;
    int value_done;
    double value;        /* policy_value */
    tt_status st;        /* first hard failure (out of memory) */
    char err[160];
} cache;

static const double *greedy_policy(const tt_score_context *c, const double *tau, cache *k)
{
    if (!k->greedy) {
        k->greedy = tt_malloc_array(c->n * (size_t)c->n_arms, sizeof *k->greedy);
        if (!k->greedy)
            return NULL;
        tt_policy_greedy(c->n, c->n_arms, tau, c->cost, k->greedy);
    }
    return k->greedy;
}

static const double *erupt_policy(const tt_score_context *c, const double *tau, const double *lo,
                                  const double *hi, cache *k)
{
    if (c->erupt_policy == TT_ERUPT_GREEDY)
        return greedy_policy(c, tau, k);
    if (!k->pi) {
        k->pi = tt_malloc_array(c->n * (size_t)c->n_arms, sizeof *k->pi);
        if (!k->pi)
            return NULL;
        k->st = tt_policy_thompson(c->n, c->n_arms, tau, lo, hi, c->pooled_s, c->cost,
                                   c->thompson_draws, c->seed, k->pi, k->err, sizeof k->err);
        if (k->st != TT_OK) {
            free(k->pi);
            k->pi = NULL;
        }
    }
    return k->pi;
}

static double policy_value(const tt_score_context *c, const double *tau, cache *k)
{
    if (!k->value_done) {
        const double *g = greedy_policy(c, tau, k);
        k->value = g ? tt_erupt(c->n, c->n_arms, c->t, c->y, c->prop, c->clip, g) -
                           tt_policy_mean_cost(c->n, c->n_arms, g, c->cost)
                     : NAN;
        k->value_done = g != NULL;
    }
    return k->value;
}

static void energy_kind(const tt_score_context *c, const double *tau, int kind,
                        tt_score_value *s, const char *name)
{
    tt_energy_opts o;
    tt_energy_opts_init(&o);
    o.standardize = c->energy_standardize;
    o.n_threads = c->energy_threads;
    o.clip = c->clip;
    o.max_rows = c->energy_max_rows;
    o.subsample_seed = c->seed;
    char err[160] = "";
    double v = NAN;
    tt_status st;
    if (kind == SC_IV_ENERGY) {
        o.propensity = c->instrument_prop;
        st = tt_iv_energy_score(c->n, c->p, c->x, c->y, c->t, c->n_arms, tau, c->instrument,
                                c->n_instrument, &o, &v, err, sizeof err);
    } else {
        o.propensity = kind == SC_PSW_ENERGY ? c->prop : NULL;
        st = tt_energy_score_ex(c->n, c->p, c->x, c->y, c->t, c->n_arms, tau, &o, &v, err,
                                sizeof err);
    }
    if (st == TT_OK)
        set_value(s, name, v);
    else
        set_null(s, name, "%s", err);
}

/* One score into s. Out of memory is recorded in k and the score is null. */

/* 1 if every treated arm's effect is the same on every row. */
static int constant_effects(const double *tau, size_t n, int K)
{
    for (size_t k = 0; k + 1 < (size_t)K; k++)
        for (size_t i = 1; i < n; i++)
            if (tau[k * n + i] != tau[k * n])
                return 0;
    return 1;
}

static void compute_one(const tt_score_context *c, int which, const double *tau, const double *lo,
                        const double *hi, cache *k, tt_score_value *s)
{
    const char *name = tt_score_catalogue(NULL)[which].name;
    const size_t n = c->n;
    const int K = c->n_arms;
    if (c->continuous && !(tt_score_catalogue(NULL)[which].needs & TT_SCORE_CONTINUOUS)) {
        set_null(s, name, "needs arms: the treatment is continuous");
        return;
    }
    switch (which) {
    case SC_ENERGY:
    case SC_PSW_ENERGY:
    case SC_IV_ENERGY:
        energy_kind(c, tau, which, s, name);
        return;
    case SC_ERUPT:
    case SC_ERUPT_NET:
    case SC_TREAT_SHARE: {
        const double *pi = erupt_policy(c, tau, lo, hi, k);
        if (!pi) {
            set_null(s, name, "%s", k->st != TT_OK ? k->err : "out of memory");
            return;
        }
        if (which == SC_TREAT_SHARE) {
            double s0 = 0.0;
            for (size_t i = 0; i < n; i++)
                s0 += pi[i];
            set_value(s, name, 1.0 - s0 / (double)n);
            return;
        }
        double v = tt_erupt(n, K, c->t, c->y, c->prop, c->clip, pi);
        if (which == SC_ERUPT_NET)
            v -= tt_policy_mean_cost(n, K, pi, c->cost);
        set_or_null(s, name, v, "no row's observed arm agrees with the policy");
        return;
    }
    case SC_NORM_ERUPT:
        set_or_null(s, name, tt_norm_erupt(n, c->t, c->y, c->prop, c->clip, tau),
                    "no row's observed arm agrees with the policy");
        return;
    case SC_QINI:
    case SC_AUUC:
        /* Ranking rows needs effects that differ between rows: a constant
         * candidate ties every row, and its "curve" is the random line
         * (ESTIMATORS.md: such scores are null, never jittered). */
        if (constant_effects(tau, n, K)) {
            set_null(s, name, "tau_hat is the same for every row, so it ranks nothing");
            return;
        }
        if (!k->uplift_done) {
            if (tt_uplift_scores(n, K, c->t, c->y, tau, c->qini_weight, &k->qini, &k->auuc,
                                 NULL, 0) != TT_OK) {
                set_null(s, name, "out of memory");
                return;
            }
            k->uplift_done = 1;
        }
        if (which == SC_QINI)
            set_or_null(s, name, k->qini, "an arm has no validation rows");
        else
            set_or_null(s, name, k->auuc,
                        "the uplift curve ends at 0 (g(n) = 0), so it cannot be normalised");
        return;
    case SC_POLICY_VALUE:
    case SC_POLICY_GAIN:
    case SC_POLICY_GAIN_BEST:
    case SC_POLICY_RISK: {
        const double v = policy_value(c, tau, k);
        const char *why = "no row's observed arm agrees with the greedy policy";
        if (which == SC_POLICY_VALUE) {
            set_or_null(s, name, v, why);
        } else if (which == SC_POLICY_GAIN) {
            set_or_null(s, name, v - c->arm_value[0], why);
        } else if (which == SC_POLICY_GAIN_BEST) {
            double best = -INFINITY;
            for (int a = 1; a < K; a++)
                if (isfinite(c->arm_value[a]))
                    best = fmax(best, c->arm_value[a] - c->cost[a]);
            set_or_null(s, name, v - best, why);
        } else if (c->mean_y == 0.0) {
            set_null(s, name, "mean outcome is 0, so the relative risk is undefined");
        } else {
            set_or_null(s, name, fmax(0.0, (c->mean_y - v) / fabs(c->mean_y)), why);
        }
        return;
    }
    case SC_R_SCORE:
    case SC_DR_MSE:
        if (!c->has_nu)
            set_null(s, name, "%s", c->nu_reason);
        else if (which == SC_R_SCORE)
            set_or_null(s, name, tt_r_score(&c->nu, c->t, c->y, tau),
                        "the best constant effect fits perfectly or the treatment residuals "
                        "are collinear");
        else
            set_or_null(s, name, tt_dr_mse(&c->nu, c->t, c->y, tau, c->clip),
                        "no treated validation rows");
        return;
    case SC_IV_DR_MSE:
        if (!c->has_nu)
            set_null(s, name, "%s", c->nu_reason);
        else if (!c->nu.z)
            set_null(s, name, "%s", c->iv_reason[0] ? c->iv_reason : "no IV scoring nuisances");
        else
            set_or_null(s, name, tt_iv_dr_mse(&c->nu, c->t, c->y, tau),
                        "the instrument moves no one: mean compliance or the Wald denominator "
                        "is 0");
        return;
    default: { /* the ate figures */
        tt_ate_summary a;
        tt_ate_summarise(n, tau, lo, hi, 1, &a);
        const double v = which == SC_ATE ? a.mean : which == SC_ATE_SD ? a.sd
                       : which == SC_ATE_LO ? a.lo : a.hi;
        set_or_null(s, name, v,
                    lo ? "the candidate's intervals are not finite"
                       : "needs intervals: the candidate gives no effect intervals");
        return;
    }
    }
}

static int applies(const tt_score_context *c, const tt_score_info *info)
{
    if (c->continuous && !(info->needs & TT_SCORE_CONTINUOUS))
        return 0;
    if ((info->needs & TT_SCORE_NEEDS_BINARY) && c->n_arms != 2)
        return 0;
    if ((info->needs & TT_SCORE_NEEDS_INSTRUMENT) && !c->instrument)
        return 0;
    return 1;
}

static tt_status check_effects(const tt_score_context *c, const double *tau, const double *lo,
                               const double *hi, int *intervals_ok, char *err, size_t errlen)
{
    const size_t m = c->n * (size_t)(c->n_arms - 1);
    if (!tau)
        return tt_errf(err, errlen, TT_ERR_INVALID, "scores: tau_hat is NULL");
    if (!lo != !hi)
        return tt_errf(err, errlen, TT_ERR_INVALID, "scores: give both lo and hi, or neither");
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(tau[i]))
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "scores: tau_hat of arm %zu at row %zu is not finite", i / c->n + 1,
                           i % c->n);
        if (fabs(tau[i]) > TT_SCORE_MAX_MAGNITUDE)
            return tt_errf(err, errlen, TT_ERR_INVALID,
                           "scores: tau_hat of arm %zu at row %zu is %g, beyond +-%g, where "
                           "the scores' squares overflow", i / c->n + 1, i % c->n, tau[i],
                           TT_SCORE_MAX_MAGNITUDE);
    }
    *intervals_ok = lo != NULL;
    for (size_t i = 0; lo && i < m; i++)
        if (!isfinite(lo[i]) || !isfinite(hi[i]) || hi[i] < lo[i])
            *intervals_ok = 0;
    return TT_OK;
}

tt_status tt_scores_compute(const tt_score_context *ctx, const double *tau_hat, const double *lo,
                            const double *hi, const char *const *names, size_t n_names,
                            tt_score_value *out, size_t max, size_t *n_out, char *err,
                            size_t errlen)
{
    *n_out = 0;
    size_t n_cat;
    const tt_score_info *cat = tt_score_catalogue(&n_cat);
    int which[SC_COUNT];
    size_t count = 0;
    if (n_names == 0) {
        for (size_t i = 0; i < n_cat; i++)
            if (applies(ctx, &cat[i]))
                which[count++] = (int)i;
    } else {
        for (size_t j = 0; j < n_names; j++) {
            tt_status st = tt_score_check(names[j], ctx->n_arms, ctx->instrument != NULL, err,
                                          errlen);
            if (st != TT_OK)
                return st;
        }
    }
    const size_t total = n_names ? n_names : count;
    if (total > max)
        return tt_errf(err, errlen, TT_ERR_INVALID, "scores: %zu scores asked, room for %zu",
                       total, max);
    int intervals_ok = 0;
    tt_status st = check_effects(ctx, tau_hat, lo, hi, &intervals_ok, err, errlen);
    if (st != TT_OK)
        return st;
    /* Thompson falls back to the pooled s when the intervals are unusable,
     * and the ate interval says so. */
    const double *ulo = intervals_ok ? lo : NULL, *uhi = intervals_ok ? hi : NULL;
    cache k = {0};
    for (size_t j = 0; j < total; j++) {
        const int w = n_names ? (int)(tt_score_find(names[j]) - cat) : which[j];
        if ((w == SC_ATE_LO || w == SC_ATE_HI) && lo && !intervals_ok)
            set_null(&out[j], cat[w].name, "the candidate's intervals are not finite");
        else
            compute_one(ctx, w, tau_hat, ulo, uhi, &k, &out[j]);
    }
    free(k.pi);
    free(k.greedy);
    *n_out = total;
    return TT_OK;
}

tt_status tt_scores_treat_shares(const tt_score_context *ctx, const double *tau_hat,
                                 const double *lo, const double *hi, double *shares, char *err,
                                 size_t errlen)
{
    if (ctx->continuous)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       "scores: a continuous treatment has no arms to share out");
    int intervals_ok = 0;
    tt_status st = check_effects(ctx, tau_hat, lo, hi, &intervals_ok, err, errlen);
    if (st != TT_OK)
        return st;
    cache k = {0};
    const double *pi = erupt_policy(ctx, tau_hat, intervals_ok ? lo : NULL,
                                    intervals_ok ? hi : NULL, &k);
    if (pi)
        tt_policy_shares(ctx->n, ctx->n_arms, pi, shares);
    else
        st = k.st != TT_OK ? tt_errf(err, errlen, k.st, "%s", k.err)
                           : tt_errf(err, errlen, TT_ERR_NOMEM, "scores: out of memory");
    free(k.pi);
    free(k.greedy);
    return st;
}
