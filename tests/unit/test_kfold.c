/* test_kfold.c - K-fold cross-validated scoring (issue 15, item 2): the
 * folds themselves, a cross-validated trial against a brute-force loop over
 * the folds, and the scoring nuisances cross-fitted over the same folds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/split.h"
#include "data/synth.h"
#include "score/score_nuisance.h"
#include "score/scores.h"
#include "search/trial.h"

/* ---- an in-process estimator: the training rows' difference in means ------- */

typedef struct dim {
    double effect;
} dim;

static int dim_create(const tt_plugin_host *host, const double *params, int n_arms, void **out,
                      char *err, size_t errlen)
{
    (void)params, (void)n_arms, (void)err, (void)errlen;
    *out = host->alloc_zero(1, sizeof(dim));
    return 0;
}

static int dim_fit(void *inst, const tt_plugin_data *d, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    double s[2] = {0, 0}, c[2] = {0, 0};
    for (size_t i = 0; i < d->n; i++) {
        s[d->t[i]] += d->y[i];
        c[d->t[i]]++;
    }
    ((dim *)inst)->effect = s[1] / c[1] - s[0] / c[0];
    return 0;
}

static int dim_effect(void *inst, const tt_plugin_data *rows, double *out, char *err,
                      size_t errlen)
{
    (void)err, (void)errlen;
    for (size_t i = 0; i < rows->n; i++)
        out[i] = ((dim *)inst)->effect;
    return 0;
}

static void dim_destroy(void *inst)
{
    free(inst);
}

static const tt_plugin_descriptor dim_desc = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = "fold_dim",
    .version = "1",
    .create = dim_create,
    .fit = dim_fit,
    .effect = dim_effect,
    .destroy = dim_destroy,
};

static tt_plugin_data view(const tt_dataset *d)
{
    return (tt_plugin_data){.struct_size = sizeof(tt_plugin_data), .n = d->n, .p_x = d->p_x,
                            .p_w = d->p_w, .x = d->x, .w = d->w, .t = d->t, .y = d->y,
                            .n_arms = d->n_arms};
}

static tt_dataset *synthetic(size_t rows)
{
    char err[512];
    tt_synth_options opt;
    tt_synth_options_init(&opt);
    opt.rows = rows;
    tt_dataset *d = NULL;
    if (tt_synth_generate("synthetic", &opt, &d, err, sizeof err) != TT_OK)
        fail_msg("synth: %s", err);
    return d;
}

/* ---- the folds ---------------------------------------------------------------- */

static void test_folds_are_stratified_balanced_and_seeded(void **state)
{
    (void)state;
    tt_dataset *d = synthetic(803);
    int *a = malloc(d->n * sizeof *a), *b = malloc(d->n * sizeof *b), *c = malloc(d->n * sizeof *c);
    char err[256];
    assert_int_equal(tt_split_folds(d->t, d->n, 2, NULL, 5, 42, a, err, sizeof err), TT_OK);
    assert_int_equal(tt_split_folds(d->t, d->n, 2, NULL, 5, 42, b, err, sizeof err), TT_OK);
    assert_int_equal(tt_split_folds(d->t, d->n, 2, NULL, 5, 43, c, err, sizeof err), TT_OK);
    size_t size[5] = {0}, per_arm[2][5] = {{0}}, arm[2] = {0}, moved = 0;
    for (size_t i = 0; i < d->n; i++) {
        assert_true(a[i] >= 0 && a[i] < 5);
        assert_int_equal(a[i], b[i]); /* the same seed, the same folds */
        moved += a[i] != c[i];
        size[a[i]]++;
        per_arm[d->t[i]][a[i]]++;
        arm[d->t[i]]++;
    }
    assert_true(moved > d->n / 2); /* another seed, other folds */
    for (int k = 0; k < 5; k++) {
        /* Sizes differ by at most one; every arm keeps its share in every fold. */
        assert_true(size[k] == d->n / 5 || size[k] == d->n / 5 + 1);
        for (int t = 0; t < 2; t++)
            assert_true(per_arm[t][k] >= arm[t] / 5 && per_arm[t][k] <= arm[t] / 5 + 1);
    }
    /* An arm too small for the folds is named. */
    int t_small[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    int f_small[12];
    const char *labels[] = {"control", "promo"};
    assert_int_equal(tt_split_folds(t_small, 12, 2, labels, 2, 1, f_small, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "promo"));
    free(a);
    free(b);
    free(c);
    tt_dataset_free(d);
}

/* ---- a cross-validated trial against a brute-force loop --------------------- */

typedef struct kfold_fixture {
    tt_dataset *data, *all, *train[5], *valid[5];
    size_t first[5];
    int fold[2000];
    tt_score_context *scores;
    tt_trial_fold folds[5];
    tt_trial_problem problem;
} kfold_fixture;

static int setup_kfold(void **state)
{
    kfold_fixture *f = calloc(1, sizeof *f);
    char err[512];
    f->data = synthetic(600);
    size_t n = f->data->n;
    int fold_of[600];
    if (tt_split_folds(f->data->t, n, 2, NULL, 5, 7, fold_of, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    /* Scoring rows in fold-major order, as the run holds them. */
    size_t order[600], m = 0, rows[600];
    for (int k = 0; k < 5; k++) {
        f->first[k] = m;
        for (size_t i = 0; i < n; i++)
            if (fold_of[i] == k) {
                f->fold[m] = k;
                order[m++] = i;
            }
    }
    assert_int_equal(tt_dataset_subset(f->data, order, n, &f->all, err, sizeof err), TT_OK);
    for (int k = 0; k < 5; k++) {
        size_t mt = 0, mv = 0, vr[600];
        for (size_t i = 0; i < n; i++) {
            if (fold_of[i] == k)
                vr[mv++] = i;
            else
                rows[mt++] = i;
        }
        assert_int_equal(tt_dataset_subset(f->data, rows, mt, &f->train[k], err, sizeof err),
                         TT_OK);
        assert_int_equal(tt_dataset_subset(f->data, vr, mv, &f->valid[k], err, sizeof err),
                         TT_OK);
        f->folds[k] = (tt_trial_fold){.train = view(f->train[k]), .valid = view(f->valid[k]),
                                      .first = f->first[k]};
    }
    tt_score_options so;
    tt_score_options_init(&so);
    so.seed = 3;
    so.row_fold = f->fold;
    so.row_folds = 5;
    tt_plugin_data all = view(f->all);
    if (tt_score_context_build(NULL, &all, &so, &f->scores, err, sizeof err) != TT_OK)
        fail_msg("scores: %s", err);
    f->problem = (tt_trial_problem){.valid = all, .valid_tau = f->all->tau, .scores = f->scores,
                                    .n_arms = 2, .metric = "dr_mse", .n_folds = 5,
                                    .folds = f->folds};
    *state = f;
    return 0;
}

static int teardown_kfold(void **state)
{
    kfold_fixture *f = *state;
    tt_score_context_free(f->scores);
    tt_dataset_free(f->data);
    tt_dataset_free(f->all);
    for (int k = 0; k < 5; k++) {
        tt_dataset_free(f->train[k]);
        tt_dataset_free(f->valid[k]);
    }
    free(f);
    return 0;
}

static void test_cv_trial_matches_brute_force(void **state)
{
    kfold_fixture *f = *state;
    size_t n = f->all->n;
    tt_trial_result r;
    memset(&r, 0, sizeof r);
    tt_trial_evaluate(&f->problem, &dim_desc, NULL, 1, 0, NULL, &r);
    assert_int_equal(r.status, TT_TRIAL_OK);
    assert_non_null(r.effects);
    assert_int_equal(r.n_effects, n);

    /* Brute force: per fold, the difference in means of the other folds'
     * rows, written on the fold's own rows. */
    double *tau = malloc(n * sizeof *tau);
    for (int k = 0; k < 5; k++) {
        double s[2] = {0, 0}, c[2] = {0, 0};
        for (size_t i = 0; i < n; i++)
            if (f->fold[i] != k) {
                s[f->all->t[i]] += f->all->y[i];
                c[f->all->t[i]]++;
            }
        for (size_t i = 0; i < n; i++)
            if (f->fold[i] == k)
                tau[i] = s[1] / c[1] - s[0] / c[0];
    }
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(r.effects[i] - tau[i]) <= 1e-12 * fmax(1.0, fabs(tau[i])));

    /* The objective: dr_mse of those effects on every row, with the
     * cross-fitted scoring nuisances, computed by hand. */
    const tt_score_nuisance *nu = tt_score_context_nuisance(f->scores);
    assert_non_null(nu);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int t = f->all->t[i];
        double y = f->all->y[i], m0 = nu->mu_hat[i], m1 = nu->mu_hat[n + i];
        double e1 = fmin(fmax(nu->e_hat[n + i], 0.05), 0.95), e0 = 1 - e1;
        double psi = m1 - m0 + (t == 1 ? (y - m1) / e1 : 0) - (t == 0 ? (y - m0) / e0 : 0);
        sum += (psi - tau[i]) * (psi - tau[i]);
    }
    double by_hand = sum / (double)n;
    assert_true(fabs(r.objective - by_hand) <= 1e-9 * by_hand);
    /* And it is the scores' own value on the brute-force effects. */
    tt_score_value v[4];
    size_t nv;
    char err[256];
    const char *names[] = {"dr_mse"};
    assert_int_equal(tt_scores_compute(f->scores, tau, NULL, NULL, names, 1, v, 4, &nv, err,
                                       sizeof err), TT_OK);
    assert_true(fabs(v[0].value - r.objective) <= 1e-12 * by_hand);
    free(tau);
    tt_trial_result_clear(&r);
}

/* The scoring nuisances use the candidates' folds, and a row's nuisances
 * never saw it: changing the outcomes of fold 0's rows leaves fold 0's
 * m_hat and mu_hat as they were (and changes other folds'). */
static void test_scoring_nuisances_are_cross_fitted_over_the_folds(void **state)
{
    kfold_fixture *f = *state;
    size_t n = f->all->n;
    const tt_score_nuisance *nu = tt_score_context_nuisance(f->scores);
    assert_non_null(nu);
    assert_int_equal(nu->folds, 5);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(nu->fold[i], f->fold[i]);
    /* The context's propensity is the nuisances' out-of-fold one. */
    const double *prop = tt_score_context_propensity(f->scores);
    for (size_t i = 0; i < 2 * n; i++)
        assert_true(prop[i] == nu->e_hat[i]);

    double *y = malloc(n * sizeof *y);
    memcpy(y, f->all->y, n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        if (f->fold[i] == 0)
            y[i] += 5.0 * sin((double)i);
    tt_plugin_data changed = view(f->all);
    changed.y = y;
    tt_score_nuisance a, b;
    char err[256];
    assert_int_equal(tt_score_nuisance_fit_folds(&changed, f->fold, 5, 9, 1.0, 1.0, 1, &a, err,
                                                 sizeof err), TT_OK);
    tt_plugin_data same = view(f->all);
    assert_int_equal(tt_score_nuisance_fit_folds(&same, f->fold, 5, 9, 1.0, 1.0, 1, &b, err,
                                                 sizeof err), TT_OK);
    size_t other_moved = 0;
    for (size_t i = 0; i < n; i++) {
        if (f->fold[i] == 0) {
            if (a.m_model == b.m_model)
                assert_true(a.m_hat[i] == b.m_hat[i]);
            for (int k = 0; k < 2; k++)
                if (a.mu_model[k] == b.mu_model[k])
                    assert_true(a.mu_hat[(size_t)k * n + i] == b.mu_hat[(size_t)k * n + i]);
        } else {
            other_moved += a.m_hat[i] != b.m_hat[i];
        }
    }
    assert_true(other_moved > 0);
    tt_score_nuisance_free(&a);
    tt_score_nuisance_free(&b);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_are_stratified_balanced_and_seeded),
        cmocka_unit_test_setup_teardown(test_cv_trial_matches_brute_force, setup_kfold,
                                        teardown_kfold),
        cmocka_unit_test_setup_teardown(test_scoring_nuisances_are_cross_fitted_over_the_folds,
                                        setup_kfold, teardown_kfold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
