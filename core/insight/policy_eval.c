/* policy_eval.c - a policy tree valued on held-out rows (policy_eval.h). */
#include "insight/policy_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/rng.h"

void tt_policy_eval_options_init(tt_policy_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->depth = 2;
    o->min_leaf_share = 0.05;
    o->max_fit = 20000;
}

void tt_policy_eval_free(tt_policy_eval *e)
{
    if (!e)
        return;
    tt_policy_tree_free(e->tree);
    free(e->shares);
    memset(e, 0, sizeof *e);
}

/* Mean and s.e. of v[0..n). */
static tt_policy_value mean_se(const double *v, size_t n)
{
    double s = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    const double mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    return (tt_policy_value){mean, n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : NAN};
}

/* a - b row by row into d, then its mean and s.e. */
static tt_policy_value paired(const double *a, const double *b, double *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    return mean_se(d, n);
}

tt_status tt_policy_evaluate(size_t m, size_t p, const double *x, size_t k,
                             const double *reward, const double *cost, const double *tau,
                             const tt_policy_eval_options *opt, tt_policy_eval *out, char *err,
                             size_t errlen)
{
    tt_policy_eval_options defaults;
    if (!opt) {
        tt_policy_eval_options_init(&defaults);
        opt = &defaults;
    }
    memset(out, 0, sizeof *out);
    if (m < 20 || k < 2 || !reward || (p > 0 && !x))
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy: need at least 20 rows and 2 arms "
                       "(have %zu rows, %zu arms)", m, k);
    if (opt->depth < 0 || opt->depth > TT_POLICY_TREE_MAX_DEPTH ||
        !(opt->min_leaf_share > 0.0 && opt->min_leaf_share <= 0.5))
        return tt_errf(err, errlen, TT_ERR_INVALID, "policy: depth %d outside 0..3 or leaf "
                       "share %g outside (0, 0.5]", opt->depth, opt->min_leaf_share);
    /* Every row counts in one half or the other: check them all here. */
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < k; j++)
            if (!isfinite(reward[j * m + i]))
                return tt_errf(err, errlen, TT_ERR_DATA, "policy: the reward of arm %zu at "
                               "row %zu is %g", j, i, reward[j * m + i]);
        for (size_t j = 0; j < p; j++)
            if (!isfinite(x[j * m + i]))
                return tt_errf(err, errlen, TT_ERR_DATA, "policy: feature %zu at row %zu is "
                               "%g", j, i, x[j * m + i]);
        for (size_t j = 0; tau && j + 1 < k; j++)
            if (!isfinite(tau[j * m + i]))
                return tt_errf(err, errlen, TT_ERR_DATA, "policy: the effect estimate of arm "
                               "%zu at row %zu is %g", j + 1, i, tau[j * m + i]);
    }
    size_t *perm = malloc(sizeof *perm * m);
    const size_t half = m / 2, n_eval = m - half;
    const size_t n_fit = opt->max_fit > 0 && half > opt->max_fit ? opt->max_fit : half;
    double *net = malloc(sizeof *net * m * k), *fx = malloc(sizeof *fx * (n_fit * p + 1));
    double *fr = malloc(sizeof *fr * n_fit * k), *ex = malloc(sizeof *ex * (n_eval * p + 1));
    double *v = calloc(n_eval * 5, sizeof *v); /* calloc: GCC cannot see every cell is set */
    int *act = malloc(sizeof *act * n_eval);
    out->shares = calloc(k, sizeof *out->shares);
    tt_status st = perm && net && fx && fr && ex && v && act && out->shares ? TT_OK
                                                                             : TT_ERR_NOMEM;
    if (st != TT_OK)
        goto done;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < m; i++)
            net[j * m + i] = reward[j * m + i] - (cost ? cost[j] : 0.0);
    for (size_t i = 0; i < m; i++)
        perm[i] = i;
    tt_rng rng;
    tt_rng_seed(&rng, opt->seed, "policy-halves");
    tt_rng_shuffle_size(&rng, perm, m);
    const size_t *fit = perm, *ev = perm + half;
    for (size_t i = 0; i < n_fit; i++) {
        for (size_t j = 0; j < p; j++)
            fx[j * n_fit + i] = x[j * m + fit[i]];
        for (size_t j = 0; j < k; j++)
            fr[j * n_fit + i] = net[j * m + fit[i]];
    }
    for (size_t i = 0; i < n_eval; i++)
        for (size_t j = 0; j < p; j++)
            ex[j * n_eval + i] = x[j * m + ev[i]];
    tt_policy_tree_options to;
    tt_policy_tree_options_init(&to);
    to.depth = opt->depth;
    to.min_node_size = (size_t)ceil(opt->min_leaf_share * (double)n_fit);
    to.should_stop = opt->should_stop;
    to.stop_ctx = opt->stop_ctx;
    st = tt_policy_tree_fit(n_fit, p, fx, k, fr, &to, &out->tree, err, errlen);
    if (st != TT_OK)
        goto done;
    out->depth = opt->depth;
    out->n_fit = n_fit;
    out->n_eval = n_eval;
    out->min_leaf = to.min_node_size;
    tt_policy_tree_predict(out->tree, n_eval, p, ex, act);
    /* The best single arm by its mean net reward on the valued rows. */
    double best = -INFINITY;
    for (size_t j = 0; j < k; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n_eval; i++)
            s += net[j * m + ev[i]];
        if (s > best)
            best = s, out->everyone_arm = j;
    }
    double *vt = v, *v0 = v + n_eval, *vb = v + 2 * n_eval, *vg = v + 3 * n_eval;
    double *d = v + 4 * n_eval;
    for (size_t i = 0; i < n_eval; i++) {
        const size_t row = ev[i];
        size_t g = 0;
        double gbest = 0.0;
        for (size_t j = 1; tau && j < k; j++) {
            double gain = tau[(j - 1) * m + row] - (cost ? cost[j] - cost[0] : 0.0);
            if (gain > gbest)
                gbest = gain, g = j;
        }
        vt[i] = net[(size_t)act[i] * m + row];
        v0[i] = net[row];
        vb[i] = net[out->everyone_arm * m + row];
        vg[i] = net[g * m + row];
        out->shares[act[i]] += 1.0 / (double)n_eval;
    }
    out->policy = mean_se(vt, n_eval);
    out->no_one = mean_se(v0, n_eval);
    out->everyone = mean_se(vb, n_eval);
    out->gain_no_one = paired(vt, v0, d, n_eval);
    out->gain_everyone = paired(vt, vb, d, n_eval);
    out->has_greedy = tau != NULL;
    if (tau) {
        out->greedy = mean_se(vg, n_eval);
        out->gain_greedy = paired(vt, vg, d, n_eval);
    }
done:
    if (st == TT_ERR_NOMEM)
        tt_errf(err, errlen, st, "policy: out of memory for %zu rows", m);
    if (st != TT_OK)
        tt_policy_eval_free(out);
    free(perm), free(net), free(fx), free(fr), free(ex), free(v), free(act);
    return st;
}
