/* nuisance_cost.c - work estimates of nuisance models and the affordable plan
 * (nuisance_cost.h). */
#include "nuisance/nuisance_cost.h"

#include <math.h>
#include <string.h>

/* Seconds per work unit on the reference machine (2 cores, learners using
 * both), fitted by tests/bench/nuisance_cost on the default candidates at
 * 2,000-40,000 rows and 10-30 features, from CPU time so that other work on
 * the machine does not bend them (estimate / measured within a factor of
 * about two there). A unit is one row x feature touch of the learner's
 * inner loop, as counted below. */
#define RATE_RIDGE 3.5e-10     /* n p^2 + p^3 */
#define RATE_LOGISTIC 5.0e-10   /* Newton: iterations x n p^2 */
/* Newton iterations of a logistic fit: 6 to 8 on the default candidates
 * since the fit stops where rounding hides the objective's change (it was
 * 12 and more, with dozens of line-search halvings each, before). */
#define NEWTON_ITERATIONS 8.0
#define RATE_LASSO 5.0e-11     /* coordinate descent: path x sweeps x n p */
#define RATE_FOREST 4.4e-9     /* trees x n x mtry x depth */
#define RATE_GBM 2.6e-9       /* rounds x n x p x classes (histogram build) */
/* rounds x 256 bins x p x depth (split search and the per-level work that
 * does not shrink with the rows): fitted to wall time at 2,000 and 10,000
 * rows, where it is most of a round (0.33 s measured against 0.10 s
 * estimated by the row term alone at 2,000 rows x 10 features). */
#define RATE_GBM_LEVEL 1.6e-8
#define FIXED_SECONDS 0.002    /* per fit: allocation, gathering rows */

/* The value of key in spec, else the learner's default, else dflt. */
static double value_of(const tt_nuisance_spec *spec, const char *key, double dflt)
{
    for (size_t i = 0; i < spec->n_params; i++)
        if (spec->keys[i] && strcmp(spec->keys[i], key) == 0)
            return spec->values[i];
    const tt_learner_param_info *info;
    size_t np;
    char err[64];
    if (tt_learner_describe(spec->learner, &info, &np, err, sizeof err) == TT_OK)
        for (size_t j = 0; j < np; j++)
            if (strcmp(info[j].name, key) == 0)
                return info[j].default_value;
    return dflt;
}

/* Width after the linear learners' squares-and-products featurizer. */
static double width(const tt_nuisance_spec *spec, double p)
{
    return value_of(spec, "poly2", 0) > 0 ? p + p * (p + 1) / 2 : p;
}

/* Estimated seconds of one fit on n rows. */
static double fit_seconds(const tt_nuisance_spec *spec, double n, double p, double classes)
{
    const char *l = spec->learner;
    double k = classes > 2 ? classes : 1; /* outputs a multi-class model fits */
    if (strcmp(l, "ridge") == 0) {
        double q = width(spec, p) + 1;
        return RATE_RIDGE * (n * q * q + q * q * q);
    }
    if (strcmp(l, "logistic") == 0) {
        double q = (width(spec, p) + 1) * k;
        return RATE_LOGISTIC * NEWTON_ITERATIONS * (n * q * q / k + q * q * q);
    }
    if (strcmp(l, "lasso") == 0 || strcmp(l, "elastic_net") == 0) {
        double q = width(spec, p) + 1;
        int automatic = value_of(spec, "alpha", TT_LEARNER_AUTO) == TT_LEARNER_AUTO;
        double path = automatic ? value_of(spec, "n_alphas", 100) : 1;
        double refits = automatic ? value_of(spec, "cv_folds", 5) + 1 : 1;
        /* Warm-started path points take a few sweeps; a cold single fit more. */
        return RATE_LASSO * refits * path * (automatic ? 4.0 : 30.0) * n * q;
    }
    if (strcmp(l, "forest") == 0) {
        double trees = value_of(spec, "n_trees", 100);
        double frac = value_of(spec, "sample_fraction", 1.0);
        double leaf = fmax(1.0, value_of(spec, "min_leaf", 5));
        double mtry = value_of(spec, "mtry", 0);
        int classify = classes > 1;
        if (mtry <= 0)
            mtry = classify ? ceil(sqrt(p)) : p;
        mtry = fmin(mtry, p);
        double rows = fmax(2.0, n * frac);
        double depth = fmax(1.0, log2(rows / leaf) + 1);
        double maxd = value_of(spec, "max_depth", 0);
        if (maxd > 0)
            depth = fmin(depth, maxd);
        return RATE_FOREST * trees * rows * fmax(1.0, mtry) * depth * (classify ? k : 1);
    }
    if (strcmp(l, "gbm") == 0) {
        double rounds = value_of(spec, "n_rounds", 100);
        /* Early stopping usually ends well before the cap; count half. */
        if (value_of(spec, "early_stopping", 0) > 0)
            rounds = fmin(rounds, fmax(50.0, 0.5 * rounds));
        double sub = value_of(spec, "subsample", 1.0), col = value_of(spec, "colsample", 1.0);
        double depth = value_of(spec, "max_depth", 6);
        return rounds * k * (RATE_GBM * n * sub * p * col +
                             RATE_GBM_LEVEL * 256.0 * p * col * (depth > 0 ? depth : 8));
    }
    return INFINITY;
}

double tt_nuisance_cost(const tt_nuisance_spec *spec, tt_nuisance_role role, size_t n_rows,
                        size_t p, size_t classes, size_t folds)
{
    if (!spec || !spec->learner)
        return INFINITY;
    (void)role;
    double n = (double)n_rows, f = folds >= 2 ? (double)folds : 5.0;
    double pc = (double)(p ? p : 1);
    double one = fit_seconds(spec, n * (f - 1) / f, pc, (double)classes);
    double all = fit_seconds(spec, n, pc, (double)classes);
    return f * (one + FIXED_SECONDS) + all + FIXED_SECONDS;
}

/* The dearest taken candidate of role pr, with candidate `extra` taken as
 * well (extra 0: as planned). */
static double dearest(const tt_nuisance_plan_role *pr, size_t extra)
{
    double m = 0;
    for (size_t c = 0; c < pr->n_cands; c++)
        if ((pr->take[c] || c == extra) && pr->cost[c] > m)
            m = pr->cost[c];
    return m;
}

double tt_nuisance_plan_refit(const tt_nuisance_plan_role *roles, size_t n_roles)
{
    double t = 0;
    for (size_t r = 0; r < n_roles; r++)
        t += dearest(&roles[r], 0);
    return t;
}

double tt_nuisance_plan(tt_nuisance_plan_role *roles, size_t n_roles, size_t p, size_t folds,
                        size_t refits, double allowance, double *minimum)
{
    double total = 0;
    size_t most = 0;
    for (size_t r = 0; r < n_roles; r++) {
        tt_nuisance_plan_role *pr = &roles[r];
        if (pr->n_cands > TT_NUISANCE_MAX_CANDS)
            pr->n_cands = TT_NUISANCE_MAX_CANDS;
        memset(pr->take, 0, sizeof pr->take);
        pr->n_take = 0;
        for (size_t c = 0; c < pr->n_cands; c++)
            pr->cost[c] = tt_nuisance_cost(&pr->cands[c], pr->role, pr->n_rows, p, pr->classes,
                                           folds);
        if (pr->n_cands > 0) {
            pr->take[0] = 1;
            pr->n_take = 1;
            total += pr->cost[0];
        }
        most = pr->n_cands > most ? pr->n_cands : most;
    }
    if (minimum)
        *minimum = total;
    double refit = tt_nuisance_plan_refit(roles, n_roles);
    total += (double)refits * refit;
    /* Candidate c of every role is one group: offered whole, cheapest group
     * first, so the roles (every arm's outcome model above all) get the
     * same kinds of model rather than the first arms the dear ones. */
    unsigned char offered[TT_NUISANCE_MAX_CANDS] = {0};
    for (size_t round = 1; round < most; round++) {
        size_t pick = 0;
        double pick_cost = INFINITY, pick_refit = refit;
        for (size_t c = 1; c < most; c++) {
            if (offered[c])
                continue;
            double g = 0, with = 0;
            for (size_t r = 0; r < n_roles; r++) {
                if (c < roles[r].n_cands)
                    g += roles[r].cost[c];
                with += dearest(&roles[r], c < roles[r].n_cands ? c : 0);
            }
            g += (double)refits * (with - refit);
            if (pick == 0 || g < pick_cost) {
                pick = c;
                pick_cost = g;
                pick_refit = with;
            }
        }
        offered[pick] = 1;
        if (allowance >= 0 && !(total + pick_cost <= allowance))
            continue;
        for (size_t r = 0; r < n_roles; r++)
            if (pick < roles[r].n_cands) {
                roles[r].take[pick] = 1;
                roles[r].n_take++;
            }
        total += pick_cost;
        refit = pick_refit;
    }
    return total;
}
