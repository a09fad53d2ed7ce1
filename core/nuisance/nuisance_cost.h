/*
 * nuisance_cost.h - how much work a nuisance model costs, and the plan of
 * which candidates a run can afford.
 *
 * The nuisance stage must fit its share of the budget without looking at a
 * clock: a selection that stops "when time is up" picks a different model on
 * a busy machine than on a quiet one, and every estimate downstream moves
 * with it. So candidates are chosen before any fitting, from an estimate in
 * work units (rows x features x trees x folds ..., per learner) converted to
 * seconds by fixed rates measured once on the reference machine (2 cores;
 * tests/bench/nuisance_cost re-measures them). The plan depends only on the
 * data's shape, the candidates and the allowance: the same inputs give the
 * same plan on any machine and under any load. How long the plan then takes
 * varies with the machine; what it chooses does not.
 *
 * Library code: never prints. Thread-safe (pure functions).
 */
#ifndef TT_NUISANCE_NUISANCE_COST_H
#define TT_NUISANCE_NUISANCE_COST_H

#include <stddef.h>

#include "nuisance/nuisance.h"

/* Estimated seconds to cross-fit spec for a role: `folds` fits on the other
 * folds' rows, each predicting its fold, plus one fit on all n_rows rows.
 * n_rows: the rows the role trains on (an arm's rows for mu_k); p features;
 * classes: 2 for a binary propensity, K for a multinomial one, 1 for an
 * outcome. An unknown learner or key gives +inf (never affordable). */
double tt_nuisance_cost(const tt_nuisance_spec *spec, tt_nuisance_role role, size_t n_rows,
                        size_t p, size_t classes, size_t folds);

/* One role to plan: its candidates in the order they are preferred, and
 * their estimated costs (filled by tt_nuisance_plan). */
typedef struct tt_nuisance_plan_role {
    tt_nuisance_role role;
    int arm;                         /* ARM_OUTCOME: the arm; else -1 */
    size_t n_rows, classes;          /* as for tt_nuisance_cost */
    const tt_nuisance_spec *cands;   /* borrowed */
    size_t n_cands;                  /* <= TT_NUISANCE_MAX_CANDS */
    /* Out: */
    double cost[16];                 /* estimated seconds of each candidate */
    unsigned char take[16];          /* 1: the plan fits this candidate */
    size_t n_take;
} tt_nuisance_plan_role;

#define TT_NUISANCE_MAX_CANDS 16

/* Chooses, for every role, which candidates to fit within `allowance`
 * estimated seconds in all. The first candidate of every role is always
 * taken (the smallest plan; *minimum gets its cost, fitted once). The other
 * candidates go in groups - candidate c of every role - offered cheapest
 * group first; a group is taken whole while the running total stays within
 * the allowance (one too dear is skipped; a cheaper one may still fit), so
 * all roles get the same kinds of model.
 * refits: how many times the chosen model of every role is fitted again
 * afterwards on as many rows (K-fold scoring refits fold 0's choice on the
 * other K-1 folds). Which candidate wins is known only after fitting, so
 * each refit counts the dearest taken candidate of every role
 * (tt_nuisance_plan_refit) - a group that would make the refits too dear is
 * skipped like any other. allowance < 0 takes everything.
 * Returns the planned estimate, refits included. */
double tt_nuisance_plan(tt_nuisance_plan_role *roles, size_t n_roles, size_t p, size_t folds,
                        size_t refits, double allowance, double *minimum);

/* One refit's estimate under the plan: the dearest taken candidate of every
 * role. */
double tt_nuisance_plan_refit(const tt_nuisance_plan_role *roles, size_t n_roles);

#endif
