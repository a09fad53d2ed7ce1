/* test_nuisance_plan.c - the nuisance stage's affordable plan
 * (nuisance_cost.h): every candidate's cost is the cost model's, the first
 * candidate of each role is always taken, the returned estimate is what the
 * taken candidates cost plus, per refit, the dearest taken candidate of every
 * role (recomputed here from the costs), the allowance holds it, and refits
 * turn away a dear group that fits without them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nuisance/nuisance.h"
#include "nuisance/nuisance_cost.h"

#define P 10
#define FOLDS 5

/* A propensity and two arms' outcome models with the default candidates. */
static void roles_of(tt_nuisance_plan_role roles[3], size_t rows)
{
    memset(roles, 0, 3 * sizeof *roles);
    const tt_nuisance_role kind[3] = {TT_NUISANCE_PROPENSITY, TT_NUISANCE_ARM_OUTCOME,
                                      TT_NUISANCE_ARM_OUTCOME};
    for (int r = 0; r < 3; r++) {
        roles[r].role = kind[r];
        roles[r].arm = r == 0 ? -1 : r - 1;
        roles[r].n_rows = r == 0 ? rows : rows / 2;
        roles[r].classes = r == 0 ? 2 : 1;
        tt_nuisance_default_candidates(kind[r], &roles[r].cands, &roles[r].n_cands);
    }
}

/* The plan's estimate from its choices: taken costs plus refits x dearest. */
static double recount(const tt_nuisance_plan_role *roles, size_t refits, double *dearest_sum)
{
    double sel = 0, dear = 0;
    for (int r = 0; r < 3; r++) {
        double m = 0;
        size_t taken = 0;
        for (size_t c = 0; c < roles[r].n_cands; c++) {
            double cost = tt_nuisance_cost(&roles[r].cands[c], roles[r].role, roles[r].n_rows,
                                           P, roles[r].classes, FOLDS);
            assert_true(fabs(cost - roles[r].cost[c]) <= 1e-12 * (1 + cost));
            if (roles[r].take[c]) {
                sel += cost;
                m = cost > m ? cost : m;
                taken++;
            }
        }
        assert_int_equal(taken, roles[r].n_take);
        assert_true(roles[r].take[0]);
        dear += m;
    }
    *dearest_sum = dear;
    return sel + (double)refits * dear;
}

static void test_estimate_is_recounted(void **state)
{
    (void)state;
    const size_t refits_of[] = {0, 1, 4, 9};
    const double allowances[] = {0.0, 0.2, 0.5, 1.5, 4.0, 20.0, -1.0};
    for (size_t a = 0; a < sizeof allowances / sizeof *allowances; a++)
        for (size_t k = 0; k < sizeof refits_of / sizeof *refits_of; k++) {
            tt_nuisance_plan_role roles[3];
            roles_of(roles, 3000);
            double minimum = -1;
            size_t refits = refits_of[k];
            double total = tt_nuisance_plan(roles, 3, P, FOLDS, refits, allowances[a], &minimum);
            double dear;
            double want = recount(roles, refits, &dear);
            assert_true(fabs(total - want) <= 1e-9 * (1 + want));
            assert_true(fabs(dear - tt_nuisance_plan_refit(roles, 3)) <= 1e-12 * (1 + dear));
            double first = roles[0].cost[0] + roles[1].cost[0] + roles[2].cost[0];
            assert_true(fabs(minimum - first) <= 1e-12);
            /* Within the allowance, unless only the always-taken first
             * candidates are in the plan. */
            int more = roles[0].n_take + roles[1].n_take + roles[2].n_take > 3;
            if (allowances[a] >= 0 && more)
                assert_true(total <= allowances[a] * (1 + 1e-12));
            if (allowances[a] < 0)
                for (int r = 0; r < 3; r++)
                    assert_int_equal(roles[r].n_take, roles[r].n_cands);
        }
}

/* An allowance that holds every candidate once but not four more fits of the
 * dearest: without refits everything is taken, with four the dearest group
 * (a forest) is left out, and the plan still fits its allowance. */
static void test_refits_turn_away_dear_groups(void **state)
{
    (void)state;
    tt_nuisance_plan_role roles[3];
    roles_of(roles, 3000);
    double all = tt_nuisance_plan(roles, 3, P, FOLDS, 0, -1.0, NULL);
    double dear_all = tt_nuisance_plan_refit(roles, 3);
    double allowance = all + 2.0 * dear_all; /* < all + 4 x dear_all */
    tt_nuisance_plan(roles, 3, P, FOLDS, 0, allowance, NULL);
    for (int r = 0; r < 3; r++)
        assert_int_equal(roles[r].n_take, roles[r].n_cands);
    double total = tt_nuisance_plan(roles, 3, P, FOLDS, 4, allowance, NULL);
    assert_true(total <= allowance);
    int left_out = 0;
    for (int r = 0; r < 3; r++)
        left_out += roles[r].n_take < roles[r].n_cands;
    assert_int_equal(left_out, 3); /* whole groups: every role loses the same one */
    assert_true(tt_nuisance_plan_refit(roles, 3) < dear_all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_is_recounted),
        cmocka_unit_test(test_refits_turn_away_dear_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
