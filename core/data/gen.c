/* gen.c - the generator family of gen.h. */
#include "data/gen.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/order.h"
#include "util/rng.h"

enum { GEN_P_W = 2, GEN_MAX_ARMS = 16 };

typedef enum dgp {
    DGP_SYNTHETIC, DGP_RCT_LINEAR, DGP_RCT_NONLINEAR, DGP_CONF_LINEAR, DGP_CONF_NONLINEAR,
    DGP_KNOWN, DGP_IV, DGP_PRICING, DGP_COUNT
} dgp;

static const char *const names[DGP_COUNT + 1] = {
    "synthetic", "rct_linear", "rct_nonlinear", "confounded_linear", "confounded_nonlinear",
    "known_propensity", "iv", "pricing", NULL};

static const char *const summaries[DGP_COUNT] = {
    "confounded, nonlinear effect (the quickstart data; x1..x5, w1, w2)",
    "randomized arms, linear effect tau_k = k (1 + 0.5 x1)",
    "randomized arms, nonlinear effect tau_k = k (sin(2 x1) + 0.5 x2^2)",
    "confounded (x1, w1 raise treatment), linear effect tau_k = k (1 + 0.5 x1)",
    "confounded by x1 w1 and w2, nonlinear effect k (1 + max(x1,0) + 0.5 sin(pi x2))",
    "partially random assignment with the design propensity written as p0..p_{K-1}",
    "binary instrument z, non-compliance, unobserved confounder; tau = 1 + 0.5 x1",
    ("continuous treatment: log price with confounded discounts, log demand; elasticity "
     "-1 - 0.5 x1 + 0.3 (x2^2 - 1)"),
};

const char *const *tt_gen_names(void)
{
    return names;
}

static int find(const char *name)
{
    for (int i = 0; name && i < DGP_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int tt_gen_known(const char *name)
{
    return find(name) >= 0;
}

const char *tt_gen_summary(const char *name)
{
    int d = find(name);
    return d < 0 ? NULL : summaries[d];
}

void tt_gen_options_init(tt_gen_options *opt)
{
    if (!opt)
        return;
    opt->rows = 4000;
    opt->arms = 2;
    opt->seed = 1;
    opt->p_x = 5;
}

static char *fmt_name(const char *prefix, long i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%ld", prefix, i);
    return tt_strdup(buf);
}

static int alloc_gen(tt_dataset *ds, int d, size_t n, size_t p, int k, const tt_gen_options *o)
{
    char src[160];
    snprintf(src, sizeof src, "%s(rows=%zu, arms=%d, seed=%" PRIu64 ")", names[d], n, k, o->seed);
    ds->source = tt_strdup(src);
    ds->n = n;
    ds->p_x = p;
    ds->p_w = GEN_P_W;
    ds->n_arms = k;
    ds->x = tt_malloc_array(n, p * sizeof(double));
    ds->w = tt_malloc_array(n, GEN_P_W * sizeof(double));
    ds->y = tt_malloc_array(n, sizeof(double));
    ds->t = tt_malloc_array(n, sizeof(int));
    ds->mu0 = tt_malloc_array(n, sizeof(double));
    ds->tau = tt_malloc_array(n, (size_t)(k - 1) * sizeof(double));
    if (d == DGP_PRICING) /* no arms, so no propensities: E[T | x, w] instead */
        ds->t_value = tt_malloc_array(n, sizeof(double));
    else
        ds->true_propensity = tt_malloc_array(n, (size_t)k * sizeof(double));
    ds->arm_labels = calloc((size_t)k, sizeof(char *));
    ds->x_names = calloc(p, sizeof(char *));
    ds->w_names = calloc(GEN_P_W, sizeof(char *));
    ds->y_name = tt_strdup("y");
    ds->t_name = tt_strdup("t");
    if (d == DGP_KNOWN)
        ds->propensity = tt_malloc_array(n, (size_t)k * sizeof(double));
    if (d == DGP_IV) {
        ds->p_z = 1;
        ds->z = tt_malloc_array(n, sizeof(double));
        ds->z_names = calloc(1, sizeof(char *));
        if (!ds->z || !ds->z_names || !(ds->z_names[0] = tt_strdup("z")))
            return 0;
    }
    if (!ds->source || !ds->x || !ds->w || !ds->y || !ds->t || !ds->mu0 || !ds->tau ||
        (d == DGP_PRICING ? !ds->t_value : !ds->true_propensity) || !ds->arm_labels || !ds->x_names || !ds->w_names || !ds->y_name ||
        !ds->t_name || (d == DGP_KNOWN && !ds->propensity))
        return 0;
    for (int a = 0; a < k; a++)
        if (!(ds->arm_labels[a] = d == DGP_PRICING ? tt_strdup(a ? "t"
                                                                   : TT_CONTINUOUS_ARM_LABEL_LOW)
                                                   : fmt_name("", a)))
            return 0;
    for (size_t j = 0; j < p; j++)
        if (!(ds->x_names[j] = fmt_name("x", (long)j + 1)))
            return 0;
    for (int j = 0; j < GEN_P_W; j++)
        if (!(ds->w_names[j] = fmt_name("w", j + 1)))
            return 0;
    return 1;
}

/* softmax over s_0 = 0, s_k = lin + 0.2 (k - 1), shifted by the max so exp
 * never overflows. */
static void softmax_arms(double lin, int k, double *e)
{
    double smax = 0.0, total = 0.0;
    e[0] = 0.0;
    for (int a = 1; a < k; a++) {
        e[a] = lin + 0.2 * (a - 1);
        if (e[a] > smax)
            smax = e[a];
    }
    for (int a = 0; a < k; a++)
        total += (e[a] = exp(e[a] - smax));
    for (int a = 0; a < k; a++)
        e[a] /= total;
}

static int draw_arm(tt_rng *rng, const double *e, int k)
{
    double u = tt_rng_uniform(rng);
    for (int a = 0; a < k - 1; a++) {
        if (u < e[a])
            return a;
        u -= e[a];
    }
    return k - 1;
}

static double effect_base(int d, const double *x)
{
    switch (d) {
    case DGP_RCT_NONLINEAR:
        return sin(2 * x[0]) + 0.5 * x[1] * x[1];
    case DGP_CONF_NONLINEAR:
        return 1 + (x[0] > 0 ? x[0] : 0) + 0.5 * sin(M_PI * x[1]);
    default:
        return 1 + 0.5 * x[0];
    }
}

/* pricing: the elasticity theta(x) and E[T | x, w] of the log price. */
static double pricing_elasticity(const double *x)
{
    return -1.0 - 0.5 * x[0] + 0.3 * (x[1] * x[1] - 1.0);
}

static double pricing_price_mean(const double *x, const double *w)
{
    return 0.4 * x[0] + 0.6 * w[0] + 0.3 * w[1];
}

double tt_gen_pricing_price_mean(const tt_dataset *ds, size_t i)
{
    size_t n = ds->n;
    double x[1] = {ds->x[i]}, w[2] = {ds->w[i], ds->w[n + i]};
    return pricing_price_mean(x, w);
}

/* One pricing row (the draws: the price's noise, then the demand's). */
static void pricing_row(tt_rng *rng, tt_dataset *ds, size_t i, const double *x, const double *w)
{
    double price = pricing_price_mean(x, w) + 0.7 * tt_rng_normal(rng);
    double theta = pricing_elasticity(x);
    double mu0 = 2.0 + 0.5 * x[1] + w[0] + 0.5 * w[1] * w[1];
    ds->t_value[i] = price;
    ds->tau[i] = theta;
    ds->mu0[i] = mu0;
    ds->y[i] = mu0 + theta * price + tt_rng_normal(rng);
}

static void gen_row(int d, tt_rng *rng, tt_dataset *ds, size_t i, const double *x, const double *w)
{
    if (d == DGP_PRICING) {
        pricing_row(rng, ds, i, x, w);
        return;
    }
    size_t n = ds->n;
    int k = ds->n_arms;
    double e[GEN_MAX_ARMS], mu0, extra = 0;
    int arm;
    if (d == DGP_IV) {
        double z = tt_rng_uniform(rng) < 0.5 ? 1.0 : 0.0;
        double u = tt_rng_normal(rng), v = tt_rng_normal(rng);
        double lin = -0.5 + 1.5 * z + 0.5 * x[0];
        arm = lin + u + v > 0;
        ds->z[i] = z;
        e[1] = 0.5 * erfc(-lin / 2.0); /* Phi(lin / sqrt 2): U + e_noise ~ N(0, 2) */
        e[0] = 1 - e[1];
        mu0 = x[1] + w[0]; /* E[Y(0) | x, w]: U has mean 0 */
        extra = u;
    } else {
        for (int a = 0; a < k; a++)
            e[a] = 1.0 / k;
        if (d == DGP_CONF_LINEAR)
            softmax_arms(0.8 * x[0] + 0.8 * w[0], k, e);
        else if (d == DGP_CONF_NONLINEAR)
            softmax_arms(x[0] * w[0] + 0.5 * w[1] - 0.25, k, e);
        else if (d == DGP_KNOWN) {
            double s[GEN_MAX_ARMS];
            softmax_arms(1.2 * x[0] + 0.6 * w[0], k, s);
            for (int a = 0; a < k; a++)
                e[a] = 0.5 / k + 0.5 * s[a];
        }
        arm = draw_arm(rng, e, k);
        if (d == DGP_RCT_LINEAR || d == DGP_RCT_NONLINEAR)
            mu0 = x[1] + 0.5 * w[0];
        else if (d == DGP_CONF_NONLINEAR)
            mu0 = x[1] + w[0] + 0.5 * w[1] * w[1];
        else
            mu0 = x[1] + w[0];
    }
    double base = effect_base(d, x);
    for (int a = 1; a < k; a++)
        ds->tau[(size_t)(a - 1) * n + i] = a * base;
    for (int a = 0; a < k; a++) {
        ds->true_propensity[(size_t)a * n + i] = e[a];
        if (ds->propensity)
            ds->propensity[(size_t)a * n + i] = e[a];
    }
    ds->t[i] = arm;
    ds->mu0[i] = mu0;
    ds->y[i] = mu0 + arm * base + extra + tt_rng_normal(rng);
}

/* The built-in synthetic data plus the truth columns it does not store
 * (computed from its documented formulas, no extra draws). */
static tt_status gen_synthetic(const tt_gen_options *opt, tt_dataset **out, char *err,
                               size_t errlen)
{
    tt_synth_options so;
    tt_synth_options_init(&so);
    so.rows = opt->rows;
    so.arms = opt->arms;
    so.seed = opt->seed;
    tt_status st = tt_synth_generate("synthetic", &so, out, err, errlen);
    if (st)
        return st;
    tt_dataset *ds = *out;
    size_t n = ds->n;
    int k = ds->n_arms;
    ds->mu0 = tt_malloc_array(n, sizeof(double));
    ds->true_propensity = tt_malloc_array(n, (size_t)k * sizeof(double));
    if (!ds->mu0 || !ds->true_propensity) {
        tt_dataset_free(ds);
        *out = NULL;
        return tt_errf(err, errlen, TT_ERR_NOMEM, "synthetic: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double x1 = ds->x[i], x3 = ds->x[2 * n + i], w1 = ds->w[i], w2 = ds->w[n + i];
        double e[GEN_MAX_ARMS];
        softmax_arms(0.8 * x1 + 0.6 * w1, k, e);
        for (int a = 0; a < k; a++)
            ds->true_propensity[(size_t)a * n + i] = e[a];
        ds->mu0[i] = 0.5 * x3 + w1 + 0.5 * w2;
    }
    return TT_OK;
}

tt_status tt_gen_generate(const char *name, const tt_gen_options *opt, tt_dataset **out,
                          char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_gen_generate: out is NULL");
    *out = NULL;
    tt_gen_options defaults;
    if (!opt) {
        tt_gen_options_init(&defaults);
        opt = &defaults;
    }
    int d = find(name);
    if (d < 0) {
        char list[256] = "";
        for (int i = 0; i < DGP_COUNT; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     names[i]);
        return tt_errf(err, errlen, TT_ERR_CONFIG, "unknown data generator '%s' (known: %s)",
                       name ? name : "(null)", list);
    }
    if (opt->rows < 10)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: rows must be at least 10, got %zu",
                       names[d], opt->rows);
    if (opt->arms < 2 || opt->arms > GEN_MAX_ARMS)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: arms must be in [2, %d], got %d",
                       names[d], GEN_MAX_ARMS, opt->arms);
    if (d == DGP_IV && opt->arms != 2)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "iv: binary treatment only (arms = 2)");
    if (d == DGP_PRICING && opt->arms != 2)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "pricing: a continuous treatment has no "
                       "arms (leave arms at 2)");
    if (d == DGP_SYNTHETIC)
        return gen_synthetic(opt, out, err, errlen);
    size_t p = opt->p_x ? opt->p_x : 5;
    if (p < 2 || p > 10000)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s: x columns must be in [2, 10000], got %zu",
                       names[d], p);
    size_t n = opt->rows;
    tt_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !alloc_gen(ds, d, n, p, opt->arms, opt)) {
        tt_dataset_free(ds);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory for %zu rows", names[d], n);
    }
    double *x = tt_malloc_array(p, sizeof(double));
    if (!x) {
        tt_dataset_free(ds);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    tt_rng rng;
    tt_rng_seed(&rng, opt->seed, names[d]);
    for (size_t i = 0; i < n; i++) {
        double w[GEN_P_W];
        for (size_t j = 0; j < p; j++)
            x[j] = ds->x[j * n + i] = tt_rng_normal(&rng);
        for (int j = 0; j < GEN_P_W; j++)
            w[j] = ds->w[(size_t)j * n + i] = tt_rng_normal(&rng);
        gen_row(d, &rng, ds, i, x, w);
    }
    free(x);
    /* A continuous treatment's strata (dataset.h): above the median or not. */
    if (d == DGP_PRICING && tt_median_split(ds->t_value, n, ds->t) < 0) {
        tt_dataset_free(ds);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory for %zu rows", names[d], n);
    }
    *out = ds;
    return TT_OK;
}
