/* host_boot.c - the host's bootstrap of a plugin without intervals (host_boot.h). */
#include "plugin/host_boot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dist.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

struct tt_host_boot {
    const tt_plugin_descriptor *desc;
    size_t b;       /* replicas fitted */
    void **inst;    /* b fitted instances */
    int n_arms;
    char method[96];
};

int tt_host_boot_applies(const tt_plugin_descriptor *d)
{
    const uint32_t needs = TT_PLUGIN_CAP_NEEDS_PROPENSITY | TT_PLUGIN_CAP_NEEDS_OUTCOME |
                           TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES | TT_PLUGIN_CAP_NEEDS_IV_NUISANCES;
    return d && !(d->capabilities & TT_PLUGIN_CAP_INTERVALS) && !(d->capabilities & needs);
}

/* The training rows grouped by arm, in row order: rows[start[k] ..
 * start[k+1]) are arm k's (one stratum holding every row without arms).
 * start has strata + 1 entries. */
static void group_by_arm(const tt_plugin_data *train, int strata, size_t *rows, size_t *start)
{
    for (int k = 0; k <= strata; k++)
        start[k] = 0;
    for (size_t i = 0; i < train->n; i++)
        start[(train->t ? train->t[i] : 0) + 1]++;
    for (int k = 0; k < strata; k++)
        start[k + 1] += start[k];
    size_t fill[strata];
    for (int k = 0; k < strata; k++)
        fill[k] = start[k];
    for (size_t i = 0; i < train->n; i++)
        rows[fill[train->t ? train->t[i] : 0]++] = i;
}

/* Replica b's rows: within each stratum, as many draws with replacement as
 * it has rows. Depends on (seed, b) only. */
static void draw(uint64_t seed, size_t b, int strata, const size_t *rows, const size_t *start,
                 size_t *idx)
{
    char stream[48];
    snprintf(stream, sizeof stream, "host-bootstrap-%zu", b);
    tt_rng rng;
    tt_rng_seed(&rng, seed, stream);
    size_t out = 0;
    for (int k = 0; k < strata; k++) {
        size_t m = start[k + 1] - start[k];
        for (size_t j = 0; j < m; j++)
            idx[out++] = rows[start[k] + tt_rng_below(&rng, m)];
    }
}

/* The resampled copy of a view's columns. */
typedef struct resample {
    double *x, *w, *y, *weight, *z, *t_value;
    int *t;
} resample;

static void resample_free(resample *r)
{
    free(r->x), free(r->w), free(r->y), free(r->weight), free(r->z), free(r->t_value),
        free(r->t);
    memset(r, 0, sizeof *r);
}

/* view: train with its rows replaced by rows idx (r owns the copies). */
static int resample_view(const tt_plugin_data *train, const size_t *idx, resample *r,
                         tt_plugin_data *view)
{
    size_t n = train->n;
    int ok = 1;
    *view = *train;
    view->x = r->x = tt_gather_rows(train->x, n, train->p_x, idx, n, &ok);
    view->w = r->w = tt_gather_rows(train->w, n, train->p_w, idx, n, &ok);
    view->y = r->y = tt_gather_rows(train->y, n, 1, idx, n, &ok);
    view->weight = r->weight = tt_gather_rows(train->weight, n, 1, idx, n, &ok);
    if (TT_PLUGIN_DATA_HAS(train, z))
        view->z = r->z = tt_gather_rows(train->z, n, train->p_z, idx, n, &ok);
    if (TT_PLUGIN_DATA_HAS(train, t_value))
        view->t_value = r->t_value = tt_gather_rows(train->t_value, n, 1, idx, n, &ok);
    if (train->t) {
        if (!(r->t = malloc(n * sizeof *r->t)))
            ok = 0;
        for (size_t i = 0; r->t && i < n; i++)
            r->t[i] = train->t[idx[i]];
        view->t = r->t;
    }
    return ok ? 0 : -1;
}

void tt_host_boot_free(tt_host_boot *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->b; i++)
        b->desc->destroy(b->inst[i]);
    free(b->inst);
    free(b);
}

tt_status tt_host_boot_fit(const tt_plugin_descriptor *d, const tt_plugin_host *host,
                           const double *params, const tt_plugin_data *train,
                           size_t resamples, uint64_t seed, tt_host_boot **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    if (resamples == 0)
        resamples = TT_HOST_BOOT_DEFAULT_RESAMPLES;
    if (resamples < 2 || resamples > TT_HOST_BOOT_MAX_RESAMPLES)
        return tt_errf(err, errlen, TT_ERR_INVALID, "bootstrap resamples must be in [2, %d], "
                       "got %zu", TT_HOST_BOOT_MAX_RESAMPLES, resamples);
    if (train->n < 2)
        return tt_errf(err, errlen, TT_ERR_DATA, "bootstrap: %zu training rows", train->n);
    tt_host_boot *b = calloc(1, sizeof *b);
    size_t *idx = tt_malloc_array(train->n, sizeof *idx);
    size_t *by_arm = tt_malloc_array(train->n, sizeof *by_arm);
    int strata = train->t ? train->n_arms : 1;
    size_t *start = calloc((size_t)train->n_arms + 2, sizeof *start);
    if (b)
        b->inst = calloc(resamples, sizeof *b->inst);
    tt_status st = TT_OK;
    if (!b || !b->inst || !idx || !by_arm || !start) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "bootstrap: out of memory");
        goto out;
    }
    b->desc = d;
    b->n_arms = train->n_arms;
    group_by_arm(train, strata, by_arm, start);
    for (size_t r = 0; r < resamples; r++) {
        if (r >= 2 && host->should_stop && host->should_stop(host->host_ctx))
            break; /* the replicas so far make the intervals */
        draw(seed, r, strata, by_arm, start, idx);
        resample rs = {0};
        tt_plugin_data view;
        if (resample_view(train, idx, &rs, &view) != 0) {
            resample_free(&rs);
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "bootstrap: out of memory");
            goto out;
        }
        void *inst = NULL;
        char why[512] = "";
        int rc = d->create(host, params, train->n_arms, &inst, why, sizeof why);
        if (rc == TT_OK && inst)
            rc = d->fit(inst, &view, why, sizeof why);
        resample_free(&rs); /* views are lent for the call only (plugin.h) */
        if (rc != TT_OK || !inst) {
            d->destroy(inst);
            st = tt_errf(err, errlen, rc == TT_ERR_STOPPED ? TT_ERR_STOPPED
                                      : rc != TT_OK ? (tt_status)rc : TT_ERR_PLUGIN,
                         "bootstrap replica %zu: %s", r + 1, why[0] ? why : "no instance");
            if (rc == TT_ERR_STOPPED && b->b >= 2) {
                st = TT_OK; /* stopped inside a replica: the others stand */
                break;
            }
            goto out;
        }
        b->inst[b->b++] = inst;
    }
    if (b->b < 2) {
        st = tt_errf(err, errlen, TT_ERR_STOPPED, "bootstrap: stopped before two replicas");
        goto out;
    }
    snprintf(b->method, sizeof b->method, "bootstrap by the host (normal, %zu refits)", b->b);
out:
    free(idx);
    free(by_arm);
    free(start);
    if (st != TT_OK) {
        tt_host_boot_free(b);
        return st;
    }
    *out = b;
    return TT_OK;
}

/* sd_b of each replica's effect per cell (cells = rows->n x (K-1)): the
 * replicas' effects are summed as they come, never all held at once. With
 * average != NULL, the sd of each replica's mean effect per arm instead. */
static tt_status replica_sd(const tt_host_boot *b, const tt_plugin_data *rows, double *sd,
                            double *average_sd, char *err, size_t errlen)
{
    size_t n = rows->n, k_eff = (size_t)(b->n_arms - 1), cells = n * k_eff;
    size_t m = average_sd ? k_eff : cells;
    double *tau = tt_malloc_array(cells + 1, sizeof *tau);
    double *sum = calloc(m + 1, sizeof *sum), *sq = calloc(m + 1, sizeof *sq);
    tt_status st = TT_OK;
    if (!tau || !sum || !sq) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "bootstrap: out of memory");
        goto out;
    }
    for (size_t r = 0; r < b->b; r++) {
        char why[512] = "";
        int rc = b->desc->effect(b->inst[r], rows, tau, why, sizeof why);
        if (rc != TT_OK) {
            st = tt_errf(err, errlen, rc > 0 ? (tt_status)rc : TT_ERR_PLUGIN,
                         "bootstrap replica %zu: effect: %s", r + 1, why);
            goto out;
        }
        for (size_t c = 0; c < m; c++) {
            double v = 0;
            if (average_sd) {
                for (size_t i = 0; i < n; i++)
                    v += tau[c * n + i];
                v /= (double)n;
            } else {
                v = tau[c];
            }
            if (!isfinite(v)) {
                st = tt_errf(err, errlen, TT_ERR_PLUGIN, "bootstrap replica %zu: a non-finite "
                             "effect", r + 1);
                goto out;
            }
            sum[c] += v;
            sq[c] += v * v;
        }
    }
    double *to = average_sd ? average_sd : sd;
    double B = (double)b->b;
    for (size_t c = 0; c < m; c++) {
        double mean = sum[c] / B, var = (sq[c] - B * mean * mean) / (B - 1.0);
        to[c] = var > 0 ? sqrt(var) : 0.0;
    }
out:
    free(tau);
    free(sum);
    free(sq);
    return st;
}

static tt_status check_alpha(double alpha, char *err, size_t errlen)
{
    if (!(alpha > 0 && alpha < 1))
        return tt_errf(err, errlen, TT_ERR_INVALID, "alpha must be in (0, 1), got %g", alpha);
    return TT_OK;
}

tt_status tt_host_boot_interval(const tt_host_boot *b, const tt_plugin_data *rows,
                                const double *point, double alpha, double *lo, double *hi,
                                char *err, size_t errlen)
{
    tt_status st = check_alpha(alpha, err, errlen);
    size_t cells = rows->n * (size_t)(b->n_arms - 1);
    double *sd = st == TT_OK ? tt_malloc_array(cells + 1, sizeof *sd) : NULL;
    if (st == TT_OK && !sd)
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "bootstrap: out of memory");
    if (st == TT_OK)
        st = replica_sd(b, rows, sd, NULL, err, errlen);
    if (st == TT_OK) {
        double z = tt_normal_quantile(1.0 - alpha / 2.0);
        for (size_t c = 0; c < cells; c++) {
            lo[c] = point[c] - z * sd[c];
            hi[c] = point[c] + z * sd[c];
        }
    }
    free(sd);
    return st;
}

tt_status tt_host_boot_average(const tt_host_boot *b, const tt_plugin_data *rows,
                               const double *point, double alpha, double *ate, double *lo,
                               double *hi, char *err, size_t errlen)
{
    tt_status st = check_alpha(alpha, err, errlen);
    if (st != TT_OK)
        return st;
    if (rows->n == 0)
        return tt_errf(err, errlen, TT_ERR_DATA, "average effect over no rows");
    size_t k_eff = (size_t)(b->n_arms - 1), n = rows->n;
    double sd[k_eff];
    st = replica_sd(b, rows, NULL, sd, err, errlen);
    if (st != TT_OK)
        return st;
    double z = tt_normal_quantile(1.0 - alpha / 2.0);
    for (size_t k = 0; k < k_eff; k++) {
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += point[k * n + i];
        ate[k] = m / (double)n;
        lo[k] = ate[k] - z * sd[k];
        hi[k] = ate[k] + z * sd[k];
    }
    return TT_OK;
}

const char *tt_host_boot_method(const tt_host_boot *b)
{
    return b->method;
}
