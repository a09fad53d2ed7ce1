/* select.c - the winner's selection rule (select.h). */
#include "search/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/conditions.h"

/* Simplest first: constant effects, one outcome model, linear final stages,
 * learners on pseudo-outcomes or imputations, then forests. */
static const char *const simplicity[] = {
    "diff_in_means", "ipw", "s_learner", "t_learner", "dr_linear", "dml_linear",
    "dr_sparse_linear", "dml_sparse_linear", "ra_learner", "dr", "x_learner", "da_learner",
    "transformed_outcome", "dml_nonparam", "dr_forest", "causal_forest_dml", "causal_forest",
    "multi_arm_causal_forest",
    /* Instrumental variables, in the same spirit: the textbook 2SLS, the
     * linear residual and DR final stages, then learners and the forest. */
    "tsls", "ortho_iv", "dml_iv", "driv_intent_to_treat", "driv_linear", "driv_sparse_linear",
    "dml_iv_nonparam", "driv", "instrumental_forest", NULL};

int tt_select_simplicity(const char *plugin)
{
    int i = 0;
    for (; simplicity[i]; i++)
        if (strcmp(simplicity[i], plugin) == 0)
            return i;
    return i;
}

size_t tt_select_active_params(const tt_trial_result *r)
{
    size_t n = 0;
    for (size_t p = 0; p < r->desc->n_params; p++)
        n += tt_param_active(r->desc, r->point, p) != 0;
    return n;
}

/* a is simpler than b (select.h's order). */
static int simpler(const tt_trial_result *a, const tt_trial_result *b)
{
    size_t pa = tt_select_active_params(a), pb = tt_select_active_params(b);
    if (pa != pb)
        return pa < pb;
    int sa = tt_select_simplicity(a->desc->name), sb = tt_select_simplicity(b->desc->name);
    if (sa != sb)
        return sa < sb;
    int byname = strcmp(a->desc->name, b->desc->name); /* plugins outside the list */
    if (byname != 0)
        return byname < 0;
    return a->id < b->id;
}

const char *tt_selection_name(tt_selection rule)
{
    return rule == TT_SELECT_ONE_SE ? "one_se" : rule == TT_SELECT_MEDOID ? "medoid" : "best";
}

/* A tied trial whose effects can join the medoid's comparison. */
static int has_tied_effects(const tt_trial_result *r, size_t n_effects)
{
    return r->tied_with_best && r->effects && r->n_effects == n_effects;
}

typedef struct affordability {
    tt_select_affordable fn;
    void *ctx;
} affordability;

static int affordable(const affordability *a, const tt_trial_result *r)
{
    return !a->fn || a->fn(a->ctx, r);
}

/* select.h's medoid, or out->best when fewer than three tied trials hold
 * effects (or memory runs out: the best by objective is a fine answer). */
static long medoid_of_ties(const tt_search_outcome *out, const affordability *a)
{
    const tt_trial_result *b = &out->trials[out->best];
    const size_t n = b->n_effects;
    if (!b->effects || n == 0)
        return out->best;
    size_t members = 0;
    for (size_t i = 0; i < out->n_trials; i++)
        members += (size_t)has_tied_effects(&out->trials[i], n);
    if (members < 3)
        return out->best;
    double *mean = calloc(n, sizeof *mean);
    if (!mean)
        return out->best;
    for (size_t i = 0; i < out->n_trials; i++)
        if (has_tied_effects(&out->trials[i], n))
            for (size_t k = 0; k < n; k++)
                mean[k] += out->trials[i].effects[k];
    for (size_t k = 0; k < n; k++)
        mean[k] /= (double)members;
    long pick = out->best;
    double nearest = INFINITY;
    for (size_t i = 0; i < out->n_trials; i++) { /* trials are in id order: ties keep the lower */
        if (!has_tied_effects(&out->trials[i], n) || !affordable(a, &out->trials[i]))
            continue;
        double d2 = 0.0;
        for (size_t k = 0; k < n; k++) {
            const double d = out->trials[i].effects[k] - mean[k];
            d2 += d * d;
        }
        if (d2 < nearest) {
            nearest = d2;
            pick = (long)i;
        }
    }
    free(mean);
    return pick;
}

static long simplest_of_ties(const tt_search_outcome *out, const affordability *a)
{
    long pick = out->best_by_objective;
    for (size_t i = 0; i < out->n_trials; i++)
        if (out->trials[i].tied_with_best && simpler(&out->trials[i], &out->trials[pick]) &&
            affordable(a, &out->trials[i]))
            pick = (long)i;
    return pick;
}

void tt_search_select(tt_search_outcome *out, tt_selection rule, tt_select_affordable fn,
                      void *ctx)
{
    const affordability a = {fn, ctx};
    out->best = out->best_by_objective;
    out->rule = tt_selection_name(rule);
    out->picks[TT_SELECT_BEST] = out->picks[TT_SELECT_ONE_SE] = out->picks[TT_SELECT_MEDOID] =
        out->best;
    if (out->best < 0)
        return;
    /* Every rule's pick is kept (results.json shows where they disagree). */
    out->picks[TT_SELECT_ONE_SE] = simplest_of_ties(out, &a);
    out->picks[TT_SELECT_MEDOID] = medoid_of_ties(out, &a);
    out->best = out->picks[rule];
}
