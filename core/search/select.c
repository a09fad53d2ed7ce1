/* select.c - the winner's selection rule (select.h). */
#include "search/select.h"

#include <string.h>

#include "plugin/conditions.h"

/* Simplest first: constant effects, one outcome model, linear final stages,
 * learners on pseudo-outcomes or imputations, then forests. */
static const char *const simplicity[] = {
    "diff_in_means", "ipw", "s_learner", "t_learner", "dr_linear", "dml_linear",
    "dr_sparse_linear", "dml_sparse_linear", "ra_learner", "dr", "x_learner", "da_learner",
    "transformed_outcome", "dml_nonparam", "dr_forest", "causal_forest_dml", "causal_forest",
    "multi_arm_causal_forest", NULL};

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

void tt_search_select(tt_search_outcome *out, tt_selection rule)
{
    out->best = out->best_by_objective;
    out->rule = rule == TT_SELECT_ONE_SE ? "one_se" : "best";
    if (rule != TT_SELECT_ONE_SE || out->best < 0)
        return;
    for (size_t i = 0; i < out->n_trials; i++)
        if (out->trials[i].tied_with_best && simpler(&out->trials[i], &out->trials[out->best]))
            out->best = (long)i;
}
