/*
 * learner.c - the shared half of every learner: registry, hyperparameters,
 * input validation, featurizers (poly2, standardize) and the fit / predict
 * dispatch. The saved text format is in learner_save.c.
 */
#include "learn/learner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner_impl.h"
#include "linalg/linalg.h"
#include "util/err.h"
#include "util/mem.h"


static const tt_learner_ops *const all_ops[] = {&tt_ridge_ops, &tt_logistic_ops, &tt_lasso_ops,
                                                &tt_elastic_net_ops, &tt_forest_ops, &tt_gbm_ops};
#define N_OPS (sizeof all_ops / sizeof all_ops[0])

const tt_learner_ops *tt_learn_find_ops(const char *name)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (strcmp(all_ops[i]->name, name) == 0)
            return all_ops[i];
    return NULL;
}

size_t tt_learner_count(void)
{
    return N_OPS;
}

const char *tt_learner_name_at(size_t index)
{
    return index < N_OPS ? all_ops[index]->name : NULL;
}

int tt_learner_info_at(size_t index, tt_learner_info *out)
{
    if (index >= N_OPS || !out)
        return -1;
    const tt_learner_ops *ops = all_ops[index];
    *out = (tt_learner_info){.name = ops->name, .summary = ops->summary, .params = ops->params,
                             .n_params = ops->n_params};
    return 0;
}

static void list_names(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_OPS && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", all_ops[i]->name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static tt_status unknown_name(const char *name, char *err, size_t errlen)
{
    char names[160];
    list_names(names, sizeof names);
    return tt_errf(err, errlen, TT_ERR_CONFIG, "unknown learner '%s'; valid names: %s", name,
                   names);
}

tt_status tt_learner_describe(const char *name, const tt_learner_param_info **params,
                              size_t *n_params, char *err, size_t errlen)
{
    const tt_learner_ops *ops = name ? tt_learn_find_ops(name) : NULL;
    if (!ops)
        return unknown_name(name ? name : "(null)", err, errlen);
    if (params)
        *params = ops->params;
    if (n_params)
        *n_params = ops->n_params;
    return TT_OK;
}

static void list_keys(const tt_learner_ops *ops, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ops->n_params && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ops->params[i].name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

int tt_learn_find_param(const tt_learner_ops *ops, const char *key)
{
    for (size_t i = 0; i < ops->n_params; i++)
        if (strcmp(ops->params[i].name, key) == 0)
            return (int)i;
    return -1;
}

tt_status tt_learn_check_param(const tt_learner_ops *ops, size_t idx, double v, tt_status status,
                             char *err, size_t errlen)
{
    const tt_learner_param_spec *s = &ops->params[idx];
    if (s->auto_ok && v == TT_LEARNER_AUTO)
        return TT_OK;
    if (!isfinite(v) || v < s->lo || v > s->hi)
        return tt_errf(err, errlen, status, "%s: %s must be a finite number in [%g, %g]%s, got %g",
                       ops->name, s->name, s->lo, s->hi, s->auto_ok ? " or auto (-1)" : "", v);
    if ((s->kind == TT_PARAM_INT || s->kind == TT_PARAM_BOOL) && v != floor(v))
        return tt_errf(err, errlen, status, "%s: %s must be a whole number, got %g", ops->name,
                       s->name, v);
    return TT_OK;
}

tt_status tt_learner_create(const char *name, const char *const *keys, const double *values,
                            size_t n_params, uint64_t seed, tt_learner **out,
                            char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: out is NULL");
    *out = NULL;
    if (!name)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: name is NULL");
    const tt_learner_ops *ops = tt_learn_find_ops(name);
    if (!ops)
        return unknown_name(name, err, errlen);
    if (n_params > 0 && (!keys || !values))
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: %zu hyperparameters but keys or values "
                       "is NULL", ops->name, n_params);

    double param[TT_LEARNER_MAX_PARAMS];
    int seen[TT_LEARNER_MAX_PARAMS] = {0};
    for (size_t i = 0; i < ops->n_params; i++)
        param[i] = ops->params[i].default_value;
    for (size_t i = 0; i < n_params; i++) {
        if (!keys[i])
            return tt_errf(err, errlen, TT_ERR_INVALID, "%s: hyperparameter key %zu is NULL",
                           ops->name, i);
        int idx = tt_learn_find_param(ops, keys[i]);
        if (idx < 0) {
            char valid[256];
            list_keys(ops, valid, sizeof valid);
            return tt_errf(err, errlen, TT_ERR_CONFIG,
                           "%s: unknown hyperparameter '%s'; valid keys: %s", ops->name, keys[i],
                           valid);
        }
        if (seen[idx]++)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: hyperparameter '%s' given twice",
                           ops->name, keys[i]);
        tt_status st = tt_learn_check_param(ops, (size_t)idx, values[i], TT_ERR_CONFIG, err, errlen);
        if (st != TT_OK)
            return st;
        param[idx] = values[i];
    }

    tt_learner *l = calloc(1, sizeof *l);
    if (!l)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory", ops->name);
    l->ops = ops;
    memcpy(l->param, param, ops->n_params * sizeof param[0]);
    l->seed = seed;
    *out = l;
    return TT_OK;
}

static void forget_fit(tt_learner *l)
{
    free(l->coef);
    l->coef = NULL;
    if (l->model)
        l->ops->model_free(l->model);
    l->model = NULL;
    l->fitted = 0;
    l->p = 0;
    l->n_outputs = 0;
    l->intercept = 0.0;
}

static tt_status validate_inputs(const char *name, size_t n, size_t p, const double *x,
                                 const double *y, const double *w, double *w_sum,
                                 char *err, size_t errlen)
{
    if (n == 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: fit needs at least one row", name);
    if ((p > 0 && !x) || !y)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: x or y is NULL", name);
    tt_status st = tt_linalg_check_dims(n, p, err, errlen);
    if (st != TT_OK) {
        tt_err_prefix(err, errlen, "%s", name);
        return st;
    }
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[j * n + i]))
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: x at row %zu, column %zu is not finite", name, i, j);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return tt_errf(err, errlen, TT_ERR_DATA, "%s: y at row %zu is not finite", name, i);
    double s = 0.0;
    if (w) {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(w[i]) || w[i] < 0.0)
                return tt_errf(err, errlen, TT_ERR_DATA,
                               "%s: weight at row %zu is %g; weights must be finite and >= 0",
                               name, i, w[i]);
            s += w[i];
        }
    } else {
        s = (double)n;
    }
    if (!(s > 0.0) || !isfinite(s))
        return tt_errf(err, errlen, TT_ERR_DATA, "%s: the weights sum to %g; need a finite "
                       "positive total", name, s);
    *w_sum = s;
    return TT_OK;
}

/* ---- featurizers (linear learners) ---------------------------------------- */

int tt_learn_flag(const tt_learner *l, const char *key)
{
    int i = tt_learn_find_param(l->ops, key);
    return i >= 0 && l->param[i] != 0.0;
}

size_t tt_learn_feature_width(size_t p, int poly2)
{
    return poly2 ? p + p * (p + 1) / 2 : p;
}

/* Degree-2 expansion: the p columns, then x_j x_k for j <= k (squares and
 * interactions, in that row-major upper-triangle order). */
static double *expand_poly2(size_t n, size_t p, const double *x)
{
    size_t q = tt_learn_feature_width(p, 1);
    double *z = tt_malloc_array(n, q * sizeof *z);
    if (!z)
        return NULL;
    memcpy(z, x, n * p * sizeof *z);
    size_t c = p;
    for (size_t j = 0; j < p; j++)
        for (size_t k = j; k < p; k++, c++)
            for (size_t i = 0; i < n; i++)
                z[c * n + i] = x[j * n + i] * x[k * n + i];
    return z;
}

/* The squares and products of real data repeat themselves: the square of a
 * 0/1 column is the column, the product of two levels of one one-hot
 * categorical is 0. Such columns add nothing but make the penalised solvers
 * crawl (coordinate descent shares a weight between twins forever; on IHDP's
 * 19 dummies a poly2 lasso slot ran past a 15 s trial timeout). So poly2
 * designs drop constant columns (on the rows with weight) and exact
 * duplicates of an earlier column, in column order: z is compacted in place
 * to *q_keep columns and keep[c] is the original index of column c.
 * Dropped columns get coefficient 0 (the intercept carries constants), so
 * prediction and the saved format stay those of the full design. */
static void screen_columns(size_t n, size_t q, double *z, const double *w, size_t *keep,
                           size_t *q_keep)
{
    uint64_t *hash = tt_malloc_array(q ? q : 1, sizeof *hash);
    size_t m = 0;
    for (size_t j = 0; j < q; j++) {
        const double *col = z + j * n;
        size_t first = 0;
        while (first < n && w && !(w[first] > 0.0))
            first++;
        int constant = 1;
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
            if (w && !(w[i] > 0.0))
                continue;
            if (col[i] != col[first])
                constant = 0;
            uint64_t bits;
            double v = col[i] == 0.0 ? 0.0 : col[i]; /* -0 == 0 */
            memcpy(&bits, &v, sizeof bits);
            h = (h ^ bits) * 1099511628211ull;
        }
        int dup = 0;
        for (size_t c = 0; !constant && !dup && c < m; c++) {
            if (hash && hash[c] != h)
                continue;
            const double *kept = z + c * n;
            dup = 1;
            for (size_t i = 0; i < n && dup; i++)
                if ((!w || w[i] > 0.0) && kept[i] != col[i])
                    dup = 0;
        }
        if (constant || dup)
            continue;
        if (m != j)
            memmove(z + m * n, col, n * sizeof *z);
        if (hash)
            hash[m] = h;
        keep[m++] = j;
    }
    free(hash);
    *q_keep = m;
}

/* K when y holds whole labels 0..K-1 with K > 2 (up to 64), else 0. */
static size_t multinomial_classes(const tt_fit_input *in)
{
    double mx = 0.0;
    for (size_t i = 0; i < in->n; i++) {
        double v = in->y[i];
        if (v < 0.0 || v > 63.0 || v != floor(v))
            return 0;
        mx = fmax(mx, v);
    }
    return mx >= 2.0 ? (size_t)mx + 1 : 0;
}

static tt_status fit_linear(tt_learner *l, const tt_fit_input *raw, char *err, size_t errlen)
{
    const int poly2 = tt_learn_flag(l, "poly2"), standardize = tt_learn_flag(l, "standardize");
    const size_t n = raw->n, q_full = tt_learn_feature_width(raw->p, poly2);
    size_t q = q_full; /* columns fitted: poly2 designs drop repeats (screen_columns) */
    tt_fit_input in = *raw;
    in.p = q;
    double *z = NULL, *mean = NULL, *scale = NULL, *coef = NULL;
    size_t *keep = NULL;
    tt_status st = TT_OK;
    if (q > 0 && !(coef = tt_malloc_array(q, sizeof *coef)))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu coefficients", q);
    if (poly2 && raw->p > 0) {
        if (!(z = expand_poly2(n, raw->p, raw->x)) || !(keep = tt_malloc_array(q, sizeof *keep))) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu x %zu poly2 features",
                         n, q);
            goto done;
        }
        screen_columns(n, q_full, z, raw->w, keep, &q);
        in.x = z;
        in.p = q;
    }
    size_t k = l->ops->multinomial ? multinomial_classes(raw) : 0;
    /* A fit that takes the scales itself (two classes, no poly2 design to
     * build anyway) reads the caller's x as it is: a million rows x 20
     * features is 160 MB a scaled copy would add. */
    const int in_place = l->ops->scales_in_place && k <= 2 && !z;
    if (standardize && q > 0) {
        mean = tt_malloc_array(q, sizeof *mean);
        scale = tt_malloc_array(q, sizeof *scale);
        if (!z && !in_place)
            z = tt_malloc_array(n, q * sizeof *z);
        if (!mean || !scale || (!z && !in_place)) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory to standardize");
            goto done;
        }
        tt_linalg_weighted_means(n, q, in.x, in.w, in.w_sum, mean);
        for (size_t j = 0; j < q; j++) {
            const double *col = in.x + j * n;
            double ss = 0.0;
            for (size_t i = 0; i < n; i++) {
                double d = col[i] - mean[j];
                ss += (in.w ? in.w[i] : 1.0) * d * d;
            }
            /* A constant column: leave it. With weights its computed spread
             * is rounding (~1e-16 of the mean, not 0), and dividing by that
             * turns the column into noise the size of the others. */
            double sd = sqrt(ss / in.w_sum);
            scale[j] = sd > 1e-12 * fabs(mean[j]) && sd > 0.0 ? sd : 1.0;
            for (size_t i = 0; z && i < n; i++)
                z[j * n + i] = (col[i] - mean[j]) / scale[j];
        }
        if (z)
            in.x = z;
        else
            in.x_scale = scale;
    }
    if (k > 2) {
        double *blocks = tt_malloc_array(k, (q + 1) * sizeof *blocks);
        if (!blocks) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu classes", k);
            goto done;
        }
        st = tt_logistic_multi_fit(l->fit_param[0], &in, k, blocks, err, errlen);
        for (size_t c = 0; st == TT_OK && mean && c < k; c++)
            for (size_t j = 0; j < q; j++) {
                blocks[c * (q + 1) + 1 + j] /= scale[j];
                blocks[c * (q + 1)] -= mean[j] * blocks[c * (q + 1) + 1 + j];
            }
        for (size_t j = 0; st == TT_OK && j < k * (q + 1); j++)
            if (!isfinite(blocks[j]))
                st = tt_errf(err, errlen, TT_ERR_NUMERIC, "the fit produced non-finite "
                             "coefficients");
        if (st == TT_OK && q < q_full) {
            /* Back to the full design's layout, zeros for dropped columns. */
            double *full = calloc(k * (q_full + 1), sizeof *full);
            if (!full) {
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu classes", k);
            } else {
                for (size_t c = 0; c < k; c++) {
                    full[c * (q_full + 1)] = blocks[c * (q + 1)];
                    for (size_t j = 0; j < q; j++)
                        full[c * (q_full + 1) + 1 + keep[j]] = blocks[c * (q + 1) + 1 + j];
                }
                free(blocks);
                blocks = full;
            }
        }
        if (st != TT_OK) {
            free(blocks);
            goto done;
        }
        l->coef = blocks;
        l->n_outputs = k;
        goto done;
    }
    double b0 = 0.0;
    st = l->ops->fit(l->fit_param, &in, &b0, coef, err, errlen);
    if (st != TT_OK)
        goto done;
    if (mean) {
        /* Back to the raw scale, so prediction needs no stored statistics.
         * (Scaled in place, the columns were not centred: b0 stands.) */
        for (size_t j = 0; j < q; j++) {
            coef[j] /= scale[j];
            if (!in.x_scale)
                b0 -= mean[j] * coef[j];
        }
    }
    int finite = isfinite(b0);
    for (size_t j = 0; j < q && finite; j++)
        finite = isfinite(coef[j]);
    if (!finite) {
        st = tt_errf(err, errlen, TT_ERR_NUMERIC, "the fit produced non-finite coefficients");
        goto done;
    }
    if (q < q_full) {
        double *full = calloc(q_full, sizeof *full);
        if (!full) {
            st = tt_errf(err, errlen, TT_ERR_NOMEM, "no memory for %zu coefficients", q_full);
            goto done;
        }
        for (size_t j = 0; j < q; j++)
            full[keep[j]] = coef[j];
        free(coef);
        coef = full;
    }
    l->coef = coef;
    coef = NULL;
    l->intercept = b0;
    l->n_outputs = 1;
done:
    free(coef);
    free(keep);
    free(z);
    free(mean);
    free(scale);
    return st;
}

tt_status tt_learner_fit(tt_learner *learner, size_t n, size_t p, const double *x,
                         const double *y, const double *weight, char *err, size_t errlen)
{
    if (!learner)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: NULL learner");
    const char *name = learner->ops->name;
    forget_fit(learner);
    double w_sum = 0.0;
    tt_status st = validate_inputs(name, n, p, x, y, weight, &w_sum, err, errlen);
    if (st != TT_OK)
        return st;
    tt_fit_input in = {n, p, x, y, weight, w_sum, learner->seed, NULL};
    memcpy(learner->fit_param, learner->param, sizeof learner->param);
    if (learner->ops->fit)
        st = fit_linear(learner, &in, err, errlen);
    else
        st = learner->ops->model_fit(learner->param, &in, &learner->model,
                                     &learner->n_outputs, err, errlen);
    if (st != TT_OK) {
        learner->model = NULL;
        learner->n_outputs = 0;
        tt_err_prefix(err, errlen, "%s", name);
        return st;
    }
    learner->p = p;
    learner->fitted = 1;
    return TT_OK;
}

/* Scores (n x k, column-major) to class probabilities in place. */
static void softmax_rows(size_t n, size_t k, double *s)
{
    for (size_t i = 0; i < n; i++) {
        double mx = -INFINITY, z = 0.0;
        for (size_t c = 0; c < k; c++)
            mx = fmax(mx, s[c * n + i]);
        for (size_t c = 0; c < k; c++)
            z += (s[c * n + i] = exp(s[c * n + i] - mx));
        for (size_t c = 0; c < k; c++)
            s[c * n + i] /= z;
    }
}

tt_status tt_learner_predict(const tt_learner *learner, size_t n, size_t p, const double *x,
                             double *out, char *err, size_t errlen)
{
    if (!learner)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: NULL learner");
    const char *name = learner->ops->name;
    if (!learner->fitted)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: predict before a successful fit", name);
    if (p != learner->p)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "%s: fitted on %zu features but asked to predict with %zu", name,
                       learner->p, p);
    if (n == 0)
        return TT_OK;
    if ((p > 0 && !x) || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "%s: x or out is NULL", name);
    tt_status st = tt_linalg_check_dims(n, p, err, errlen);
    if (st != TT_OK) {
        tt_err_prefix(err, errlen, "%s", name);
        return st;
    }
    if (!learner->ops->fit) {
        learner->ops->model_predict(learner->model, n, p, x, out);
        return TT_OK;
    }
    const int poly2 = tt_learn_flag(learner, "poly2");
    double *z = NULL;
    if (poly2 && p > 0 && !(z = expand_poly2(n, p, x)))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: no memory for poly2 features", name);
    const size_t q = tt_learn_feature_width(p, poly2), k = learner->n_outputs;
    if (k > 1) {
        for (size_t c = 0; c < k; c++)
            tt_linalg_affine(n, q, z ? z : x, learner->coef[c * (q + 1)],
                             learner->coef + c * (q + 1) + 1, out + c * n);
        softmax_rows(n, k, out);
    } else {
        tt_linalg_affine(n, q, z ? z : x, learner->intercept, learner->coef, out);
        if (learner->ops->inverse_link)
            learner->ops->inverse_link(n, out);
    }
    free(z);
    return TT_OK;
}

const char *tt_learner_name(const tt_learner *learner)
{
    return learner ? learner->ops->name : NULL;
}

size_t tt_learner_n_outputs(const tt_learner *learner)
{
    return learner && learner->fitted ? learner->n_outputs : 0;
}

double tt_learner_param(const tt_learner *learner, const char *key)
{
    int i = learner && key ? tt_learn_find_param(learner->ops, key) : -1;
    if (i < 0)
        return NAN;
    return learner->fitted ? learner->fit_param[i] : learner->param[i];
}

tt_status tt_learner_oob_predict(const tt_learner *learner, size_t n, double *out,
                                 char *err, size_t errlen)
{
    if (!learner || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "learner: NULL learner or out");
    if (!learner->fitted || !learner->ops->model_oob)
        return tt_errf(err, errlen, TT_ERR_UNSUPPORTED, "%s: no out-of-bag predictions",
                       learner->ops->name);
    return learner->ops->model_oob(learner->model, n, out, err, errlen);
}

void tt_learner_destroy(tt_learner *learner)
{
    if (!learner)
        return;
    forget_fit(learner);
    free(learner);
}
