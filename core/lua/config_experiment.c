/*
 * config_experiment.c - the config's experiment = {...} table, read for
 * `tautune abtest` (config.h lists its keys). The design's shares are kept
 * as given; abtest matches labels to arms and normalises once the data's
 * arms are known.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "experiment/abtest.h"
#include "lua/config_read.h"
#include "lua/space_dsl.h"
#include "util/mem.h"

static const char *const experiment_keys[] = {"outcomes", "design", "pre", "alpha",
                                              "correction", "search", "resamples", NULL};
static const char *const corrections[] = {"holm", "bonferroni", "none", NULL};

/* One share: a finite number > 0. */
static tt_status take_share(tt_cfg_reader *rd, int idx, const char *kp, double *out)
{
    tt_status st = tt_cfg_take_number(rd, idx, kp, out);
    if (st == TT_OK && !(*out > 0 && isfinite(*out)))
        st = tt_cfg_fail(rd, 0, kp, "a design share must be a number > 0, got %g", *out);
    return st;
}

/* design = {0.5, 0.5} (arm order) or {["No E-Mail"] = 1, ...} (by label). */
static tt_status read_design(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    if (lua_type(L, t) != LUA_TTABLE || tt_space_dsl_is_space(L, t))
        return tt_cfg_wrong_type(rd, t, "experiment.design",
                                 "a list of shares in arm order or a table {label = share}");
    size_t n_keys = 0, n_list = lua_rawlen(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        n_keys++;
    }
    if (n_keys == 0)
        return tt_cfg_fail(rd, 0, "experiment.design", "is empty: give one share per arm");
    int as_list = n_list == n_keys;
    cfg->exp_design = calloc(n_keys, sizeof *cfg->exp_design);
    if (!cfg->exp_design)
        return tt_cfg_nomem(rd);
    cfg->n_exp_design = n_keys;
    if (as_list) {
        for (size_t i = 0; i < n_keys; i++) {
            char kp[64];
            snprintf(kp, sizeof kp, "experiment.design[%zu]", i + 1);
            lua_rawgeti(L, t, (lua_Integer)(i + 1));
            tt_status st = take_share(rd, -1, kp, &cfg->exp_design[i]);
            lua_pop(L, 1);
            if (st != TT_OK)
                return st;
        }
        return TT_OK;
    }
    cfg->exp_design_labels = calloc(n_keys, sizeof *cfg->exp_design_labels);
    if (!cfg->exp_design_labels)
        return tt_cfg_nomem(rd);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, t) && i < n_keys) {
        char kp[TT_CFG_KP_MAX];
        tt_cfg_kp_join_key(L, -2, kp, "experiment.design");
        /* A label is text; a numeric treatment's label may be written as a number. */
        int kt = lua_type(L, -2);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER) {
            lua_pop(L, 2);
            return tt_cfg_fail(rd, 0, kp, "keys must be arm labels");
        }
        char label[64];
        if (kt == LUA_TNUMBER)
            tt_cfg_format_number(L, -2, label, sizeof label);
        else
            snprintf(label, sizeof label, "%s", lua_tostring(L, -2));
        if (!(cfg->exp_design_labels[i] = tt_strdup(label))) {
            lua_pop(L, 2);
            return tt_cfg_nomem(rd);
        }
        tt_status st = take_share(rd, -1, kp, &cfg->exp_design[i]);
        lua_pop(L, 1);
        if (st != TT_OK) {
            lua_pop(L, 1);
            return st;
        }
        i++;
    }
    return TT_OK;
}

tt_status tt_cfg_read_experiment(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "experiment", experiment_keys);
    if (st != TT_OK)
        return st;
    cfg->has_experiment = 1;
    if (tt_cfg_get(L, t, "outcomes") != LUA_TNIL &&
        (st = tt_cfg_take_strings(rd, -1, "experiment.outcomes", 1, 1, &cfg->exp_outcomes,
                                  &cfg->n_exp_outcomes)))
        return st;
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "design") != LUA_TNIL && (st = read_design(rd, lua_gettop(L))))
        return st;
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "pre") != LUA_TNIL &&
        (st = tt_cfg_take_string(rd, -1, "experiment.pre", &cfg->exp_pre)))
        return st;
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "alpha") != LUA_TNIL) {
        if ((st = tt_cfg_take_number(rd, -1, "experiment.alpha", &cfg->exp_alpha)))
            return st;
        if (!(cfg->exp_alpha > 0 && cfg->exp_alpha < 0.5))
            return tt_cfg_fail(rd, 0, "experiment.alpha", "must be in (0, 0.5), got %g",
                               cfg->exp_alpha);
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "correction") != LUA_TNIL) {
        char *c = NULL;
        if ((st = tt_cfg_take_string(rd, -1, "experiment.correction", &c)))
            return st;
        int k = 0;
        while (corrections[k] && strcmp(corrections[k], c) != 0)
            k++;
        if (!corrections[k]) {
            st = tt_cfg_fail(rd, 0, "experiment.correction", "unknown value \"%s\" (expected "
                             "\"holm\", \"bonferroni\" or \"none\")", c);
            free(c);
            return st;
        }
        free(c);
        cfg->exp_correction = k; /* tt_ab_correction's order */
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "search") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return tt_cfg_wrong_type(rd, -1, "experiment.search", "true or false");
        cfg->exp_search = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "resamples") != LUA_TNIL) {
        long long v;
        if ((st = tt_cfg_take_integer(rd, -1, "experiment.resamples", 10, 1000000, &v)))
            return st;
        cfg->exp_resamples = (size_t)v;
    }
    lua_pop(L, 1);
    return TT_OK;
}
