/* run_iv.c - the IV diagnostics of a run (score/iv_diag.h): computed once the
 * scores are built, so the deciles can use the scoring nuisances' out-of-fold
 * compliance; said on stderr when they call for caution (loudly below F = 10
 * or where compliance is near zero), and written to results.json "iv". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "score/score_nuisance.h"

int tt_run_binary_instrument(const tt_dataset *d)
{
    if (d->p_z < 1 || !d->z || d->n_arms != 2)
        return 0;
    int seen[2] = {0, 0};
    for (size_t i = 0; i < d->n; i++) {
        if (d->z[i] != 0.0 && d->z[i] != 1.0)
            return 0;
        seen[d->z[i] == 1.0] = 1;
    }
    return seen[0] && seen[1];
}

static const char *z_name(const tt_dataset *d)
{
    return d->z_names && d->z_names[0] ? d->z_names[0] : "z";
}

int tt_run_require_binary_instrument(const tt_dataset *d)
{
    if (tt_run_binary_instrument(d))
        return TT_EXIT_OK;
    /* Say which condition fails (the IV plugins refused K > 2 arms already). */
    if (d->p_z < 1 || !d->z) {
        fprintf(stderr, "tautune: %s: the instrumental-variable nuisances need an instrument "
                        "(data.z)\n", d->source);
        return TT_EXIT_DATA;
    }
    if (d->n_arms != 2) {
        fprintf(stderr, "tautune: %s: the instrumental-variable nuisances need two arms, the "
                        "data have %d\n", d->source, d->n_arms);
        return TT_EXIT_DATA;
    }
    for (size_t i = 0; i < d->n; i++)
        if (d->z[i] != 0.0 && d->z[i] != 1.0) {
            fprintf(stderr, "tautune: %s: instrument '%s' is %g at data row %zu; the "
                            "instrumental-variable nuisances need a binary instrument coded 0/1 "
                            "(tsls takes any instrument)\n",
                    d->source, z_name(d), d->z[i], i + 1);
            return TT_EXIT_DATA;
        }
    fprintf(stderr, "tautune: %s: instrument '%s' is %g on every row; it cannot identify an "
                    "effect\n", d->source, z_name(d), d->n ? d->z[0] : 0.0);
    return TT_EXIT_DATA;
}

int tt_run_iv_diagnostics(run_state *s)
{
    const tt_dataset *d = s->data;
    s->has_iv_diag = 0;
    if (!tt_run_binary_instrument(d))
        return TT_EXIT_OK;
    const size_t n = d->n, p = d->p_x + d->p_w;
    double *t = malloc(sizeof *t * (n + 1)), *xw = malloc(sizeof *xw * (n * p + 1));
    int *z = malloc(sizeof *z * (n + 1));
    /* The scoring rows' out-of-fold compliance (all rows with K folds). */
    const tt_score_nuisance *nu = tt_score_context_nuisance(s->scores);
    const tt_dataset *v = s->valid;
    int *vz = nu && nu->pz_hat ? malloc(sizeof *vz * (v->n + 1)) : NULL;
    double *comp = vz ? malloc(sizeof *comp * (v->n + 1)) : NULL;
    if (!t || !xw || !z || (nu && nu->pz_hat && (!vz || !comp))) {
        free(t), free(xw), free(z), free(vz), free(comp);
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        /* A continuous treatment's first stage and Wald ratio are per unit of T. */
        t[i] = d->t_value ? d->t_value[i] : d->t[i];
        z[i] = d->z[i] == 1.0;
    }
    if (d->p_x)
        memcpy(xw, d->x, sizeof *xw * n * d->p_x);
    if (d->p_w)
        memcpy(xw + n * d->p_x, d->w, sizeof *xw * n * d->p_w);
    for (size_t i = 0; comp && i < v->n; i++) {
        vz[i] = v->z[i] == 1.0;
        comp[i] = nu->pz_hat[v->n + i] - nu->pz_hat[i];
    }
    char err[512];
    tt_status st = tt_iv_diag_compute(n, d->y, t, z, p, xw, comp ? v->n : 0, v->t, vz, comp,
                                      &s->iv_diag, err, sizeof err);
    free(t), free(xw), free(z), free(vz), free(comp);
    if (st != TT_OK) {
        fprintf(stderr, "tautune: %s: instrument '%s': %s\n", d->source, z_name(d), err);
        return st == TT_ERR_DATA ? TT_EXIT_DATA : TT_EXIT_ERROR;
    }
    s->has_iv_diag = 1;
    const tt_iv_diag *g = &s->iv_diag;
    if (!s->quiet)
        fprintf(stderr, "tautune: instrument '%s': first-stage F %.1f, compliance %.3f, reduced "
                        "form %.4g (s.e. %.2g), Wald ratio %.4g (s.e. %.2g)\n",
                z_name(d), g->fs_f, g->compliance, g->reduced_form, g->reduced_form_se, g->wald,
                g->wald_se);
    /* Caveats are printed even with --quiet: they change what the answer means. */
    if (g->weak)
        fprintf(stderr, "tautune: WARNING: instrument '%s' is weak (first-stage F %.1f < %g): "
                        "IV estimates are biased towards the confounded ones and their intervals "
                        "are unreliable; do not trust the effects without a stronger "
                        "instrument\n",
                z_name(d), g->fs_f, TT_IV_WEAK_F);
    if (g->thin)
        fprintf(stderr, "tautune: WARNING: instrument '%s' moves almost no one in part of the "
                        "data: %.0f %% of the scored rows have predicted compliance below %g; "
                        "effects there rest on a handful of compliers or on extrapolation "
                        "(results.json iv.deciles)\n",
                z_name(d), 100 * g->share_thin, TT_IV_THIN_COMPLIANCE);
    return TT_EXIT_OK;
}

static void num(cJSON *o, const char *k, double v)
{
    cJSON_AddItemToObject(o, k, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

cJSON *tt_run_iv_facts(const run_state *s)
{
    if (!s->has_iv_diag)
        return NULL;
    const tt_iv_diag *g = &s->iv_diag;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "instrument", z_name(s->data));
    cJSON_AddNumberToObject(o, "rows", (double)g->n);
    cJSON_AddNumberToObject(o, "rows_z1", (double)g->n_z1);
    cJSON *fs = cJSON_AddObjectToObject(o, "first_stage");
    num(fs, "coef", g->fs_coef);
    num(fs, "se", g->fs_se);
    num(fs, "f", g->fs_f);
    cJSON_AddStringToObject(fs, "controls", g->controls ? "x and w partialled out" : "none");
    num(o, "compliance", g->compliance);
    num(o, "compliance_predicted_mean", g->predicted_mean);
    num(o, "reduced_form", g->reduced_form);
    num(o, "reduced_form_se", g->reduced_form_se);
    num(o, "wald", g->wald);
    num(o, "wald_se", g->wald_se);
    cJSON *dec = cJSON_AddArrayToObject(o, "deciles");
    for (size_t k = 0; k < g->n_deciles; k++) {
        const tt_iv_decile *q = &g->deciles[k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "rows", (double)q->n);
        num(e, "predicted_lo", q->lo);
        num(e, "predicted_hi", q->hi);
        num(e, "predicted", q->predicted);
        num(e, "observed", q->observed);
        num(e, "f", q->f);
        cJSON_AddItemToArray(dec, e);
    }
    num(o, "share_thin", g->share_thin);
    cJSON_AddBoolToObject(o, "weak", g->weak);
    cJSON_AddBoolToObject(o, "thin", g->thin);
    cJSON *cav = cJSON_AddArrayToObject(o, "caveats");
    char text[320];
    if (g->weak) {
        snprintf(text, sizeof text, "weak instrument: first-stage F %.1f < %g", g->fs_f,
                 TT_IV_WEAK_F);
        cJSON_AddItemToArray(cav, cJSON_CreateString(text));
    }
    if (g->thin) {
        snprintf(text, sizeof text, "%.0f %% of the scored rows have predicted compliance below "
                 "%g", 100 * g->share_thin, TT_IV_THIN_COMPLIANCE);
        cJSON_AddItemToArray(cav, cJSON_CreateString(text));
    }
    return o;
}
