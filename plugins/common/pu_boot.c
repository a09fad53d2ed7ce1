/* pu_boot.c - seeded, arm-stratified bootstrap with normal-approximation intervals. */
#include "pu_boot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pu.h"

/* Refuse absurd replica counts from a corrupt stream before allocating. */
#define PU_BOOT_MAX_RESAMPLES 100000

/* ---- random numbers: splitmix64, one independent stream per replica ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, m) without modulo bias (rejects the short top range). */
static uint64_t uniform_below(uint64_t *state, uint64_t m)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % m;
    uint64_t r;
    do
        r = splitmix64(state);
    while (r >= limit);
    return r % m;
}

/* Replica b's stream depends only on (seed, b), so a replica is the same
 * whether the replicas are fitted in one go or resumed after a stop. The
 * constant separates this stream from other uses of host->seed. */
static uint64_t replica_state(uint64_t seed, size_t b)
{
    uint64_t s = seed ^ 0x70755f626f6f7431ull; /* "pu_boot1" */
    uint64_t mixed = splitmix64(&s);
    s = mixed + (uint64_t)b * 0xd1b54a32d192ed03ull;
    splitmix64(&s);
    return s;
}

/* ---- setup ---- */

size_t pu_boot_resamples(const tt_plugin_host *host)
{
    /* A 1.0/1.1 host's struct ends before the field: never read past it. */
    if (host && host->abi_minor >= 2 &&
        host->struct_size >= offsetof(tt_plugin_host, interval_resamples) + sizeof(size_t) &&
        host->interval_resamples > 0)
        return host->interval_resamples;
    return PU_BOOT_DEFAULT_RESAMPLES;
}

int pu_boot_init(pu_boot *b, const tt_plugin_host *host, const pu_boot_ops *ops, void *ctx,
                 int n_arms, size_t resamples, size_t n, const int *arm, char *err,
                 size_t errlen)
{
    memset(b, 0, sizeof *b);
    if (resamples == 0)
        resamples = PU_BOOT_DEFAULT_RESAMPLES;
    if (resamples < 2 || resamples > PU_BOOT_MAX_RESAMPLES)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "bootstrap resamples must be in [2, %d], got %zu", PU_BOOT_MAX_RESAMPLES,
                       resamples);
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    for (size_t i = 0; i < n; i++)
        if (arm[i] < 0 || arm[i] >= n_arms)
            return pu_errf(err, errlen, TT_ERR_INVALID, "row %zu has arm %d, outside 0..%d", i,
                           arm[i], n_arms - 1);
    b->host = host;
    b->ops = ops;
    b->ctx = ctx;
    b->n_arms = n_arms;
    b->resamples = resamples;
    b->n = n;
    b->arm = host->alloc(sizeof *b->arm * (n + 1));
    b->replicas = host->alloc_zero(resamples, sizeof *b->replicas);
    if (!b->arm || !b->replicas) {
        pu_boot_free(b);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    if (n)
        memcpy(b->arm, arm, sizeof *b->arm * n);
    return TT_OK;
}

void pu_boot_free(pu_boot *b)
{
    if (!b || !b->host)
        return;
    for (size_t r = 0; b->replicas && r < b->resamples; r++)
        if (b->replicas[r])
            b->ops->destroy(b->ctx, b->replicas[r]);
    b->host->release(b->replicas);
    b->host->release(b->arm);
    memset(b, 0, sizeof *b);
}

/* ---- fitting ---- */

/* Row positions grouped by arm: rows of arm a are order[start[a] .. start[a+1]-1]. */
static void group_by_arm(const pu_boot *b, size_t *order, size_t *start)
{
    size_t K = (size_t)b->n_arms;
    memset(start, 0, sizeof *start * (K + 1));
    for (size_t i = 0; i < b->n; i++)
        start[b->arm[i] + 1]++;
    for (size_t a = 0; a < K; a++)
        start[a + 1] += start[a];
    size_t *fill = start + K + 1; /* K scratch counters after the K + 1 starts */
    memcpy(fill, start, sizeof *fill * K);
    for (size_t i = 0; i < b->n; i++)
        order[fill[b->arm[i]]++] = i;
}

/* Position i of the resample is a row drawn from the rows of arm[i], so
 * every arm keeps its count (and arm[idx[i]] == arm[i]). */
static void draw_resample(const pu_boot *b, size_t r, const size_t *order, const size_t *start,
                          size_t *idx)
{
    uint64_t state = replica_state(b->host->seed, r);
    for (size_t i = 0; i < b->n; i++) {
        int a = b->arm[i];
        size_t na = start[a + 1] - start[a];
        idx[i] = order[start[a] + uniform_below(&state, na)];
    }
}

int pu_boot_ensure(pu_boot *b, char *err, size_t errlen)
{
    if (b->fitted)
        return TT_OK;
    if (!b->arm)
        return pu_errf(err, errlen, TT_ERR_INVALID, "bootstrap has no training rows to resample");
    const tt_plugin_host *h = b->host;
    size_t K = (size_t)b->n_arms;
    size_t *order = h->alloc(sizeof *order * (b->n + 1));
    size_t *idx = h->alloc(sizeof *idx * (b->n + 1));
    size_t *start = h->alloc(sizeof *start * (2 * K + 1));
    int rc = TT_OK;
    if (!order || !idx || !start) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    group_by_arm(b, order, start);
    for (size_t r = 0; r < b->resamples && rc == TT_OK; r++) {
        if (b->replicas[r])
            continue; /* fitted before an earlier stop */
        if (h->should_stop && h->should_stop(h->host_ctx)) {
            /* Out of time (the run's budget) or told to stop. With at least
             * two replicas the intervals stand on those (the method text
             * then names the smaller count): a model with narrower evidence
             * beats no model. Fewer cannot give a spread. */
            if (r >= 2) {
                b->resamples = r;
                break;
            }
            rc = pu_errf(err, errlen, TT_ERR_STOPPED, "stopped after %zu of %zu bootstrap fits",
                         r, b->resamples);
            break;
        }
        draw_resample(b, r, order, start, idx);
        rc = b->ops->fit(b->ctx, idx, b->n, &b->replicas[r], err, errlen);
        if (rc == TT_OK && !b->replicas[r])
            rc = pu_errf(err, errlen, TT_ERR_INVALID, "bootstrap fit %zu gave no replica", r);
    }
    if (rc == TT_OK)
        b->fitted = 1;
out:
    h->release(order);
    h->release(idx);
    h->release(start);
    return rc;
}

/* ---- intervals ---- */

static int check_alpha(double alpha, char *err, size_t errlen)
{
    if (!(alpha > 0.0 && alpha < 1.0))
        return pu_errf(err, errlen, TT_ERR_INVALID, "alpha %g is outside (0, 1)", alpha);
    return TT_OK;
}

/* Welford's running mean and sum of squared deviations, entry by entry. */
static void welford(double *mean, double *m2, const double *v, size_t m, size_t count)
{
    for (size_t j = 0; j < m; j++) {
        double d = v[j] - mean[j];
        mean[j] += d / (double)count;
        m2[j] += d * (v[j] - mean[j]);
    }
}

/* sd[j] over the replicas of either every row effect (per_row) or each
 * arm's mean effect over the rows. sd: rows->n x (K-1) or K-1 values. */
static int replica_sd(pu_boot *b, const tt_plugin_data *rows, int per_row, double *sd,
                      char *err, size_t errlen)
{
    int rc = pu_boot_ensure(b, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (b->resamples < 2)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "this model has no bootstrap replicas "
                       "(its run stopped before two were fitted): no intervals");
    const tt_plugin_host *h = b->host;
    size_t n = rows->n, km1 = (size_t)b->n_arms - 1;
    size_t m = per_row ? n * km1 : km1;
    double *eff = h->alloc(sizeof *eff * (n * km1 + 1));
    double *mean = h->alloc_zero(m + 1, sizeof *mean);
    double *m2 = h->alloc_zero(m + 1, sizeof *m2);
    if (!eff || !mean || !m2) {
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t r = 0; r < b->resamples && rc == TT_OK; r++) {
        rc = b->ops->effect(b->ctx, b->replicas[r], rows, eff, err, errlen);
        if (rc != TT_OK)
            break;
        if (!per_row) /* collapse each arm's column to its mean, in place */
            for (size_t k = 0; k < km1; k++) {
                double s = 0.0;
                for (size_t i = 0; i < n; i++)
                    s += eff[k * n + i];
                eff[k] = s / (double)n;
            }
        welford(mean, m2, eff, m, r + 1);
    }
    for (size_t j = 0; rc == TT_OK && j < m; j++)
        sd[j] = sqrt(m2[j] / (double)(b->resamples - 1));
out:
    h->release(eff);
    h->release(mean);
    h->release(m2);
    return rc;
}

int pu_boot_interval(pu_boot *b, const tt_plugin_data *rows, const double *point, double alpha,
                     double *lo, double *hi, char *err, size_t errlen)
{
    int rc = check_alpha(alpha, err, errlen);
    if (rc != TT_OK)
        return rc;
    size_t m = rows->n * ((size_t)b->n_arms - 1);
    /* lo doubles as the sd buffer: it is overwritten right after. */
    rc = replica_sd(b, rows, 1, lo, err, errlen);
    if (rc != TT_OK)
        return rc;
    double z = pu_normal_quantile(1.0 - alpha / 2.0);
    for (size_t j = 0; j < m; j++) {
        double half = z * lo[j];
        lo[j] = point[j] - half;
        hi[j] = point[j] + half;
    }
    return TT_OK;
}

int pu_boot_average(pu_boot *b, const tt_plugin_data *rows, const double *point, double alpha,
                    double *ate, double *lo, double *hi, char *err, size_t errlen)
{
    int rc = check_alpha(alpha, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (rows->n == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, "no rows to average over");
    size_t n = rows->n, km1 = (size_t)b->n_arms - 1;
    rc = replica_sd(b, rows, 0, lo, err, errlen);
    if (rc != TT_OK)
        return rc;
    double z = pu_normal_quantile(1.0 - alpha / 2.0);
    for (size_t k = 0; k < km1; k++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += point[k * n + i];
        ate[k] = s / (double)n;
        double half = z * lo[k];
        lo[k] = ate[k] - half;
        hi[k] = ate[k] + half;
    }
    return TT_OK;
}

/* ---- save / load ---- */

int pu_boot_save(pu_boot *b, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    int rc = pu_boot_ensure(b, err, errlen);
    if (rc == TT_ERR_STOPPED) {
        /* Stopped before two replicas (the run's budget ran out in the
         * winner's refit): the point model is still worth saving; it
         * carries no replicas and says so when asked for an interval. */
        for (size_t r = 0; r < b->resamples; r++) {
            b->ops->destroy(b->ctx, b->replicas[r]);
            b->replicas[r] = NULL;
        }
        b->resamples = 0;
        b->fitted = 1;
        rc = TT_OK;
        if (b->host->log)
            b->host->log(b->host->host_ctx, TT_LOG_WARN,
                         "saved without bootstrap replicas: stopped before two were fitted; "
                         "the model gives no intervals");
    }
    if (rc != TT_OK)
        return rc;
    if (pu_writef(sink, "pu_boot 1\nresamples %zu\narms %d\n", b->resamples, b->n_arms) != 0)
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the bootstrap header");
    for (size_t r = 0; r < b->resamples && rc == TT_OK; r++)
        rc = b->ops->save(b->ctx, b->replicas[r], sink, err, errlen);
    return rc;
}

int pu_boot_load(pu_boot *b, const tt_plugin_host *host, const pu_boot_ops *ops, void *ctx,
                 const tt_plugin_source *src, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    long version, resamples, arms;
    if (pu_read_long(src, "pu_boot", &version) != 0 || version != 1)
        return pu_errf(err, errlen, TT_ERR_PARSE, "saved model: expected 'pu_boot 1'");
    /* 0: saved without replicas (pu_boot_save after a stop). */
    if (pu_read_long(src, "resamples", &resamples) != 0 || resamples == 1 || resamples < 0 ||
        resamples > PU_BOOT_MAX_RESAMPLES)
        return pu_errf(err, errlen, TT_ERR_PARSE,
                       "saved model: expected 'resamples <count>': 0, or in [2, %d]",
                       PU_BOOT_MAX_RESAMPLES);
    if (pu_read_long(src, "arms", &arms) != 0 || arms < 2 || arms > 1000000)
        return pu_errf(err, errlen, TT_ERR_PARSE, "saved model: expected 'arms <count>' >= 2");
    b->host = host;
    b->ops = ops;
    b->ctx = ctx;
    b->n_arms = (int)arms;
    b->resamples = (size_t)resamples;
    b->replicas = host->alloc_zero(b->resamples + 1, sizeof *b->replicas);
    if (!b->replicas) {
        pu_boot_free(b);
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    int rc = TT_OK;
    for (size_t r = 0; r < b->resamples && rc == TT_OK; r++)
        rc = ops->load(ctx, src, &b->replicas[r], err, errlen);
    if (rc != TT_OK) {
        pu_boot_free(b);
        return rc;
    }
    /* The saved replicas are already fitted; there are no rows to resample. */
    b->fitted = 1;
    return TT_OK;
}

void pu_boot_method(const pu_boot *b, char *buf, size_t len)
{
    if (b->fitted && b->resamples == 0)
        snprintf(buf, len, "bootstrap (none: stopped before two replicas)");
    else
        snprintf(buf, len, "bootstrap (normal, %zu resamples)", b->resamples);
}
