/*
 * importance.c - permutation importance of the features for an effect
 * function (see importance.h).
 *
 * One working copy of x: column j is overwritten with its permuted values,
 * the function is called, and the column is restored from the original
 * before the next feature, so the function always sees exactly one feature
 * out of place.
 */
#include "insight/importance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

void tt_importance_free(tt_importance *imp)
{
    if (!imp)
        return;
    free(imp->mse);
    free(imp->rms);
    free(imp->order);
    memset(imp, 0, sizeof *imp);
}

static tt_status call_predict(tt_effect_predict_fn predict, void *ctx, size_t n, size_t p,
                              const double *x, double *tau, const char *what, char *err,
                              size_t errlen)
{
    const int rc = predict(ctx, n, p, x, tau);
    if (rc != 0) {
        const tt_status st = rc > 0 && rc <= (int)TT_ERR_UNSUPPORTED ? (tt_status)rc
                                                                      : TT_ERR_PLUGIN;
        return tt_errf(err, errlen, st, "importance: the effect function failed (%d) on %s",
                       rc, what);
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(tau[i]))
            return tt_errf(err, errlen, TT_ERR_NUMERIC,
                           "importance: the effect function returned %g at row %zu on %s",
                           tau[i], i, what);
    return TT_OK;
}

/* Most important first; equal scores keep the lower feature index first. */
static void sort_order(size_t p, const double *score, size_t *order)
{
    for (size_t j = 0; j < p; j++)
        order[j] = j;
    /* insertion sort: p is a feature count and this keeps ties stable */
    for (size_t a = 1; a < p; a++) {
        const size_t v = order[a];
        size_t b = a;
        while (b > 0 && score[order[b - 1]] < score[v]) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = v;
    }
}

tt_status tt_permutation_importance(size_t n, size_t p, const double *x,
                                    tt_effect_predict_fn predict, void *ctx, size_t repeats,
                                    uint64_t seed, tt_importance *out, char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "importance: out is NULL");
    memset(out, 0, sizeof *out);
    if (!x || !predict || n == 0 || p == 0 || repeats == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "importance: needs x, an effect function, n > 0, p > 0 and repeats > 0 "
                       "(n = %zu, p = %zu, repeats = %zu)",
                       n, p, repeats);
    if (n > SIZE_MAX / p)
        return tt_errf(err, errlen, TT_ERR_INVALID, "importance: %zu x %zu overflows", n, p);

    tt_status st = TT_OK;
    double *xw = tt_malloc_array(n * p, sizeof *xw);
    double *base = tt_malloc_array(n, sizeof *base);
    double *tau = tt_malloc_array(n, sizeof *tau);
    size_t *perm = tt_malloc_array(n, sizeof *perm);
    out->mse = tt_malloc_array(p, sizeof *out->mse);
    out->rms = tt_malloc_array(p, sizeof *out->rms);
    out->order = tt_malloc_array(p, sizeof *out->order);
    if (!xw || !base || !tau || !perm || !out->mse || !out->rms || !out->order) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "importance: no memory for %zu x %zu", n, p);
        goto done;
    }
    memcpy(xw, x, n * p * sizeof *xw);
    st = call_predict(predict, ctx, n, p, xw, base, "the original x", err, errlen);
    if (st != TT_OK)
        goto done;

    for (size_t j = 0; j < p; j++) {
        char stream[48], what[96];
        snprintf(stream, sizeof stream, "importance:%zu", j);
        tt_rng rng;
        tt_rng_seed(&rng, seed, stream);
        const double *xj = x + j * n;
        double *wj = xw + j * n;
        double acc = 0.0;
        for (size_t r = 0; r < repeats; r++) {
            for (size_t i = 0; i < n; i++)
                perm[i] = i;
            tt_rng_shuffle_size(&rng, perm, n);
            for (size_t i = 0; i < n; i++)
                wj[i] = xj[perm[i]];
            snprintf(what, sizeof what, "x with column %zu permuted (repeat %zu)", j, r);
            st = call_predict(predict, ctx, n, p, xw, tau, what, err, errlen);
            if (st != TT_OK)
                goto done;
            double s = 0.0;
            for (size_t i = 0; i < n; i++) {
                const double d = tau[i] - base[i];
                s += d * d;
            }
            acc += s / (double)n;
        }
        memcpy(wj, xj, n * sizeof *wj); /* restore before the next feature */
        out->mse[j] = acc / (double)repeats;
        out->rms[j] = sqrt(out->mse[j]);
    }
    sort_order(p, out->mse, out->order);
    out->p = p;
    out->repeats = repeats;

done:
    if (st != TT_OK)
        tt_importance_free(out);
    free(xw);
    free(base);
    free(tau);
    free(perm);
    return st;
}
