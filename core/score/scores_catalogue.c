/* scores_catalogue.c - the static list of scores and the config-time check. */
#include "score/scores.h"

#include <stdio.h>
#include <string.h>

#include "score/scores_impl.h"
#include "util/err.h"

#define B TT_SCORE_NEEDS_BINARY
#define I TT_SCORE_NEEDS_INTERVALS
#define Z TT_SCORE_NEEDS_INSTRUMENT
#define N TT_SCORE_NEEDS_NUISANCE
#define C TT_SCORE_CONTINUOUS

/* Order = report order = the SC_* indices of scores_impl.h. */
static const tt_score_info catalogue[SC_COUNT] = {
    {"energy", TT_SCORE_MIN, 0,
     "energy distance of each arm's de-treated (x, Y - tau_hat) from the control arm's"},
    {"psw_energy", TT_SCORE_MIN, 0,
     "energy with rows weighted by 1/propensity within their arm (confounded data)"},
    {"iv_energy", TT_SCORE_MIN, Z,
     "energy with instrument values as the groups (IV problems)"},
    {"erupt", TT_SCORE_MAX, 0,
     "IPW (Hajek) mean outcome of rows whose arm agrees with the candidate's policy"},
    {"erupt_net", TT_SCORE_MAX, 0, "erupt minus the policy's mean per-arm cost"},
    {"treat_share", TT_SCORE_REPORT, 0,
     "share of rows the erupt policy gives a treated arm (per arm: tt_scores_treat_shares)"},
    {"norm_erupt", TT_SCORE_MAX, B,
     "erupt of treating rows with tau_hat above the IPW ATE, minus that ATE times the share"},
    {"qini", TT_SCORE_MAX, 0,
     "area between the Qini curve of ranking by tau_hat and random targeting"},
    {"auuc", TT_SCORE_MAX, 0, "area under the uplift curve of ranking by tau_hat, normalised"},
    {"policy_value", TT_SCORE_MAX, 0,
     "IPW (Hajek) value of the greedy policy minus its mean cost"},
    {"policy_gain", TT_SCORE_MAX, 0, "policy_value minus the value of treating nobody"},
    {"policy_gain_best", TT_SCORE_MAX, 0,
     "policy_value minus the value of giving everyone the best single treated arm"},
    {"policy_risk", TT_SCORE_MIN, 0,
     "max(0, (mean Y - policy_value) / |mean Y|), for parity with CausalTune"},
    {"r_score", TT_SCORE_MAX, N | C,
     "1 - R-loss(tau_hat) / R-loss(best constant), validation-cross-fitted nuisances"},
    {"dr_mse", TT_SCORE_MIN, N | C,
     "mean squared distance of tau_hat from doubly robust pseudo-outcomes"},
    {"iv_dr_mse", TT_SCORE_MIN, B | Z | N | C,
     "mean squared distance of tau_hat from doubly robust IV (DRIV) pseudo-outcomes"},
    {"ate", TT_SCORE_REPORT, C, "mean tau_hat of arm 1 over the validation rows"},
    {"ate_sd", TT_SCORE_REPORT, C, "standard deviation of tau_hat of arm 1 across rows"},
    {"ate_lo", TT_SCORE_REPORT, I | C, "lower end of the interval of the mean effect of arm 1"},
    {"ate_hi", TT_SCORE_REPORT, I | C, "upper end of the interval of the mean effect of arm 1"},
};

const tt_score_info *tt_score_catalogue(size_t *n)
{
    if (n)
        *n = SC_COUNT;
    return catalogue;
}

const tt_score_info *tt_score_find(const char *name)
{
    for (size_t i = 0; name && i < SC_COUNT; i++)
        if (strcmp(catalogue[i].name, name) == 0)
            return &catalogue[i];
    return NULL;
}

tt_status tt_score_check(const char *name, int n_arms, int has_instrument, char *err,
                         size_t errlen)
{
    const tt_score_info *s = tt_score_find(name);
    if (!s) {
        char list[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < SC_COUNT && used < sizeof list; i++) {
            const int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                   catalogue[i].name);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return tt_errf(err, errlen, TT_ERR_CONFIG, "unknown score \"%s\"; valid scores: %s",
                       name ? name : "(null)", list);
    }
    if ((s->needs & TT_SCORE_NEEDS_BINARY) && n_arms != 2)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "score \"%s\" is defined for binary treatment only; this problem has %d "
                       "arms", name, n_arms);
    if ((s->needs & TT_SCORE_NEEDS_INSTRUMENT) && !has_instrument)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "score \"%s\" needs an instrument column (IV problems only)", name);
    return TT_OK;
}

void tt_score_options_init(tt_score_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->clip = 0.05;
    opts->erupt_policy = TT_ERUPT_GREEDY;
    opts->thompson_draws = 200;
    opts->folds = 5;
    opts->fit_nuisances = 1;
    opts->alpha_ridge = 1.0;
    opts->alpha_logistic = 1.0;
    opts->energy_standardize = 1;
}
