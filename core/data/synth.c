/* synth.c - the built-in "synthetic" data generator documented in synth.h. */
#include "data/synth.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/rng.h"

enum { SYNTH_P_X = 5, SYNTH_P_W = 2, SYNTH_MAX_ARMS = 16 };

void tt_synth_options_init(tt_synth_options *opt)
{
    if (!opt)
        return;
    opt->rows = 4000;
    opt->arms = 2;
    opt->seed = 1;
}

static char *fmt_name(const char *prefix, long i)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%ld", prefix, i);
    return tt_strdup(buf);
}

/* Allocate every array of a K-arm dataset with n rows; 0 on failure (the
 * caller frees the partial dataset). */
static int alloc_synth(tt_dataset *ds, size_t n, int k, const tt_synth_options *opt)
{
    char src[128];
    snprintf(src, sizeof src, "synthetic(rows=%zu, arms=%d, seed=%" PRIu64 ")", n, k, opt->seed);
    ds->source = tt_strdup(src);
    ds->n = n;
    ds->p_x = SYNTH_P_X;
    ds->p_w = SYNTH_P_W;
    ds->n_arms = k;
    ds->x = tt_malloc_array(n, SYNTH_P_X * sizeof(double));
    ds->w = tt_malloc_array(n, SYNTH_P_W * sizeof(double));
    ds->y = tt_malloc_array(n, sizeof(double));
    ds->t = tt_malloc_array(n, sizeof(int));
    ds->tau = tt_malloc_array(n, (size_t)(k - 1) * sizeof(double));
    ds->arm_labels = calloc((size_t)k, sizeof(char *));
    ds->x_names = calloc(SYNTH_P_X, sizeof(char *));
    ds->w_names = calloc(SYNTH_P_W, sizeof(char *));
    ds->y_name = tt_strdup("y");
    ds->t_name = tt_strdup("t");
    if (!ds->source || !ds->x || !ds->w || !ds->y || !ds->t || !ds->tau || !ds->arm_labels ||
        !ds->x_names || !ds->w_names || !ds->y_name || !ds->t_name)
        return 0;
    for (int a = 0; a < k; a++)
        if (!(ds->arm_labels[a] = fmt_name("", a)))
            return 0;
    for (int j = 0; j < SYNTH_P_X; j++)
        if (!(ds->x_names[j] = fmt_name("x", j + 1)))
            return 0;
    for (int j = 0; j < SYNTH_P_W; j++)
        if (!(ds->w_names[j] = fmt_name("w", j + 1)))
            return 0;
    return 1;
}

tt_status tt_synth_generate(const char *name, const tt_synth_options *opt, tt_dataset **out,
                            char *err, size_t errlen)
{
    if (!out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_synth_generate: out is NULL");
    *out = NULL;
    tt_synth_options defaults;
    if (!opt) {
        tt_synth_options_init(&defaults);
        opt = &defaults;
    }
    if (!name || strcmp(name, "synthetic") != 0)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "unknown data generator '%s' (known: synthetic)",
                       name ? name : "(null)");
    if (opt->rows < 10)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "synthetic: rows must be at least 10, got %zu", opt->rows);
    if (opt->arms < 2 || opt->arms > SYNTH_MAX_ARMS)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "synthetic: arms must be in [2, %d], got %d",
                       SYNTH_MAX_ARMS, opt->arms);

    size_t n = opt->rows;
    int k = opt->arms;
    tt_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !alloc_synth(ds, n, k, opt)) {
        tt_dataset_free(ds);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "synthetic: out of memory for %zu rows", n);
    }

    tt_rng rng;
    tt_rng_seed(&rng, opt->seed, "synth");
    /* Draws go row by row in a fixed order (x1..x5, w1, w2, the arm's
     * uniform, the noise) so a given seed always yields the same rows. */
    for (size_t i = 0; i < n; i++) {
        double x[SYNTH_P_X], w[SYNTH_P_W];
        for (int j = 0; j < SYNTH_P_X; j++)
            x[j] = ds->x[(size_t)j * n + i] = tt_rng_normal(&rng);
        for (int j = 0; j < SYNTH_P_W; j++)
            w[j] = ds->w[(size_t)j * n + i] = tt_rng_normal(&rng);

        /* Softmax over s_0 = 0, s_k = lin + 0.2 (k - 1); for two arms this is
         * the logistic propensity. Shift by the max so exp never overflows. */
        double lin = 0.8 * x[0] + 0.6 * w[0];
        double s[SYNTH_MAX_ARMS], smax = 0.0, total = 0.0;
        s[0] = 0.0;
        for (int a = 1; a < k; a++) {
            s[a] = lin + 0.2 * (a - 1);
            if (s[a] > smax)
                smax = s[a];
        }
        for (int a = 0; a < k; a++) {
            s[a] = exp(s[a] - smax);
            total += s[a];
        }
        double u = tt_rng_uniform(&rng) * total;
        int arm = k - 1;
        for (int a = 0; a < k - 1; a++) {
            if (u < s[a]) {
                arm = a;
                break;
            }
            u -= s[a];
        }
        ds->t[i] = arm;

        double base = 1.0 + x[0] + 0.5 * x[1] * x[1] - 0.5;
        for (int a = 1; a < k; a++)
            ds->tau[(size_t)(a - 1) * n + i] = a * base;
        double eff = arm > 0 ? arm * base : 0.0;
        ds->y[i] = 0.5 * x[2] + w[0] + 0.5 * w[1] + eff + tt_rng_normal(&rng);
    }
    *out = ds;
    return TT_OK;
}
