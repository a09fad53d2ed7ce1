/*
 * pu_final.c - the final stage: per treated arm, a regression of a target on x.
 *
 * LINEAR / SPARSE fit each arm's regression separately, so the covariance of
 * the pu_linear model is block-diagonal across arms (arms share no rows'
 * influence in this construction: the blocks' cross terms are left at 0).
 * LEARNER keeps one slot learner per treated arm plus a lazy bootstrap whose
 * replica is K-1 learners refitted on a resample; the training rows are
 * copied at fit so the bootstrap can run after fit returns.
 *
 * FOREST keeps one host regression forest per treated arm (PU_FINAL_FOREST in
 * pu_final.h); the forests carry their own variance, so nothing is copied.
 *
 * p_x == 0 (no effect modifiers): the core's learners accept p = 0 and fit
 * an intercept only (ridge, lasso), or a single leaf (forest, gbm), i.e. the
 * (weighted) mean target, so no special case is needed here.
 */
#include "pu_final.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pu.h"
#include "pu_plugin.h"

struct pu_final {
    const tt_plugin_host *host;
    pu_final_spec spec;
    int n_arms;
    int fitted;
    size_t p_x;
    /* LINEAR / SPARSE */
    pu_linear lin;
    /* LEARNER */
    tt_learner **learners; /* K-1, owned */
    /* FOREST */
    tt_forest **forests;   /* K-1, owned */
    pu_boot boot;          /* replicas are tt_learner *[K-1] arrays */
    int boot_ready;        /* boot initialised or loaded */
    /* LEARNER training copy, for the lazy bootstrap (all NULL after load) */
    size_t n;
    double *x, *target, *weight;
    unsigned char *mask;
    char method[64];
};

static int oom(char *err, size_t errlen)
{
    return pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
}

static void set_method(pu_final *f)
{
    switch (f->spec.kind) {
    case PU_FINAL_LINEAR:
        snprintf(f->method, sizeof f->method, "HC1 sandwich");
        break;
    case PU_FINAL_SPARSE:
        snprintf(f->method, sizeof f->method, "debiased lasso");
        break;
    case PU_FINAL_LEARNER: {
        /* pu_boot_method's text, also before fit (when boot is not set up). */
        pu_boot tmp = {.resamples = f->spec.resamples};
        pu_boot_method(&tmp, f->method, sizeof f->method);
        break;
    }
    case PU_FINAL_FOREST:
        snprintf(f->method, sizeof f->method, "forest variance (little bags)");
        break;
    }
}

/* ---- lifecycle ---- */

static void destroy_learners(const tt_plugin_host *h, tt_learner **l, int n_arms)
{
    if (!l)
        return;
    for (int k = 0; k < n_arms - 1; k++)
        h->learner_destroy(l[k]);
    h->release(l);
}

static void destroy_forests(const tt_plugin_host *h, tt_forest **fo, int n_arms)
{
    if (!fo)
        return;
    for (int k = 0; k < n_arms - 1; k++)
        h->forest_destroy(fo[k]);
    h->release(fo);
}

/* Forget any previous fit (refit, or cleanup). */
static void reset(pu_final *f)
{
    const tt_plugin_host *h = f->host;
    pu_linear_free(&f->lin);
    memset(&f->lin, 0, sizeof f->lin);
    if (f->boot_ready)
        pu_boot_free(&f->boot);
    f->boot_ready = 0;
    destroy_learners(h, f->learners, f->n_arms);
    f->learners = NULL;
    destroy_forests(h, f->forests, f->n_arms);
    f->forests = NULL;
    h->release(f->x);
    h->release(f->target);
    h->release(f->weight);
    h->release(f->mask);
    f->x = f->target = f->weight = NULL;
    f->mask = NULL;
    f->n = 0;
    f->fitted = 0;
}

static int check_spec(const pu_final_spec *spec, int n_arms, char *err, size_t errlen)
{
    if (n_arms < 2)
        return pu_errf(err, errlen, TT_ERR_INVALID, "need at least 2 arms, got %d", n_arms);
    if (spec->kind != PU_FINAL_LINEAR && spec->kind != PU_FINAL_SPARSE &&
        spec->kind != PU_FINAL_LEARNER && spec->kind != PU_FINAL_FOREST)
        return pu_errf(err, errlen, TT_ERR_INVALID, "unknown final-stage kind %d",
                       (int)spec->kind);
    if (spec->kind == PU_FINAL_LEARNER &&
        (spec->slot.learner < PU_SLOT_RIDGE || spec->slot.learner > PU_SLOT_GBM))
        return pu_errf(err, errlen, TT_ERR_INVALID, "unknown final-stage learner index %d",
                       spec->slot.learner);
    return TT_OK;
}

int pu_final_new(const tt_plugin_host *host, const pu_final_spec *spec, int n_arms,
                 pu_final **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_spec(spec, n_arms, err, errlen);
    if (rc == TT_OK && spec->kind == PU_FINAL_FOREST)
        rc = pu_forest_check_host(host, "the forest final stage", err, errlen);
    if (rc != TT_OK)
        return rc;
    pu_final *f = host->alloc_zero(1, sizeof *f);
    if (!f)
        return oom(err, errlen);
    f->host = host;
    f->spec = *spec;
    f->n_arms = n_arms;
    if (f->spec.resamples == 0)
        f->spec.resamples = PU_BOOT_DEFAULT_RESAMPLES;
    /* The debiased lasso always fits its own unpenalised intercept and
     * returns it as coefficient 0, so a SPARSE phi must have the intercept
     * column for the coefficients to line up: it is forced on here. */
    if (f->spec.kind == PU_FINAL_SPARSE)
        f->spec.phi.intercept = 1;
    set_method(f);
    *out = f;
    return TT_OK;
}

void pu_final_free(pu_final *f)
{
    if (!f)
        return;
    reset(f);
    f->host->release(f);
}

/* ---- fitting: linear kinds ---- */

/* Places one arm's d coefficients and d x d covariance into the model
 * (coefficient index (k-1)*d + j). */
static void place_block(pu_linear *m, int k, const double *beta, const double *cov)
{
    size_t d = m->d, total = d * (size_t)(m->n_arms - 1), off = (size_t)(k - 1) * d;
    for (size_t j = 0; j < d; j++) {
        m->beta[off + j] = beta[j];
        for (size_t i = 0; i < d; i++)
            m->cov[(off + j) * total + off + i] = cov[j * d + i];
    }
}

/* One arm's regression: rows of arm k's mask, design Z (n x d). */
static int fit_linear_arm(pu_final *f, int k, size_t n, const double *Z, const double *target,
                          const double *weight, const unsigned char *mask, double *beta,
                          double *cov, char *err, size_t errlen)
{
    const tt_plugin_host *h = f->host;
    size_t d = f->lin.d, col = (size_t)(k - 1) * n, nk = 0;
    for (size_t i = 0; i < n; i++)
        nk += !mask || mask[col + i];
    double *Zk = h->alloc(sizeof *Zk * (nk * d + 1));
    double *rk = h->alloc(sizeof *rk * (nk + 1));
    double *wk = weight ? h->alloc(sizeof *wk * (nk + 1)) : NULL;
    int rc = TT_OK;
    if (!Zk || !rk || (weight && !wk)) {
        rc = oom(err, errlen);
        goto out;
    }
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask && !mask[col + i])
            continue;
        for (size_t j = 0; j < d; j++)
            Zk[j * nk + r] = Z[j * n + i];
        rk[r] = target[col + i];
        if (wk)
            wk[r] = weight[col + i];
        r++;
    }
    if (f->spec.kind == PU_FINAL_LINEAR || d == 1) {
        /* d == 1 for SPARSE means phi is the intercept alone: there is nothing
         * to penalise, and the debiased lasso of r on [1] is OLS on [1]. */
        rc = pu_ols_hc1(h, nk, d, Zk, rk, wk, beta, cov, err, errlen);
    } else {
        /* Z without its intercept column; the lasso's intercept fills beta[0]. */
        rc = pu_debiased_lasso(h, nk, d - 1, Zk + nk, rk, wk, beta, cov, err, errlen);
    }
    if (rc != TT_OK) {
        char inner[512];
        snprintf(inner, sizeof inner, "%s", err && errlen ? err : "");
        rc = pu_errf(err, errlen, rc, "final stage of arm %d: %s", k, inner);
    }
out:
    h->release(Zk);
    h->release(rk);
    h->release(wk);
    return rc;
}

static int fit_linear(pu_final *f, size_t n, const double *x, const double *target,
                      const double *weight, const unsigned char *mask, char *err, size_t errlen)
{
    const tt_plugin_host *h = f->host;
    pu_phi phi = f->spec.phi;
    phi.p_x = f->p_x;
    f->spec.phi.p_x = f->p_x;
    if (pu_phi_dim(&phi) == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "phi has no columns (no intercept and no effect modifiers)");
    int rc = pu_linear_init(&f->lin, h, &phi, f->n_arms, err, errlen);
    if (rc != TT_OK)
        return rc;
    size_t d = f->lin.d;
    double *Z = pu_phi_build(h, &phi, n, x);
    double *beta = h->alloc(sizeof *beta * (d + 1));
    double *cov = h->alloc(sizeof *cov * (d * d + 1));
    if (!Z || !beta || !cov)
        rc = oom(err, errlen);
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++) {
        rc = fit_linear_arm(f, k, n, Z, target, weight, mask, beta, cov, err, errlen);
        if (rc == TT_OK)
            place_block(&f->lin, k, beta, cov);
    }
    h->release(Z);
    h->release(beta);
    h->release(cov);
    return rc;
}

/* ---- fitting: learner kind ---- */

/* K-1 learners, arm k's fitted on the rows idx[0..m-1] (idx NULL: 0..m-1)
 * that arm k's mask keeps, from the training copy. */
static int fit_learners(pu_final *f, const size_t *idx, size_t m, tt_learner ***out, char *err,
                        size_t errlen)
{
    const tt_plugin_host *h = f->host;
    size_t n = f->n, p = f->p_x;
    *out = NULL;
    tt_learner **l = h->alloc_zero((size_t)f->n_arms, sizeof *l);
    double *xs = h->alloc(sizeof *xs * (m * p + 1));
    double *ys = h->alloc(sizeof *ys * (m + 1));
    double *ws = h->alloc(sizeof *ws * (m + 1));
    int rc = TT_OK;
    if (!l || !xs || !ys || !ws)
        rc = oom(err, errlen);
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++) {
        size_t col = (size_t)(k - 1) * n, cnt = 0;
        for (size_t r = 0; r < m; r++) {
            size_t i = idx ? idx[r] : r;
            cnt += !f->mask || f->mask[col + i];
        }
        if (cnt == 0) {
            rc = pu_errf(err, errlen, TT_ERR_DATA, "final stage of arm %d has no rows", k);
            break;
        }
        size_t c = 0;
        for (size_t r = 0; r < m; r++) {
            size_t i = idx ? idx[r] : r;
            if (f->mask && !f->mask[col + i])
                continue;
            for (size_t j = 0; j < p; j++)
                xs[j * cnt + c] = f->x[j * n + i];
            ys[c] = f->target[col + i];
            ws[c] = f->weight ? f->weight[col + i] : 1.0;
            c++;
        }
        rc = pu_slot_create(h, &f->spec.slot, 0, &l[k - 1], err, errlen);
        if (rc == TT_OK)
            rc = h->learner_fit(l[k - 1], cnt, p, xs, ys, f->weight ? ws : NULL, err, errlen);
    }
    h->release(xs);
    h->release(ys);
    h->release(ws);
    if (rc != TT_OK) {
        destroy_learners(h, l, f->n_arms);
        return rc;
    }
    *out = l;
    return TT_OK;
}

static int predict_learners(const pu_final *f, tt_learner *const *l, const tt_plugin_data *rows,
                            double *out, char *err, size_t errlen)
{
    const tt_plugin_host *h = f->host;
    size_t n = rows->n;
    int rc = TT_OK;
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
        rc = h->learner_predict(l[k - 1], n, f->p_x, rows->x, out + (size_t)(k - 1) * n, err,
                                errlen);
    return rc;
}

/* Bootstrap ops: ctx is the pu_final, a replica is a tt_learner *[K-1]. */
static int boot_fit(void *ctx, const size_t *idx, size_t n, void **replica, char *err,
                    size_t errlen)
{
    tt_learner **l;
    int rc = fit_learners(ctx, idx, n, &l, err, errlen);
    *replica = rc == TT_OK ? (void *)l : NULL;
    return rc;
}

static int boot_effect(void *ctx, const void *replica, const tt_plugin_data *rows, double *out,
                       char *err, size_t errlen)
{
    return predict_learners(ctx, replica, rows, out, err, errlen);
}

static int boot_save(void *ctx, const void *replica, const tt_plugin_sink *sink, char *err,
                     size_t errlen)
{
    const pu_final *f = ctx;
    tt_learner *const *l = replica;
    int rc = TT_OK;
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
        rc = pu_save_learner(f->host, l[k - 1], sink, err, errlen);
    return rc;
}

static int boot_load(void *ctx, const tt_plugin_source *src, void **replica, char *err,
                     size_t errlen)
{
    const pu_final *f = ctx;
    *replica = NULL;
    tt_learner **l = f->host->alloc_zero((size_t)f->n_arms, sizeof *l);
    if (!l)
        return oom(err, errlen);
    int rc = TT_OK;
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
        rc = pu_load_learner(f->host, src, &l[k - 1], err, errlen);
    if (rc != TT_OK) {
        destroy_learners(f->host, l, f->n_arms);
        return rc;
    }
    *replica = l;
    return TT_OK;
}

static void boot_destroy(void *ctx, void *replica)
{
    const pu_final *f = ctx;
    destroy_learners(f->host, replica, f->n_arms);
}

static const pu_boot_ops final_boot_ops = {
    .fit = boot_fit,
    .effect = boot_effect,
    .save = boot_save,
    .load = boot_load,
    .destroy = boot_destroy,
};

/* Copies what the lazy bootstrap needs; the caller's arrays are not kept. */
static int copy_training(pu_final *f, size_t n, const double *x, const double *target,
                         const double *weight, const unsigned char *mask)
{
    const tt_plugin_host *h = f->host;
    size_t km1 = (size_t)f->n_arms - 1;
    f->n = n;
    f->x = h->alloc(sizeof *f->x * (n * f->p_x + 1));
    f->target = h->alloc(sizeof *f->target * (n * km1 + 1));
    f->weight = weight ? h->alloc(sizeof *f->weight * (n * km1 + 1)) : NULL;
    f->mask = mask ? h->alloc(n * km1 + 1) : NULL;
    if (!f->x || !f->target || (weight && !f->weight) || (mask && !f->mask))
        return -1;
    if (f->p_x)
        memcpy(f->x, x, sizeof *f->x * n * f->p_x);
    memcpy(f->target, target, sizeof *f->target * n * km1);
    if (weight)
        memcpy(f->weight, weight, sizeof *f->weight * n * km1);
    if (mask)
        memcpy(f->mask, mask, n * km1);
    return 0;
}

static int fit_learner_kind(pu_final *f, size_t n, const double *x, const int *arm,
                            const double *target, const double *weight,
                            const unsigned char *mask, char *err, size_t errlen)
{
    if (copy_training(f, n, x, target, weight, mask) != 0)
        return oom(err, errlen);
    int rc = fit_learners(f, NULL, n, &f->learners, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_init(&f->boot, f->host, &final_boot_ops, f, f->n_arms, f->spec.resamples,
                          n, arm, err, errlen);
    if (rc == TT_OK)
        f->boot_ready = 1;
    return rc;
}

/* ---- fitting: forest kind ---- */

/* Arm k's forest on the rows its mask keeps (gathered: the engine has no mask). */
static int fit_forest_arm(pu_final *f, int k, size_t n, const double *x, const double *target,
                          const double *weight, const unsigned char *mask, char *err,
                          size_t errlen)
{
    const tt_plugin_host *h = f->host;
    size_t p = f->p_x, col = (size_t)(k - 1) * n, cnt = 0;
    for (size_t i = 0; i < n; i++)
        cnt += !mask || mask[col + i];
    if (cnt == 0)
        return pu_errf(err, errlen, TT_ERR_DATA, "final stage of arm %d has no rows", k);
    double *xs = h->alloc(sizeof *xs * (cnt * p + 1));
    double *ys = h->alloc(sizeof *ys * (cnt + 1));
    double *ws = weight ? h->alloc(sizeof *ws * (cnt + 1)) : NULL;
    int rc = TT_OK;
    if (!xs || !ys || (weight && !ws))
        rc = oom(err, errlen);
    size_t c = 0;
    for (size_t i = 0; rc == TT_OK && i < n; i++) {
        if (mask && !mask[col + i])
            continue;
        for (size_t j = 0; j < p; j++)
            xs[j * cnt + c] = x[j * n + i];
        ys[c] = target[col + i];
        if (ws)
            ws[c] = weight[col + i];
        c++;
    }
    tt_forest_options opt;
    pu_forest_options(&f->spec.forest, p, &opt);
    if (rc == TT_OK)
        rc = h->forest_fit(h->host_ctx, TT_FOREST_REGRESSION, &opt, cnt, p, xs, ys, NULL, 0,
                           NULL, ws, &f->forests[k - 1], err, errlen);
    h->release(xs);
    h->release(ys);
    h->release(ws);
    return rc;
}

static int fit_forest_kind(pu_final *f, size_t n, const double *x, const double *target,
                           const double *weight, const unsigned char *mask, char *err,
                           size_t errlen)
{
    f->forests = f->host->alloc_zero((size_t)f->n_arms, sizeof *f->forests);
    if (!f->forests)
        return oom(err, errlen);
    int rc = TT_OK;
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
        rc = fit_forest_arm(f, k, n, x, target, weight, mask, err, errlen);
    return rc;
}

/* Estimates (and variances when var != NULL) of every arm's forest for rows:
 * n x (K-1) column-major, like effect()'s out. */
static int predict_forests(const pu_final *f, const tt_plugin_data *rows, double *est,
                           double *var, char *err, size_t errlen)
{
    size_t n = rows->n;
    int rc = TT_OK;
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
        rc = f->host->forest_predict(f->forests[k - 1], n, f->p_x, rows->x,
                                     est + (size_t)(k - 1) * n,
                                     var ? var + (size_t)(k - 1) * n : NULL, err, errlen);
    return rc;
}

/* Row bounds est -+ z sqrt(var); est may be NULL. */
static int forest_bounds(pu_final *f, const tt_plugin_data *rows, double alpha, double *est_out,
                         double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = f->host;
    size_t m = rows->n * ((size_t)f->n_arms - 1);
    double *est = est_out ? est_out : h->alloc(sizeof *est * (m + 1));
    double *var = h->alloc(sizeof *var * (m + 1));
    int rc = (!est || !var) ? oom(err, errlen) : TT_OK;
    if (rc == TT_OK)
        rc = predict_forests(f, rows, est, var, err, errlen);
    if (rc == TT_OK)
        rc = pu_forest_bounds(m, est, var, alpha, lo, hi, err, errlen);
    if (!est_out)
        h->release(est);
    h->release(var);
    return rc;
}

/* Mean estimate per arm; its interval is the mean of the row bounds (no
 * covariance between rows is available: see pu_final.h). */
static int forest_average(pu_final *f, const tt_plugin_data *rows, double alpha, double *ate,
                          double *lo, double *hi, char *err, size_t errlen)
{
    const tt_plugin_host *h = f->host;
    size_t n = rows->n, m = n * ((size_t)f->n_arms - 1);
    if (n == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, "average effect over no rows");
    double *est = h->alloc(sizeof *est * (m + 1));
    double *rl = h->alloc(sizeof *rl * (m + 1));
    double *rh = h->alloc(sizeof *rh * (m + 1));
    int rc = (!est || !rl || !rh) ? oom(err, errlen) : TT_OK;
    if (rc == TT_OK)
        rc = forest_bounds(f, rows, alpha, est, rl, rh, err, errlen);
    if (rc == TT_OK)
        pu_mean_of_rows(n, f->n_arms - 1, est, rl, rh, ate, lo, hi);
    h->release(est);
    h->release(rl);
    h->release(rh);
    return rc;
}

int pu_final_fit(pu_final *f, size_t n, size_t p_x, const double *x, const int *arm,
                 const double *target, const double *weight, const unsigned char *mask,
                 char *err, size_t errlen)
{
    reset(f);
    if (n == 0)
        return pu_errf(err, errlen, TT_ERR_DATA, "final stage: no training rows");
    if (!arm || !target)
        return pu_errf(err, errlen, TT_ERR_INVALID, "final stage: arm and target are required");
    if (p_x && !x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "final stage: x is NULL with %zu columns",
                       p_x);
    for (size_t i = 0; i < n; i++)
        if (arm[i] < 0 || arm[i] >= f->n_arms)
            return pu_errf(err, errlen, TT_ERR_INVALID, "row %zu has arm %d, outside 0..%d", i,
                           arm[i], f->n_arms - 1);
    f->p_x = p_x;
    int rc;
    if (f->spec.kind == PU_FINAL_LEARNER)
        rc = fit_learner_kind(f, n, x, arm, target, weight, mask, err, errlen);
    else if (f->spec.kind == PU_FINAL_FOREST)
        rc = fit_forest_kind(f, n, x, target, weight, mask, err, errlen);
    else
        rc = fit_linear(f, n, x, target, weight, mask, err, errlen);
    if (rc != TT_OK) {
        reset(f);
        return rc;
    }
    f->fitted = 1;
    return TT_OK;
}

/* ---- effects ---- */

static int check_rows(const pu_final *f, const tt_plugin_data *rows, char *err, size_t errlen)
{
    if (!f->fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, "the final stage is not fitted");
    if (rows->p_x != f->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID,
                       "rows have %zu effect modifiers, the final stage was fitted on %zu",
                       rows->p_x, f->p_x);
    return TT_OK;
}

int pu_final_effect(pu_final *f, const tt_plugin_data *rows, double *out, char *err,
                    size_t errlen)
{
    int rc = check_rows(f, rows, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (f->spec.kind == PU_FINAL_FOREST)
        return predict_forests(f, rows, out, NULL, err, errlen);
    if (f->spec.kind != PU_FINAL_LEARNER)
        return pu_linear_effect(&f->lin, rows, out, err, errlen);
    return predict_learners(f, f->learners, rows, out, err, errlen);
}

/* The learners' point effects for rows, allocated (caller releases). */
static int learner_point(pu_final *f, const tt_plugin_data *rows, double **point, char *err,
                         size_t errlen)
{
    size_t m = rows->n * ((size_t)f->n_arms - 1);
    *point = f->host->alloc(sizeof **point * (m + 1));
    if (!*point)
        return oom(err, errlen);
    int rc = predict_learners(f, f->learners, rows, *point, err, errlen);
    if (rc != TT_OK) {
        f->host->release(*point);
        *point = NULL;
    }
    return rc;
}

int pu_final_interval(pu_final *f, const tt_plugin_data *rows, double alpha, double *lo,
                      double *hi, char *err, size_t errlen)
{
    int rc = check_rows(f, rows, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (f->spec.kind == PU_FINAL_FOREST)
        return forest_bounds(f, rows, alpha, NULL, lo, hi, err, errlen);
    if (f->spec.kind != PU_FINAL_LEARNER)
        return pu_linear_interval(&f->lin, rows, alpha, lo, hi, err, errlen);
    double *point;
    rc = learner_point(f, rows, &point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_interval(&f->boot, rows, point, alpha, lo, hi, err, errlen);
    f->host->release(point);
    return rc;
}

int pu_final_average(pu_final *f, const tt_plugin_data *rows, double alpha, double *ate,
                     double *lo, double *hi, char *err, size_t errlen)
{
    int rc = check_rows(f, rows, err, errlen);
    if (rc != TT_OK)
        return rc;
    if (f->spec.kind == PU_FINAL_FOREST)
        return forest_average(f, rows, alpha, ate, lo, hi, err, errlen);
    if (f->spec.kind != PU_FINAL_LEARNER)
        return pu_linear_average(&f->lin, rows, alpha, ate, lo, hi, err, errlen);
    double *point;
    rc = learner_point(f, rows, &point, err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_average(&f->boot, rows, point, alpha, ate, lo, hi, err, errlen);
    f->host->release(point);
    return rc;
}

/* ---- save / load ---- */

int pu_final_save(pu_final *f, const tt_plugin_sink *sink, char *err, size_t errlen)
{
    if (!f->fitted)
        return pu_errf(err, errlen, TT_ERR_INVALID, "the final stage is not fitted");
    /* A LEARNER stage fits its bootstrap replicas first (pu_boot_save would
     * anyway), so a failed bootstrap leaves nothing half-written; a stopped
     * one is saved without replicas by pu_boot_save (pu_boot.h). */
    int rc = f->spec.kind == PU_FINAL_LEARNER ? pu_boot_ensure(&f->boot, err, errlen) : TT_OK;
    if (rc != TT_OK && rc != TT_ERR_STOPPED)
        return rc;
    rc = TT_OK;
    double phi[3] = {f->spec.phi.intercept, f->spec.phi.poly2, (double)f->p_x};
    if (pu_writef(sink, "pu_final 1\nkind %d\narms %d\npx %zu\n", (int)f->spec.kind, f->n_arms,
                  f->p_x) != 0 ||
        pu_write_doubles(sink, "phi", phi, 3) != 0 || pu_slot_save(&f->spec.slot, sink) != 0 ||
        pu_writef(sink, "resamples %zu\n", f->spec.resamples) != 0)
        return pu_errf(err, errlen, TT_ERR_IO, "cannot write the final stage's header");
    if (f->spec.kind == PU_FINAL_FOREST) {
        for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
            rc = pu_forest_save(f->host, f->forests[k - 1], sink, err, errlen);
    } else if (f->spec.kind != PU_FINAL_LEARNER) {
        rc = pu_linear_save(&f->lin, sink, err, errlen);
    } else {
        for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
            rc = pu_save_learner(f->host, f->learners[k - 1], sink, err, errlen);
        if (rc == TT_OK)
            rc = pu_boot_save(&f->boot, sink, err, errlen);
    }
    if (rc == TT_OK && pu_writef(sink, "end pu_final\n") != 0)
        rc = pu_errf(err, errlen, TT_ERR_IO, "cannot write the final stage");
    return rc;
}

static int parse_error(const char *what, char *err, size_t errlen)
{
    return pu_errf(err, errlen, TT_ERR_PARSE, "saved final stage: expected %s", what);
}

/* The header up to "resamples": fills f's spec, n_arms and p_x. */
static int load_header(pu_final *f, const tt_plugin_source *src, char *err, size_t errlen)
{
    long version, kind, arms, px, resamples;
    double phi[3];
    if (pu_read_long(src, "pu_final", &version) != 0 || version != 1)
        return parse_error("'pu_final 1'", err, errlen);
    if (pu_read_long(src, "kind", &kind) != 0 || kind < PU_FINAL_LINEAR || kind > PU_FINAL_FOREST)
        return parse_error("'kind <0..3>'", err, errlen);
    if (pu_read_long(src, "arms", &arms) != 0 || arms < 2 || arms > 1000000)
        return parse_error("'arms <count >= 2>'", err, errlen);
    if (pu_read_long(src, "px", &px) != 0 || px < 0 || px > 100000000)
        return parse_error("'px <columns>'", err, errlen);
    if (pu_read_doubles(src, "phi", phi, 3) != 0 || (phi[0] != 0 && phi[0] != 1) ||
        (phi[1] != 0 && phi[1] != 1) || phi[2] != (double)px)
        return parse_error("'phi <intercept 0/1> <poly2 0/1> <px>'", err, errlen);
    if (pu_slot_load(src, &f->spec.slot) != 0)
        return parse_error("'slot <6 numbers>'", err, errlen);
    if (pu_read_long(src, "resamples", &resamples) != 0 || resamples < 0)
        return parse_error("'resamples <count>'", err, errlen);
    f->spec.kind = (pu_final_kind)kind;
    f->spec.phi = (pu_phi){.intercept = (int)phi[0], .poly2 = (int)phi[1], .p_x = (size_t)px};
    f->spec.resamples = (size_t)resamples;
    f->n_arms = (int)arms;
    f->p_x = (size_t)px;
    return TT_OK;
}

static int load_body(pu_final *f, const tt_plugin_source *src, char *err, size_t errlen)
{
    const tt_plugin_host *h = f->host;
    int rc;
    if (f->spec.kind == PU_FINAL_FOREST) {
        rc = pu_forest_check_host(h, "the forest final stage", err, errlen);
        f->forests = rc == TT_OK ? h->alloc_zero((size_t)f->n_arms, sizeof *f->forests) : NULL;
        if (rc == TT_OK && !f->forests)
            rc = oom(err, errlen);
        for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
            rc = pu_forest_load(h, src, &f->forests[k - 1], err, errlen);
        return rc;
    }
    if (f->spec.kind != PU_FINAL_LEARNER) {
        rc = pu_linear_load(&f->lin, h, src, err, errlen);
        if (rc == TT_OK && (f->lin.n_arms != f->n_arms || f->lin.phi.p_x != f->p_x ||
                            f->lin.phi.intercept != f->spec.phi.intercept ||
                            f->lin.phi.poly2 != f->spec.phi.poly2))
            rc = parse_error("a linear model matching the header", err, errlen);
        return rc;
    }
    f->learners = h->alloc_zero((size_t)f->n_arms, sizeof *f->learners);
    if (!f->learners)
        return oom(err, errlen);
    rc = TT_OK;
    for (int k = 1; k < f->n_arms && rc == TT_OK; k++)
        rc = pu_load_learner(h, src, &f->learners[k - 1], err, errlen);
    if (rc == TT_OK)
        rc = pu_boot_load(&f->boot, h, &final_boot_ops, f, src, err, errlen);
    if (rc == TT_OK) {
        f->boot_ready = 1;
        if (f->boot.n_arms != f->n_arms)
            rc = parse_error("a bootstrap with the header's arms", err, errlen);
    }
    return rc;
}

int pu_final_load(const tt_plugin_host *host, const tt_plugin_source *src, pu_final **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    pu_final *f = host->alloc_zero(1, sizeof *f);
    if (!f)
        return oom(err, errlen);
    f->host = host;
    f->n_arms = 2; /* until the header says otherwise: keeps reset() safe */
    int rc = load_header(f, src, err, errlen);
    if (rc == TT_OK)
        rc = load_body(f, src, err, errlen);
    char end[32];
    if (rc == TT_OK && (pu_read_line(src, end, sizeof end) != 0 || strcmp(end, "end pu_final")))
        rc = parse_error("'end pu_final'", err, errlen);
    if (rc != TT_OK) {
        pu_final_free(f);
        return rc;
    }
    set_method(f);
    f->fitted = 1;
    *out = f;
    return TT_OK;
}

const char *pu_final_method(const pu_final *f)
{
    return f->method;
}

int pu_final_importance(pu_final *f, double *out, size_t p, char *err, size_t errlen)
{
    if (!f || !f->fitted || f->spec.kind != PU_FINAL_FOREST || !f->forests)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED, "no forest final stage");
    if (p != f->p_x)
        return pu_errf(err, errlen, TT_ERR_INVALID, "fitted on %zu features, asked %zu", f->p_x,
                       p);
    double *one = f->host->alloc(sizeof *one * (p + 1));
    if (!one)
        return oom(err, errlen);
    for (size_t j = 0; j < p; j++)
        out[j] = 0.0;
    int rc = TT_OK;
    /* The arms' forests, averaged: each arm's effect its own forest. */
    for (int k = 1; rc == TT_OK && k < f->n_arms; k++) {
        rc = pu_forest_importance(f->host, f->forests[k - 1], one, p, err, errlen);
        for (size_t j = 0; rc == TT_OK && j < p; j++)
            out[j] += one[j] / (double)(f->n_arms - 1);
    }
    f->host->release(one);
    return rc;
}
