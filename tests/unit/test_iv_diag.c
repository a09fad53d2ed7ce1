/* test_iv_diag.c - the IV diagnostics (score/iv_diag.h) on the iv
 * generator: first stage and Wald against by-hand formulas, deciles of the
 * true compliance, and the weak, thin and one-valued caveats. (The published
 * Card first-stage F and Angrist-Krueger Wald are checked in
 * test_kit_tsls.c, beside the 2SLS kit.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/gen.h"
#include "score/iv_diag.h"
#include "util/rng.h"
#include "test_iv_data.h"

enum { N = 5000 };

static void test_iv_generator(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(N, 3);
    double *t = malloc(N * sizeof *t), *c = malloc(N * sizeof *c);
    int *z = malloc(N * sizeof *z);
    for (size_t i = 0; i < N; i++) {
        t[i] = d->t[i];
        z[i] = d->z[i] == 1.0;
        c[i] = test_iv_true_pz(d, i, 1) - test_iv_true_pz(d, i, 0);
    }
    tt_iv_diag dg;
    char err[256];
    assert_int_equal(tt_iv_diag_compute(N, d->y, t, z, 0, NULL, N, d->t, z, c, &dg, err,
                                        sizeof err), TT_OK);
    /* By hand: the differences in means and their ratio. */
    double s[2][3] = {{0}};
    for (size_t i = 0; i < N; i++) {
        s[z[i]][0]++;
        s[z[i]][1] += t[i];
        s[z[i]][2] += d->y[i];
    }
    const double fs = s[1][1] / s[1][0] - s[0][1] / s[0][0];
    const double rf = s[1][2] / s[1][0] - s[0][2] / s[0][0];
    assert_true(fabs(dg.compliance - fs) < 1e-12);
    assert_true(fabs(dg.reduced_form - rf) < 1e-12);
    assert_true(fabs(dg.wald - rf / fs) < 1e-12);
    /* Without controls the first-stage coefficient is the same difference. */
    assert_false(dg.controls);
    assert_true(fabs(dg.fs_coef - fs) < 1e-12);
    assert_true(dg.fs_f > 100 && !dg.weak && !dg.thin);
    /* The LATE here is the mean effect 1 + 0.5 E[x1] among compliers, about
     * 1; the Wald interval covers it and the confounded contrast does not. */
    assert_true(fabs(dg.wald - 1.0) < 3 * dg.wald_se + 0.1);
    /* Deciles: ascending, covering every row, observed compliance rising
     * with the predicted one. */
    assert_int_equal(dg.n_deciles, TT_IV_DECILES);
    size_t rows = 0;
    for (size_t k = 0; k < dg.n_deciles; k++) {
        rows += dg.deciles[k].n;
        assert_true(dg.deciles[k].lo <= dg.deciles[k].predicted &&
                    dg.deciles[k].predicted <= dg.deciles[k].hi);
        if (k > 0)
            assert_true(dg.deciles[k].lo >= dg.deciles[k - 1].hi);
    }
    assert_int_equal(rows, N);
    assert_true(dg.deciles[9].observed > dg.deciles[0].observed);
    assert_true(fabs(dg.predicted_mean - dg.compliance) < 0.05);
    free(t);
    free(c);
    free(z);
    tt_dataset_free(d);
}

/* An instrument unrelated to T: weak (F < 10), and a Wald interval so wide
 * it says nothing. Compliance near zero everywhere: thin. */
static void test_weak_and_thin(void **state)
{
    (void)state;
    tt_dataset *d = test_iv_data(N, 4);
    double *t = malloc(N * sizeof *t), *c = malloc(N * sizeof *c);
    int *z = malloc(N * sizeof *z);
    tt_rng r;
    tt_rng_seed(&r, 9, "unrelated");
    for (size_t i = 0; i < N; i++) {
        t[i] = d->t[i];
        z[i] = tt_rng_uniform(&r) < 0.5;
        c[i] = 0.01;
    }
    tt_iv_diag dg;
    char err[256];
    assert_int_equal(tt_iv_diag_compute(N, d->y, t, z, 0, NULL, N, d->t, z, c, &dg, err,
                                        sizeof err), TT_OK);
    assert_true(dg.weak);
    assert_true(dg.fs_f < 10);
    assert_true(dg.wald_se > 1.0);
    assert_true(dg.thin);
    assert_true(dg.share_thin == 1.0);
    /* One instrument value: refused. */
    for (size_t i = 0; i < N; i++)
        z[i] = 1;
    assert_int_equal(tt_iv_diag_compute(N, d->y, t, z, 0, NULL, 0, NULL, NULL, NULL, &dg, err,
                                        sizeof err), TT_ERR_DATA);
    free(t);
    free(c);
    free(z);
    tt_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iv_generator),
        cmocka_unit_test(test_weak_and_thin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
