/* test_rank.c - the uncertainty of the ranking: the objective's standard
 * error from per-row terms (checked against a by-hand computation from the
 * score nuisances), paired differences (against brute force), tie marking,
 * the one_se rule, the protocol round trip of the new fields and resume with
 * and without objective_se. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lua/config.h"
#include "report/results.h"
#include "report/trials_read.h"
#include "score/rscore.h"
#include "score/score_nuisance.h"
#include "score/score_terms.h"
#include "score/scores.h"
#include "search/protocol.h"
#include "search/rank.h"
#include "search/search.h"
#include "search/select.h"
#include "util/rng.h"

/* Confounded binary or K-arm data: e = logistic(0.6 x1), tau = 1 + x2,
 * y = x1 + tau_T + N(0, 1). */
typedef struct sim {
    size_t n;
    double *x, *y;
    int *t;
    tt_plugin_data v;
} sim;

static sim simulate(size_t n, int K, uint64_t seed)
{
    sim s = {n, malloc(2 * n * sizeof(double)), malloc(n * sizeof(double)),
             malloc(n * sizeof(int)), {0}};
    tt_rng r;
    tt_rng_seed(&r, seed, "rank");
    for (size_t i = 0; i < 2 * n; i++)
        s.x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        const double e = 1.0 / (1.0 + exp(-0.6 * s.x[i]));
        s.t[i] = K == 2 ? tt_rng_uniform(&r) < e : (int)tt_rng_below(&r, (uint64_t)K);
        s.y[i] = s.x[i] + tt_rng_normal(&r) + s.t[i] * (1.0 + s.x[n + i]);
    }
    s.v = (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = n, .p_x = 2,
                           .x = s.x, .t = s.t, .y = s.y, .n_arms = K};
    return s;
}

static void drop(sim *s)
{
    free(s->x), free(s->y), free(s->t);
}

static double clipped(double e, double c)
{
    return fmin(fmax(e, c), 1.0 - c);
}

/* mean and sd / sqrt(n) of v, the textbook way, in long double. */
static void by_hand(const double *v, size_t n, double *mean, double *se)
{
    long double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        m += v[i];
    m /= n;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = (double)m;
    *se = (double)sqrtl(ss / (n - 1) / n);
}

static void assert_close(double a, double b, double rel)
{
    if (!(fabs(a - b) <= rel * fmax(1.0, fabs(b))))
        fail_msg("%.17g != %.17g", a, b);
}

static int refuse_id4(void *ctx, const tt_trial_result *r)
{
    (void)ctx;
    return r->id != 4;
}

static int refuse_all(void *ctx, const tt_trial_result *r)
{
    (void)ctx;
    (void)r;
    return 0;
}

static void test_dr_mse_and_r_score_se_by_hand(void **state)
{
    (void)state;
    const double clip = 0.05;
    sim s = simulate(600, 2, 7);
    const size_t n = s.n;
    tt_score_nuisance nu;
    char err[256] = "";
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 42, 1.0, 1.0, 0, &nu, err, sizeof err), TT_OK);
    double *tau = malloc(n * sizeof *tau), *terms = malloc(n * sizeof *terms);
    double *hand = malloc(n * sizeof *hand);
    for (size_t i = 0; i < n; i++)
        tau[i] = 0.5 + 0.7 * s.x[n + i];

    /* dr_mse: Gamma from the nuisances, squared error per row. */
    for (size_t i = 0; i < n; i++) {
        const double mu0 = nu.mu_hat[i], mu1 = nu.mu_hat[n + i];
        double g = mu1 - mu0;
        if (s.t[i] == 1)
            g += (s.y[i] - mu1) / clipped(nu.e_hat[n + i], clip);
        else
            g -= (s.y[i] - mu0) / clipped(nu.e_hat[i], clip);
        hand[i] = (g - tau[i]) * (g - tau[i]);
    }
    double mean, se;
    by_hand(hand, n, &mean, &se);
    assert_int_equal(tt_dr_mse_terms(&nu, s.t, s.y, tau, clip, terms), 1);
    assert_close(mean, tt_dr_mse(&nu, s.t, s.y, tau, clip), 1e-12);
    assert_close(tt_terms_se(terms, n), se, 1e-10);
    assert_true(se > 0.0);

    /* r_score: 1 - A/B; delta method psi_i = -(a_i - (A/B) b_i) / B with
     * tau_bar the least squares slope of Y~ on T~. */
    double stt = 0, sty = 0;
    for (size_t i = 0; i < n; i++) {
        const double tr = s.t[i] - nu.e_hat[n + i], yr = s.y[i] - nu.m_hat[i];
        stt += tr * tr;
        sty += tr * yr;
    }
    const double bar = sty / stt;
    double A = 0, B = 0;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        const double tr = s.t[i] - nu.e_hat[n + i], yr = s.y[i] - nu.m_hat[i];
        a[i] = (yr - tau[i] * tr) * (yr - tau[i] * tr);
        b[i] = (yr - bar * tr) * (yr - bar * tr);
        A += a[i] / n;
        B += b[i] / n;
    }
    for (size_t i = 0; i < n; i++)
        hand[i] = -(a[i] - (A / B) * b[i]) / B;
    double psi_mean, psi_se;
    by_hand(hand, n, &psi_mean, &psi_se);
    assert_close(psi_mean, 0.0, 1e-12);
    assert_int_equal(tt_r_score_terms(&nu, s.t, s.y, tau, terms), 1);
    by_hand(terms, n, &mean, &se);
    assert_close(mean, tt_r_score(&nu, s.t, s.y, tau), 1e-12);
    assert_close(mean, 1.0 - A / B, 1e-12);
    assert_close(se, psi_se, 1e-10);
    assert_close(tt_terms_se(terms, n), psi_se, 1e-10);
    free(a), free(b);

    tt_score_nuisance_free(&nu);
    free(tau), free(terms), free(hand);
    drop(&s);

    /* Three arms: the terms still average to dr_mse (arm-size weights). */
    s = simulate(600, 3, 8);
    assert_int_equal(tt_score_nuisance_fit(&s.v, 5, 42, 1.0, 1.0, 0, &nu, err, sizeof err), TT_OK);
    tau = malloc(2 * s.n * sizeof *tau);
    terms = malloc(s.n * sizeof *terms);
    for (size_t i = 0; i < 2 * s.n; i++)
        tau[i] = (double)(i / s.n + 1) * 0.8;
    assert_int_equal(tt_dr_mse_terms(&nu, s.t, s.y, tau, clip, terms), 1);
    by_hand(terms, s.n, &mean, &se);
    assert_close(mean, tt_dr_mse(&nu, s.t, s.y, tau, clip), 1e-12);
    tt_score_nuisance_free(&nu);
    free(tau), free(terms);
    drop(&s);

    assert_null(tt_score_terms_missing(NULL, "dr_mse"));
    assert_null(tt_score_terms_missing(NULL, "r_score"));
    assert_null(tt_score_terms_missing(NULL, "erupt"));
    assert_non_null(strstr(tt_score_terms_missing(NULL, "psw_energy"), "energy"));
    assert_non_null(tt_score_terms_missing(NULL, "qini"));
}

/* The policy scores: the terms average to the score, and erupt's s.e. is
 * the delta method's by hand (w_i = pi_i(t_i) / e_{t_i}, R = sum w y / sum w,
 * psi_i = w_i (y_i - R) / mean(w)). Three arms, costs, known propensities. */
static void test_policy_terms_by_hand(void **state)
{
    (void)state;
    sim s = simulate(500, 3, 12);
    const size_t n = s.n;
    double *prop = malloc(3 * n * sizeof *prop), *tau = malloc(2 * n * sizeof *tau);
    for (size_t i = 0; i < n; i++) {
        prop[i] = 0.5, prop[n + i] = 0.3, prop[2 * n + i] = 0.2;
        tau[i] = s.x[n + i];
        tau[n + i] = 0.5 - s.x[i];
    }
    const double cost[] = {0, 0.2, 0.4};
    tt_score_options o;
    tt_score_options_init(&o);
    o.known_propensity = prop;
    o.cost = cost;
    o.fit_nuisances = 0;
    tt_score_context *ctx = NULL;
    char err[256] = "";
    assert_int_equal(tt_score_context_build(NULL, &s.v, &o, &ctx, err, sizeof err), TT_OK);
    const char *names[] = {"erupt", "erupt_net", "policy_value", "policy_gain",
                           "policy_gain_best"};
    tt_score_value v[5];
    size_t nv = 0;
    assert_int_equal(tt_scores_compute(ctx, tau, NULL, NULL, names, 5, v, 5, &nv, err, sizeof err),
                     TT_OK);
    double *terms = malloc(n * sizeof *terms), mean, se;
    for (size_t j = 0; j < 5; j++) {
        assert_null(tt_score_terms_missing(ctx, names[j]));
        assert_int_equal(tt_score_terms(ctx, names[j], tau, terms), 1);
        by_hand(terms, n, &mean, &se);
        assert_false(v[j].is_null);
        assert_close(mean, v[j].value, 1e-10);
        assert_true(se > 0.0);
    }
    /* erupt by hand: the greedy arm argmax(0, tau_1 - 0.2, tau_2 - 0.4). */
    double num = 0, den = 0, *w = malloc(n * sizeof *w), *psi = malloc(n * sizeof *psi);
    for (size_t i = 0; i < n; i++) {
        int arm = 0;
        double best = 0;
        for (int k = 1; k < 3; k++)
            if (tau[(size_t)(k - 1) * n + i] - cost[k] > best)
                best = tau[(size_t)(k - 1) * n + i] - cost[k], arm = k;
        w[i] = s.t[i] == arm ? 1.0 / prop[(size_t)arm * n + i] : 0.0;
        num += w[i] * s.y[i];
        den += w[i];
    }
    for (size_t i = 0; i < n; i++)
        psi[i] = w[i] * (s.y[i] - num / den) / (den / n);
    double psi_mean, psi_se;
    by_hand(psi, n, &psi_mean, &psi_se);
    assert_int_equal(tt_score_terms(ctx, "erupt", tau, terms), 1);
    assert_close(tt_terms_se(terms, n), psi_se, 1e-10);
    assert_close(v[0].value, num / den, 1e-12);
    tt_score_context_free(ctx);

    /* Thompson erupt: no terms, with a reason. */
    o.erupt_policy = TT_ERUPT_THOMPSON;
    assert_int_equal(tt_score_context_build(NULL, &s.v, &o, &ctx, err, sizeof err), TT_OK);
    assert_non_null(strstr(tt_score_terms_missing(ctx, "erupt"), "Thompson"));
    assert_int_equal(tt_score_terms(ctx, "erupt", tau, terms), 0);
    assert_null(tt_score_terms_missing(ctx, "policy_value")); /* always greedy */
    tt_score_context_free(ctx);
    free(prop), free(tau), free(terms), free(w), free(psi);
    drop(&s);
}

static void test_paired_difference_brute_force(void **state)
{
    (void)state;
    enum { N = 1000 };
    double a[N], b[N], d[N];
    tt_rng r;
    tt_rng_seed(&r, 3, "paired");
    for (size_t i = 0; i < N; i++) {
        a[i] = 5.0 + 3.0 * tt_rng_normal(&r);      /* large row-to-row spread */
        b[i] = a[i] + 0.01 + 0.05 * tt_rng_normal(&r); /* shared, small difference */
        d[i] = b[i] - a[i];
    }
    double diff, se, want_diff, want_se, se_a, mean_a;
    tt_terms_paired(b, a, N, &diff, &se);
    by_hand(d, N, &want_diff, &want_se);
    assert_close(diff, want_diff, 1e-12);
    assert_close(se, want_se, 1e-10);
    by_hand(a, N, &mean_a, &se_a);
    assert_true(se < se_a / 20); /* shared rows: the paired s.e. is far smaller */
    assert_close(tt_terms_se(a, N), se_a, 1e-10);
    assert_true(isnan(tt_terms_se(a, 1)));
}

/* ---- constructed outcomes -------------------------------------------------- */

static const tt_plugin_param two[] = {
    {.name = "p1", .kind = TT_PARAM_REAL, .lo = 0, .hi = 1},
    {.name = "p2", .kind = TT_PARAM_REAL, .lo = 0, .hi = 1},
};
static const tt_plugin_descriptor d_dim = {TT_PLUGIN_DESCRIPTOR_HEADER, .name = "diff_in_means"};
static const tt_plugin_descriptor d_t = {TT_PLUGIN_DESCRIPTOR_HEADER, .name = "t_learner",
                                         .params = two, .n_params = 1};
static const tt_plugin_descriptor d_x = {TT_PLUGIN_DESCRIPTOR_HEADER, .name = "x_learner",
                                         .params = two, .n_params = 2};
static const tt_plugin_descriptor d_s = {TT_PLUGIN_DESCRIPTOR_HEADER, .name = "s_learner",
                                         .params = two, .n_params = 1};

enum { ROWS = 400 };

/* A trial whose terms are base + shift + noise * N(0, 1); objective = their mean. */
static void make(tt_trial_result *r, size_t id, const tt_plugin_descriptor *desc,
                 const double *base, double shift, double noise, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->desc = desc;
    r->point = calloc(desc->n_params + 1, sizeof *r->point);
    r->status = TT_TRIAL_OK;
    r->terms = malloc(ROWS * sizeof *r->terms);
    r->n_terms = ROWS;
    tt_rng g;
    tt_rng_seed(&g, seed, "trial");
    double m = 0;
    for (size_t i = 0; i < ROWS; i++) {
        r->terms[i] = base[i] + shift + noise * tt_rng_normal(&g);
        m += r->terms[i];
    }
    r->objective = m / ROWS;
    r->objective_se = tt_terms_se(r->terms, ROWS);
}

static void test_ties_and_one_se(void **state)
{
    (void)state;
    double base[ROWS];
    tt_rng g;
    tt_rng_seed(&g, 11, "base");
    for (size_t i = 0; i < ROWS; i++)
        base[i] = 10.0 + 4.0 * tt_rng_normal(&g);
    tt_search_outcome out = {0};
    out.n_trials = 6;
    out.trials = calloc(out.n_trials, sizeof *out.trials);
    make(&out.trials[0], 1, &d_x, base, 0.0, 0.01, 1);  /* the best */
    make(&out.trials[1], 2, &d_t, base, 0.002, 0.2, 2); /* tied: tiny shift, noisy */
    make(&out.trials[2], 3, &d_dim, base, 0.5, 0.01, 3); /* clearly worse: not tied */
    make(&out.trials[3], 4, &d_s, base, 0.001, 0.2, 4);  /* tied, as simple as t_learner */
    make(&out.trials[4], 5, &d_t, base, 0.0, 0.0, 5);    /* the best's twin: no noise */
    make(&out.trials[5], 6, &d_dim, base, 0.0, 0.0, 6);
    out.trials[5].status = TT_TRIAL_FAILED;              /* a failure is never tied */
    /* The best by objective: the lowest mean among ok trials. */
    long best = 0;
    for (size_t i = 0; i < 5; i++)
        if (out.trials[i].objective < out.trials[best].objective)
            best = (long)i;
    out.best = out.best_by_objective = best;
    int at_least = 1;
    size_t tied = tt_rank_ties(out.trials, out.n_trials, best, &at_least);
    assert_false(at_least);
    size_t want = 0;
    for (size_t i = 0; i < out.n_trials; i++) {
        tt_trial_result *r = &out.trials[i];
        if (r->status != TT_TRIAL_OK) {
            assert_false(r->has_diff);
            assert_false(r->tied_with_best);
            continue;
        }
        double d, se;
        tt_terms_paired(r->terms, out.trials[best].terms, ROWS, &d, &se);
        assert_true(r->has_diff);
        assert_close(r->diff_to_best, d, 1e-9);
        if ((long)i != best)
            assert_close(r->diff_se, se, 1e-12);
        const int t = fabs(d) <= 2.0 * se && fabs(d) <= 2.0 * out.trials[best].objective_se;
        assert_int_equal(r->tied_with_best, t);
        want += (size_t)t;
    }
    assert_int_equal(tied, want);
    assert_true(out.trials[best].tied_with_best);
    assert_false(out.trials[2].tied_with_best);
    assert_true(out.trials[1].tied_with_best && out.trials[3].tied_with_best);
    assert_true(out.trials[4].tied_with_best); /* diff 0 within s.e. 0 (<=) */

    /* Heavy tails: a trial far off on three rows has a paired s.e. so large
     * that its difference is "within 2 s.e."; the bound by the best's own
     * s.e. keeps it out. */
    {
        tt_search_outcome h = {0};
        h.n_trials = 2;
        h.trials = calloc(2, sizeof *h.trials);
        make(&h.trials[0], 1, &d_x, base, 0.0, 0.0, 1);
        make(&h.trials[1], 2, &d_dim, base, 0.0, 0.0, 2);
        double m = 0;
        for (size_t i = 0; i < 3; i++)
            h.trials[1].terms[i] += 1e5 * (i == 0 ? 1.0 : -0.4); /* a net +2e4 */
        for (size_t i = 0; i < ROWS; i++)
            m += h.trials[1].terms[i];
        h.trials[1].objective = m / ROWS;
        assert_int_equal(tt_rank_ties(h.trials, 2, 0, NULL), 1);
        assert_true(fabs(h.trials[1].diff_to_best) <= 2.0 * h.trials[1].diff_se);
        assert_false(h.trials[1].tied_with_best);
        tt_search_outcome_free(&h);
    }

    /* "best" keeps the best; "one_se" takes the fewest active parameters
     * (1: t_learner and s_learner), then the simplicity order (s_learner
     * before t_learner), then the id. */
    tt_search_select(&out, TT_SELECT_BEST, NULL, NULL);
    assert_int_equal(out.best, best);
    assert_string_equal(out.rule, "best");
    tt_search_select(&out, TT_SELECT_ONE_SE, NULL, NULL);
    assert_string_equal(out.rule, "one_se");
    assert_int_equal(out.trials[out.best].id, 4);
    assert_int_equal(out.best_by_objective, best);
    assert_int_equal(out.picks[TT_SELECT_ONE_SE], out.best);
    assert_int_equal(out.picks[TT_SELECT_BEST], best);
    /* A pick whose refit does not fit the time left is passed over: the
     * next simplest tied trial, and with none affordable the best. */
    tt_search_select(&out, TT_SELECT_ONE_SE, refuse_id4, NULL);
    assert_int_not_equal(out.trials[out.best].id, 4);
    assert_true(out.trials[out.best].tied_with_best);
    tt_search_select(&out, TT_SELECT_ONE_SE, refuse_all, NULL);
    assert_int_equal(out.best, best);
    assert_true(tt_select_simplicity("diff_in_means") < tt_select_simplicity("x_learner"));
    assert_int_equal(tt_select_simplicity("my_plugin"), tt_select_simplicity("other_plugin"));

    /* results.json: the fields per trial, best.rule, best.tied. */
    cJSON *o = tt_trial_to_json(&out.trials[1]);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "objective_se")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "diff_se")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "tied_with_best")));
    cJSON_Delete(o);
    o = tt_trial_to_json(&out.trials[5]);
    assert_null(cJSON_GetObjectItem(o, "diff_to_best"));
    cJSON_Delete(o);

    /* Keeping terms: only the best 3 by objective hold them afterwards. */
    tt_rank_keep_terms(out.trials, out.n_trials, 0, 3);
    size_t held = 0;
    for (size_t i = 0; i < out.n_trials; i++)
        held += out.trials[i].terms != NULL;
    assert_int_equal(held, 3);
    assert_null(out.trials[2].terms); /* the worst ok trial went first */
    /* All kept trials tied and some dropped: the count is a lower bound. */
    tied = tt_rank_ties(out.trials, out.n_trials, best, &at_least);
    assert_int_equal(tied, 3);
    assert_true(at_least);
    assert_true(tt_rank_keep(19200) >= TT_RANK_KEEP_MIN && tt_rank_keep(19200) < 300);
    assert_int_equal(tt_rank_keep(10), TT_RANK_KEEP_MAX);
    /* Large validation sets: the minimum gives way to the 48 MB bound, down
     * to a floor (a million-row run's 300,000 rows x 2 arms: 10 trials). */
    assert_int_equal(tt_rank_keep(19200 * 3), 72);
    assert_int_equal(tt_rank_keep(300000 * 2), 10);
    assert_int_equal(tt_rank_keep(2000000 * 2), TT_RANK_KEEP_FLOOR);
    assert_int_equal(tt_rank_keep(100000), TT_RANK_KEEP_MIN); /* 800 KB: 50 fit in 48 MB */
    tt_search_outcome_free(&out);
}

static void test_protocol_round_trip_terms(void **state)
{
    (void)state;
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    r.status = TT_TRIAL_OK;
    r.objective = 2.0;
    r.objective_se = 0.125;
    double terms[3] = {1.5, 2.0, 2.5};
    r.terms = terms;
    r.n_terms = 3;
    tt_msg m = {0};
    assert_int_equal(tt_result_encode(&r, &m), TT_OK);
    tt_trial_result back;
    memset(&back, 0, sizeof back);
    assert_int_equal(tt_result_decode(m.data, m.len, &back), TT_OK);
    assert_true(back.objective_se == 0.125);
    assert_int_equal(back.n_terms, 3);
    assert_memory_equal(back.terms, terms, sizeof terms);
    tt_trial_result_clear(&back);
    for (size_t cut = 0; cut < m.len; cut++) {
        assert_int_equal(tt_result_decode(m.data, cut, &back), TT_ERR_PARSE);
        assert_null(back.terms);
    }
    tt_msg_free(&m);
    /* Without terms (a metric without them, a failed trial). */
    r.terms = NULL;
    r.n_terms = 0;
    r.objective_se = NAN;
    assert_int_equal(tt_result_encode(&r, &m), TT_OK);
    assert_int_equal(tt_result_decode(m.data, m.len, &back), TT_OK);
    assert_null(back.terms);
    assert_int_equal(back.n_terms, 0);
    assert_true(isnan(back.objective_se));
    tt_trial_result_clear(&back);
    tt_msg_free(&m);
}

static void test_resume_with_and_without_se(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_rank_XXXXXX", path[256], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    FILE *fp = fopen(path, "w");
    /* A line written before objective_se existed, one with it, one null. */
    fputs("{\"id\":1,\"estimator\":\"diff_in_means\",\"status\":\"ok\",\"params\":{},"
          "\"objective\":3.5}\n"
          "{\"id\":2,\"estimator\":\"diff_in_means\",\"status\":\"ok\",\"params\":{},"
          "\"objective\":3.25,\"objective_se\":0.5}\n"
          "{\"id\":3,\"estimator\":\"diff_in_means\",\"status\":\"ok\",\"params\":{},"
          "\"objective\":3.0,\"objective_se\":null,"
          "\"null_reasons\":{\"objective_se\":\"no standard error for energy scores\"}}\n",
          fp);
    fclose(fp);
    tt_config *cfg = NULL;
    assert_int_equal(tt_config_load_string("return { data = { generator = 'synthetic' },"
                                           " estimators = { diff_in_means = {} },"
                                           " search = { selection = 'one_se' } }",
                                           "t.lua", NULL, &cfg, err, sizeof err), TT_OK);
    assert_int_equal(cfg->selection, 1);
    const tt_plugin_descriptor *descs[] = {&d_dim};
    tt_trial_result *back;
    size_t n;
    tt_trials_tail tail;
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_true(isnan(back[0].objective_se));
    assert_true(back[1].objective_se == 0.5);
    assert_true(isnan(back[2].objective_se));
    for (size_t i = 0; i < n; i++) {
        assert_null(back[i].terms); /* never stored: no paired difference on resume */
        tt_trial_result_clear(&back[i]);
    }
    free(back);
    tt_config_free(cfg);
    /* An unknown rule is a config error. */
    assert_int_not_equal(tt_config_load_string("return { data = { generator = 'synthetic' },"
                                               " estimators = { diff_in_means = {} },"
                                               " search = { selection = 'cheapest' } }",
                                               "t.lua", NULL, &cfg, err, sizeof err), TT_OK);
    assert_non_null(strstr(err, "search.selection"));
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dr_mse_and_r_score_se_by_hand),
        cmocka_unit_test(test_policy_terms_by_hand),
        cmocka_unit_test(test_paired_difference_brute_force),
        cmocka_unit_test(test_ties_and_one_se),
        cmocka_unit_test(test_protocol_round_trip_terms),
        cmocka_unit_test(test_resume_with_and_without_se),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
