/* pu_plugin.c - shared callback pieces (see pu_plugin.h). */
#include "pu_plugin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pu.h"

/* ---- checks ---- */

static int pu_cmp_double(const void *a, const void *b)
{
    const double u = *(const double *)a, v = *(const double *)b;
    return (u > v) - (u < v);
}

int pu_check_alpha(double alpha, char *err, size_t errlen)
{
    if (!(alpha > 0 && alpha < 1))
        return pu_errf(err, errlen, TT_ERR_INVALID, "alpha must be in (0, 1), got %g", alpha);
    return TT_OK;
}

int pu_check_params(const char *name, const tt_plugin_param *schema, size_t n,
                    const double *params, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const tt_plugin_param *p = &schema[i];
        double v = params[i], lo = p->lo, hi = p->hi;
        if (p->kind == TT_PARAM_BOOL) {
            lo = 0;
            hi = 1;
        } else if (p->kind == TT_PARAM_CHOICE) {
            size_t count = 0;
            while (p->choices[count])
                count++;
            lo = 0;
            hi = (double)count - 1;
        }
        if (!isfinite(v) || v < lo || v > hi ||
            (p->kind != TT_PARAM_REAL && p->kind != TT_PARAM_LOG_REAL && v != floor(v)))
            return pu_errf(err, errlen, TT_ERR_INVALID, "%s: %s = %g is out of range", name,
                           p->name, v);
    }
    return TT_OK;
}

const double *pu_t_value(const tt_plugin_data *d)
{
    return TT_PLUGIN_DATA_HAS(d, t_value) ? d->t_value : NULL;
}

int pu_continuous_strata(const tt_plugin_host *host, const tt_plugin_data *d, int **out,
                         char *err, size_t errlen)
{
    const double *tv = pu_t_value(d);
    size_t n = d->n;
    *out = NULL;
    int *s = host->alloc(sizeof *s * (n + 1));
    double *v = host->alloc(sizeof *v * (n + 1));
    if (!s || !v || !tv) {
        host->release(s);
        host->release(v);
        return pu_errf(err, errlen, tv ? TT_ERR_NOMEM : TT_ERR_INVALID,
                       tv ? "out of memory" : "no continuous treatment");
    }
    memcpy(v, tv, sizeof *v * n);
    qsort(v, n, sizeof *v, pu_cmp_double);
    double med = n ? v[(n - 1) / 2] : 0.0;
    int ge = n && v[n - 1] == med;
    for (size_t i = 0; i < n; i++)
        s[i] = ge ? tv[i] >= med : tv[i] > med;
    host->release(v);
    *out = s;
    return TT_OK;
}

int pu_check_train(const char *name, int n_arms, const tt_plugin_data *d, char *err,
                   size_t errlen)
{
    const double *tv = pu_t_value(d);
    if (tv) { /* a continuous treatment (ABI 1.8): t is NULL, effects per unit */
        if (!d->y || n_arms != 2 || d->n_arms != 2)
            return pu_errf(err, errlen, TT_ERR_INVALID, "%s: a continuous treatment needs "
                           "outcomes and one effect column (2 arms)", name);
        if (d->n == 0 || (d->p_x > 0 && !d->x))
            return pu_errf(err, errlen, TT_ERR_INVALID, "%s: no training rows or no x", name);
        for (size_t i = 0; i < d->n; i++)
            if (!isfinite(tv[i]) || !isfinite(d->y[i]))
                return pu_errf(err, errlen, TT_ERR_DATA, "%s: row %zu has treatment %g and "
                               "outcome %g", name, i, tv[i], d->y[i]);
        return TT_OK;
    }
    if (!d->t || !d->y)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: fit needs treatments and outcomes",
                       name);
    if (d->n_arms != n_arms)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: created for %d arms, data has %d", name,
                       n_arms, d->n_arms);
    if (d->n == 0 || (d->p_x > 0 && !d->x))
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: no training rows or no x", name);
    for (size_t i = 0; i < d->n; i++) {
        if (d->t[i] < 0 || d->t[i] >= n_arms)
            return pu_errf(err, errlen, TT_ERR_DATA, "%s: row %zu has arm %d (K = %d)", name, i,
                           d->t[i], n_arms);
        if (!isfinite(d->y[i]))
            return pu_errf(err, errlen, TT_ERR_DATA, "%s: row %zu has outcome %g", name, i,
                           d->y[i]);
    }
    return TT_OK;
}

int pu_check_rows(const char *name, int fitted, size_t p_x, const tt_plugin_data *rows,
                  char *err, size_t errlen)
{
    if (!fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: not fitted", name);
    if (rows->p_x != p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: fitted on %zu effect modifiers, got %zu",
                       name, p_x, rows->p_x);
    return TT_OK;
}

/* ---- save header ---- */

int pu_save_header(const tt_plugin_sink *sink, const char *name, int version, int n_arms,
                   size_t p_x, char *err, size_t errlen)
{
    if (pu_writef(sink, "%s %d\narms %d\np_x %zu\n", name, version, n_arms, p_x))
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the model");
    return TT_OK;
}

int pu_load_header(const tt_plugin_source *src, const char *name, int version, int *n_arms,
                   size_t *p_x, char *err, size_t errlen)
{
    char line[80], want[80];
    long arms, px;
    snprintf(want, sizeof want, "%s %d", name, version);
    if (pu_read_line(src, line, sizeof line) || strcmp(line, want) ||
        pu_read_long(src, "arms", &arms) || arms < 2 || arms > 100000 ||
        pu_read_long(src, "p_x", &px) || px < 0)
        return pu_errf(err, errlen, TT_ERR_PARSE, "not a %s model (version %d)", name, version);
    *n_arms = (int)arms;
    *p_x = (size_t)px;
    return TT_OK;
}

/* ---- constant effects ---- */

void pu_const_effect(int n_arms, const double *effect, size_t n, double *out)
{
    for (int k = 1; k < n_arms; k++)
        for (size_t i = 0; i < n; i++)
            out[(size_t)(k - 1) * n + i] = effect[k - 1];
}

int pu_const_interval(int n_arms, const double *effect, const double *se, size_t n,
                      double alpha, double *lo, double *hi, char *err, size_t errlen)
{
    int rc = pu_check_alpha(alpha, err, errlen);
    if (rc)
        return rc;
    double z = pu_normal_quantile(1 - alpha / 2);
    for (int k = 1; k < n_arms; k++)
        for (size_t i = 0; i < n; i++) {
            size_t at = (size_t)(k - 1) * n + i;
            lo[at] = effect[k - 1] - z * se[k - 1];
            hi[at] = effect[k - 1] + z * se[k - 1];
        }
    return TT_OK;
}

int pu_const_average(int n_arms, const double *effect, const double *se, double alpha,
                     double *ate, double *lo, double *hi, char *err, size_t errlen)
{
    int rc = pu_check_alpha(alpha, err, errlen);
    if (rc)
        return rc;
    double z = pu_normal_quantile(1 - alpha / 2);
    for (int k = 1; k < n_arms; k++) {
        ate[k - 1] = effect[k - 1];
        lo[k - 1] = effect[k - 1] - z * se[k - 1];
        hi[k - 1] = effect[k - 1] + z * se[k - 1];
    }
    return TT_OK;
}

void pu_mean_of_rows(size_t n, int n_eff, const double *est, const double *rl, const double *rh,
                     double *ate, double *lo, double *hi)
{
    for (int k = 0; k < n_eff; k++) {
        size_t off = (size_t)k * n;
        double se = 0, sl = 0, sh = 0;
        for (size_t i = 0; i < n; i++) {
            se += est[off + i];
            sl += rl[off + i];
            sh += rh[off + i];
        }
        ate[k] = se / (double)n;
        lo[k] = sl / (double)n;
        hi[k] = sh / (double)n;
    }
}
