/* score_nuisance.c - validation-cross-fitted nuisances (score_nuisance.h). */
#include "score/score_nuisance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learner.h"
#include "score/propensity.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

void tt_score_nuisance_free(tt_score_nuisance *nu)
{
    if (!nu)
        return;
    free(nu->fold);
    free(nu->m_hat);
    free(nu->e_hat);
    free(nu->mu_hat);
    free(nu->mu_model);
    free(nu->z);
    free(nu->r_hat);
    free(nu->pz_hat);
    free(nu->t_value);
    memset(nu, 0, sizeof *nu);
}

/* Stratified by arm so every training part keeps every arm (the per-arm
 * models and the propensity need them). */
static tt_status assign_folds(const tt_plugin_data *v, int folds, uint64_t seed, int *fold,
                              char *err, size_t errlen)
{
    size_t *idx = tt_malloc_array(v->n + 1, sizeof *idx);
    if (!idx)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "score nuisances: out of memory");
    tt_rng rng;
    tt_rng_seed(&rng, seed, "score:folds");
    for (int k = 0; k < v->n_arms; k++) {
        size_t m = 0;
        for (size_t i = 0; i < v->n; i++)
            if (v->t[i] == k)
                idx[m++] = i;
        if (m < (size_t)folds) {
            free(idx);
            return tt_errf(err, errlen, TT_ERR_DATA,
                           "score nuisances: arm %d has %zu validation rows, fewer than the %d "
                           "folds", k, m, folds);
        }
        tt_rng_shuffle_size(&rng, idx, m);
        for (size_t j = 0; j < m; j++)
            fold[idx[j]] = (int)(j % (size_t)folds);
    }
    free(idx);
    return TT_OK;
}

/* Rows idx[0..m-1] of v as a contiguous view; the arrays live in *buf. */
static tt_status subset(const tt_plugin_data *v, const size_t *idx, size_t m, tt_plugin_data *out,
                        double **buf, int **tbuf)
{
    const size_t px = v->p_x, pw = v->p_w;
    const int cont = v->t_value != NULL;
    double *b = tt_malloc_array(m * (px + pw + 1 + (size_t)cont) + 1, sizeof *b);
    int *t = tt_malloc_array(m + 1, sizeof *t);
    if (!b || !t) {
        free(b);
        free(t);
        return TT_ERR_NOMEM;
    }
    double *x = b, *w = b + m * px, *y = b + m * (px + pw), *tv = y + m;
    for (size_t r = 0; r < m; r++) {
        const size_t i = idx[r];
        for (size_t j = 0; j < px; j++)
            x[j * m + r] = v->x[j * v->n + i];
        for (size_t j = 0; j < pw; j++)
            w[j * m + r] = v->w[j * v->n + i];
        y[r] = v->y[i];
        t[r] = v->t[i];
        if (cont)
            tv[r] = v->t_value[i];
    }
    *out = *v;
    out->n = m;
    out->x = px ? x : NULL;
    out->w = pw ? w : NULL;
    out->y = y;
    out->t = t;
    out->t_value = cont ? tv : NULL;
    out->weight = NULL;
    *buf = b;
    *tbuf = t;
    return TT_OK;
}

/* The [x, w] blocks of a fold's training rows (m_tr x p, as subset lays them
 * out) and test rows (m_te x p) standardised in place with the training
 * rows' moments: a standardised copy of each was a fifth of the main
 * process's peak at a million rows. */
static void standardise(double *tr, size_t m_tr, double *te, size_t m_te, size_t p)
{
    for (size_t j = 0; j < p; j++) {
        double *rc = tr + j * m_tr, *dc = te + j * m_te;
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < m_tr; i++)
            s += rc[i];
        const double mean = s / (double)m_tr;
        for (size_t i = 0; i < m_tr; i++)
            ss += (rc[i] - mean) * (rc[i] - mean);
        const double sd = sqrt(ss / (double)m_tr), scale = sd > 0.0 ? sd : 1.0;
        for (size_t i = 0; i < m_te; i++)
            dc[i] = (dc[i] - mean) / scale;
        for (size_t i = 0; i < m_tr; i++)
            rc[i] = (rc[i] - mean) / scale;
    }
}

/* The outcome models' candidates (score_nuisance.h): poly2 flag and alpha as
 * a multiple of the run's alpha_ridge. */
#define N_MODELS 3
static const struct {
    int poly2;
    double alpha_times;
    const char *name;
} models[N_MODELS] = {{0, 1.0, "linear ridge"},
                      {1, 10.0, "ridge on squares and products, alpha x 10"},
                      {1, 100.0, "ridge on squares and products, alpha x 100"}};

const char *tt_score_nuisance_model_name(int i)
{
    return i >= 0 && i < N_MODELS ? models[i].name : "?";
}

/* Ridge (candidate `model`) of y on m rows of the design f (m x p), with
 * weights wt (NULL: none), predicting the q rows of g. */
static tt_status ridge(int model, size_t m, size_t p, const double *f, const double *y,
                       const double *wt, size_t q, const double *g, double alpha,
                       uint64_t seed, double *pred, char *err, size_t errlen)
{
    static const char *const keys[] = {"alpha", "poly2", "standardize"};
    const double values[] = {alpha * models[model].alpha_times, models[model].poly2,
                             models[model].poly2};
    tt_learner *lr = NULL;
    tt_status st = tt_learner_create("ridge", keys, values, 3, seed, &lr, err, errlen);
    if (st == TT_OK)
        st = tt_learner_fit(lr, m, p, f, y, wt, err, errlen);
    if (st == TT_OK)
        st = tt_learner_predict(lr, q, p, g, pred, err, errlen);
    tt_learner_destroy(lr);
    return st;
}

/* Out-of-fold predictions of every candidate outcome model: m[c] (n) and
 * mu[c] (n x K) for c < n_models. */
typedef struct candidates {
    int n_models;
    double *m[N_MODELS], *mu[N_MODELS];
    double *e[N_MODELS]; /* continuous treatment: E[T | x, w] (n) per candidate */
} candidates;

static tt_status fit_fold(const tt_plugin_data *v, const tt_score_nuisance *nu,
                          const candidates *cand, int f, uint64_t seed, double a_ridge,
                          double a_logit, size_t *idx, char *err, size_t errlen)
{
    const size_t n = v->n, p = v->p_x + v->p_w, K = (size_t)v->n_arms;
    size_t m_tr = 0, m_te = 0;
    for (size_t i = 0; i < n; i++)
        if (nu->fold[i] != f)
            idx[m_tr++] = i;
    for (size_t i = 0; i < n; i++)
        if (nu->fold[i] == f)
            idx[m_tr + m_te++] = i;
    tt_plugin_data tr, te;
    double *btr = NULL, *bte = NULL, *arm_w = NULL, *pr = NULL;
    int *ttr = NULL, *tte = NULL;
    tt_status st = subset(v, idx, m_tr, &tr, &btr, &ttr);
    if (st == TT_OK)
        st = subset(v, idx + m_tr, m_te, &te, &bte, &tte);
    if (st == TT_OK) {
        arm_w = tt_malloc_array(m_tr + 1, sizeof *arm_w);
        pr = tt_malloc_array(m_te * K + 1, sizeof *pr);
        if (!arm_w || !pr)
            st = TT_ERR_NOMEM;
    }
    if (st == TT_ERR_NOMEM) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "score nuisances: out of memory");
        goto done;
    }
    const uint64_t fseed = seed + (uint64_t)f;
    const int cont = v->t_value != NULL;
    if (!cont) {
        st = tt_scoring_propensity(&tr, &te, a_logit, fseed, pr, err, errlen);
        if (st != TT_OK)
            goto done;
        for (size_t k = 0; k < K; k++)
            for (size_t r = 0; r < m_te; r++)
                nu->e_hat[k * n + idx[m_tr + r]] = pr[k * m_te + r];
    }
    /* From here on the [x, w] blocks (subset's buffers begin with them)
     * hold the standardised design; the propensity above read them raw. */
    double *ftr = btr, *fte = bte;
    standardise(ftr, m_tr, fte, m_te, p);
    for (int c = 0; c < cand->n_models && st == TT_OK; c++) {
        st = ridge(c, m_tr, p, ftr, tr.y, NULL, m_te, fte, a_ridge, fseed, pr, err, errlen);
        if (st != TT_OK)
            goto done;
        for (size_t r = 0; r < m_te; r++)
            cand->m[c][idx[m_tr + r]] = pr[r];
        if (cont) { /* the treatment's regression; no arms, so no per-arm models */
            st = ridge(c, m_tr, p, ftr, tr.t_value, NULL, m_te, fte, a_ridge, fseed, pr, err,
                       errlen);
            if (st != TT_OK) {
                tt_err_prefix(err, errlen, "treatment model");
                goto done;
            }
            for (size_t r = 0; r < m_te; r++)
                cand->e[c][idx[m_tr + r]] = pr[r];
            continue;
        }
        for (int k = 0; k < v->n_arms && st == TT_OK; k++) {
            /* Arm k's rows by 0/1 weights: the same least squares as on a
             * packed copy of those rows, without the copy. */
            for (size_t i = 0; i < m_tr; i++)
                arm_w[i] = ttr[i] == k;
            st = ridge(c, m_tr, p, ftr, tr.y, arm_w, m_te, fte, a_ridge, fseed, pr, err,
                       errlen);
            if (st == TT_OK)
                for (size_t r = 0; r < m_te; r++)
                    cand->mu[c][(size_t)k * n + idx[m_tr + r]] = pr[r];
            else
                tt_err_prefix(err, errlen, "outcome model of arm %d", k);
        }
    }
done:
    if (st != TT_OK)
        tt_err_prefix(err, errlen, "score nuisances, fold %d", f);
    free(btr);
    free(bte);
    free(ttr);
    free(tte);
    free(arm_w);
    free(pr);
    return st;
}

/* The squares-and-products ridges cost O(rows x width^2) per fit, width =
 * p + p(p + 1)/2, and there are (1 + K) x folds of them per candidate: they
 * run only while that stays small next to a search (IHDP: 25 features, width
 * 350, 224 rows: 2.7e7; 5,000 rows of 20 features: 2.6e8, about a second in
 * all). Wider data keep the linear ridge. */
static int curved_affordable(size_t n, size_t p)
{
    const size_t width = p + p * (p + 1) / 2;
    return p <= 40 && (double)n * (double)width * (double)width <= 5e8;
}

/* Squared error of out-of-fold predictions pred against target over the
 * rows of arm k (k < 0: every row). */
static double oof_error(const tt_plugin_data *v, const double *target, const double *pred,
                        int k)
{
    double s = 0.0;
    for (size_t i = 0; i < v->n; i++)
        if (k < 0 || v->t[i] == k)
            s += (pred[i] - target[i]) * (pred[i] - target[i]);
    return s;
}

/* Index of the candidate whose predictions (column `offset` of each
 * candidate's array) of target have the least out-of-fold error on arm k's
 * rows (k < 0: all); ties go to the simpler, earlier candidate. */
static int least_error(const tt_plugin_data *v, const double *target, double *const *pred,
                       int n_models, size_t offset, int k)
{
    int best = 0;
    double best_err = oof_error(v, target, pred[0] + offset, k);
    for (int c = 1; c < n_models; c++) {
        const double e = oof_error(v, target, pred[c] + offset, k);
        if (e < best_err)
            best = c, best_err = e;
    }
    return best;
}

/* The best candidate per outcome model, copied into m_hat and mu_hat (and,
 * for a continuous treatment, e_hat's column 1). */
static void choose_models(const tt_plugin_data *v, const candidates *cand,
                          tt_score_nuisance *out)
{
    const size_t n = v->n;
    out->m_model = least_error(v, v->y, cand->m, cand->n_models, 0, -1);
    memcpy(out->m_hat, cand->m[out->m_model], n * sizeof *out->m_hat);
    if (v->t_value) {
        out->e_model = least_error(v, v->t_value, cand->e, cand->n_models, 0, -1);
        memcpy(out->e_hat + n, cand->e[out->e_model], n * sizeof *out->e_hat);
        for (size_t i = 0; i < n; i++) {
            out->e_hat[i] = NAN; /* no arms: only column 1 means anything */
            for (int k = 0; k < v->n_arms; k++)
                out->mu_hat[(size_t)k * n + i] = out->m_hat[i];
        }
        return;
    }
    for (int k = 0; k < v->n_arms; k++) {
        const size_t col = (size_t)k * n;
        out->mu_model[k] = least_error(v, v->y, cand->mu, cand->n_models, col, k);
        memcpy(out->mu_hat + col, cand->mu[out->mu_model[k]] + col, n * sizeof *out->mu_hat);
    }
}

tt_status tt_score_nuisance_fit(const tt_plugin_data *v, int folds, uint64_t seed,
                                double alpha_ridge, double alpha_logistic, int curved,
                                tt_score_nuisance *out, char *err, size_t errlen)
{
    return tt_score_nuisance_fit_folds(v, NULL, folds, seed, alpha_ridge, alpha_logistic, curved,
                                       out, err, errlen);
}

tt_status tt_score_nuisance_fit_folds(const tt_plugin_data *v, const int *given, int folds,
                                      uint64_t seed, double alpha_ridge, double alpha_logistic,
                                      int curved, tt_score_nuisance *out, char *err,
                                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (folds < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "score nuisances: folds must be >= 2, got %d",
                       folds);
    if (!v->t || !v->y || v->n_arms < 2)
        return tt_errf(err, errlen, TT_ERR_INVALID, "score nuisances: need arms and outcomes");
    const size_t n = v->n, K = (size_t)v->n_arms;
    out->n = n;
    out->n_arms = v->n_arms;
    out->folds = folds;
    out->fold = tt_malloc_array(n + 1, sizeof *out->fold);
    out->m_hat = tt_malloc_array(n + 1, sizeof *out->m_hat);
    out->e_hat = tt_malloc_array(n * K + 1, sizeof *out->e_hat);
    out->mu_hat = tt_malloc_array(n * K + 1, sizeof *out->mu_hat);
    out->mu_model = calloc(K, sizeof *out->mu_model);
    size_t *idx = tt_malloc_array(n + 1, sizeof *idx);
    const int try_curved = curved && curved_affordable(n, v->p_x + v->p_w);
    candidates cand = {.n_models = try_curved ? N_MODELS : 1};
    int have = out->fold && out->m_hat && out->e_hat && out->mu_hat && out->mu_model && idx;
    const int cont = v->t_value != NULL;
    if (cont && (out->t_value = tt_malloc_array(n + 1, sizeof *out->t_value)))
        memcpy(out->t_value, v->t_value, n * sizeof *out->t_value);
    have = have && (!cont || out->t_value);
    for (int c = 0; c < cand.n_models; c++) {
        cand.m[c] = tt_malloc_array(n + 1, sizeof *cand.m[c]);
        cand.mu[c] = tt_malloc_array(n * K + 1, sizeof *cand.mu[c]);
        cand.e[c] = cont ? tt_malloc_array(n + 1, sizeof *cand.e[c]) : NULL;
        have = have && cand.m[c] && cand.mu[c] && (!cont || cand.e[c]);
    }
    tt_status st = TT_OK;
    if (!have)
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "score nuisances: out of memory");
    if (st == TT_OK && given) {
        for (size_t i = 0; i < n && st == TT_OK; i++) {
            if (given[i] < 0 || given[i] >= folds)
                st = tt_errf(err, errlen, TT_ERR_INVALID,
                             "score nuisances: row %zu has fold %d, outside 0..%d", i, given[i],
                             folds - 1);
            else
                out->fold[i] = given[i];
        }
    } else if (st == TT_OK) {
        st = assign_folds(v, folds, seed, out->fold, err, errlen);
    }
    for (int f = 0; f < folds && st == TT_OK; f++)
        st = fit_fold(v, out, &cand, f, seed, alpha_ridge, alpha_logistic, idx, err, errlen);
    if (st == TT_OK)
        choose_models(v, &cand, out);
    for (int c = 0; c < cand.n_models; c++) {
        free(cand.m[c]);
        free(cand.mu[c]);
        free(cand.e[c]);
    }
    free(idx);
    if (st != TT_OK)
        tt_score_nuisance_free(out);
    return st;
}

/* ---- IV scoring nuisances ------------------------------------------------ */

/* P(label = 1) for the held-out rows idx_te of fold f from the rows idx_tr
 * (labels: lab over all rows): the scoring logistic, or the one class the
 * training rows have. out: m_te values. */
static tt_status iv_logit(const tt_plugin_data *v, const int *lab, const size_t *idx_tr,
                          size_t m_tr, const size_t *idx_te, size_t m_te, double alpha,
                          uint64_t seed, double *out, char *err, size_t errlen)
{
    size_t ones = 0;
    for (size_t r = 0; r < m_tr; r++)
        ones += lab[idx_tr[r]] == 1;
    if (ones == 0 || ones == m_tr) {
        for (size_t r = 0; r < m_te; r++)
            out[r] = ones ? 1.0 : 0.0;
        return TT_OK;
    }
    tt_plugin_data tr, te;
    double *btr = NULL, *bte = NULL, *pr = tt_malloc_array(2 * m_te + 1, sizeof *pr);
    int *ttr = NULL, *tte = NULL;
    tt_status st = pr ? subset(v, idx_tr, m_tr, &tr, &btr, &ttr) : TT_ERR_NOMEM;
    if (st == TT_OK)
        st = subset(v, idx_te, m_te, &te, &bte, &tte);
    if (st == TT_ERR_NOMEM) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "score nuisances: out of memory");
    } else if (st == TT_OK) {
        for (size_t r = 0; r < m_tr; r++) /* the label plays the arm */
            ttr[r] = lab[idx_tr[r]];
        tr.n_arms = te.n_arms = 2;
        st = tt_scoring_propensity(&tr, &te, alpha, seed, pr, err, errlen);
        for (size_t r = 0; st == TT_OK && r < m_te; r++)
            out[r] = pr[m_te + r];
    }
    free(btr);
    free(bte);
    free(ttr);
    free(tte);
    free(pr);
    return st;
}

tt_status tt_score_nuisance_fit_iv(const tt_plugin_data *v, const int *z, const double *known_r,
                                   double alpha_logistic, uint64_t seed, tt_score_nuisance *nu,
                                   char *err, size_t errlen)
{
    const size_t n = v->n;
    if (v->n_arms != 2 || !nu->fold || nu->n != n)
        return tt_errf(err, errlen, TT_ERR_INVALID,
                       "IV score nuisances: need two arms and the scoring nuisances' folds");
    for (size_t i = 0; i < n; i++)
        if (z[i] != 0 && z[i] != 1)
            return tt_errf(err, errlen, TT_ERR_DATA, "IV score nuisances: instrument of row %zu "
                           "is %d, not 0 or 1", i, z[i]);
    int *zc = tt_malloc_array(n + 1, sizeof *zc), *tc = tt_malloc_array(n + 1, sizeof *tc);
    double *r = tt_malloc_array(n + 1, sizeof *r), *pz = tt_malloc_array(2 * n + 1, sizeof *pz);
    size_t *idx = tt_malloc_array(2 * n + 1, sizeof *idx);
    double *out = tt_malloc_array(n + 1, sizeof *out);
    tt_status st = zc && tc && r && pz && idx && out
                       ? TT_OK
                       : tt_errf(err, errlen, TT_ERR_NOMEM, "IV score nuisances: out of memory");
    if (st == TT_OK) {
        memcpy(zc, z, n * sizeof *zc);
        memcpy(tc, v->t, n * sizeof *tc);
    }
    for (int f = 0; f < nu->folds && st == TT_OK; f++) {
        size_t m_te = 0;
        size_t *te = idx + n;
        for (size_t i = 0; i < n; i++)
            if (nu->fold[i] == f)
                te[m_te++] = i;
        if (m_te == 0)
            continue;
        const uint64_t fseed = seed + (uint64_t)f;
        size_t m_tr = 0;
        for (size_t i = 0; i < n; i++)
            if (nu->fold[i] != f)
                idx[m_tr++] = i;
        if (known_r) {
            for (size_t j = 0; j < m_te; j++)
                r[te[j]] = known_r[te[j]];
        } else {
            st = iv_logit(v, zc, idx, m_tr, te, m_te, alpha_logistic, fseed, out, err, errlen);
            for (size_t j = 0; st == TT_OK && j < m_te; j++)
                r[te[j]] = out[j];
        }
        /* A continuous treatment: iv_dr_mse uses the mean of T~ Z~ (rscore.h),
         * there are no treatment probabilities to fit per instrument value. */
        for (int g = 0; g < 2 && st == TT_OK && !v->t_value; g++) {
            m_tr = 0;
            for (size_t i = 0; i < n; i++)
                if (nu->fold[i] != f && zc[i] == g)
                    idx[m_tr++] = i;
            if (m_tr == 0) {
                st = tt_errf(err, errlen, TT_ERR_DATA, "IV score nuisances: fold %d's training "
                             "rows have no instrument value %d", f + 1, g);
                break;
            }
            st = iv_logit(v, tc, idx, m_tr, te, m_te, alpha_logistic, fseed + 1000003u, out,
                          err, errlen);
            for (size_t j = 0; st == TT_OK && j < m_te; j++)
                pz[(size_t)g * n + te[j]] = out[j];
        }
    }
    free(tc);
    free(idx);
    free(out);
    if (st != TT_OK) {
        free(zc);
        free(r);
        free(pz);
        return st;
    }
    free(nu->z);
    free(nu->r_hat);
    free(nu->pz_hat);
    nu->z = zc;
    nu->r_hat = r;
    nu->pz_hat = pz;
    if (v->t_value) {
        free(nu->pz_hat);
        nu->pz_hat = NULL;
    }
    return TT_OK;
}
