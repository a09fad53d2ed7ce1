/* test_ensemble.c - greedy ensemble selection (search/ensemble.h): a known
 * best mix (two candidates with opposite errors), a perfect candidate that
 * stays alone, the nested honest score against a simple recomputation of
 * the protocol, the halves, determinism, undefined candidates and errors.
 * The metric throughout is dr_mse-like: term_i = sum_j (psi_ij - tau_ij)^2. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search/ensemble.h"
#include "util/rng.h"

typedef struct target {
    const double *psi; /* n x cols */
    size_t n, cols;
    int negate;        /* terms of -mse, for the maximising direction */
    size_t calls;
} target;

/* Undefined when an effect is NaN (as a metric would be). */
static int squared_error_terms(void *ctx, const double *tau, double *terms)
{
    target *t = ctx;
    t->calls++;
    for (size_t i = 0; i < t->n; i++) {
        double s = 0;
        for (size_t j = 0; j < t->cols; j++) {
            double tij = tau[j * t->n + i];
            if (isnan(tij))
                return 0;
            double d = t->psi[j * t->n + i] - tij;
            s += d * d;
        }
        terms[i] = t->negate ? -s : s;
    }
    return 1;
}

static int never_defined(void *ctx, const double *tau, double *terms)
{
    (void)ctx, (void)tau, (void)terms;
    return 0;
}

/* psi and an error e, both N(0, 1), n values each. */
static void draw(size_t n, uint64_t seed, double *psi, double *e)
{
    tt_rng rng;
    tt_rng_seed(&rng, seed, "test");
    for (size_t i = 0; i < n; i++) {
        psi[i] = tt_rng_normal(&rng);
        e[i] = tt_rng_normal(&rng);
    }
}

static double weight_of(const tt_ensemble_result *r, size_t cand)
{
    for (size_t k = 0; k < r->n_members; k++)
        if (r->member[k] == cand)
            return r->weight[k];
    return 0;
}

/* a = psi + e and b = psi - e: their average is psi, which no other mix
 * beats; c = psi + 2e + 0.3 is worse than either. */
static void test_opposite_errors_mix_half_half(void **state)
{
    (void)state;
    enum { N = 400 };
    double psi[N], e[N], a[N], b[N], c[N], tau[N];
    draw(N, 1, psi, e);
    for (size_t i = 0; i < N; i++) {
        a[i] = psi[i] + e[i];
        b[i] = psi[i] - e[i];
        c[i] = psi[i] + 2 * e[i] + 0.3;
    }
    const double *cands[] = {c, a, b};
    for (int negate = 0; negate <= 1; negate++) {
        target t = {psi, N, 1, negate, 0};
        tt_ensemble_options opt = {.max_steps = 50, .maximize = negate, .seed = 7};
        tt_ensemble_result r;
        char err[256] = "";
        assert_int_equal(tt_ensemble_build(cands, 3, N, 1, squared_error_terms, &t, &opt, &r,
                                           err, sizeof err),
                         TT_OK);
        assert_int_equal(r.n_members, 2);
        assert_int_equal(r.member[0], 1);
        assert_int_equal(r.member[1], 2);
        assert_true(fabs(weight_of(&r, 1) - 0.5) <= 1.0 / 50);
        assert_true(fabs(weight_of(&r, 2) - 0.5) <= 1.0 / 50);
        assert_true(weight_of(&r, 0) == 0.0);
        assert_true(fabs(r.weight[0] + r.weight[1] - 1) < 1e-15);
        assert_int_equal(r.steps % 2, 0);
        assert_true(r.wins);
        assert_true(fabs(r.score) < 1e-20);
        assert_true(fabs(r.honest) < 1e-20);
        assert_true(r.single_best == 1 || r.single_best == 2);
        assert_true(fabs(r.single_score) > 0.5); /* mean e^2, about 1 */
        assert_true(fabs(r.single_honest) > 0.5);
        assert_true(negate ? r.diff > 0 : r.diff < 0);
        assert_true(fabs(r.diff) > 4 * r.diff_se);
        tt_ensemble_effects(cands, N, 1, &r, tau);
        for (size_t i = 0; i < N; i++)
            assert_true(fabs(tau[i] - psi[i]) < 1e-12);
        /* Each step tries every candidate once; three selections. */
        assert_true(t.calls <= 3 + 2 * 2 + 3 * 50 * 3);
        tt_ensemble_result_free(&r);
        assert_null(r.member);
        assert_int_equal(r.n_members, 0);
    }
}

/* A candidate equal to psi has terms 0: no mix beats it, so it stays alone
 * (ties go to the shorter list) and nothing "wins". */
static void test_perfect_candidate_stays_alone(void **state)
{
    (void)state;
    enum { N = 101 };
    double psi[N], e[N], a[N], c[N];
    draw(N, 2, psi, e);
    for (size_t i = 0; i < N; i++) {
        a[i] = psi[i] + e[i];
        c[i] = psi[i] + 2 * e[i] + 1;
    }
    const double *cands[] = {a, psi, c};
    target t = {psi, N, 1, 0, 0};
    tt_ensemble_result r;
    char err[256];
    assert_int_equal(tt_ensemble_build(cands, 3, N, 1, squared_error_terms, &t, NULL, &r, err,
                                       sizeof err),
                     TT_OK);
    assert_int_equal(r.n_members, 1);
    assert_int_equal(r.member[0], 1);
    assert_true(r.weight[0] == 1.0);
    assert_int_equal(r.steps, 1);
    assert_int_equal(r.single_best, 1);
    assert_true(r.score == 0.0 && r.single_score == 0.0);
    assert_false(r.wins);
    assert_true(r.honest == 0.0 && r.single_honest == 0.0 && r.diff == 0.0);
    tt_ensemble_result_free(&r);
}

/* ---- the nested protocol, recomputed simply -------------------------------- */

typedef struct brute {
    const double *const *cands;
    size_t n_cands, n, cols;
    const double *psi;
} brute;

/* Term of row i for the mix count / len. */
static double brute_term(const brute *b, const size_t *count, size_t len, size_t i)
{
    double s = 0;
    for (size_t j = 0; j < b->cols; j++) {
        double tau = 0;
        for (size_t m = 0; m < b->n_cands; m++)
            tau += (double)count[m] * b->cands[m][j * b->n + i];
        tau /= (double)len;
        double d = b->psi[j * b->n + i] - tau;
        s += d * d;
    }
    return s;
}

/* Mean term over the rows with half[i] == h (h = -1: all rows). */
static double brute_value(const brute *b, const size_t *count, size_t len,
                          const unsigned char *half, int h)
{
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (h < 0 || half[i] == h) {
            s += brute_term(b, count, len, i);
            k++;
        }
    return s / (double)k;
}

/* Caruana's greedy selection with replacement on half h; best counts and
 * length into best (n_cands) and *best_len; *first: the best single. */
static void brute_select(const brute *b, const unsigned char *half, int h, size_t steps,
                         size_t *best, size_t *best_len, size_t *first)
{
    size_t count[16] = {0};
    double best_value = INFINITY;
    for (size_t m = 0; m < b->n_cands; m++) {
        count[m] = 1;
        double v = brute_value(b, count, 1, half, h);
        count[m] = 0;
        if (v < best_value) {
            best_value = v;
            *first = m;
        }
    }
    count[*first] = 1;
    memcpy(best, count, sizeof count[0] * b->n_cands);
    *best_len = 1;
    for (size_t len = 1; len < steps; len++) {
        double pick_value = INFINITY;
        size_t pick = 0;
        for (size_t m = 0; m < b->n_cands; m++) {
            count[m]++;
            double v = brute_value(b, count, len + 1, half, h);
            count[m]--;
            if (v < pick_value) {
                pick_value = v;
                pick = m;
            }
        }
        count[pick]++;
        if (pick_value < best_value) {
            best_value = pick_value;
            memcpy(best, count, sizeof count[0] * b->n_cands);
            *best_len = len + 1;
        }
    }
}

static void test_honest_score_against_brute_force(void **state)
{
    (void)state;
    enum { N = 14, COLS = 2, M = 5, STEPS = 8 };
    double psi[N * COLS], noise[N * COLS], cand[M][N * COLS];
    int strata[N];
    draw(N * COLS, 3, psi, noise);
    tt_rng rng;
    tt_rng_seed(&rng, 4, "cands");
    for (size_t m = 0; m < M; m++)
        for (size_t i = 0; i < N * COLS; i++)
            cand[m][i] = psi[i] + 0.2 * (double)m + (1 + 0.3 * (double)m) * tt_rng_normal(&rng);
    for (size_t i = 0; i < N; i++)
        strata[i] = (int)(i % 3);
    const double *cands[M];
    for (size_t m = 0; m < M; m++)
        cands[m] = cand[m];
    target t = {psi, N, COLS, 0, 0};
    tt_ensemble_options opt = {.max_steps = STEPS, .seed = 11, .strata = strata};
    tt_ensemble_result r;
    char err[256];
    assert_int_equal(tt_ensemble_build(cands, M, N, COLS, squared_error_terms, &t, &opt, &r,
                                       err, sizeof err),
                     TT_OK);

    brute b = {cands, M, N, COLS, psi};
    unsigned char half[N];
    assert_int_equal(tt_ensemble_halves(N, strata, 11, half), TT_OK);
    double ens[N], single[N];
    for (int h = 0; h < 2; h++) {
        size_t count[M], len, first, one[M] = {0};
        brute_select(&b, half, h, STEPS, count, &len, &first);
        one[first] = 1;
        for (size_t i = 0; i < N; i++)
            if (half[i] != h) {
                ens[i] = brute_term(&b, count, len, i);
                single[i] = brute_term(&b, one, 1, i);
            }
    }
    double honest = 0, single_honest = 0, mean_d = 0, ss = 0;
    for (size_t i = 0; i < N; i++) {
        honest += ens[i] / N;
        single_honest += single[i] / N;
        mean_d += (ens[i] - single[i]) / N;
    }
    for (size_t i = 0; i < N; i++)
        ss += (ens[i] - single[i] - mean_d) * (ens[i] - single[i] - mean_d);
    assert_true(fabs(r.honest - honest) < 1e-12 * (1 + fabs(honest)));
    assert_true(fabs(r.single_honest - single_honest) < 1e-12 * (1 + fabs(single_honest)));
    assert_true(fabs(r.diff - (honest - single_honest)) < 1e-12);
    assert_true(fabs(r.diff_se - sqrt(ss / (N - 1)) / sqrt(N)) < 1e-12);
    assert_int_equal(r.wins, r.n_members >= 2 && honest < single_honest);

    /* The members and weights: the same selection on all rows. */
    size_t count[M], len, first;
    brute_select(&b, half, -1, STEPS, count, &len, &first);
    assert_int_equal(r.single_best, first);
    assert_int_equal(r.steps, len);
    size_t k = 0;
    for (size_t m = 0; m < M; m++) {
        if (!count[m])
            continue;
        assert_true(k < r.n_members);
        assert_int_equal(r.member[k], m);
        assert_true(r.weight[k] == (double)count[m] / (double)len);
        k++;
    }
    assert_int_equal(k, r.n_members);
    assert_true(fabs(r.score - brute_value(&b, count, len, half, -1)) < 1e-12);
    tt_ensemble_result_free(&r);
}

/* Halves: each stratum (and the whole) splits within one row; seeded. */
static void test_halves(void **state)
{
    (void)state;
    enum { N = 103 };
    int strata[N];
    for (size_t i = 0; i < N; i++)
        strata[i] = i % 7 == 0 ? 2 : i % 3 == 0 ? -1 : 0;
    unsigned char h1[N], h2[N], h3[N];
    assert_int_equal(tt_ensemble_halves(N, strata, 5, h1), TT_OK);
    assert_int_equal(tt_ensemble_halves(N, strata, 5, h2), TT_OK);
    assert_int_equal(tt_ensemble_halves(N, strata, 6, h3), TT_OK);
    assert_memory_equal(h1, h2, N);
    assert_true(memcmp(h1, h3, N) != 0);
    const int labels[] = {-1, 0, 2};
    long total = 0;
    for (size_t l = 0; l < 3; l++) {
        long d = 0;
        for (size_t i = 0; i < N; i++)
            if (strata[i] == labels[l])
                d += h1[i] ? 1 : -1;
        assert_true(labs(d) <= 1);
        total += d;
    }
    assert_true(labs(total) <= 1);
    assert_int_equal(tt_ensemble_halves(N, NULL, 5, h1), TT_OK);
    total = 0;
    for (size_t i = 0; i < N; i++)
        total += h1[i] ? 1 : -1;
    assert_true(labs(total) <= 1);
}

static void test_deterministic(void **state)
{
    (void)state;
    enum { N = 60, M = 6 };
    double psi[N], e[N], cand[M][N];
    draw(N, 8, psi, e);
    tt_rng rng;
    tt_rng_seed(&rng, 9, "cands");
    const double *cands[M];
    for (size_t m = 0; m < M; m++) {
        for (size_t i = 0; i < N; i++)
            cand[m][i] = psi[i] + tt_rng_normal(&rng);
        cands[m] = cand[m];
    }
    target t = {psi, N, 1, 0, 0};
    tt_ensemble_options opt = {.max_steps = 20, .seed = 3};
    tt_ensemble_result r1, r2;
    char err[256];
    assert_int_equal(tt_ensemble_build(cands, M, N, 1, squared_error_terms, &t, &opt, &r1, err,
                                       sizeof err),
                     TT_OK);
    assert_int_equal(tt_ensemble_build(cands, M, N, 1, squared_error_terms, &t, &opt, &r2, err,
                                       sizeof err),
                     TT_OK);
    assert_true(r1.n_members >= 2); /* independent errors: averaging helps */
    assert_int_equal(r1.n_members, r2.n_members);
    assert_memory_equal(r1.member, r2.member, sizeof *r1.member * r1.n_members);
    assert_memory_equal(r1.weight, r2.weight, sizeof *r1.weight * r1.n_members);
    assert_memory_equal(&r1.honest, &r2.honest, sizeof r1.honest);
    assert_memory_equal(&r1.diff_se, &r2.diff_se, sizeof r1.diff_se);
    double sum = 0;
    for (size_t k = 0; k < r1.n_members; k++) {
        assert_true(r1.weight[k] > 0);
        sum += r1.weight[k];
        if (k)
            assert_true(r1.member[k] > r1.member[k - 1]);
    }
    assert_true(fabs(sum - 1) < 1e-12);
    assert_true(r1.score <= r1.single_score);
    tt_ensemble_result_free(&r1);
    tt_ensemble_result_free(&r2);
    tt_ensemble_result_free(NULL);
}

/* A candidate whose metric is undefined is never chosen, nor is any mix
 * that includes it. */
static void test_undefined_candidate_skipped(void **state)
{
    (void)state;
    enum { N = 40 };
    double psi[N], e[N], a[N], b[N], bad[N];
    draw(N, 10, psi, e);
    for (size_t i = 0; i < N; i++) {
        a[i] = psi[i] + e[i];
        b[i] = psi[i] - e[i];
        bad[i] = i == 3 ? NAN : psi[i];
    }
    const double *cands[] = {bad, a, b};
    target t = {psi, N, 1, 0, 0};
    tt_ensemble_result r;
    char err[256];
    assert_int_equal(tt_ensemble_build(cands, 3, N, 1, squared_error_terms, &t, NULL, &r, err,
                                       sizeof err),
                     TT_OK);
    assert_int_equal(r.n_members, 2);
    assert_int_equal(r.member[0], 1);
    assert_int_equal(r.member[1], 2);
    assert_true(isfinite(r.honest) && r.wins);
    tt_ensemble_result_free(&r);
}

static void test_errors(void **state)
{
    (void)state;
    double psi[8] = {0}, a[8] = {0};
    const double *cands[] = {a};
    target t = {psi, 8, 1, 0, 0};
    tt_ensemble_result r;
    char err[256];
    memset(&r, 0xff, sizeof r);
    err[0] = '\0';
    assert_int_equal(tt_ensemble_build(cands, 1, 3, 1, squared_error_terms, &t, NULL, &r, err,
                                       sizeof err),
                     TT_ERR_INVALID);
    assert_non_null(strstr(err, "at least 4"));
    assert_null(r.member);
    assert_int_equal(tt_ensemble_build(cands, 0, 8, 1, squared_error_terms, &t, NULL, &r, err,
                                       sizeof err),
                     TT_ERR_INVALID);
    assert_non_null(strstr(err, "no candidates"));
    assert_int_equal(tt_ensemble_build(cands, 1, 8, 1, NULL, &t, NULL, &r, err, sizeof err),
                     TT_ERR_INVALID);
    const double *none[] = {NULL};
    assert_int_equal(tt_ensemble_build(none, 1, 8, 1, squared_error_terms, &t, NULL, &r, err,
                                       sizeof err),
                     TT_ERR_INVALID);
    assert_int_equal(tt_ensemble_build(cands, 1, 8, 1, never_defined, &t, NULL, &r, err,
                                       sizeof err),
                     TT_ERR_NUMERIC);
    assert_non_null(strstr(err, "undefined for every"));
    assert_null(r.member);
    assert_null(r.weight);
    assert_int_equal(r.n_members, 0);
    /* One candidate: itself, no win. */
    assert_int_equal(tt_ensemble_build(cands, 1, 8, 1, squared_error_terms, &t, NULL, &r, err,
                                       sizeof err),
                     TT_OK);
    assert_int_equal(r.n_members, 1);
    assert_false(r.wins);
    tt_ensemble_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opposite_errors_mix_half_half),
        cmocka_unit_test(test_perfect_candidate_stays_alone),
        cmocka_unit_test(test_honest_score_against_brute_force),
        cmocka_unit_test(test_halves),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_undefined_candidate_skipped),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
