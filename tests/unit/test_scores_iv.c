/* test_scores_iv.c - iv_dr_mse (rscore.h) on the iv generator: its terms
 * against the DRIV pseudo-outcome recomputed by hand from the context's IV
 * scoring nuisances, the truth ranked above the confounded contrast, the
 * design's known instrument propensity, and the refusals. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/gen.h"
#include "score/rscore.h"
#include "score/score_nuisance.h"
#include "score/score_terms.h"
#include "score/scores.h"
#include "test_iv_data.h"

enum { N = 3000 };

typedef struct fixture {
    tt_dataset *d;
    tt_plugin_data v;
    int *z;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->d = test_iv_data(N, 8);
    const tt_dataset *d = f->d;
    f->v = (tt_plugin_data){.struct_size = sizeof f->v, .n = d->n, .p_x = d->p_x,
                            .p_w = d->p_w, .x = d->x, .w = d->w, .t = d->t, .y = d->y,
                            .n_arms = 2};
    f->z = malloc(sizeof *f->z * N);
    for (size_t i = 0; i < N; i++)
        f->z[i] = d->z[i] == 1.0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tt_dataset_free(f->d);
    free(f->z);
    free(f);
    return 0;
}

static tt_score_context *context(const fixture *f, const double *zprop)
{
    tt_score_options o;
    tt_score_options_init(&o);
    o.seed = 4;
    o.fit_nuisances = 1;
    o.instrument = f->z;
    o.n_instrument = 2;
    o.instrument_propensity = zprop;
    tt_score_context *c = NULL;
    char err[256] = "";
    if (tt_score_context_build(&f->v, &f->v, &o, &c, err, sizeof err) != TT_OK)
        fail_msg("context: %s", err);
    return c;
}

/* The terms are (psi - tau_hat)^2 with psi recomputed here from the
 * nuisances; their mean is the score. */
static void test_terms_by_hand(void **state)
{
    fixture *f = *state;
    tt_score_context *c = context(f, NULL);
    const tt_score_nuisance *nu = tt_score_context_nuisance(c);
    assert_non_null(nu);
    assert_non_null(nu->r_hat);
    assert_non_null(nu->pz_hat);
    const size_t n = N;
    double num = 0, den = 0, mc = 0;
    for (size_t i = 0; i < n; i++) {
        double zt = f->z[i] - nu->r_hat[i];
        num += (f->d->y[i] - nu->m_hat[i]) * zt;
        den += (f->d->t[i] - nu->e_hat[n + i]) * zt;
        mc += nu->r_hat[i] * (1 - nu->r_hat[i]) * (nu->pz_hat[n + i] - nu->pz_hat[i]);
    }
    mc /= (double)n;
    const double th = num / den;
    double *tau = malloc(sizeof *tau * n), *terms = malloc(sizeof *terms * n);
    for (size_t i = 0; i < n; i++)
        tau[i] = 0.3 + 0.2 * f->d->x[i];
    assert_int_equal(tt_score_terms(c, "iv_dr_mse", tau, terms), 1);
    double mean = 0.0;
    size_t clipped = 0;
    for (size_t i = 0; i < n; i++) {
        double cov = nu->r_hat[i] * (1 - nu->r_hat[i]) * (nu->pz_hat[n + i] - nu->pz_hat[i]);
        if (fabs(cov) < 0.1 * fabs(mc)) {
            cov = (cov < 0 || (cov == 0 && mc < 0) ? -1 : 1) * 0.1 * fabs(mc);
            clipped++;
        }
        double psi = th + ((f->d->y[i] - nu->m_hat[i]) - th * (f->d->t[i] - nu->e_hat[n + i])) *
                              (f->z[i] - nu->r_hat[i]) / cov;
        assert_true(fabs(terms[i] - (psi - tau[i]) * (psi - tau[i])) <= 1e-9 * (1 + terms[i]));
        mean += terms[i] / (double)n;
    }
    assert_true(fabs(tt_iv_dr_mse(nu, f->d->t, f->d->y, tau) - mean) < 1e-9 * mean);
    /* The pseudo-outcomes' floor is rarely hit with this strong instrument. */
    assert_true(clipped < n / 20);
    free(tau);
    free(terms);
    tt_score_context_free(c);
}

/* The truth beats the confounded naive contrast and a shifted truth, by
 * more than two paired s.e.: the score measures the LATE, not the
 * association. */
static void test_ranks_truth_first(void **state)
{
    fixture *f = *state;
    tt_score_context *c = context(f, NULL);
    const tt_score_nuisance *nu = tt_score_context_nuisance(c);
    const size_t n = N;
    double s1 = 0, n1 = 0, s0 = 0, n0 = 0;
    for (size_t i = 0; i < n; i++) {
        if (f->d->t[i]) {
            s1 += f->d->y[i];
            n1++;
        } else {
            s0 += f->d->y[i];
            n0++;
        }
    }
    const double naive = s1 / n1 - s0 / n0;
    double *truth = malloc(sizeof *truth * n), *flat = malloc(sizeof *flat * n);
    double *shift = malloc(sizeof *shift * n);
    double *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n);
    for (size_t i = 0; i < n; i++) {
        truth[i] = f->d->tau[i];
        flat[i] = naive;
        shift[i] = f->d->tau[i] + 0.7;
    }
    assert_true(fabs(naive - 1.0) > 0.5); /* the confounding is real */
    const double *cands[] = {flat, shift};
    assert_int_equal(tt_score_terms(c, "iv_dr_mse", truth, a), 1);
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(tt_score_terms(c, "iv_dr_mse", cands[k], b), 1);
        double mean, se;
        tt_terms_paired(b, a, n, &mean, &se);
        assert_true(mean > 2.0 * se);
        assert_true(tt_iv_dr_mse(nu, f->d->t, f->d->y, cands[k]) >
                    tt_iv_dr_mse(nu, f->d->t, f->d->y, truth));
    }
    free(truth);
    free(flat);
    free(shift);
    free(a);
    free(b);
    tt_score_context_free(c);
}

/* data.z_propensity: the design's P(Z = 1) replaces the fitted one. */
static void test_known_instrument_propensity(void **state)
{
    fixture *f = *state;
    double *zp = malloc(sizeof *zp * 2 * N);
    for (size_t i = 0; i < N; i++) {
        zp[i] = 0.5;
        zp[N + i] = 0.5;
    }
    tt_score_context *c = context(f, zp);
    const tt_score_nuisance *nu = tt_score_context_nuisance(c);
    for (size_t i = 0; i < N; i++)
        assert_true(nu->r_hat[i] == 0.5);
    free(zp);
    tt_score_context_free(c);
}

/* Without an instrument the score is refused at config time and null in a
 * context that has none. */
static void test_refusals(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_not_equal(tt_score_check("iv_dr_mse", 2, 0, err, sizeof err), TT_OK);
    assert_int_not_equal(tt_score_check("iv_dr_mse", 3, 1, err, sizeof err), TT_OK);
    assert_int_equal(tt_score_check("iv_dr_mse", 2, 1, err, sizeof err), TT_OK);
    tt_score_options o;
    tt_score_options_init(&o);
    o.fit_nuisances = 1;
    tt_score_context *c = NULL;
    assert_int_equal(tt_score_context_build(&f->v, &f->v, &o, &c, err, sizeof err), TT_OK);
    double *tau = calloc(N, sizeof *tau), *terms = malloc(sizeof *terms * N);
    assert_int_equal(tt_score_terms(c, "iv_dr_mse", tau, terms), 0);
    assert_true(isnan(tt_iv_dr_mse(tt_score_context_nuisance(c), f->d->t, f->d->y, tau)));
    free(tau);
    free(terms);
    tt_score_context_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terms_by_hand),
        cmocka_unit_test(test_ranks_truth_first),
        cmocka_unit_test(test_known_instrument_propensity),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
