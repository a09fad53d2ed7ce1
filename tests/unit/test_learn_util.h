/* test_learn_util.h - helpers shared by the learner tests (header-only,
 * static inline so a test that skips one does not warn). */
#ifndef TT_TEST_LEARN_UTIL_H
#define TT_TEST_LEARN_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn/learner.h"
#include "test_memstream.h" /* membuf, mem_write, mem_read */
#include "util/rng.h"

/* ---- helpers ---------------------------------------------------------------- */

static inline tt_learner *make(const char *name, size_t k, const char *const *keys, const double *v)
{
    tt_learner *l = NULL;
    char err[256] = "";
    tt_status st = tt_learner_create(name, keys, v, k, 11, &l, err, sizeof err);
    if (st != TT_OK)
        fail_msg("create %s: %s", name, err);
    return l;
}

static inline void fit_ok(tt_learner *l, size_t n, size_t p, const double *x, const double *y,
                   const double *w)
{
    char err[256] = "";
    if (tt_learner_fit(l, n, p, x, y, w, err, sizeof err) != TT_OK)
        fail_msg("fit: %s", err);
}

static inline void predict_ok(const tt_learner *l, size_t n, size_t p, const double *x, double *out)
{
    char err[256] = "";
    if (tt_learner_predict(l, n, p, x, out, err, sizeof err) != TT_OK)
        fail_msg("predict: %s", err);
}

/* Saves, loads and checks that the copy predicts bit-identically. */
static inline void roundtrip(const tt_learner *l, size_t n, size_t p, const double *x)
{
    membuf mb = {0};
    tt_plugin_sink sink = {sizeof sink, &mb, mem_write};
    char err[256] = "";
    assert_int_equal(tt_learner_save(l, &sink, err, sizeof err), TT_OK);
    tt_plugin_source src = {sizeof src, &mb, mem_read};
    tt_learner *back = NULL;
    if (tt_learner_load(&src, &back, err, sizeof err) != TT_OK)
        fail_msg("load: %s", err);
    assert_int_equal(mb.pos, mb.len);
    size_t k = tt_learner_n_outputs(l);
    assert_int_equal(tt_learner_n_outputs(back), k);
    double *a = malloc(n * k * sizeof *a), *b = malloc(n * k * sizeof *b);
    predict_ok(l, n, p, x, a);
    predict_ok(back, n, p, x, b);
    assert_memory_equal(a, b, n * k * sizeof *a);
    /* A truncated copy is a parse error, never a learner. */
    mb.len /= 2;
    mb.pos = 0;
    tt_learner *bad = NULL;
    assert_int_equal(tt_learner_load(&src, &bad, err, sizeof err), TT_ERR_PARSE);
    assert_null(bad);
    tt_learner_destroy(back);
    free(a);
    free(b);
    free(mb.data);
}

static inline void assert_rel(double got, double want, double rel)
{
    double tol = rel * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

/* Linear coefficients read back through predict: b0 = f(0), b_j = f(e_j) - b0. */
static inline void coefs_of(const tt_learner *l, size_t p, double *b)
{
    double z[8] = {0};
    predict_ok(l, 1, p, z, &b[0]);
    for (size_t j = 0; j < p; j++) {
        double v;
        z[j] = 1.0;
        predict_ok(l, 1, p, z, &v);
        z[j] = 0.0;
        b[1 + j] = v - b[0];
    }
}

/* Nonlinear regression data: y = sin(2 x0) + x1^2 + 0.5 x2 x3 + noise. */
static inline void nonlinear(uint64_t seed, size_t n, size_t p, double *x, double *y, double noise)
{
    tt_rng r;
    tt_rng_seed(&r, seed, "nonlinear");
    for (size_t i = 0; i < n * p; i++)
        x[i] = tt_rng_normal(&r);
    for (size_t i = 0; i < n; i++)
        y[i] = sin(2.0 * x[i]) + x[n + i] * x[n + i] + 0.5 * x[2 * n + i] * x[3 * n + i] +
               noise * tt_rng_normal(&r);
}

static inline double mse(size_t n, const double *a, const double *b)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return s / (double)n;
}

static inline double variance(size_t n, const double *y)
{
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++)
        m += y[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        s += (y[i] - m) * (y[i] - m);
    return s / (double)n;
}

#endif
