/*
 * run_insight.c - what drives the effect, and a policy a user can write
 * down (issue 19), from the run's rows where both the winner's effects and
 * the doubly robust scores are out of sample: the validation rows (every
 * row with K folds).
 *
 * Per treated arm k (one "arm" for a continuous treatment):
 *   Gamma_k   the doubly robust score of the effect (AIPW: R_k - R_0 with
 *             R_j = mu_j + 1{T=j}(Y - mu_j)/e_j; continuous: the partially
 *             linear pseudo-outcome of score/rscore.h)
 *   blp       least squares of Gamma_k on [1, x] with HC3 errors
 *             (grf's best_linear_projection; insight/blp.h)
 *   calibration  grf's test_calibration of the winner's tau_hat_k
 *             (out of fold) with m = E[Y | x] and e = E[T | x] (several
 *             arms: on the rows of arm k or the control, e_k / (e_0 + e_k))
 *   tree      a depth-2 least-squares tree on tau_hat_k with each group's
 *             mean Gamma_k and interval (insight/cate_tree.h)
 * and, with arms, the exact depth-2 policy tree over the rewards R_j - cost_j
 * fitted on half of the rows and valued on the other half against treating
 * no one, everyone with the best single arm, and the greedy tau_hat policy
 * (insight/policy_tree.h). The nuisances are the estimand's (every row's,
 * cross-fitted) when the run has them, else the scoring nuisances of the
 * validation rows. Not made with an instrument (the scores would carry the
 * confounding it is there for). results.json "insight" and "policy", dr_scores.csv (per
 * row: x, the rewards and tau_hat, for `tautune policy`), policy.txt and
 * policy.json.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "insight/blp.h"
#include "insight/cate_tree.h"
#include "insight/policy_eval.h"
#include "report/results.h"
#include "score/score_nuisance.h"
#include "util/err.h"
#include "util/rng.h"

/* The rows insight works on, gathered (m rows). */
typedef struct irows {
    size_t m, p;
    int k_arms, cont;
    size_t *data_row;   /* m: row of s->data */
    double *x;          /* m x p */
    double *y;          /* m */
    int *t;             /* m arms (discrete) */
    double *tv;         /* m treatment values (continuous) */
    double *tau;        /* m x (K-1): the winner's out-of-sample effects */
    double *e;          /* m x K propensities, or m: E[T | x] (continuous) */
    double *mu;         /* m x K arm outcome models (discrete) */
    double *mhat;       /* m: E[Y | x] */
    const char *source; /* where the nuisances came from */
} irows;

static void irows_free(irows *r)
{
    free(r->data_row), free(r->x), free(r->y), free(r->t), free(r->tv), free(r->tau);
    free(r->e), free(r->mu), free(r->mhat);
    memset(r, 0, sizeof *r);
}

/* Above this many scored rows insight works on a seeded subsample of them:
 * its gathered copies and the policy tree's work grow with the rows (a
 * fifth of a million-row run's peak memory at 300,000), while 100,000 rows
 * already pin the projections and the tree's splits down. results.json
 * says so (insight.n against insight.rows_scored). */
#define INSIGHT_MAX_ROWS 100000

/* Which of the m scored rows insight keeps: all, or INSIGHT_MAX_ROWS of them
 * in their order, drawn by the run's seed. *kept gets how many; NULL on
 * out of memory. */
static size_t *insight_rows(const run_state *s, size_t m, size_t *kept)
{
    size_t *idx = malloc(sizeof *idx * (m + 1));
    if (!idx)
        return NULL;
    for (size_t i = 0; i < m; i++)
        idx[i] = i;
    *kept = m;
    if (m <= INSIGHT_MAX_ROWS)
        return idx;
    tt_rng rng;
    tt_rng_seed(&rng, s->cfg->seed, "insight:rows");
    for (size_t i = 0; i < INSIGHT_MAX_ROWS; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)tt_rng_below(&rng, (uint64_t)(m - i));
        size_t v = idx[i];
        idx[i] = idx[j];
        idx[j] = v;
    }
    /* Back in row order: the same rows whatever the draw's order. */
    unsigned char *keep = calloc(m, 1);
    if (!keep) {
        free(idx);
        return NULL;
    }
    for (size_t i = 0; i < INSIGHT_MAX_ROWS; i++)
        keep[idx[i]] = 1;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (keep[i])
            idx[k++] = i;
    free(keep);
    *kept = k;
    return idx;
}

/* Fills r from the validation rows (all, or insight_rows' subsample):
 * nuisances from the every-row engine (index = data row) or the scoring
 * nuisances (index = validation row). */
static int gather(run_state *s, irows *r)
{
    const tt_dataset *d = s->data;
    const size_t p = d->p_x, K = (size_t)d->n_arms, n = d->n;
    size_t m = 0;
    memset(r, 0, sizeof *r); /* the caller frees r whatever happens */
    size_t *pick = insight_rows(s, s->split.n_valid, &m);
    if (!pick)
        return -1;
    const int all = s->engine_all && s->final_nu_rc == TT_EXIT_OK;
    const tt_host_nuisances *nu = &s->nuisances_all;
    const tt_score_nuisance *sn = tt_score_context_nuisance(s->scores);
    int cont = tt_dataset_continuous(d);
    int have_all = all && (cont ? nu->outcome && nu->treatment
                                : nu->propensity && nu->arm_outcome);
    for (size_t k = 0; have_all && !cont && k < K; k++)
        have_all = nu->arm_outcome[k] != NULL;
    if (!have_all && !sn) {
        free(pick);
        return -1;
    }
    r->m = m, r->p = p, r->k_arms = (int)K, r->cont = cont;
    r->source = have_all ? "the run's nuisance models, cross-fitted on every row"
                         : "the scoring nuisances, cross-fitted on the validation rows";
    r->data_row = malloc(sizeof *r->data_row * (m + 1));
    r->x = malloc(sizeof *r->x * (m * p + 1));
    r->y = malloc(sizeof *r->y * (m + 1));
    r->t = malloc(sizeof *r->t * (m + 1));
    r->tv = cont ? malloc(sizeof *r->tv * (m + 1)) : NULL;
    r->tau = malloc(sizeof *r->tau * (m * (K - 1) + 1));
    r->e = malloc(sizeof *r->e * (m * K + 1));
    r->mu = malloc(sizeof *r->mu * (m * K + 1));
    r->mhat = malloc(sizeof *r->mhat * (m + 1));
    if (!r->data_row || !r->x || !r->y || !r->t || (cont && !r->tv) || !r->tau || !r->e ||
        !r->mu || !r->mhat) {
        free(pick);
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        const size_t q = pick[i]; /* i: the row here; q: among the scored rows */
        size_t v = s->split.valid[q];
        r->data_row[i] = v;
        for (size_t j = 0; j < p; j++) /* the validation rows' copy: s->data's may be released */
            r->x[j * m + i] = s->valid->x[j * s->valid->n + q];
        r->y[i] = d->y[v];
        r->t[i] = d->t[v];
        if (cont)
            r->tv[i] = d->t_value[v];
        for (size_t k = 0; k + 1 < K; k++)
            r->tau[k * m + i] = s->winner_tau[k * n + v];
        if (cont) {
            r->e[i] = have_all ? nu->treatment->oof[v] : sn->e_hat[sn->n + q];
            r->mhat[i] = have_all ? nu->outcome->oof[v] : sn->m_hat[q];
            continue;
        }
        double mh = 0.0;
        for (size_t k = 0; k < K; k++) {
            double ek, mk;
            if (have_all) {
                const tt_nuisance_result *pr = nu->propensity;
                ek = pr->width == 1 ? (k == 1 ? pr->oof[v] : 1.0 - pr->oof[v])
                                    : pr->oof[k * n + v];
                mk = nu->arm_outcome[k]->oof[v];
            } else {
                ek = sn->e_hat[k * sn->n + q];
                mk = sn->mu_hat[k * sn->n + q];
            }
            r->e[k * m + i] = ek;
            r->mu[k * m + i] = mk;
            mh += ek * mk;
        }
        r->mhat[i] = mh;
    }
    free(pick);
    return 0;
}

/* R_ij (m x K): the AIPW score of the mean outcome under arm j. */
static void rewards(const irows *r, double clip, double *R)
{
    const size_t m = r->m;
    for (int j = 0; j < r->k_arms; j++)
        for (size_t i = 0; i < m; i++) {
            double e = r->e[(size_t)j * m + i], mu = r->mu[(size_t)j * m + i];
            e = e < clip ? clip : e > 1.0 - clip ? 1.0 - clip : e;
            R[(size_t)j * m + i] = mu + (r->t[i] == j ? (r->y[i] - mu) / e : 0.0);
        }
}

/* The continuous treatment's pseudo-outcomes (rscore.h's psi) into g. */
static void continuous_gamma(const irows *r, double *g)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < r->m; i++) {
        double tt = r->tv[i] - r->e[i];
        num += (r->y[i] - r->mhat[i]) * tt;
        den += tt * tt;
    }
    double th = den > 0 ? num / den : 0, s2 = den / (double)r->m;
    for (size_t i = 0; i < r->m; i++) {
        double tt = r->tv[i] - r->e[i];
        g[i] = s2 > 0 ? th + (r->y[i] - r->mhat[i] - th * tt) * tt / s2 : th;
    }
}

static cJSON *blp_json(const irows *r, const double *gamma, const char *const *names,
                       cJSON **top)
{
    tt_blp_input in = {.n = r->m, .p = r->p, .x = r->x, .gamma = gamma, .names = names,
                       .hc = TT_HC_DEFAULT};
    tt_ols_result res;
    char err[512];
    cJSON *o = cJSON_CreateObject();
    if (tt_blp_fit(&in, &res, err, sizeof err) != TT_OK) {
        cJSON_AddStringToObject(o, "error", err);
        return o;
    }
    cJSON_AddStringToObject(o, "se", tt_hc_name(res.hc));
    /* Does the effect vary with x at all: every slope 0, jointly. */
    double w, df, pw;
    if (res.q > 1 && tt_ols_wald(&res, 1, &w, &df, &pw, err, sizeof err) == TT_OK) {
        cJSON *j = cJSON_AddObjectToObject(o, "joint");
        cJSON_AddItemToObject(j, "chi2", tt_json_number(w));
        cJSON_AddNumberToObject(j, "df", df);
        cJSON_AddItemToObject(j, "p", tt_json_number(pw));
    }
    cJSON *terms = cJSON_AddArrayToObject(o, "terms");
    for (size_t j = 0; j < res.q; j++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", j ? names[j - 1] : "(intercept)");
        cJSON_AddItemToObject(t, "coef", tt_json_number(res.coef[j]));
        cJSON_AddItemToObject(t, "se", tt_json_number(res.se[j]));
        cJSON_AddItemToObject(t, "t", tt_json_number(res.t[j]));
        cJSON_AddItemToObject(t, "p", tt_json_number(res.p[j]));
        cJSON_AddItemToArray(terms, t);
    }
    /* The features by |t|, the strongest first: which ones move the effect. */
    *top = cJSON_CreateArray();
    unsigned char *used = calloc(res.q + 1, 1);
    for (size_t rank = 0; used && rank + 1 < res.q && rank < 5; rank++) {
        size_t best = 0;
        for (size_t j = 1; j < res.q; j++)
            if (!used[j] && isfinite(res.t[j]) &&
                (best == 0 || fabs(res.t[j]) > fabs(res.t[best])))
                best = j;
        if (best == 0)
            break;
        used[best] = 1;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", names[best - 1]);
        cJSON_AddItemToObject(f, "t", tt_json_number(res.t[best]));
        cJSON_AddItemToObject(f, "p", tt_json_number(res.p[best]));
        cJSON_AddItemToArray(*top, f);
    }
    free(used);
    tt_ols_result_free(&res);
    return o;
}

/* grf's test_calibration for arm k (rows of arm k or the control, with the
 * pair's own propensity), or the continuous treatment. */
static cJSON *calibration_json(const irows *r, int k)
{
    const size_t m = r->m;
    double *t = malloc(sizeof *t * (m + 1)), *e = malloc(sizeof *e * (m + 1));
    double *mh = malloc(sizeof *mh * (m + 1));
    size_t *rows = malloc(sizeof *rows * (m + 1)), nr = 0;
    cJSON *o = cJSON_CreateObject();
    if (!t || !e || !mh || !rows) {
        free(t), free(e), free(mh), free(rows);
        cJSON_AddStringToObject(o, "error", "out of memory");
        return o;
    }
    for (size_t i = 0; i < m; i++) {
        if (r->cont) {
            t[i] = r->tv[i], e[i] = r->e[i], mh[i] = r->mhat[i];
            rows[nr++] = i;
            continue;
        }
        double e0 = r->e[i], ek = r->e[(size_t)k * m + i];
        double pair = e0 + ek > 0 ? e0 + ek : 1.0;
        t[i] = r->t[i] == k;
        e[i] = ek / pair;
        mh[i] = (e0 * r->mu[i] + ek * r->mu[(size_t)k * m + i]) / pair;
        if (r->t[i] == 0 || r->t[i] == k)
            rows[nr++] = i;
    }
    tt_calibration_input in = {.n = m, .y = r->y, .t = t, .m_hat = mh, .e_hat = e,
                               .tau_hat = r->tau + (size_t)(k - 1) * m,
                               .rows = r->k_arms > 2 ? rows : NULL,
                               .n_rows = r->k_arms > 2 ? nr : 0, .hc = TT_HC_DEFAULT};
    tt_calibration c;
    char err[512];
    if (tt_calibration_test(&in, &c, err, sizeof err) != TT_OK) {
        cJSON_AddStringToObject(o, "error", err);
    } else {
        cJSON_AddNumberToObject(o, "n", (double)c.n);
        cJSON_AddItemToObject(o, "mean_coef", tt_json_number(c.mean_coef));
        cJSON_AddItemToObject(o, "mean_se", tt_json_number(c.mean_se));
        cJSON_AddItemToObject(o, "mean_p", tt_json_number(c.mean_p));
        cJSON_AddItemToObject(o, "differential_coef", tt_json_number(c.diff_coef));
        cJSON_AddItemToObject(o, "differential_se", tt_json_number(c.diff_se));
        cJSON_AddItemToObject(o, "differential_p", tt_json_number(c.diff_p));
        cJSON_AddBoolToObject(o, "heterogeneity", c.diff_p < 0.05 && c.diff_coef > 0);
        char text[1024];
        tt_calibration_sentence(&c, TT_CALIBRATION_DIFFERENTIAL, 0.05, text, sizeof text);
        cJSON_AddStringToObject(o, "verdict", text);
        tt_calibration_sentence(&c, TT_CALIBRATION_MEAN, 0.05, text, sizeof text);
        cJSON_AddStringToObject(o, "mean_sentence", text);
    }
    free(t), free(e), free(mh), free(rows);
    return o;
}

static cJSON *tree_json(const irows *r, int k, const double *gamma, const char *const *names)
{
    tt_cate_tree tree;
    char err[512];
    cJSON *o = cJSON_CreateObject();
    if (tt_cate_tree_fit(r->m, r->p, r->x, r->tau + (size_t)(k - 1) * r->m, gamma, NULL, &tree,
                         err, sizeof err) != TT_OK) {
        cJSON_AddStringToObject(o, "error", err);
        return o;
    }
    cJSON *leaves = cJSON_AddArrayToObject(o, "leaves");
    for (size_t l = 0; l < tree.n_leaves; l++) {
        const tt_cate_node *nd = &tree.nodes[tree.leaf_node[l]];
        char rule[512];
        tt_cate_tree_describe_leaf(&tree, l, names, rule, sizeof rule);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "rule", rule);
        cJSON_AddNumberToObject(a, "rows", (double)nd->n);
        cJSON_AddItemToObject(a, "tau_mean", tt_json_number(nd->tau_mean));
        cJSON_AddItemToObject(a, "effect", tt_json_number(nd->gamma_mean));
        cJSON_AddItemToObject(a, "lo", tt_json_number(nd->gamma_lo));
        cJSON_AddItemToObject(a, "hi", tt_json_number(nd->gamma_hi));
        cJSON_AddItemToArray(leaves, a);
    }
    return o;
}

static int cmp_pair(const void *a, const void *b)
{
    const double u = ((const double *)a)[0], v = ((const double *)b)[0];
    return (u > v) - (u < v);
}

/* The winner's estimate and the doubly robust scores against one feature:
 * rows sorted by it and cut into (at most) 10 groups of equal size (ties
 * kept together), each with its feature range and mean, mean tau_hat, and
 * mean Gamma with a normal 95 % interval. For report.html's plots; every
 * plotted number is here. */
#define FEATURE_BINS 10
static cJSON *by_feature(const irows *r, size_t j, const double *tau, const double *gamma,
                         const char *name)
{
    const size_t m = r->m;
    double *v = malloc(sizeof *v * 3 * m);
    if (!v)
        return NULL;
    for (size_t i = 0; i < m; i++) {
        v[3 * i] = r->x[j * m + i];
        v[3 * i + 1] = tau[i];
        v[3 * i + 2] = gamma[i];
    }
    qsort(v, m, 3 * sizeof *v, cmp_pair);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON *bins = cJSON_AddArrayToObject(o, "bins");
    size_t start = 0;
    for (int b = 0; b < FEATURE_BINS && start < m; b++) {
        size_t end = (size_t)((double)m * (b + 1) / FEATURE_BINS);
        if (end <= start)
            end = start + 1;
        while (end < m && v[3 * end] == v[3 * (end - 1)]) /* ties stay together */
            end++;
        if (b == FEATURE_BINS - 1)
            end = m;
        double sx = 0, st = 0, sg = 0, sgg = 0, k = (double)(end - start);
        for (size_t i = start; i < end; i++) {
            sx += v[3 * i], st += v[3 * i + 1], sg += v[3 * i + 2];
            sgg += v[3 * i + 2] * v[3 * i + 2];
        }
        double gm = sg / k, var = k > 1 ? (sgg - k * gm * gm) / (k - 1) : NAN;
        double half = 1.959963984540054 * sqrt(var > 0 ? var : 0) / sqrt(k);
        cJSON *bin = cJSON_CreateObject();
        cJSON_AddNumberToObject(bin, "rows", k);
        cJSON_AddItemToObject(bin, "lo", tt_json_number(v[3 * start]));
        cJSON_AddItemToObject(bin, "hi", tt_json_number(v[3 * (end - 1)]));
        cJSON_AddItemToObject(bin, "x_mean", tt_json_number(sx / k));
        cJSON_AddItemToObject(bin, "tau_mean", tt_json_number(st / k));
        cJSON_AddItemToObject(bin, "gamma_mean", tt_json_number(gm));
        cJSON_AddItemToObject(bin, "gamma_lo", tt_json_number(gm - half));
        cJSON_AddItemToObject(bin, "gamma_hi", tt_json_number(gm + half));
        cJSON_AddItemToArray(bins, bin);
        start = end;
    }
    free(v);
    return o;
}

static void add_value(cJSON *o, const char *name, tt_policy_value v)
{
    cJSON *j = cJSON_AddObjectToObject(o, name);
    cJSON_AddItemToObject(j, "value", tt_json_number(v.value));
    cJSON_AddItemToObject(j, "se", tt_json_number(v.se));
}

cJSON *tt_run_policy_json(const tt_policy_eval *e, const char *const *x_names,
                          const char *const *arm_labels, size_t k, const char *dir)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "depth", e->depth);
    cJSON_AddNumberToObject(o, "fit_rows", (double)e->n_fit);
    cJSON_AddNumberToObject(o, "eval_rows", (double)e->n_eval);
    cJSON_AddNumberToObject(o, "min_leaf_rows", (double)e->min_leaf);
    size_t need = tt_policy_tree_rules(e->tree, x_names, arm_labels, NULL, 0);
    char *rules = malloc(need + 1);
    if (rules) {
        tt_policy_tree_rules(e->tree, x_names, arm_labels, rules, need + 1);
        cJSON_AddStringToObject(o, "rules", rules);
    }
    cJSON *shares = cJSON_AddArrayToObject(o, "shares");
    for (size_t j = 0; j < k; j++)
        cJSON_AddItemToArray(shares, cJSON_CreateNumber(e->shares[j]));
    cJSON *v = cJSON_AddObjectToObject(o, "value");
    add_value(v, "policy", e->policy);
    add_value(v, "no_one", e->no_one);
    add_value(v, "everyone", e->everyone);
    cJSON_AddStringToObject(v, "everyone_arm", arm_labels[e->everyone_arm]);
    if (e->has_greedy)
        add_value(v, "greedy_tau", e->greedy);
    cJSON *g = cJSON_AddObjectToObject(o, "gain");
    add_value(g, "vs_no_one", e->gain_no_one);
    add_value(g, "vs_everyone", e->gain_everyone);
    if (e->has_greedy)
        add_value(g, "vs_greedy_tau", e->gain_greedy);
    cJSON_AddStringToObject(o, "method", "exact optimal tree on doubly robust rewards (AIPW, "
                                         "net of costs) of one half of the rows, valued on the "
                                         "other half");
    /* The tree as files a user can apply. */
    char path[4200];
    cJSON *tj = tt_policy_tree_to_json(e->tree, x_names, arm_labels);
    char *text = tt_json_text(tj, 1);
    snprintf(path, sizeof path, "%s/policy.json", dir);
    FILE *f = text ? fopen(path, "w") : NULL;
    if (f) {
        fputs(text, f);
        fputc('\n', f);
        if (fclose(f) == 0)
            cJSON_AddStringToObject(o, "file", "policy.json");
    }
    free(text);
    cJSON_Delete(tj);
    snprintf(path, sizeof path, "%s/policy.txt", dir);
    if (rules && (f = fopen(path, "w"))) {
        fputs(rules, f);
        fclose(f);
    }
    free(rules);
    return o;
}

/* The depth-2 policy tree on half of the rows, valued on the other half. */
static cJSON *policy_json(run_state *s, const irows *r, const double *R, const char *dir)
{
    tt_policy_eval_options opt;
    tt_policy_eval_options_init(&opt);
    opt.depth = r->p > 40 ? 1 : 2; /* depth 2 is O(p^2 n k^2 log n) */
    opt.seed = tt_rng_derive(s->cfg->seed, "policy");
    tt_policy_eval e;
    char err[512];
    if (tt_policy_evaluate(r->m, r->p, r->x, (size_t)r->k_arms, R, s->costs, r->tau, &opt, &e,
                           err, sizeof err) != TT_OK) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", err);
        return o;
    }
    cJSON *o = tt_run_policy_json(&e, (const char *const *)s->data->x_names,
                                  (const char *const *)s->data->arm_labels,
                                  (size_t)r->k_arms, dir);
    tt_policy_eval_free(&e);
    return o;
}

/* dr_scores.csv: per insight row its data row, x, the rewards R_j (arms) or
 * the pseudo-outcome (continuous) and tau_hat - what `tautune policy`
 * re-reads. */
static void write_scores(const run_state *s, const irows *r, const double *R, const double *g,
                         const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/dr_scores.csv.tmp", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    const tt_dataset *d = s->data;
    fputs("row", f);
    for (size_t j = 0; j < r->p; j++)
        fprintf(f, ",%s", d->x_names[j]);
    for (int j = 0; R && j < r->k_arms; j++)
        fprintf(f, ",reward_%s", d->arm_labels[j]);
    if (!R)
        fputs(",gamma", f);
    for (int j = 1; j < r->k_arms; j++)
        fprintf(f, ",tau_%s", d->arm_labels[j]);
    fputc('\n', f);
    for (size_t i = 0; i < r->m; i++) {
        fprintf(f, "%zu", (d->row ? d->row[r->data_row[i]] : r->data_row[i]) + 1);
        for (size_t j = 0; j < r->p; j++)
            fprintf(f, ",%.17g", r->x[j * r->m + i]);
        for (int j = 0; R && j < r->k_arms; j++)
            fprintf(f, ",%.17g", R[(size_t)j * r->m + i]);
        if (!R)
            fprintf(f, ",%.17g", g[i]);
        for (int j = 1; j < r->k_arms; j++)
            fprintf(f, ",%.17g", r->tau[(size_t)(j - 1) * r->m + i]);
        fputc('\n', f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    char final[4200];
    snprintf(final, sizeof final, "%s/dr_scores.csv", dir);
    if (bad || rename(path, final) != 0)
        remove(path);
}

/* [{name, key: v_j (or its square root)}] for the p features, largest
 * first (ties: the lower index). */
static cJSON *ranked(const double *v, size_t p, const char *const *names, const char *key,
                     int root)
{
    cJSON *fs = cJSON_CreateArray();
    unsigned char *used = calloc(p + 1, 1);
    for (size_t rank = 0; fs && used && rank < p; rank++) {
        size_t best = p;
        for (size_t j = 0; j < p; j++)
            if (!used[j] && (best == p || v[j] > v[best]))
                best = j;
        used[best] = 1;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", names[best]);
        cJSON_AddItemToObject(f, key, tt_json_number(root ? sqrt(v[best]) : v[best]));
        cJSON_AddItemToArray(fs, f);
    }
    free(used);
    return fs;
}

void tt_run_insight(run_state *s, const char *dir)
{
    /* With an instrument the doubly robust scores of run_estimand.c's models
     * would carry the confounding the instrument is there for: no insight. */
    if (!s->winner_tau || s->split.n_valid < 10 || s->data->p_x == 0 || s->data->p_z > 0)
        return;
    irows r;
    if (gather(s, &r) != 0) {
        fprintf(stderr, "tautune: warning: no insight (what drives the effect): out of memory "
                        "or no nuisance models\n");
        irows_free(&r);
        return;
    }
    const tt_dataset *d = s->data;
    const size_t m = r.m, K = (size_t)r.k_arms;
    const char *const *names = (const char *const *)d->x_names;
    double *R = r.cont ? NULL : malloc(sizeof *R * (m * K + 1));
    double *gam = malloc(sizeof *gam * (m * (K - 1) + 1));
    if ((!r.cont && !R) || !gam) {
        free(R), free(gam);
        irows_free(&r);
        return;
    }
    if (r.cont) {
        continuous_gamma(&r, gam);
    } else {
        rewards(&r, s->cfg->clip, R);
        for (size_t k = 1; k < K; k++)
            for (size_t i = 0; i < m; i++)
                gam[(k - 1) * m + i] = R[k * m + i] - R[i];
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rows", s->n_folds >= 2 ? "all (out of fold)"
                                                        : "validation (out of sample)");
    cJSON_AddNumberToObject(o, "n", (double)m);
    /* Fewer than the scored rows: a seeded subsample (INSIGHT_MAX_ROWS). */
    cJSON_AddNumberToObject(o, "rows_scored", (double)s->split.n_valid);
    cJSON_AddStringToObject(o, "nuisances", r.source);
    cJSON_AddStringToObject(o, "scores", r.cont ? "partially linear pseudo-outcomes (per "
                                                  "unit of the treatment)"
                                                : "AIPW doubly robust scores");
    cJSON *arms = cJSON_AddArrayToObject(o, "arms");
    for (size_t k = 1; k < K; k++) {
        cJSON *a = cJSON_CreateObject(), *top = NULL;
        cJSON_AddStringToObject(a, "arm", d->arm_labels[k]);
        const double *g = gam + (k - 1) * m;
        cJSON_AddItemToObject(a, "blp", blp_json(&r, g, names, &top));
        if (top)
            cJSON_AddItemToObject(a, "top_features", top);
        cJSON_AddItemToObject(a, "calibration", calibration_json(&r, (int)k));
        cJSON_AddItemToObject(a, "tree", tree_json(&r, (int)k, g, names));
        /* The estimate and the scores against the two strongest features. */
        cJSON *plots = cJSON_AddArrayToObject(a, "by_feature");
        const cJSON *f;
        int shown = 0;
        cJSON_ArrayForEach(f, top)
        {
            if (shown == 2)
                break;
            const char *fname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));
            for (size_t j = 0; fname && j < r.p; j++)
                if (strcmp(names[j], fname) == 0) {
                    cJSON *bf = by_feature(&r, j, r.tau + (k - 1) * m, g, fname);
                    if (bf)
                        cJSON_AddItemToArray(plots, bf);
                    shown++;
                    break;
                }
        }
        cJSON_AddItemToArray(arms, a);
    }
    if (s->winner_importance) {
        /* What the winner's effect function uses: features by permutation. */
        cJSON *imp = cJSON_AddObjectToObject(o, "importance");
        cJSON_AddStringToObject(imp, "arm", d->arm_labels[1]);
        cJSON_AddStringToObject(imp, "method", "permutation: the root mean squared change in "
                                               "the winner's effect when one feature is "
                                               "shuffled (2 shuffles, at most 2,000 rows)");
        cJSON_AddItemToObject(imp, "features",
                              ranked(s->winner_importance, r.p, names, "rms", 1));
    }
    if (s->winner_model_importance) {
        /* The winner's own measure: a forest's split frequency. */
        cJSON *mi = cJSON_AddObjectToObject(o, "model_importance");
        cJSON_AddStringToObject(mi, "method", s->winner_importance_method
                                                  ? s->winner_importance_method
                                                  : "the plugin's own measure");
        cJSON_AddItemToObject(mi, "features",
                              ranked(s->winner_model_importance, r.p, names, "value", 0));
    }
    cJSON_Delete(s->insight_facts);
    s->insight_facts = o;
    cJSON_Delete(s->policy_facts);
    s->policy_facts = r.cont ? NULL : policy_json(s, &r, R, dir);
    write_scores(s, &r, R, gam, dir);
    free(R), free(gam);
    irows_free(&r);
}
