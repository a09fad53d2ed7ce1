/* config.c - running a config script and reading its table into tt_config. */
#include "lua/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua/config_read.h"
#include "lua/sandbox.h"
#include "lua/space_dsl.h"
#include "score/estimand.h"
#include "learn/learner.h"
#include "score/scores.h"
#include "util/err.h"
#include "util/mem.h"

/* A config is a page of Lua; anything this big is a mistake. */
#define CFG_MAX_FILE_BYTES ((size_t)16 << 20)
#define CFG_DEFAULT_BUDGET_SECONDS 60.0

static const char *const top_keys[] = {"name", "seed", "data", "validation", "metric",
                                       "scoring", "budget", "search", "nuisance",
                                       "intervals", "estimators", "out", "final_fit",
                                       "estimand", "experiment", NULL};
static const char *const interval_keys[] = {"resamples", "in_trials", NULL};
static const char *const nuisance_keys[] = {"propensity", "outcome", "folds", "seconds", NULL};
static const char *const scoring_keys[] = {"scores", "costs", "clip", "erupt_policy",
                                           "qini_weighted", "energy_standardize",
                                           "energy_max_rows", NULL};
static const char *const erupt_policies[] = {"greedy", "thompson", NULL};
static const char *const oracle_metrics[] = {"pehe", "ate_error", "cate_corr", "policy_true",
                                             NULL};
static const char *const budget_keys[] = {"seconds", "trials", "trial_seconds", NULL};
static const char *const search_keys[] = {"searcher", "cost", "jobs", "memory_mb", "selection",
                                          "ensemble", NULL};
static const char *const selections[] = {"best", "one_se", "medoid", NULL}; /* search/select.h */
static const char *const validation_keys[] = {"folds", "share", NULL};

/* validation = 0.3 (one holdout, that share of rows) or
 * validation = { folds = K, share = S }: K >= 2 cross-validated scoring
 * (every row scored out of fold), K = 1 one holdout of share S. Absent: the
 * run chooses by data size (cli/run_folds.c). */
static tt_status read_validation(tt_cfg_reader *rd, int v)
{
    tt_config *cfg = rd->cfg;
    lua_State *L = rd->L;
    tt_status st;
    if (lua_type(L, v) == LUA_TTABLE && !tt_space_dsl_is_space(L, v)) {
        int t = lua_absindex(L, v);
        if ((st = tt_cfg_check_keys(rd, t, "validation", validation_keys)))
            return st;
        if (tt_cfg_get(L, t, "folds") != LUA_TNIL) {
            long long k;
            if ((st = tt_cfg_take_integer(rd, -1, "validation.folds", 1, 20, &k)))
                return st;
            cfg->folds = (int)k;
        }
        lua_pop(L, 1);
        if (tt_cfg_get(L, t, "share") != LUA_TNIL) {
            if ((st = tt_cfg_take_number(rd, -1, "validation.share", &cfg->validation)))
                return st;
            if (!(cfg->validation > 0 && cfg->validation < 1))
                return tt_cfg_fail(rd, 0, "validation.share",
                                   "must be between 0 and 1 (the share of rows held out), got %g",
                                   cfg->validation);
            if (cfg->folds > 1)
                return tt_cfg_fail(rd, 0, "validation.share",
                                   "applies to one holdout (folds = 1); with %d folds every "
                                   "fold holds 1/%d of the rows", cfg->folds, cfg->folds);
            cfg->folds = 1;
        }
        lua_pop(L, 1);
        return TT_OK;
    }
    if (lua_type(L, v) != LUA_TNUMBER)
        return tt_cfg_wrong_type(rd, v, "validation",
                                 "a share of rows in (0, 1) or a table { folds = K }");
    if ((st = tt_cfg_take_number(rd, v, "validation", &cfg->validation)))
        return st;
    if (!(cfg->validation > 0 && cfg->validation < 1))
        return tt_cfg_fail(rd, 0, "validation",
                           "must be between 0 and 1 (the share of rows held out), got %g",
                           cfg->validation);
    cfg->folds = 1;
    return TT_OK;
}

static const char *const searchers[] = {"cfo", "random", NULL};
static const char *const costs[] = {"trials", "seconds", NULL};

/* ---- the whole table ---------------------------------------------------- */

static tt_status cfg_read_budget(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "budget", budget_keys);
    if (st != TT_OK)
        return st;
    int given = 0;
    if (tt_cfg_get(L, t, "seconds") != LUA_TNIL) {
        if ((st = tt_cfg_take_number(rd, -1, "budget.seconds", &cfg->budget_seconds)))
            return st;
        if (!(cfg->budget_seconds > 0))
            return tt_cfg_fail(rd, 0, "budget.seconds", "must be > 0, got %g", cfg->budget_seconds);
        given = 1;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "trials") != LUA_TNIL) {
        long long v;
        if ((st = tt_cfg_take_integer(rd, -1, "budget.trials", 1, LONG_MAX, &v)))
            return st;
        cfg->max_trials = (long)v;
        given = 1;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "trial_seconds") != LUA_TNIL) {
        if ((st = tt_cfg_take_number(rd, -1, "budget.trial_seconds", &cfg->trial_seconds)))
            return st;
        if (!(cfg->trial_seconds > 0))
            return tt_cfg_fail(rd, 0, "budget.trial_seconds", "must be > 0, got %g",
                               cfg->trial_seconds);
    }
    lua_pop(L, 1);
    if (!given)
        cfg->budget_seconds = CFG_DEFAULT_BUDGET_SECONDS;
    return TT_OK;
}

/* Reads a string key that must be one of `allowed`, into *out (owned). */
static tt_status take_one_of(tt_cfg_reader *rd, int t, const char *key, const char *kp,
                             const char *const *allowed, char **out)
{
    tt_status st = TT_OK;
    if (tt_cfg_get(rd->L, t, key) != LUA_TNIL) {
        char *v = NULL;
        if ((st = tt_cfg_take_string(rd, -1, kp, &v)) == TT_OK && !tt_cfg_in_list(allowed, v)) {
            char list[128];
            tt_cfg_join_list(allowed, list, sizeof list);
            st = tt_cfg_fail(rd, 0, kp, "unknown value \"%s\" (expected one of: %s)", v, list);
        }
        if (st == TT_OK) {
            free(*out);
            *out = v;
        } else {
            free(v);
        }
    }
    lua_pop(rd->L, 1);
    return st;
}

static tt_status cfg_read_search(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "search", search_keys);
    if (st == TT_OK)
        st = take_one_of(rd, t, "searcher", "search.searcher", searchers, &cfg->searcher);
    char *cost = NULL;
    if (st == TT_OK)
        st = take_one_of(rd, t, "cost", "search.cost", costs, &cost);
    if (cost)
        cfg->cost_in_seconds = strcmp(cost, "seconds") == 0;
    free(cost);
    char *selection = NULL;
    if (st == TT_OK)
        st = take_one_of(rd, t, "selection", "search.selection", selections, &selection);
    if (selection)
        cfg->selection = !strcmp(selection, "one_se") ? 1 : !strcmp(selection, "medoid") ? 2 : 0;
    free(selection);
    if (st == TT_OK) {
        int type = tt_cfg_get(L, t, "ensemble");
        if (type == LUA_TBOOLEAN)
            cfg->ensemble = lua_toboolean(L, -1);
        else if (type != LUA_TNIL)
            st = tt_cfg_wrong_type(rd, -1, "search.ensemble", "a boolean");
        lua_pop(L, 1);
    }
    long long v;
    if (st == TT_OK && tt_cfg_get(L, t, "jobs") != LUA_TNIL &&
        (st = tt_cfg_take_integer(rd, -1, "search.jobs", 1, 1024, &v)) == TT_OK)
        cfg->jobs = (int)v;
    if (st == TT_OK)
        lua_pop(L, 1);
    if (st == TT_OK && tt_cfg_get(L, t, "memory_mb") != LUA_TNIL &&
        (st = tt_cfg_take_integer(rd, -1, "search.memory_mb", 0, (long long)1 << 40, &v)) == TT_OK)
        cfg->memory_mb = (long)v;
    if (st == TT_OK)
        lua_pop(L, 1);
    return st;
}

/* A learner list for a nuisance role: "auto" (NULL list), one name, or a
 * list of names; each must be a learner of core/learn. */
static tt_status take_learners(tt_cfg_reader *rd, int t, const char *key, const char *kp,
                               char ***out, size_t *n_out)
{
    lua_State *L = rd->L;
    tt_status st = TT_OK;
    if (tt_cfg_get(L, t, key) != LUA_TNIL) {
        if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "auto") == 0) {
            lua_pop(L, 1);
            return TT_OK;
        }
        if ((st = tt_cfg_take_strings(rd, -1, kp, 1, 1, out, n_out)))
            return st;
        for (size_t i = 0; i < *n_out; i++) {
            size_t k = 0;
            while (k < tt_learner_count() && strcmp(tt_learner_name_at(k), (*out)[i]) != 0)
                k++;
            if (k == tt_learner_count()) {
                char list[256] = "";
                size_t off = 0;
                for (size_t j = 0; j < tt_learner_count() && off < sizeof list; j++)
                    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", j ? ", " : "",
                                            tt_learner_name_at(j));
                return tt_cfg_fail(rd, 0, kp, "unknown learner \"%s\" (learners: %s, or \"auto\")",
                                   (*out)[i], list);
            }
        }
    }
    lua_pop(L, 1);
    return st;
}

static tt_status cfg_read_intervals(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "intervals", interval_keys);
    if (st != TT_OK)
        return st;
    long long v;
    if (tt_cfg_get(L, t, "resamples") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "intervals.resamples", 2, 100000, &v)))
            return st;
        cfg->interval_resamples = (size_t)v;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "in_trials") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return tt_cfg_wrong_type(rd, -1, "intervals.in_trials", "true or false");
        cfg->intervals_in_trials = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return TT_OK;
}

static tt_status cfg_read_nuisance(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "nuisance", nuisance_keys);
    if (st == TT_OK)
        st = take_learners(rd, t, "propensity", "nuisance.propensity", &cfg->nu_propensity,
                           &cfg->n_nu_propensity);
    if (st == TT_OK)
        st = take_learners(rd, t, "outcome", "nuisance.outcome", &cfg->nu_outcome,
                           &cfg->n_nu_outcome);
    if (st != TT_OK)
        return st;
    long long v;
    if (tt_cfg_get(L, t, "folds") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "nuisance.folds", 2, 20, &v)))
            return st;
        cfg->nu_folds = (int)v;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "seconds") != LUA_TNIL) {
        if ((st = tt_cfg_take_number(rd, -1, "nuisance.seconds", &cfg->nu_seconds)))
            return st;
        if (!(cfg->nu_seconds > 0))
            return tt_cfg_fail(rd, 0, "nuisance.seconds", "must be > 0, got %g", cfg->nu_seconds);
    }
    lua_pop(L, 1);
    return TT_OK;
}

/* "auto", every rankable score of the catalogue, then the oracle figures. */
static void metric_names(char *buf, size_t len)
{
    size_t n, off = (size_t)snprintf(buf, len, "auto");
    const tt_score_info *cat = tt_score_catalogue(&n);
    for (size_t i = 0; i < n && off < len; i++)
        if (cat[i].direction != TT_SCORE_REPORT)
            off += (size_t)snprintf(buf + off, len - off, ", %s", cat[i].name);
    for (size_t i = 0; oracle_metrics[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, ", %s", oracle_metrics[i]);
}

static tt_status cfg_read_scoring(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "scoring", scoring_keys);
    if (st != TT_OK)
        return st;
    if (tt_cfg_get(L, t, "scores") != LUA_TNIL) {
        if ((st = tt_cfg_take_strings(rd, -1, "scoring.scores", 0, 1, &cfg->scores,
                                      &cfg->n_scores)))
            return st;
        for (size_t i = 0; i < cfg->n_scores; i++)
            if (!tt_score_find(cfg->scores[i])) {
                size_t n, off = 0;
                char list[512] = "";
                const tt_score_info *cat = tt_score_catalogue(&n);
                for (size_t k = 0; k < n && off < sizeof list; k++)
                    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", k ? ", " : "",
                                            cat[k].name);
                return tt_cfg_fail(rd, 0, "scoring.scores", "unknown score \"%s\" (known: %s)",
                                   cfg->scores[i], list);
            }
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "costs") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TTABLE || tt_space_dsl_is_space(L, lua_gettop(L)))
            return tt_cfg_wrong_type(rd, -1, "scoring.costs", "a list of numbers, one per treated arm");
        size_t n = lua_rawlen(L, -1);
        cfg->costs = calloc(n + 1, sizeof *cfg->costs);
        if (!cfg->costs)
            return tt_cfg_nomem(rd);
        for (size_t i = 0; i < n; i++) {
            char kp[64];
            snprintf(kp, sizeof kp, "scoring.costs[%zu]", i + 1);
            lua_rawgeti(L, -1, (lua_Integer)(i + 1));
            if ((st = tt_cfg_take_number(rd, -1, kp, &cfg->costs[i])))
                return st;
            lua_pop(L, 1);
        }
        cfg->n_costs = n;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "clip") != LUA_TNIL) {
        if ((st = tt_cfg_take_number(rd, -1, "scoring.clip", &cfg->clip)))
            return st;
        if (!(cfg->clip >= 0 && cfg->clip < 0.5))
            return tt_cfg_fail(rd, 0, "scoring.clip", "must be in [0, 0.5), got %g", cfg->clip);
    }
    lua_pop(L, 1);
    char *policy = NULL;
    if ((st = take_one_of(rd, t, "erupt_policy", "scoring.erupt_policy", erupt_policies, &policy)))
        return st;
    cfg->erupt_thompson = policy && strcmp(policy, "thompson") == 0;
    free(policy);
    static const char *const flags[] = {"qini_weighted", "energy_standardize"};
    int *dst[] = {&cfg->qini_weighted, &cfg->energy_standardize};
    for (size_t i = 0; i < 2; i++) {
        int type = tt_cfg_get(L, t, flags[i]);
        if (type == LUA_TBOOLEAN) {
            *dst[i] = lua_toboolean(L, -1);
        } else if (type != LUA_TNIL) {
            char kp[64];
            snprintf(kp, sizeof kp, "scoring.%s", flags[i]);
            return tt_cfg_wrong_type(rd, -1, kp, "a boolean");
        }
        lua_pop(L, 1);
    }
    long long v;
    if (tt_cfg_get(L, t, "energy_max_rows") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "scoring.energy_max_rows", 0, LLONG_MAX, &v)))
            return st;
        cfg->energy_max_rows = (size_t)v;
    }
    lua_pop(L, 1);
    return TT_OK;
}

/* Reads the value at the top for one top-level key; the caller pops it. */
static tt_status cfg_read_top_key(tt_cfg_reader *rd, const char *key, int v)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st;
    long long n;
    if (strcmp(key, "name") == 0) {
        if ((st = tt_cfg_take_string(rd, v, "name", &cfg->name)))
            return st;
        if (strchr(cfg->name, '/') || strcmp(cfg->name, ".") == 0 || strcmp(cfg->name, "..") == 0)
            return tt_cfg_fail(rd, 0, "name", "must be usable as a folder name (no '/', not . or ..)");
        return TT_OK;
    }
    if (strcmp(key, "seed") == 0) {
        if ((st = tt_cfg_take_integer(rd, v, "seed", 0, LLONG_MAX, &n)))
            return st;
        cfg->seed = cfg->gen_seed = (uint64_t)n;
        return TT_OK;
    }
    if (strcmp(key, "validation") == 0)
        return read_validation(rd, v);
    if (strcmp(key, "metric") == 0) {
        if ((st = tt_cfg_take_string(rd, v, "metric", &cfg->metric)))
            return st;
        const tt_score_info *info = tt_score_find(cfg->metric);
        if (strcmp(cfg->metric, "auto") != 0 && !tt_cfg_in_list(oracle_metrics, cfg->metric) &&
            (!info || info->direction == TT_SCORE_REPORT)) {
            char list[512];
            metric_names(list, sizeof list);
            return tt_cfg_fail(rd, 0, "metric", "unknown metric \"%s\" (expected one of: %s)",
                               cfg->metric, list);
        }
        return TT_OK;
    }
    if (strcmp(key, "out") == 0)
        return tt_cfg_take_string(rd, v, "out", &cfg->out_dir);
    if (strcmp(key, "final_fit") == 0) {
        char *which = NULL;
        if ((st = tt_cfg_take_string(rd, v, "final_fit", &which)))
            return st;
        int train = strcmp(which, "train") == 0, all = strcmp(which, "all") == 0;
        free(which);
        if (!train && !all)
            return tt_cfg_fail(rd, 0, "final_fit", "expected \"all\" (refit the winner on every "
                               "row) or \"train\" (on the training rows only)");
        cfg->final_fit_train = train;
        return TT_OK;
    }
    if (strcmp(key, "estimand") == 0) {
        char *which = NULL;
        if ((st = tt_cfg_take_string(rd, v, "estimand", &which)))
            return st;
        int e = tt_estimand_parse(which);
        if (e < 0) {
            tt_status bad = tt_cfg_fail(rd, 0, "estimand", "expected \"ate\" (every row), "
                                        "\"att\" (the treated), \"atc\" (the controls) or "
                                        "\"overlap\" (overlap weights), got \"%s\"", which);
            free(which);
            return bad;
        }
        free(which);
        cfg->estimand = e;
        return TT_OK;
    }
    /* The remaining keys hold tables. */
    if (lua_type(L, v) != LUA_TTABLE || tt_space_dsl_is_space(L, v))
        return tt_cfg_wrong_type(rd, v, key, "a table");
    luaL_checkstack(L, 8, NULL);
    if (strcmp(key, "data") == 0)
        return tt_cfg_read_data(rd, v);
    if (strcmp(key, "budget") == 0)
        return cfg_read_budget(rd, v);
    if (strcmp(key, "search") == 0)
        return cfg_read_search(rd, v);
    if (strcmp(key, "scoring") == 0)
        return cfg_read_scoring(rd, v);
    if (strcmp(key, "nuisance") == 0)
        return cfg_read_nuisance(rd, v);
    if (strcmp(key, "intervals") == 0)
        return cfg_read_intervals(rd, v);
    if (strcmp(key, "experiment") == 0)
        return tt_cfg_read_experiment(rd, v);
    return tt_cfg_read_estimators(rd, v);
}

static int config_has(tt_cfg_reader *rd, int t, const char *key)
{
    int has = tt_cfg_get(rd->L, t, key) != LUA_TNIL;
    lua_pop(rd->L, 1);
    return has;
}

static tt_status cfg_read_table(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_status st = tt_cfg_check_keys(rd, t, "", top_keys);
    /* Known before data is read: an experiment's data need no features. */
    rd->cfg->has_experiment = config_has(rd, t, "experiment");
    /* seed before data: the generator's seed defaults to it. */
    for (size_t i = 0; top_keys[i] && st == TT_OK; i++) {
        int type = tt_cfg_get(L, t, top_keys[i]);
        if (type != LUA_TNIL)
            st = cfg_read_top_key(rd, top_keys[i], lua_gettop(L));
        else if (strcmp(top_keys[i], "data") == 0)
            st = tt_cfg_fail(rd, 0, NULL, "data is required, e.g. data = { generator = \"synthetic\" }");
        else if (strcmp(top_keys[i], "estimators") == 0 && !config_has(rd, t, "experiment"))
            st = tt_cfg_fail(rd, 0, NULL, "estimators is required, e.g. estimators = { diff_in_means = {} } "
                             "(a config for tautune abtest alone has experiment = {...} instead)");
        lua_pop(L, 1);
    }
    if (st == TT_OK && rd->cfg->budget_seconds == 0 && rd->cfg->max_trials == 0)
        rd->cfg->budget_seconds = CFG_DEFAULT_BUDGET_SECONDS; /* no budget table at all */
    return st;
}

/* Runs under tt_sandbox_call: (reader, table). Validation failures are
 * returned through the reader; only Lua's own errors (memory) are raised. */
static int cfg_read_cfunction(lua_State *L)
{
    tt_cfg_reader *rd = lua_touserdata(L, 1);
    if (lua_type(L, 2) != LUA_TTABLE || tt_space_dsl_is_space(L, 2))
        rd->status = tt_cfg_fail(rd, 0, NULL,
                                 "the config must end with `return { ... }` (a table), got %s",
                                 luaL_typename(L, 2));
    else
        rd->status = cfg_read_table(rd, 2);
    return 0;
}

/* ---- loading ------------------------------------------------------------ */

static tt_status read_file(const char *path, const char *what, char **out, size_t *len,
                           char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: cannot read %s: %s", path, what,
                       strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    tt_status st = TT_OK;
    for (;;) {
        if (n == cap) {
            if (cap >= CFG_MAX_FILE_BYTES) {
                st = tt_errf(err, errlen, TT_ERR_CONFIG, "%s: %s is larger than %zu MiB", path,
                             what, CFG_MAX_FILE_BYTES >> 20);
                break;
            }
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = tt_errf(err, errlen, TT_ERR_IO, "%s: cannot read %s: %s", path, what,
                             strerror(errno));
            break;
        }
    }
    fclose(f);
    if (st != TT_OK) {
        free(buf);
        return st;
    }
    if (!buf && !(buf = malloc(1)))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", path);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TT_OK;
}

/* The file name without folder and ".lua": the run's default name. */
static char *default_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".lua") == 0)
        n -= 4;
    if (n == 0 || (n == 1 && base[0] == '.') || (n == 2 && base[0] == '.' && base[1] == '.'))
        return tt_strdup("config");
    return strndup(base, n);
}

static tt_status run_script(lua_State *L, const char *scripts_dir, const char *name,
                            int optional, char *err, size_t errlen)
{
    char *path = NULL, *chunk = NULL, *src = NULL;
    size_t len;
    if (asprintf(&path, "%s/%s", scripts_dir, name) < 0)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    if (optional && access(path, R_OK) != 0) {
        free(path);
        return TT_OK;
    }
    tt_status st = read_file(path, "the Lua prelude", &src, &len, err, errlen);
    if (st == TT_OK && asprintf(&chunk, "@%s", path) < 0) {
        chunk = NULL;
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
    }
    if (st == TT_OK)
        st = tt_sandbox_run(L, src, len, chunk, 0, err, errlen);
    free(src);
    free(chunk);
    free(path);
    return st;
}

/* The prelude: tautune.lua (the space helpers), then presets.lua (named
 * search spaces, the global `presets`) when shipped. The sandbox has no
 * require, so shipped Lua reaches configs this way. */
static tt_status run_prelude(lua_State *L, const char *scripts_dir, char *err, size_t errlen)
{
    tt_status st = run_script(L, scripts_dir, "tautune.lua", 0, err, errlen);
    if (st == TT_OK)
        st = run_script(L, scripts_dir, "presets.lua", 1, err, errlen);
    return st;
}

static tt_config *config_new(const char *path)
{
    tt_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    cfg->gen_rows = 4000;
    cfg->gen_arms = 2;
    cfg->validation = 0.3;
    cfg->ensemble = 1;
    cfg->selection = 1; /* "one_se" (search/select.h says why) */
    cfg->path = tt_strdup(path);
    cfg->metric = tt_strdup("auto");
    cfg->searcher = tt_strdup("cfo");
    cfg->memory_mb = -1;
    cfg->clip = 0.05;
    cfg->energy_standardize = 1;
    cfg->energy_max_rows = TT_ENERGY_DEFAULT_ROWS;
    cfg->exp_alpha = 0.05;
    cfg->exp_resamples = 1000;
    if (!cfg->path || !cfg->metric || !cfg->searcher) {
        tt_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static tt_status load_source(const char *src, size_t len, const char *path,
                             const char *scripts_dir, tt_config **out, char *err, size_t errlen)
{
    tt_config *cfg = config_new(path);
    char *chunkname = NULL;
    if (!cfg || asprintf(&chunkname, "@%s", path) < 0) {
        tt_config_free(cfg);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", path);
    }
    lua_State *L = tt_sandbox_open(NULL);
    tt_status st = L ? TT_OK : tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", path);
    if (st == TT_OK) {
        lua_pushcfunction(L, tt_space_dsl_open);
        st = tt_sandbox_call(L, 0, 0, path, err, errlen);
    }
    if (st == TT_OK && scripts_dir)
        st = run_prelude(L, scripts_dir, err, errlen);
    if (st == TT_OK)
        st = tt_sandbox_run(L, src, len, chunkname, 1, err, errlen);
    if (st == TT_OK) {
        /* Even looking at the result may allocate: do it protected too. */
        tt_cfg_reader rd = {.L = L, .path = path, .chunkname = chunkname, .src = src,
                            .len = len, .cfg = cfg, .err = err, .errlen = errlen};
        lua_pushcfunction(L, cfg_read_cfunction);
        lua_pushlightuserdata(L, &rd);
        lua_pushvalue(L, -3);
        st = tt_sandbox_call(L, 2, 0, path, err, errlen);
        if (st == TT_OK)
            st = rd.status;
        lua_pop(L, 1);
    }
    tt_sandbox_close(L);
    free(chunkname);
    if (st == TT_OK && !cfg->name && !(cfg->name = default_name(path)))
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", path);
    if (st != TT_OK) {
        tt_config_free(cfg);
        return st;
    }
    *out = cfg;
    return TT_OK;
}

tt_status tt_config_load_string(const char *source, const char *path, const char *scripts_dir,
                                tt_config **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    if (!source || !path || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_config_load_string: NULL argument");
    return load_source(source, strlen(source), path, scripts_dir, out, err, errlen);
}

tt_status tt_config_load(const char *path, const char *scripts_dir, tt_config **out, char *err,
                         size_t errlen)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_config_load: NULL argument");
    char *src;
    size_t len;
    tt_status st = read_file(path, "config", &src, &len, err, errlen);
    if (st != TT_OK)
        return st;
    st = load_source(src, len, path, scripts_dir, out, err, errlen);
    free(src);
    return st;
}

static void free_value(tt_space_value *v)
{
    free(v->str);
}

void tt_config_free(tt_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_estimators; i++) {
        tt_space_estimator *e = &cfg->estimators[i];
        for (size_t j = 0; j < e->n_params; j++) {
            tt_space_param *p = &e->params[j];
            free(p->name);
            free_value(&p->fixed);
            for (size_t k = 0; k < p->n_options; k++)
                free_value(&p->options[k]);
            free(p->options);
        }
        free(e->params);
        free(e->plugin);
    }
    free(cfg->estimators);
    free(cfg->path);
    free(cfg->name);
    free(cfg->generator);
    free(cfg->data_path);
    free(cfg->outcome);
    free(cfg->treatment);
    free(cfg->control);
    tt_free_strings(cfg->x, cfg->n_x);
    tt_free_strings(cfg->w, cfg->n_w);
    tt_free_strings(cfg->true_effect, cfg->n_true_effect);
    tt_free_strings(cfg->z, cfg->n_z);
    tt_free_strings(cfg->propensity, cfg->n_propensity);
    tt_free_strings(cfg->true_propensity, cfg->n_true_propensity);
    tt_free_strings(cfg->missing, cfg->n_missing);
    free(cfg->id_col);
    free(cfg->weight_col);
    free(cfg->split_col);
    tt_free_strings(cfg->data_paths, cfg->n_data_paths);
    tt_free_strings(cfg->exclude_cols, cfg->n_exclude);
    tt_free_strings(cfg->exclude_vals, cfg->n_exclude);
    tt_free_strings(cfg->categorical, cfg->n_categorical);
    free(cfg->metric);
    free(cfg->searcher);
    tt_free_strings(cfg->scores, cfg->n_scores);
    tt_free_strings(cfg->nu_propensity, cfg->n_nu_propensity);
    tt_free_strings(cfg->nu_outcome, cfg->n_nu_outcome);
    free(cfg->costs);
    free(cfg->out_dir);
    tt_free_strings(cfg->exp_outcomes, cfg->n_exp_outcomes);
    tt_free_strings(cfg->exp_design_labels, cfg->n_exp_design);
    free(cfg->exp_design);
    free(cfg->exp_pre);
    free(cfg);
}
