/* plugin_test_data.c - the test problems of `tautune plugin-test`
 * (plugin_test.h).
 *
 * The rows come from the project's generators (core/data/gen.c), so a
 * plugin meets the same data `tautune gen` writes. Their effects vary with
 * x, which makes "did it find the effect" a matter of modelling; a checker
 * wants a question with one right answer whatever the model, so the outcome
 * is rewritten to a constant effect: Y' = Y - tau_T(x) + c_T, exact because
 * every generator adds its effect to the outcome (gen.h). The tolerance is
 * not a fixed number: it is PT_TOL_SE standard errors of the simplest
 * estimator on the same training rows, so it scales with the rows (--quick)
 * and with how hard the kind is (an instrument is noisier than a coin). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plugin_test.h"
#include "data/gen.h"
#include "util/err.h"
#include "util/rng.h"

/* Cross-fitting folds of the nuisance models (the run's default). */
#define PT_NUISANCE_FOLDS 5

const char *pt_kind_name(pt_kind kind)
{
    static const char *const names[PT_KIND_COUNT] = {"2arm", "3arm", "iv", "continuous"};
    return (unsigned)kind < PT_KIND_COUNT ? names[kind] : "?";
}

const char *pt_kind_generator(pt_kind kind)
{
    static const char *const gens[PT_KIND_COUNT] = {"rct_linear", "rct_linear", "iv", "pricing"};
    return (unsigned)kind < PT_KIND_COUNT ? gens[kind] : "?";
}

size_t pt_cells(const pt_problem *pb)
{
    return pb->n_eval * (size_t)(pb->n_arms - 1);
}

/* The constant effect of each kind: arm k's is k (the generators' tau_k is
 * k times an effect of mean 1), the instrument's 1, the price elasticity -1
 * (the pricing generator's mean). */
static void constant_effect(tt_dataset *ds, pt_kind kind, double *truth)
{
    size_t n = ds->n;
    if (kind == PT_CONTINUOUS) {
        truth[0] = -1.0;
        for (size_t i = 0; i < n; i++) {
            ds->y[i] += (truth[0] - ds->tau[i]) * ds->t_value[i];
            ds->tau[i] = truth[0];
        }
        return;
    }
    for (int k = 1; k < ds->n_arms; k++)
        truth[k - 1] = kind == PT_IV ? 1.0 : (double)k;
    for (size_t i = 0; i < n; i++) {
        int a = ds->t[i];
        if (a > 0)
            ds->y[i] += truth[a - 1] - ds->tau[(size_t)(a - 1) * n + i];
        for (int k = 1; k < ds->n_arms; k++)
            ds->tau[(size_t)(k - 1) * n + i] = truth[k - 1];
    }
}

static double mean_of(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / (double)n : NAN;
}

/* Standard errors on the training rows: a difference in means per arm; the
 * Wald ratio cov(Y, Z) / cov(T, Z), sigma^2 var(Z) / (n cov(T, Z)^2) with
 * sigma^2 = var(Y - c T); the slope on T - E[T | x, w] (known from the
 * generator), var(Y - c T) / (n var(T - E[T | x, w])). The last two take
 * the outcome's whole variance as the residual's, which only widens them. */
static void tolerances(pt_problem *pb)
{
    const tt_dataset *d = pb->train;
    size_t n = d->n;
    if (pb->kind == PT_TWO_ARMS || pb->kind == PT_MULTI_ARM) {
        double sum[PT_MAX_ARMS] = {0}, sq[PT_MAX_ARMS] = {0}, cnt[PT_MAX_ARMS] = {0};
        for (size_t i = 0; i < n; i++) {
            sum[d->t[i]] += d->y[i];
            sq[d->t[i]] += d->y[i] * d->y[i];
            cnt[d->t[i]] += 1;
        }
        double var[PT_MAX_ARMS];
        for (int k = 0; k < pb->n_arms; k++) {
            double m = sum[k] / cnt[k];
            var[k] = (sq[k] - cnt[k] * m * m) / (cnt[k] - 1);
        }
        for (int k = 1; k < pb->n_arms; k++)
            pb->tol[k - 1] = PT_TOL_SE * sqrt(var[k] / cnt[k] + var[0] / cnt[0]);
        pb->tol_rule = "s.e. of a difference in means";
        return;
    }
    double c = pb->truth[0];
    double *r = malloc(sizeof *r * (n + 1)), *v = malloc(sizeof *v * (n + 1));
    if (!r || !v) {
        free(r);
        free(v);
        pb->tol[0] = INFINITY; /* cannot happen after the data fitted; never a false FAIL */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double t = pb->kind == PT_IV ? (double)d->t[i] : d->t_value[i];
        r[i] = d->y[i] - c * t;
        v[i] = pb->kind == PT_IV ? t : t - tt_gen_pricing_price_mean(d, i);
    }
    double mr = mean_of(r, n), mv = mean_of(v, n), sr = 0, sv = 0;
    for (size_t i = 0; i < n; i++) {
        sr += (r[i] - mr) * (r[i] - mr);
        sv += (v[i] - mv) * (v[i] - mv);
    }
    double var_r = sr / (double)(n - 1);
    if (pb->kind == PT_IV) {
        double mz = mean_of(d->z, n), szz = 0, stz = 0;
        for (size_t i = 0; i < n; i++) {
            szz += (d->z[i] - mz) * (d->z[i] - mz);
            stz += (d->z[i] - mz) * (v[i] - mv);
        }
        double var_z = szz / (double)(n - 1), cov_tz = stz / (double)(n - 1);
        pb->tol[0] = PT_TOL_SE * sqrt(var_r * var_z / (double)n) / fabs(cov_tz);
        pb->tol_rule = "s.e. of the Wald ratio";
    } else {
        pb->tol[0] = PT_TOL_SE * sqrt(var_r / ((double)n * (sv / (double)(n - 1))));
        pb->tol_rule = "s.e. of the slope on T - E[T | x, w]";
    }
    free(r);
    free(v);
}

/* Views as `tautune run` hands them (run_data.c's tt_run_view): the
 * training rows with t and y (a continuous treatment: t_value, t NULL), the
 * rows to predict with features only. Instruments only for the IV kind. */
static void views(pt_problem *pb)
{
    const tt_dataset *tr = pb->train, *ev = pb->eval;
    pb->train_view = (tt_plugin_data){
        .struct_size = sizeof(tt_plugin_data), .n = tr->n, .p_x = tr->p_x, .p_w = tr->p_w,
        .x = tr->x, .w = tr->w, .t = tr->t, .y = tr->y, .n_arms = tr->n_arms,
        .x_names = (const char *const *)tr->x_names, .w_names = (const char *const *)tr->w_names,
        .t_value = tr->t_value};
    if (tr->t_value)
        pb->train_view.t = NULL;
    pb->eval_view = (tt_plugin_data){
        .struct_size = sizeof(tt_plugin_data), .n = ev->n, .p_x = ev->p_x, .p_w = ev->p_w,
        .x = ev->x, .w = ev->w, .n_arms = ev->n_arms,
        .x_names = (const char *const *)ev->x_names, .w_names = (const char *const *)ev->w_names};
    if (pb->kind == PT_IV) {
        pb->train_view.p_z = pb->eval_view.p_z = tr->p_z;
        pb->train_view.z = tr->z;
        pb->train_view.z_names = pb->eval_view.z_names = (const char *const *)tr->z_names;
    }
}

/* One role's model: the role's first default candidate (logistic or ridge),
 * cross-fitted, made the role's choice. */
static tt_status fit_role(pt_problem *pb, tt_nuisance_role role, int arm, char *err,
                          size_t errlen)
{
    const tt_nuisance_spec *cands;
    size_t n;
    const tt_nuisance_result *r;
    tt_nuisance_default_candidates(role, &cands, &n);
    tt_status st = tt_nuisance_select(pb->engine, role, arm, cands, 1, &r, err, errlen);
    if (st != TT_OK)
        tt_err_prefix(err, errlen, "%s nuisance model", tt_nuisance_role_name(role));
    return st;
}

/* The nuisance models caps declares, served the way the run serves them
 * (run_nuisance.c). */
static tt_status nuisances(pt_problem *pb, uint32_t caps, char *err, size_t errlen)
{
    const uint32_t need = caps & (TT_PLUGIN_CAP_NEEDS_PROPENSITY | TT_PLUGIN_CAP_NEEDS_OUTCOME |
                                  TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES |
                                  TT_PLUGIN_CAP_NEEDS_IV_NUISANCES);
    const tt_dataset *d = pb->train;
    const int cont = pb->kind == PT_CONTINUOUS, iv = pb->kind == PT_IV;
    pb->nu = (tt_host_nuisances){.n_arms = pb->n_arms, .p_x = d->p_x, .p_w = d->p_w,
                                 .continuous = cont};
    if (!need)
        return TT_OK;
    size_t n = d->n, p = d->p_x + d->p_w;
    const double *xw = iv ? NULL : tt_dataset_xw(d);
    if (!xw) {
        /* The instrument's 0/1 codes live after [x, w] (as in run_nuisance.c). */
        pb->features = malloc(sizeof(double) * (n * p + (iv ? n / 2 + 1 : 0) + 1));
        if (!pb->features)
            return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        memcpy(pb->features, d->x, sizeof(double) * n * d->p_x);
        memcpy(pb->features + n * d->p_x, d->w, sizeof(double) * n * d->p_w);
        xw = pb->features;
    }
    int32_t *zbin = iv ? (int32_t *)(pb->features + n * p) : NULL;
    for (size_t i = 0; zbin && i < n; i++)
        zbin[i] = d->z[i] == 1.0;
    pb->nu_data = (tt_nuisance_data){.n = n, .p = p, .x = xw, .y = d->y, .arm = d->t,
                                     .n_arms = (size_t)pb->n_arms, .zbin = zbin,
                                     .t_value = d->t_value};
    uint64_t seed = tt_rng_derive(pb->seed, "plugin-test:nuisance");
    tt_status st = tt_nuisance_engine_new(&pb->nu_data, PT_NUISANCE_FOLDS, seed, &pb->engine,
                                          err, errlen);
    if (st == TT_OK && (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY))
        st = fit_role(pb, cont ? TT_NUISANCE_TREATMENT : TT_NUISANCE_PROPENSITY, -1, err,
                      errlen);
    if (st == TT_OK && (need & TT_PLUGIN_CAP_NEEDS_OUTCOME))
        st = fit_role(pb, TT_NUISANCE_OUTCOME, -1, err, errlen);
    for (int k = 0; st == TT_OK && !cont && (need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) &&
                    k < pb->n_arms; k++)
        st = fit_role(pb, TT_NUISANCE_ARM_OUTCOME, k, err, errlen);
    if (st == TT_OK && iv && (need & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES)) {
        st = fit_role(pb, TT_NUISANCE_INSTRUMENT, -1, err, errlen);
        for (int z = 0; st == TT_OK && z < 2; z++)
            st = fit_role(pb, TT_NUISANCE_TREATMENT_GIVEN_Z, z, err, errlen);
    }
    if (st != TT_OK)
        return st;
    const tt_nuisance_engine *e = pb->engine;
    if (need & TT_PLUGIN_CAP_NEEDS_PROPENSITY) {
        pb->nu.propensity = tt_nuisance_chosen(e, TT_NUISANCE_PROPENSITY, -1);
        pb->nu.treatment = tt_nuisance_chosen(e, TT_NUISANCE_TREATMENT, -1);
    }
    if (need & TT_PLUGIN_CAP_NEEDS_OUTCOME)
        pb->nu.outcome = tt_nuisance_chosen(e, TT_NUISANCE_OUTCOME, -1);
    if ((need & TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES) && !cont) {
        for (int k = 0; k < pb->n_arms; k++)
            pb->arm_outcome[k] = tt_nuisance_chosen(e, TT_NUISANCE_ARM_OUTCOME, k);
        pb->nu.arm_outcome = pb->arm_outcome;
    }
    if (iv && (need & TT_PLUGIN_CAP_NEEDS_IV_NUISANCES)) {
        pb->nu.instrument = tt_nuisance_chosen(e, TT_NUISANCE_INSTRUMENT, -1);
        for (int z = 0; z < 2; z++)
            pb->nu.treatment_given_z[z] = tt_nuisance_chosen(e, TT_NUISANCE_TREATMENT_GIVEN_Z, z);
    }
    return TT_OK;
}

/* Weights in [0.5, 2]: far enough from 1 that a plugin using them fits
 * something else, never 0 (a row with weight 0 is a legal edge case, but
 * not the one this check is about). */
static tt_status weights(pt_problem *pb, char *err, size_t errlen)
{
    pb->weight = malloc(sizeof *pb->weight * (pb->n_train + 1));
    if (!pb->weight)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    tt_rng rng;
    tt_rng_seed(&rng, pb->seed, "plugin-test:weights");
    for (size_t i = 0; i < pb->n_train; i++)
        pb->weight[i] = 0.5 + 1.5 * tt_rng_uniform(&rng);
    return TT_OK;
}

tt_status pt_problem_make(pt_kind kind, uint64_t seed, size_t n_train, size_t n_eval,
                          uint32_t caps, pt_problem *pb, char *err, size_t errlen)
{
    memset(pb, 0, sizeof *pb);
    pb->kind = kind;
    pb->seed = seed;
    pb->n_train = n_train;
    pb->n_eval = n_eval;
    pb->n_arms = kind == PT_MULTI_ARM ? 3 : 2;
    tt_gen_options opt;
    tt_gen_options_init(&opt);
    opt.rows = n_train + n_eval;
    opt.arms = pb->n_arms;
    opt.seed = seed;
    tt_dataset *all = NULL;
    tt_status st = tt_gen_generate(pt_kind_generator(kind), &opt, &all, err, errlen);
    if (st != TT_OK)
        return st;
    constant_effect(all, kind, pb->truth);
    size_t *idx = malloc(sizeof *idx * (opt.rows + 1));
    if (!idx) {
        tt_dataset_free(all);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < opt.rows; i++)
        idx[i] = i;
    st = tt_dataset_subset(all, idx, n_train, &pb->train, err, errlen);
    if (st == TT_OK)
        st = tt_dataset_subset(all, idx + n_train, n_eval, &pb->eval, err, errlen);
    free(idx);
    tt_dataset_free(all);
    if (st == TT_OK) {
        tolerances(pb);
        views(pb);
        st = weights(pb, err, errlen);
    }
    if (st == TT_OK)
        st = nuisances(pb, caps, err, errlen);
    if (st != TT_OK) {
        tt_err_prefix(err, errlen, "%s data (%s, seed %llu)", pt_kind_name(kind),
                      pt_kind_generator(kind), (unsigned long long)seed);
        pt_problem_free(pb);
    }
    return st;
}

void pt_problem_free(pt_problem *pb)
{
    if (!pb)
        return;
    tt_nuisance_engine_free(pb->engine);
    free(pb->features);
    free(pb->weight);
    tt_dataset_free(pb->train);
    tt_dataset_free(pb->eval);
    memset(pb, 0, sizeof *pb);
}
