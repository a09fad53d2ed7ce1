/*
 * driv.c - the doubly robust instrumental-variable learners: driv,
 * driv_linear, driv_sparse_linear and driv_intent_to_treat (EconML's DRIV,
 * LinearDRIV, SparseLinearDRIV and LinearIntentToTreatDRIV; Syrgkanis et al.
 * 2019, "Machine learning estimation of heterogeneous treatment effects with
 * instruments").
 *
 * One source, built once per variant (PU_DRIV_LEARNER / PU_DRIV_LINEAR /
 * PU_DRIV_SPARSE / PU_DRIV_ITT); each build is its own shared object.
 *
 * Data: a binary treatment T (2 arms), ONE binary instrument Z (data.z, one
 * column of 0/1; several instruments are refused - tsls takes them), outcome
 * Y, effect modifiers x, common causes w. Nuisances, the host's cross-fitted
 * out-of-fold values on the training rows (pu_nuis.h):
 *   m = E[Y | x, w],  p = P(T = 1 | x, w),  r = P(Z = 1 | x, w),
 *   p_z = P(T = 1 | x, w, Z = z) (z = 0, 1),  beta = p_1 - p_0 (the compliance).
 * Residuals Yr = Y - m, Tr = T - p, and the instrument's residual Zr:
 *   projection 0:  Zr = Z - r, and cov = E[Tr Zr | x, w] = r (1 - r) beta
 *                  (for binary Z; exact given r and beta, whatever p is);
 *   projection 1:  EconML's projection: the instrument is E[T | x, w, Z], so
 *                  Zr = p_Z - p (p_Z: p_1 or p_0 by the row's Z), and
 *                  cov = E[Zr^2 | x, w] = r (p_1 - p)^2 + (1 - r) (p_0 - p)^2
 *                  (>= 0). EconML regresses Zr^2 on (x, w) for it; this is
 *                  that regression's exact value given the nuisances.
 * |cov| is clipped from below at cov_clip, keeping its sign (0 counts as +).
 * The pseudo-outcome of row i, with a preliminary effect th (below):
 *   psi_i = th(x_i) + (Yr_i - th(x_i) Tr_i) Zr_i / cov_i,
 * and E[psi | x, w] = theta(x) when r and beta are right (whatever m, p and
 * th are; projection 0), or when m, p and th are right (whatever r and
 * beta are) - the double robustness. The final stage regresses psi on x
 * (pu_final; weights: the sample weights, times cov^2 with opt_reweighted,
 * EconML's variance-minimising weights, which presume a well-specified
 * final model):
 *   driv                 a slot learner, bootstrap intervals of the final stage;
 *   driv_linear          OLS on phi(x), HC1 sandwich intervals;
 *   driv_sparse_linear   debiased lasso on phi(x), debiased-lasso intervals;
 *   driv_intent_to_treat OLS on phi(x), HC1 (EconML's LinearIntentToTreatDRIV):
 *                        Z is a randomised intent (an offer), so r is the
 *                        training rows' (weighted) share of Z = 1, EconML's
 *                        prior 'auto' z_propensity, the same for every row;
 *                        p is not a separate model but p_bar = r p_1 +
 *                        (1 - r) p_0, so Tr = T - p_bar; Zr = Z - r and
 *                        cov = r (1 - r) beta. No projection.
 * The nuisances (and th) are taken as fixed: intervals cover the final
 * stage only, as EconML's. average_effect is the mean of theta(x) over the
 * rows (each theta(x) a local average effect given x, not complier-weighted)
 * with the interval of that mean.
 *
 * The preliminary effect th (prel_cate_approach), a linear model phi_p(x)'b
 * (phi_p: the variant's phi; [1, x] for driv, whose final stage has none;
 * EconML's flexible_model_effect, a linear regression on its featurizer):
 *   driv   EconML's default: the same DRIV with th = 0 and cov^2 weights,
 *          i.e. least squares of Yr Zr on cov phi_p(x);
 *   dmliv  EconML's NonParamDMLIV with a linear final model: least squares
 *          of Yr on (p_Z - p) phi_p(x) (p_bar for the intent-to-treat);
 *   zero   th = 0 (EconML's _DummyCATE; the pseudo-outcome is then
 *          Yr Zr / cov).
 * Cross-fitted as EconML fits it inside its nuisance stage: the rows are
 * split into DRIV_PREL_FOLDS folds (EconML's cv: 2, 3 for the intent-to-
 * treat) and each fold's th comes from the fit on the other folds (sample
 * weights apply). The folds: a Fisher-Yates shuffle of 0..n-1 with
 * splitmix64 from host->seed ^ DRIV_FOLD_SALT (j from n-1 down to 1 swaps
 * j with draw % (j + 1)), then row perm[j] goes to fold j % K.
 *
 * Checks: the instrument's strength is logged - WARN when the compliance F
 * (the F of Tr on Z - r through the origin) is below 10 or the mean |beta|
 * below 0.05 (weak: psi divides by a covariance near 0 and the intervals
 * are wide); the number of clipped rows at DEBUG.
 *
 * Saved form (pu_final_model.h): "<name> 1", "arms 2", "p_x P", then
 * pu_final's lines. Effects need x only: no nuisance at prediction.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tautune/plugin.h>

#include "common/pu.h"
#include "common/pu_final_model.h"
#include "common/pu_linear.h"
#include "common/pu_nuis.h"
#include "common/pu_plugin.h"

#define DRIV_VERSION "1.0.0"
#define DRIV_SAVE_VERSION 1
/* Below these the instrument is weak (Staiger and Stock 1997 for F). */
#define DRIV_WEAK_F 10.0
#define DRIV_WEAK_COMPLIANCE 0.05
#define DRIV_FOLD_SALT 0x647269765f666f6cull /* "driv_fol" */

static const char *const driv_prel_choices[] = {"driv", "dmliv", "zero", NULL};
enum { PREL_DRIV = 0, PREL_DMLIV, PREL_ZERO };

/* ---- Variants --------------------------------------------------------------- */

/* Every schema starts with these three; all but the intent-to-treat add
 * projection as the fourth. cov_clip: EconML's code default is 1e-3 (its
 * docstring's 0.1 is stale). cov = r (1 - r) beta is at most 0.25 and about
 * 0.1 at r = 1/2 with 40 % compliers, so a clip of 0.08-0.2 (ESTIMATORS.md's
 * first range) would clip most rows of such data, and a clipped row's
 * correction shrinks by cov / clip towards th: the final stage would mostly
 * refit the preliminary model. The search range stops at 0.05 (at r = 1/2,
 * rows with under 20 % compliers). Projection's cov is r (1 - r) beta^2,
 * smaller, so the same clip reaches more rows there. */
enum { P_COV_CLIP = 0, P_PREL, P_OPT_REWEIGHTED, P_PROJECTION };

#define DRIV_COMMON_PARAMS                                                                    \
    [P_COV_CLIP] = {.name = "cov_clip", .kind = TT_PARAM_LOG_REAL, .lo = 1e-4, .hi = 0.05,     \
                    .default_value = 1e-3,                                                   \
                    .help = "|cov(T, Z | x, w)| is clipped from below at this (sign kept) "   \
                            "before dividing"},                                              \
    [P_PREL] = {.name = "prel_cate_approach", .kind = TT_PARAM_CHOICE, .default_value = 0,    \
                .choices = driv_prel_choices,                                                \
                .help = "preliminary effect: driv (Yr Zr on cov phi), dmliv (Yr on "         \
                        "(p_Z - p) phi) or zero; cross-fitted"},                             \
    [P_OPT_REWEIGHTED] = {.name = "opt_reweighted", .kind = TT_PARAM_BOOL,                   \
                          .default_value = 0,                                                \
                          .help = "final regression weighted by cov^2 (less variance, "       \
                                  "needs a well-specified final model)"}
#define DRIV_PROJECTION_PARAM                                                                 \
    [P_PROJECTION] = {.name = "projection", .kind = TT_PARAM_BOOL, .default_value = 0,        \
                      .help = "use E[T | x, w, Z] - E[T | x, w] as the instrument's residual"}

#if defined(PU_DRIV_LEARNER)

#define DRIV_NAME "driv"
#define DRIV_SUMMARY "Doubly robust IV pseudo-outcome regressed on x by any learner; bootstrap intervals"
#define DRIV_INTERVALS "bootstrap (normal)"
#define DRIV_PREL_FOLDS 2
enum { P_SLOT = P_PROJECTION + 1, DRIV_N_PARAMS = P_SLOT + PU_SLOT_N };
static const tt_plugin_param driv_params[] = {
    DRIV_COMMON_PARAMS,
    DRIV_PROJECTION_PARAM,
    PU_SLOT_PARAMS("final", "the final model"),
};
static const tt_plugin_condition driv_conditions[] = {
    PU_SLOT_CONDITIONS("final"),
};
#define DRIV_HAS_CONDITIONS 1

static void driv_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                           pu_final_spec *spec, pu_phi *prel)
{
    spec->kind = PU_FINAL_LEARNER;
    pu_slot_read(params, P_SLOT, &spec->slot);
    spec->resamples = pu_boot_resamples(h);
    /* EconML's DRIV passes its fit_cate_intercept (default off) to the
     * preliminary linear model; a linear effect through the origin is rarely
     * meant, so here it has its intercept. */
    *prel = (pu_phi){.intercept = 1, .poly2 = 0, .p_x = p_x};
}

#elif defined(PU_DRIV_LINEAR) || defined(PU_DRIV_ITT)

#if defined(PU_DRIV_LINEAR)
#define DRIV_NAME "driv_linear"
#define DRIV_SUMMARY "Doubly robust IV pseudo-outcome, OLS on phi(x); HC1 sandwich intervals"
#define DRIV_PREL_FOLDS 2
enum { P_INTERCEPT = P_PROJECTION + 1, P_FEATURIZER, DRIV_N_PARAMS };
#else
#define DRIV_NAME "driv_intent_to_treat"
#define DRIV_SUMMARY "Doubly robust IV for a randomised intent (Z an offer), OLS on phi(x); HC1 sandwich intervals"
#define DRIV_ITT 1
#define DRIV_PREL_FOLDS 3
enum { P_INTERCEPT = P_OPT_REWEIGHTED + 1, P_FEATURIZER, DRIV_N_PARAMS };
#endif
#define DRIV_INTERVALS "HC1 sandwich"
static const tt_plugin_param driv_params[] = {
    DRIV_COMMON_PARAMS,
#if !defined(PU_DRIV_ITT)
    DRIV_PROJECTION_PARAM,
#endif
    [P_INTERCEPT] = PU_PHI_INTERCEPT_PARAM,
    [P_FEATURIZER] = PU_PHI_FEATURIZER_PARAM,
};

static void driv_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                           pu_final_spec *spec, pu_phi *prel)
{
    (void)h;
    spec->kind = PU_FINAL_LINEAR;
    spec->phi.intercept = params[P_INTERCEPT] != 0;
    spec->phi.poly2 = params[P_FEATURIZER] == 1;
    spec->phi.p_x = p_x;
    *prel = spec->phi;
}

#elif defined(PU_DRIV_SPARSE)

#define DRIV_NAME "driv_sparse_linear"
#define DRIV_SUMMARY "Doubly robust IV pseudo-outcome, debiased lasso on phi(x); debiased-lasso intervals"
#define DRIV_INTERVALS "debiased lasso"
#define DRIV_PREL_FOLDS 2
enum { P_FEATURIZER = P_PROJECTION + 1, DRIV_N_PARAMS };
static const tt_plugin_param driv_params[] = {
    DRIV_COMMON_PARAMS,
    DRIV_PROJECTION_PARAM,
    [P_FEATURIZER] = PU_PHI_FEATURIZER_PARAM,
};

/* The lasso fits its own unpenalised intercept: the cate intercept is on
 * (EconML's SparseLinearDRIV default), for the preliminary model too. */
static void driv_read_spec(const tt_plugin_host *h, const double *params, size_t p_x,
                           pu_final_spec *spec, pu_phi *prel)
{
    (void)h;
    spec->kind = PU_FINAL_SPARSE;
    spec->phi.intercept = 1;
    spec->phi.poly2 = params[P_FEATURIZER] == 1;
    spec->phi.p_x = p_x;
    *prel = spec->phi;
}

#else
#error "build driv.c with one of PU_DRIV_LEARNER, PU_DRIV_LINEAR, PU_DRIV_SPARSE, PU_DRIV_ITT"
#endif

#ifndef DRIV_ITT
#define DRIV_ITT 0
#define DRIV_CAPS (TT_PLUGIN_CAP_NEEDS_PROPENSITY | TT_PLUGIN_CAP_NEEDS_OUTCOME)
#else
#define DRIV_CAPS TT_PLUGIN_CAP_NEEDS_OUTCOME
#endif

_Static_assert(sizeof driv_params / sizeof driv_params[0] == DRIV_N_PARAMS,
               "schema and parameter indices disagree");
_Static_assert(DRIV_N_PARAMS <= PU_FINAL_MODEL_MAX_PARAMS, "too many parameters");

/* ---- create: what this family cannot do is refused here ------------------- */

static int driv_create(const tt_plugin_host *host, const double *params, int n_arms,
                       void **instance, char *err, size_t errlen)
{
    if (n_arms != 2)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       DRIV_NAME ": a binary treatment only (2 arms), got %d", n_arms);
    if (host->abi_minor < 7)
        return pu_errf(err, errlen, TT_ERR_UNSUPPORTED,
                       DRIV_NAME ": needs the host's instrumental-variable nuisances "
                       "(TT_PLUGIN_CAP_NEEDS_IV_NUISANCES, plugin ABI 1.7); the host has ABI "
                       "1.%u", (unsigned)host->abi_minor);
    return pu_final_model_create(host, DRIV_NAME, DRIV_SAVE_VERSION, driv_params, DRIV_N_PARAMS,
                                 params, n_arms, instance, err, errlen);
}

/* One binary instrument on the training rows, with both values present. */
static int driv_check_z(const tt_plugin_data *d, char *err, size_t errlen)
{
    if (!TT_PLUGIN_DATA_HAS(d, z_names) || d->p_z == 0 || !d->z)
        return pu_errf(err, errlen, TT_ERR_DATA,
                       DRIV_NAME ": the rows carry no instrument (data.z)");
    if (d->p_z > 1)
        return pu_errf(err, errlen, TT_ERR_DATA,
                       DRIV_NAME ": one binary instrument only, the data have %zu instrument "
                       "columns (tsls takes several)", d->p_z);
    size_t ones = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->z[i] != 0.0 && d->z[i] != 1.0)
            return pu_errf(err, errlen, TT_ERR_DATA,
                           DRIV_NAME ": the instrument must be binary (0/1); row %zu has %g", i,
                           d->z[i]);
        ones += d->z[i] == 1.0;
    }
    if (ones == 0 || ones == d->n)
        return pu_errf(err, errlen, TT_ERR_DATA,
                       DRIV_NAME ": the instrument is %d on every training row", ones ? 1 : 0);
    return TT_OK;
}

/* ---- nuisances and residuals ---------------------------------------------- */

/* The host's nuisances for n rows (host->alloc'd; NULL when not used). */
typedef struct driv_nuis {
    double *m, *e, *r, *p0, *p1; /* e: n x 2 propensities (column 1 = P(T = 1)) */
} driv_nuis;

static void nuis_free(const tt_plugin_host *h, driv_nuis *nu)
{
    h->release(nu->m);
    h->release(nu->e);
    h->release(nu->r);
    h->release(nu->p0);
    h->release(nu->p1);
}

static int nuis_get(const tt_plugin_host *h, size_t n, driv_nuis *nu, char *err, size_t errlen)
{
    memset(nu, 0, sizeof *nu);
    int rc = pu_nuis_outcome_oof(h, n, &nu->m, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_oof(h, 0, n, &nu->p0, err, errlen);
    if (rc == TT_OK)
        rc = pu_nuis_treatment_given_z_oof(h, 1, n, &nu->p1, err, errlen);
    if (rc == TT_OK && !DRIV_ITT)
        rc = pu_nuis_propensity_oof(h, 2, n, 0.0, &nu->e, err, errlen);
    if (rc == TT_OK && !DRIV_ITT)
        rc = pu_nuis_instrument_oof(h, n, 0.0, &nu->r, err, errlen);
    return rc;
}

/* Per-row working columns, n values each (one allocation). */
typedef struct driv_work {
    double *yr, *tr, *zr, *cov; /* residuals and the clipped covariance */
    double *proj;               /* p_Z - p: the dmliv regressor */
    double *zc;                 /* Z - r: the compliance F's regressor */
    double *th, *psi;           /* preliminary effect, pseudo-outcome */
    double *w;                  /* final-stage weights, or NULL */
} driv_work;
enum { DRIV_WORK_COLS = 9 };

/* Fills yr, tr, zr, cov, proj, zc from the nuisances (the header's
 * formulas); returns the number of rows whose covariance was clipped. */
static size_t driv_residuals(const tt_plugin_data *d, const driv_nuis *nu, int projection,
                             double clip, driv_work *wk)
{
    size_t n = d->n, clipped = 0;
    double r_itt = 0.0;
    if (DRIV_ITT) { /* the randomised intent's share, EconML's prior */
        double sw = 0.0, sz = 0.0;
        for (size_t i = 0; i < n; i++) {
            double s = d->weight ? d->weight[i] : 1.0;
            sw += s;
            sz += s * d->z[i];
        }
        r_itt = sz / sw;
    }
    for (size_t i = 0; i < n; i++) {
        double r = DRIV_ITT ? r_itt : nu->r[i], p0 = nu->p0[i], p1 = nu->p1[i];
        double p = DRIV_ITT ? r * p1 + (1.0 - r) * p0 : nu->e[n + i];
        double z = d->z[i], pz = z == 1.0 ? p1 : p0, cov;
        wk->yr[i] = d->y[i] - nu->m[i];
        wk->tr[i] = (double)d->t[i] - p;
        wk->zc[i] = z - r;
        wk->proj[i] = pz - p;
        if (projection) {
            wk->zr[i] = pz - p;
            cov = r * (p1 - p) * (p1 - p) + (1.0 - r) * (p0 - p) * (p0 - p);
        } else {
            wk->zr[i] = z - r;
            cov = r * (1.0 - r) * (p1 - p0);
        }
        if (fabs(cov) < clip) {
            cov = cov < 0.0 ? -clip : clip;
            clipped++;
        }
        wk->cov[i] = cov;
    }
    return clipped;
}

/* The instrument's strength: the F of Tr on Z - r (one regressor, through
 * the origin, sample weights) and the mean |p_1 - p_0|; a warning when weak. */
static void driv_strength(const tt_plugin_host *h, const tt_plugin_data *d,
                          const driv_nuis *nu, const driv_work *wk, size_t clipped, double clip)
{
    size_t n = d->n;
    double szz = 0.0, szt = 0.0, stt = 0.0, mb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = d->weight ? d->weight[i] : 1.0;
        szz += s * wk->zc[i] * wk->zc[i];
        szt += s * wk->zc[i] * wk->tr[i];
        stt += s * wk->tr[i] * wk->tr[i];
        mb += fabs(nu->p1[i] - nu->p0[i]) / (double)n;
    }
    double g = szz > 0.0 ? szt / szz : 0.0;
    double rss = fmax(stt - g * szt, 0.0), s2 = n > 1 ? rss / (double)(n - 1) : 0.0;
    double f = s2 > 0.0 ? g * g * szz / s2 : 0.0;
    if (f < DRIV_WEAK_F || mb < DRIV_WEAK_COMPLIANCE)
        h->log(h->host_ctx, TT_LOG_WARN,
               "weak instrument: compliance F = %.3g, mean |P(T=1|Z=1) - P(T=1|Z=0)| = %.3g; "
               "the pseudo-outcomes divide by a covariance near 0 (clipped at %g on %zu of %zu "
               "rows), so the intervals are wide", f, mb, clip, clipped, n);
    else
        h->log(h->host_ctx, TT_LOG_DEBUG,
               "compliance F = %.4g, mean compliance %.3g; %zu of %zu rows' covariance "
               "clipped at %g", f, mb, clipped, n, clip);
}

/* ---- the preliminary effect, cross-fitted --------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* fold[i] in 0..K-1, balanced, from the seed (see the header). perm: n scratch. */
static void driv_folds(uint64_t seed, size_t n, int K, size_t *perm, unsigned char *fold)
{
    uint64_t state = seed ^ DRIV_FOLD_SALT;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t j = n; j-- > 1;) {
        size_t k = (size_t)(splitmix64(&state) % (uint64_t)(j + 1));
        size_t t = perm[j];
        perm[j] = perm[k];
        perm[k] = t;
    }
    for (size_t j = 0; j < n; j++)
        fold[perm[j]] = (unsigned char)(j % (size_t)K);
}

/* th (n values): phi_p(x)'b_k on fold k, b_k fitted on the other folds by
 * least squares of target on a * phi_p (driv: a = cov, target Yr Zr;
 * dmliv: a = p_Z - p, target Yr). */
static int driv_prel(const tt_plugin_host *h, const tt_plugin_data *d, const pu_phi *phi,
                     int approach, driv_work *wk, char *err, size_t errlen)
{
    size_t n = d->n;
    if (approach == PREL_ZERO) {
        memset(wk->th, 0, sizeof *wk->th * n);
        return TT_OK;
    }
    size_t dim = pu_phi_dim(phi);
    if (dim == 0)
        return pu_errf(err, errlen, TT_ERR_INVALID, DRIV_NAME ": the preliminary model's "
                       "phi has no columns (no intercept and no effect modifiers)");
    const double *a = approach == PREL_DRIV ? wk->cov : wk->proj;
    double *F = pu_phi_build(h, phi, n, d->x);
    double *Zk = h->alloc(sizeof *Zk * (n * dim + 1)), *tk = h->alloc(sizeof *tk * (n + 1));
    double *wt = d->weight ? h->alloc(sizeof *wt * (n + 1)) : NULL;
    double *b = h->alloc(sizeof *b * (dim + 1)), *V = h->alloc(sizeof *V * (dim * dim + 1));
    size_t *perm = h->alloc(sizeof *perm * (n + 1));
    unsigned char *fold = h->alloc(n + 1);
    int rc = TT_OK;
    if (!F || !Zk || !tk || (d->weight && !wt) || !b || !V || !perm || !fold)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK)
        driv_folds(h->seed, n, DRIV_PREL_FOLDS, perm, fold);
    for (int k = 0; k < DRIV_PREL_FOLDS && rc == TT_OK; k++) {
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            nk += fold[i] != k;
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == k)
                continue;
            for (size_t j = 0; j < dim; j++)
                Zk[j * nk + c] = a[i] * F[j * n + i];
            tk[c] = approach == PREL_DRIV ? wk->yr[i] * wk->zr[i] : wk->yr[i];
            if (wt)
                wt[c] = d->weight[i];
            c++;
        }
        rc = pu_ols_hc1(h, nk, dim, Zk, tk, wt, b, V, err, errlen);
        if (rc != TT_OK) {
            char inner[400];
            strncpy(inner, err && errlen ? err : "", sizeof inner - 1);
            inner[sizeof inner - 1] = '\0';
            rc = pu_errf(err, errlen, rc, DRIV_NAME ": preliminary effect (fold %d of %d): %s",
                         k + 1, DRIV_PREL_FOLDS, inner);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (fold[i] != k)
                continue;
            double s = 0.0;
            for (size_t j = 0; j < dim; j++)
                s += F[j * n + i] * b[j];
            wk->th[i] = s;
        }
    }
    h->release(F);
    h->release(Zk);
    h->release(tk);
    h->release(wt);
    h->release(b);
    h->release(V);
    h->release(perm);
    h->release(fold);
    return rc;
}

/* ---- fit ------------------------------------------------------------------ */

static int driv_final(pu_final_model *m, const tt_plugin_data *d, const pu_final_spec *spec,
                      const driv_work *wk, char *err, size_t errlen)
{
    pu_final_free(m->final);
    m->final = NULL;
    m->p_x = d->p_x;
    int rc = pu_final_new(m->host, spec, 2, &m->final, err, errlen);
    if (rc == TT_OK)
        rc = pu_final_fit(m->final, d->n, d->p_x, d->x, d->t, wk->psi, wk->w, NULL, err, errlen);
    if (rc != TT_OK) { /* never leave a half-fitted final stage behind */
        pu_final_free(m->final);
        m->final = NULL;
    }
    return rc;
}

static int driv_fit(void *instance, const tt_plugin_data *d, char *err, size_t errlen)
{
    pu_final_model *m = instance;
    const tt_plugin_host *h = m->host;
    int rc = pu_check_train(DRIV_NAME, 2, d, err, errlen);
    if (rc == TT_OK)
        rc = driv_check_z(d, err, errlen);
    if (rc != TT_OK)
        return rc;
    pu_final_free(m->final); /* a failed refit leaves the instance unfitted */
    m->final = NULL;
    size_t n = d->n;
    double clip = m->params[P_COV_CLIP];
    int approach = (int)m->params[P_PREL], reweight = m->params[P_OPT_REWEIGHTED] != 0;
#if DRIV_ITT
    int projection = 0;
#else
    int projection = m->params[P_PROJECTION] != 0;
#endif
    driv_nuis nu;
    rc = nuis_get(h, n, &nu, err, errlen);
    double *block = rc == TT_OK ? h->alloc(sizeof *block * (n * DRIV_WORK_COLS + 1)) : NULL;
    if (rc == TT_OK && !block)
        rc = pu_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (rc == TT_OK) {
        driv_work wk = {block, block + n, block + 2 * n, block + 3 * n, block + 4 * n,
                        block + 5 * n, block + 6 * n, block + 7 * n, NULL};
        size_t clipped = driv_residuals(d, &nu, projection, clip, &wk);
        driv_strength(h, d, &nu, &wk, clipped, clip);
        pu_final_spec spec = {0};
        pu_phi prel_phi;
        driv_read_spec(h, m->params, d->p_x, &spec, &prel_phi);
        rc = driv_prel(h, d, &prel_phi, approach, &wk, err, errlen);
        if (rc == TT_OK) {
            for (size_t i = 0; i < n; i++)
                wk.psi[i] = wk.th[i] + (wk.yr[i] - wk.th[i] * wk.tr[i]) * wk.zr[i] / wk.cov[i];
            if (reweight || d->weight) {
                wk.w = block + 8 * n;
                for (size_t i = 0; i < n; i++)
                    wk.w[i] = (d->weight ? d->weight[i] : 1.0) *
                              (reweight ? wk.cov[i] * wk.cov[i] : 1.0);
            }
            rc = driv_final(m, d, &spec, &wk, err, errlen);
        }
    }
    h->release(block);
    nuis_free(h, &nu);
    return rc;
}

static int driv_load(const tt_plugin_host *host, const tt_plugin_source *src, void **instance,
                     char *err, size_t errlen)
{
    return pu_final_model_load(host, DRIV_NAME, DRIV_SAVE_VERSION, src, instance, err, errlen);
}

static const tt_plugin_descriptor driv_descriptor = {
    TT_PLUGIN_DESCRIPTOR_HEADER,
    .name = DRIV_NAME,
    .version = DRIV_VERSION,
    .summary = DRIV_SUMMARY,
    .capabilities = TT_PLUGIN_CAP_IV | TT_PLUGIN_CAP_INTERVALS | TT_PLUGIN_CAP_SAVE_LOAD |
                    TT_PLUGIN_CAP_NEEDS_IV_NUISANCES | DRIV_CAPS,
    .params = driv_params,
    .n_params = DRIV_N_PARAMS,
#ifdef DRIV_HAS_CONDITIONS
    .conditions = driv_conditions,
    .n_conditions = sizeof driv_conditions / sizeof driv_conditions[0],
#endif
    .create = driv_create,
    .fit = driv_fit,
    .effect = pu_final_model_effect,
    .effect_interval = pu_final_model_interval,
    .save = pu_final_model_save,
    .load = driv_load,
    .destroy = pu_final_model_destroy,
    .interval_method = DRIV_INTERVALS,
    .average_effect = pu_final_model_average,
};

TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void);
TT_PLUGIN_EXPORT const tt_plugin_descriptor *TT_PLUGIN_ENTRY(void)
{
    return &driv_descriptor;
}
