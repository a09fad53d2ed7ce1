/* ensemble.c - greedy ensemble selection and its nested honest score
 * (ensemble.h). */
#include "search/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score/score_terms.h"
#include "util/err.h"
#include "util/rng.h"

/* A list longer than this is a caller's mistake (the default is 50). */
#define MAX_STEPS 100000

/* What every selection shares: the candidates, the metric and scratch. */
typedef struct pool {
    const double *const *cands;
    size_t n_cands, n, cells;
    tt_ensemble_terms_fn fn;
    void *ctx;
    int maximize;
    size_t max_steps;
    double *tau;    /* cells: the mix being tried */
    double *sum;    /* cells: the running list's sum of effects */
    double *terms;  /* n: the metric's terms of the last call */
    size_t *chosen; /* max_steps: the list, in the order it grew */
} pool;

/* a is strictly better than b: NaN is never better, and anything finite
 * beats NaN. Strict, so ties keep the earlier (lower index, shorter). */
static int better(double a, double b, int maximize)
{
    if (isnan(a))
        return 0;
    if (isnan(b))
        return 1;
    return maximize ? a > b : a < b;
}

/* Mean of terms over rows (rows NULL: the first n_rows); NaN when a term is
 * not finite, so such a mix is never chosen. */
static double mean_over(const double *terms, const size_t *rows, size_t n_rows)
{
    double s = 0;
    for (size_t i = 0; i < n_rows; i++) {
        double t = terms[rows ? rows[i] : i];
        if (!isfinite(t))
            return NAN;
        s += t;
    }
    return s / (double)n_rows;
}

/* The terms of effects tau into p->terms; 0 when the metric is undefined. */
static int terms_of(pool *p, const double *tau)
{
    return p->fn(p->ctx, tau, p->terms) == 1;
}

/* The terms of the list's sum plus `add`, averaged over k entries. */
static int mix_terms(pool *p, const double *add, size_t k)
{
    for (size_t c = 0; c < p->cells; c++)
        p->tau[c] = (p->sum[c] + add[c]) / (double)k;
    return terms_of(p, p->tau);
}

/* One greedy selection on rows (NULL: all n), the list starting with
 * `first` whose metric there is first_value. Leaves the list in p->chosen
 * and returns the length of the kept prefix (*value: its metric). Each entry
 * after the first is the candidate whose addition scores best; the list
 * stops early only when no addition is defined. */
static size_t select_greedy(pool *p, const size_t *rows, size_t n_rows, size_t first,
                            double first_value, double *value)
{
    memcpy(p->sum, p->cands[first], sizeof *p->sum * p->cells);
    p->chosen[0] = first;
    size_t len = 1, kept = 1;
    double kept_value = first_value;
    while (len < p->max_steps) {
        size_t pick = 0;
        double pick_value = NAN;
        for (size_t m = 0; m < p->n_cands; m++) {
            if (!mix_terms(p, p->cands[m], len + 1))
                continue;
            double v = mean_over(p->terms, rows, n_rows);
            if (better(v, pick_value, p->maximize)) {
                pick = m;
                pick_value = v;
            }
        }
        if (isnan(pick_value))
            break;
        /* The same additions mix_terms made, so the kept mix can be rebuilt
         * bit for bit (prefix_terms). */
        const double *c = p->cands[pick];
        for (size_t i = 0; i < p->cells; i++)
            p->sum[i] += c[i];
        p->chosen[len++] = pick;
        if (better(pick_value, kept_value, p->maximize)) {
            kept = len;
            kept_value = pick_value;
        }
    }
    *value = kept_value;
    return kept;
}

/* The terms of the mix of p->chosen[0 .. kept), summed in the order the
 * list grew, as select_greedy scored it. */
static int prefix_terms(pool *p, size_t kept)
{
    memcpy(p->sum, p->cands[p->chosen[0]], sizeof *p->sum * p->cells);
    for (size_t j = 1; j < kept; j++) {
        const double *c = p->cands[p->chosen[j]];
        for (size_t i = 0; i < p->cells; i++)
            p->sum[i] += c[i];
    }
    for (size_t i = 0; i < p->cells; i++)
        p->tau[i] = p->sum[i] / (double)kept;
    return terms_of(p, p->tau);
}

/* ---- the nested halves ----------------------------------------------------- */

typedef struct keyed_row {
    int label;
    size_t order, row;
} keyed_row;

static int by_label_then_order(const void *a, const void *b)
{
    const keyed_row *x = a, *y = b;
    if (x->label != y->label)
        return x->label < y->label ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The rows in a seeded random order, grouped by stratum (a stable sort on
 * the label keeps the random order inside each), then dealt alternately:
 * a stratum splits within one row, and since the dealing runs on across
 * strata, so do the halves. */
tt_status tt_ensemble_halves(size_t n, const int *strata, uint64_t seed, unsigned char *half)
{
    size_t *order = malloc(sizeof *order * n);
    keyed_row *keyed = malloc(sizeof *keyed * n);
    if (!order || !keyed) {
        free(order);
        free(keyed);
        return TT_ERR_NOMEM;
    }
    tt_rng rng;
    tt_rng_seed(&rng, seed, "ensemble");
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    tt_rng_shuffle_size(&rng, order, n);
    for (size_t i = 0; i < n; i++)
        keyed[i] = (keyed_row){.label = strata ? strata[order[i]] : 0, .order = i,
                               .row = order[i]};
    qsort(keyed, n, sizeof *keyed, by_label_then_order);
    for (size_t i = 0; i < n; i++)
        half[keyed[i].row] = (unsigned char)(i % 2);
    free(order);
    free(keyed);
    return TT_OK;
}

/* ---- building ------------------------------------------------------------------ */

/* Per-candidate metric of each candidate alone: on all rows and on each
 * half (NaN when undefined). Returns how many are defined on all rows. */
static size_t score_singles(pool *p, const unsigned char *half, double *all, double *on_half[2])
{
    size_t defined = 0;
    for (size_t m = 0; m < p->n_cands; m++) {
        all[m] = on_half[0][m] = on_half[1][m] = NAN;
        if (!terms_of(p, p->cands[m]))
            continue;
        double s[2] = {0, 0};
        size_t cnt[2] = {0, 0};
        int finite[2] = {1, 1};
        for (size_t i = 0; i < p->n; i++) {
            double t = p->terms[i];
            finite[half[i]] &= isfinite(t) != 0;
            s[half[i]] += t;
            cnt[half[i]]++;
        }
        /* Summed in row order, as mean_over sums a selection's rows, so a
         * list's first entry and its longer prefixes compare like with like. */
        for (int h = 0; h < 2; h++)
            on_half[h][m] = finite[h] ? s[h] / (double)cnt[h] : NAN;
        all[m] = mean_over(p->terms, NULL, p->n);
        defined += !isnan(all[m]);
    }
    return defined;
}

/* Index of the best finite value, or -1. Ties go to the lower index. */
static long best_of(const double *v, size_t n, int maximize)
{
    long best = -1;
    for (size_t m = 0; m < n; m++)
        if (!isnan(v[m]) && (best < 0 || better(v[m], v[best], maximize)))
            best = (long)m;
    return best;
}

/* The nested protocol: for each half h, selection on h, terms on the other
 * half into ens_oos (the ensemble) and single_oos (the best single
 * candidate of h). Returns 0 when both halves gave finite terms. */
static int out_of_half_terms(pool *p, const unsigned char *half, double *on_half[2],
                             double *ens_oos, double *single_oos, size_t *rows)
{
    for (int h = 0; h < 2; h++) {
        size_t n_rows = 0;
        for (size_t i = 0; i < p->n; i++)
            if (half[i] == h)
                rows[n_rows++] = i;
        long first = best_of(on_half[h], p->n_cands, p->maximize);
        if (first < 0)
            return -1;
        double value;
        size_t kept = select_greedy(p, rows, n_rows, (size_t)first, on_half[h][first], &value);
        if (!prefix_terms(p, kept))
            return -1;
        for (size_t i = 0; i < p->n; i++)
            if (half[i] != h)
                ens_oos[i] = p->terms[i];
        if (!terms_of(p, p->cands[first]))
            return -1;
        for (size_t i = 0; i < p->n; i++)
            if (half[i] != h)
                single_oos[i] = p->terms[i];
    }
    return 0;
}

/* Members (ascending) and weights of the kept prefix of p->chosen. */
static int members_of(const pool *p, size_t kept, size_t *count, tt_ensemble_result *out)
{
    memset(count, 0, sizeof *count * p->n_cands);
    for (size_t j = 0; j < kept; j++)
        count[p->chosen[j]]++;
    size_t distinct = 0;
    for (size_t m = 0; m < p->n_cands; m++)
        distinct += count[m] > 0;
    out->member = malloc(sizeof *out->member * distinct);
    out->weight = malloc(sizeof *out->weight * distinct);
    if (!out->member || !out->weight)
        return -1;
    for (size_t m = 0, k = 0; m < p->n_cands; m++) {
        if (!count[m])
            continue;
        out->member[k] = m;
        out->weight[k++] = (double)count[m] / (double)kept;
    }
    out->n_members = distinct;
    out->steps = kept;
    return 0;
}

static void honest_figures(const double *ens_oos, const double *single_oos, size_t n,
                           int maximize, tt_ensemble_result *out)
{
    out->honest = mean_over(ens_oos, NULL, n);
    out->single_honest = mean_over(single_oos, NULL, n);
    if (isnan(out->honest) || isnan(out->single_honest)) {
        out->honest = out->honest_se = out->single_honest = out->diff = out->diff_se = NAN;
        return;
    }
    out->honest_se = tt_terms_se(ens_oos, n);
    tt_terms_paired(ens_oos, single_oos, n, &out->diff, &out->diff_se);
    /* A win must stand out of the comparison's noise: among near-tied
     * candidates the greedy steps also fit the pseudo-outcomes' noise, and
     * a mix that is better by less than TT_ENSEMBLE_MARGIN_SE paired s.e.
     * was measured worse by true error (confounded_linear, 300 s runs:
     * ensembles of near-ties had twice the single winner's error). */
    double margin = TT_ENSEMBLE_MARGIN_SE * (isfinite(out->diff_se) ? out->diff_se : 0.0);
    out->wins = out->n_members >= 2 &&
                better(out->honest + (maximize ? -margin : margin), out->single_honest,
                       maximize);
}

static tt_status check_args(const double *const *cands, size_t n_cands, size_t n, size_t cols,
                            tt_ensemble_terms_fn fn, size_t max_steps, char *err, size_t errlen)
{
    if (n < 4)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "ensemble: %zu rows; the nested halves need at least 4", n);
    if (n_cands == 0 || cols == 0 || !fn || !cands)
        return tt_errf(err, errlen, TT_ERR_INVALID, "ensemble: %s",
                       n_cands == 0 ? "no candidates" : cols == 0 ? "no effect columns"
                                                                  : "no terms function");
    for (size_t m = 0; m < n_cands; m++)
        if (!cands[m])
            return tt_errf(err, errlen, TT_ERR_INVALID, "ensemble: candidate %zu has no effects",
                           m);
    if (max_steps > MAX_STEPS)
        return tt_errf(err, errlen, TT_ERR_INVALID, "ensemble: %zu steps (at most %d)",
                       max_steps, MAX_STEPS);
    if (n > SIZE_MAX / sizeof(double) / cols)
        return tt_errf(err, errlen, TT_ERR_INVALID, "ensemble: %zu x %zu effects is too many",
                       n, cols);
    return TT_OK;
}

tt_status tt_ensemble_build(const double *const *cands, size_t n_cands, size_t n, size_t cols,
                            tt_ensemble_terms_fn fn, void *ctx, const tt_ensemble_options *opt,
                            tt_ensemble_result *out, char *err, size_t errlen)
{
    static const tt_ensemble_options defaults = {0};
    if (!opt)
        opt = &defaults;
    memset(out, 0, sizeof *out);
    size_t max_steps = opt->max_steps ? opt->max_steps : TT_ENSEMBLE_DEFAULT_STEPS;
    tt_status st = check_args(cands, n_cands, n, cols, fn, max_steps, err, errlen);
    if (st != TT_OK)
        return st;
    pool p = {.cands = cands, .n_cands = n_cands, .n = n, .cells = n * cols, .fn = fn,
              .ctx = ctx, .maximize = opt->maximize, .max_steps = max_steps};
    p.tau = malloc(sizeof *p.tau * p.cells);
    p.sum = malloc(sizeof *p.sum * p.cells);
    p.terms = malloc(sizeof *p.terms * n);
    p.chosen = malloc(sizeof *p.chosen * max_steps);
    unsigned char *half = malloc(n);
    double *single_all = malloc(sizeof(double) * n_cands);
    double *on_half[2] = {malloc(sizeof(double) * n_cands), malloc(sizeof(double) * n_cands)};
    double *ens_oos = malloc(sizeof *ens_oos * n), *single_oos = malloc(sizeof *single_oos * n);
    size_t *scratch = malloc(sizeof *scratch * (n > n_cands ? n : n_cands));
    if (!p.tau || !p.sum || !p.terms || !p.chosen || !half || !single_all || !on_half[0] ||
        !on_half[1] || !ens_oos || !single_oos || !scratch ||
        tt_ensemble_halves(n, opt->strata, opt->seed, half) != TT_OK) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "ensemble: out of memory");
        goto out;
    }
    if (!score_singles(&p, half, single_all, on_half)) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC,
                     "ensemble: the metric is undefined for every one of the %zu candidates",
                     n_cands);
        goto out;
    }
    /* Honest first: the selection on all rows leaves its list in p.chosen. */
    int nested = out_of_half_terms(&p, half, on_half, ens_oos, single_oos, scratch);
    long single = best_of(single_all, n_cands, p.maximize);
    out->single_best = (size_t)single;
    out->single_score = single_all[single];
    size_t kept = select_greedy(&p, NULL, n, (size_t)single, single_all[single], &out->score);
    if (members_of(&p, kept, scratch, out)) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "ensemble: out of memory");
        goto out;
    }
    if (nested == 0) {
        honest_figures(ens_oos, single_oos, n, p.maximize, out);
    } else {
        out->honest = out->honest_se = out->single_honest = out->diff = out->diff_se = NAN;
        out->wins = 0;
    }
out:
    if (st != TT_OK)
        tt_ensemble_result_free(out);
    free(p.tau);
    free(p.sum);
    free(p.terms);
    free(p.chosen);
    free(half);
    free(single_all);
    free(on_half[0]);
    free(on_half[1]);
    free(ens_oos);
    free(single_oos);
    free(scratch);
    return st;
}

void tt_ensemble_effects(const double *const *cands, size_t n, size_t cols,
                         const tt_ensemble_result *r, double *tau)
{
    const size_t cells = n * cols;
    memset(tau, 0, sizeof *tau * cells);
    for (size_t k = 0; k < r->n_members; k++) {
        const double *c = cands[r->member[k]], w = r->weight[k];
        for (size_t i = 0; i < cells; i++)
            tau[i] += w * c[i];
    }
}

void tt_ensemble_result_free(tt_ensemble_result *r)
{
    if (!r)
        return;
    free(r->member);
    free(r->weight);
    memset(r, 0, sizeof *r);
}
