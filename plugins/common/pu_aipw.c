/* pu_aipw.c - AIPW average effects of partially linear models (pu_aipw.h). */
#include "pu_aipw.h"

#include <math.h>
#include <stdio.h>

#include "pu.h"
#include "pu_plugin.h"

void pu_aipw_scores(int n_arms, int k, const tt_plugin_data *rows, const double *tau,
                    const double *m, const double *e, double *score)
{
    size_t n = rows->n;
    for (size_t i = 0; i < n; i++) {
        double mix = 0;
        for (int j = 1; j < n_arms; j++)
            mix += e[(size_t)j * n + i] * tau[(size_t)(j - 1) * n + i];
        int t = rows->t[i];
        double mu_t = m[i] - mix + (t > 0 ? tau[(size_t)(t - 1) * n + i] : 0.0);
        double r = rows->y[i] - mu_t, tk = tau[(size_t)(k - 1) * n + i];
        double wgt = (t == k ? 1.0 / e[(size_t)k * n + i] : 0.0) - (t == 0 ? 1.0 / e[i] : 0.0);
        score[i] = tk + wgt * r;
    }
}

/* Rows of weight 0 drop out of both, and out of the small-sample factor
 * n' / (n' - 1). */
void pu_aipw_mean_se(size_t n, const double *v, const double *weight, double *mean, double *se)
{
    double sw = 0, s = 0, ss = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight ? weight[i] : 1.0;
        sw += w;
        s += w * v[i];
        used += w != 0;
    }
    *mean = s / sw;
    for (size_t i = 0; i < n; i++) {
        double d = (weight ? weight[i] : 1.0) * (v[i] - *mean);
        ss += d * d;
    }
    *se = sqrt(ss / (sw * sw) * (double)used / (double)(used - 1));
}

int pu_aipw_average(const tt_plugin_host *host, const char *name, int n_arms,
                    const tt_plugin_data *rows, const double *tau, const double *m,
                    const double *e, const double *weight, double *ate, double *se, char *err,
                    size_t errlen)
{
    size_t n = rows->n, used = 0;
    for (size_t i = 0; i < n; i++)
        used += !weight || weight[i] != 0;
    if (used < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "%s: the AIPW average effect needs at least 2 rows, got %zu", name, used);
    double *score = host->alloc(sizeof *score * n);
    if (!score)
        return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    int rc = TT_OK;
    for (int k = 1; k < n_arms; k++) {
        pu_aipw_scores(n_arms, k, rows, tau, m, e, score);
        pu_aipw_mean_se(n, score, weight, &ate[k - 1], &se[k - 1]);
        if (!isfinite(ate[k - 1]) || !isfinite(se[k - 1])) {
            rc = pu_errf(err, errlen, TT_ERR_NUMERIC,
                         "%s: the AIPW average effect of arm %d is not finite", name, k);
            break;
        }
    }
    host->release(score);
    return rc;
}

int pu_aipw_kept_get(const pu_aipw_kept *kept, const char *name, int fitted, int n_eff,
                     double alpha, double *ate, double *lo, double *hi, double *se, char *err,
                     size_t errlen)
{
    int rc = pu_check_alpha(alpha, err, errlen);
    if (rc)
        return rc;
    if (!fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, "%s: not fitted", name);
    if (!kept->has)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "%s: no out-of-bag average effect (%s)",
                       name, kept->why);
    double z = pu_normal_quantile(1.0 - alpha / 2.0);
    for (int k = 0; k < n_eff; k++) {
        ate[k] = kept->ate[k];
        se[k] = kept->se[k];
        lo[k] = ate[k] - z * se[k];
        hi[k] = ate[k] + z * se[k];
    }
    return TT_OK;
}

int pu_aipw_kept_save(const pu_aipw_kept *kept, int n_eff, const tt_plugin_sink *sink)
{
    return pu_writef(sink, "oob_average %d\n", kept->has ? 1 : 0) ||
           (kept->has && (pu_write_doubles(sink, "oob_ate", kept->ate, (size_t)n_eff) ||
                          pu_write_doubles(sink, "oob_se", kept->se, (size_t)n_eff)));
}

int pu_aipw_kept_load(pu_aipw_kept *kept, int n_eff, const tt_plugin_source *src)
{
    long has = -1;
    kept->has = 0;
    if (n_eff < 1 || n_eff > PU_AIPW_MAX_EFF || pu_read_long(src, "oob_average", &has) ||
        (has != 0 && has != 1) ||
        (has && (pu_read_doubles(src, "oob_ate", kept->ate, (size_t)n_eff) ||
                 pu_read_doubles(src, "oob_se", kept->se, (size_t)n_eff))))
        return -1;
    kept->has = (int)has;
    snprintf(kept->why, sizeof kept->why, "the fit that saved this model could not make it");
    return 0;
}
