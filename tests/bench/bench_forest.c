/*
 * bench_forest.c - times the generalised random forest engine (learn/grf.h)
 * on the DGP (driven by tests/bench/forest).
 *
 *   bench_forest causal <n> <trees> <threads> <seed>
 *       X ~ N(0, I_10), e(x) = logistic(0.5 x1 - 0.5 x2), T ~ Bernoulli(e),
 *       tau(x) = 1 + x1 + 0.5 max(x2, 0), Y = x3 + 0.5 x4 + T tau(x) + N(0, 1);
 *       the first 70 % of rows train, the rest test. Like grf's causal_forest:
 *       m(x) and e(x) from regression forests of max(50, trees / 4) trees
 *       (ci_group_size 1, out-of-bag predictions), then the causal forest on
 *       the centred data, everything else at grf's defaults.
 *       prints "RESULT causal n=.. fit_s=.. fit_cpu=.. predict_s=.. predict_var_s=..
 *       rmse=.. coverage=.."
 *   bench_forest gen <n> <seed> <train.csv> <test.csv>
 *       writes the same split (x1..x10, y) for forest_reference.py
 *   bench_forest regress <n> <trees> <threads> <seed>
 *       regression forest of Y on X (grf defaults, the given trees) on the
 *       same split: "RESULT regress n=.. fit_s=.. fit_cpu=.. predict_s=.. mse=.."
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn/grf.h"
#include "util/rng.h"
#include "util/clock.h"

enum { P = 10 };

typedef struct split {
    size_t n; /* rows of this part */
    double *x, *t, *y, *tau;
} split;

/* Generates n rows and splits them 70/30 (column-major x per part). */
static void generate(size_t n, uint64_t seed, split *tr, split *te)
{
    tt_rng r;
    tt_rng_seed(&r, seed, "bench-forest");
    size_t ntr = (size_t)(0.7 * (double)n);
    split *parts[2] = {tr, te};
    size_t sizes[2] = {ntr, n - ntr};
    for (int s = 0; s < 2; s++) {
        split *q = parts[s];
        q->n = sizes[s];
        q->x = malloc(q->n * P * sizeof(double));
        q->t = malloc(q->n * sizeof(double));
        q->y = malloc(q->n * sizeof(double));
        q->tau = malloc(q->n * sizeof(double));
    }
    for (size_t i = 0; i < n; i++) {
        split *q = i < ntr ? tr : te;
        size_t k = i < ntr ? i : i - ntr;
        double x[P];
        for (size_t j = 0; j < P; j++)
            q->x[j * q->n + k] = x[j] = tt_rng_normal(&r);
        double e = 1.0 / (1.0 + exp(-(0.5 * x[0] - 0.5 * x[1])));
        q->tau[k] = 1.0 + x[0] + 0.5 * fmax(x[1], 0.0);
        q->t[k] = tt_rng_uniform(&r) < e ? 1.0 : 0.0;
        q->y[k] = x[2] + 0.5 * x[3] + q->t[k] * q->tau[k] + tt_rng_normal(&r);
    }
}

static void free_split(split *s)
{
    free(s->x), free(s->t), free(s->y), free(s->tau);
}

static int fail(const char *what, const char *err)
{
    fprintf(stderr, "bench_forest: %s: %s\n", what, err);
    return 1;
}

static int run_causal(size_t n, size_t trees, int threads, uint64_t seed)
{
    split tr, te;
    generate(n, seed, &tr, &te);
    char err[256] = "";
    const size_t m = tr.n;
    double *mhat = malloc(m * sizeof *mhat), *ehat = malloc(m * sizeof *ehat);
    double *yc = malloc(m * sizeof *yc), *wc = malloc(m * sizeof *wc);
    double *est = malloc(te.n * sizeof *est), *var = malloc(te.n * sizeof *var);
    tt_grf_options o;
    tt_grf_options_init(&o);
    o.threads = threads, o.seed = seed;
    double w0 = tt_now(), c0 = tt_cpu_now();
    /* Nuisances as grf's causal_forest fits them: out-of-bag regression forests. */
    tt_grf_options on = o;
    on.n_trees = trees / 4 > 50 ? trees / 4 : 50;
    on.ci_group_size = 1;
    tt_grf *fy = NULL, *fw = NULL, *f = NULL;
    tt_grf_data dy = {m, P, tr.x, tr.y, NULL, 0, NULL, NULL};
    tt_grf_data dw = {m, P, tr.x, tr.t, NULL, 0, NULL, NULL};
    if (tt_grf_fit(TT_GRF_REGRESSION, &dy, &on, NULL, &fy, err, sizeof err) != TT_OK ||
        tt_grf_predict_oob(fy, mhat, NULL, err, sizeof err) != TT_OK)
        return fail("m(x) forest", err);
    on.seed = seed + 1;
    if (tt_grf_fit(TT_GRF_REGRESSION, &dw, &on, NULL, &fw, err, sizeof err) != TT_OK ||
        tt_grf_predict_oob(fw, ehat, NULL, err, sizeof err) != TT_OK)
        return fail("e(x) forest", err);
    for (size_t i = 0; i < m; i++) {
        /* A row in every tree's sample has no OOB estimate: fall back to the mean. */
        yc[i] = tr.y[i] - (isfinite(mhat[i]) ? mhat[i] : 0.0);
        wc[i] = tr.t[i] - (isfinite(ehat[i]) ? ehat[i] : 0.5);
    }
    o.n_trees = trees;
    tt_grf_data d = {m, P, tr.x, yc, wc, 1, NULL, NULL};
    if (tt_grf_fit(TT_GRF_CAUSAL, &d, &o, NULL, &f, err, sizeof err) != TT_OK)
        return fail("causal forest", err);
    double fit_s = tt_now() - w0, fit_cpu = tt_cpu_now() - c0;
    double w1 = tt_now();
    if (tt_grf_predict(f, te.n, te.x, est, NULL, err, sizeof err) != TT_OK)
        return fail("predict", err);
    double w2 = tt_now();
    if (tt_grf_predict(f, te.n, te.x, est, var, err, sizeof err) != TT_OK)
        return fail("predict with variance", err);
    double w3 = tt_now();
    double se = 0.0, covered = 0.0;
    for (size_t i = 0; i < te.n; i++) {
        double e = est[i] - te.tau[i];
        se += e * e;
        covered += fabs(e) <= 1.959963984540054 * sqrt(var[i]);
    }
    printf("RESULT causal n=%zu trees=%zu fit_s=%.3f fit_cpu=%.3f predict_s=%.3f "
           "predict_var_s=%.3f rmse=%.4f coverage=%.3f\n",
           n, trees, fit_s, fit_cpu, w2 - w1, w3 - w2, sqrt(se / (double)te.n),
           covered / (double)te.n);
    tt_grf_free(fy), tt_grf_free(fw), tt_grf_free(f);
    free(mhat), free(ehat), free(yc), free(wc), free(est), free(var);
    free_split(&tr), free_split(&te);
    return 0;
}

static int write_csv(const char *path, const split *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    for (size_t j = 0; j < P; j++)
        fprintf(f, "x%zu,", j + 1);
    fprintf(f, "y\n");
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < P; j++)
            fprintf(f, "%.17g,", s->x[j * s->n + i]);
        fprintf(f, "%.17g\n", s->y[i]);
    }
    return fclose(f) != 0;
}

static int run_regress(size_t n, size_t trees, int threads, uint64_t seed)
{
    split tr, te;
    generate(n, seed, &tr, &te);
    char err[256] = "";
    tt_grf_options o;
    tt_grf_options_init(&o);
    o.n_trees = trees, o.threads = threads, o.seed = seed;
    tt_grf *f = NULL;
    tt_grf_data d = {tr.n, P, tr.x, tr.y, NULL, 0, NULL, NULL};
    double w0 = tt_now(), c0 = tt_cpu_now();
    if (tt_grf_fit(TT_GRF_REGRESSION, &d, &o, NULL, &f, err, sizeof err) != TT_OK)
        return fail("regression forest", err);
    double fit_s = tt_now() - w0, fit_cpu = tt_cpu_now() - c0;
    double *est = malloc(te.n * sizeof *est);
    double w1 = tt_now();
    if (tt_grf_predict(f, te.n, te.x, est, NULL, err, sizeof err) != TT_OK)
        return fail("predict", err);
    double pred_s = tt_now() - w1, se = 0.0;
    for (size_t i = 0; i < te.n; i++)
        se += (est[i] - te.y[i]) * (est[i] - te.y[i]);
    printf("RESULT regress n=%zu trees=%zu fit_s=%.3f fit_cpu=%.3f predict_s=%.3f mse=%.4f\n",
           n, trees, fit_s, fit_cpu, pred_s, se / (double)te.n);
    tt_grf_free(f);
    free(est);
    free_split(&tr), free_split(&te);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "gen") == 0) {
        split tr, te;
        generate((size_t)atol(argv[2]), (uint64_t)atoll(argv[3]), &tr, &te);
        int bad = write_csv(argv[4], &tr) || write_csv(argv[5], &te);
        free_split(&tr), free_split(&te);
        return bad;
    }
    if (argc == 6 && strcmp(argv[1], "causal") == 0)
        return run_causal((size_t)atol(argv[2]), (size_t)atol(argv[3]), atoi(argv[4]),
                          (uint64_t)atoll(argv[5]));
    if (argc == 6 && strcmp(argv[1], "regress") == 0)
        return run_regress((size_t)atol(argv[2]), (size_t)atol(argv[3]), atoi(argv[4]),
                           (uint64_t)atoll(argv[5]));
    fprintf(stderr, "usage: bench_forest causal|regress <n> <trees> <threads> <seed>\n"
                    "       bench_forest gen <n> <seed> <train.csv> <test.csv>\n");
    return 2;
}
