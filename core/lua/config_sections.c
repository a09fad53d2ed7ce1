/* config_sections.c - the data and estimators sections of a config. */
#include "lua/config_read.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/config_lines.h"
#include "data/gen.h"
#include "lua/space_dsl.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/paths.h"

static const char *const data_keys[] = {"generator", "rows", "arms", "seed", "path",
                                        "outcome", "treatment", "control", "x", "w",
                                        "true_effect", "randomized", "z", "propensity",
                                        "true_propensity", "id", "weight", "split",
                                        "drop_missing", "level_cap", "missing", "exclude",
                                        "z_propensity", "treatment_kind", "categorical",
                                        NULL};
static const char *const gen_only_keys[] = {"rows", "arms", "seed", NULL};
static const char *const file_only_keys[] = {"outcome", "treatment", "control", "x", "w",
                                             "true_effect", "z", "propensity",
                                             "true_propensity", "id", "weight", "split",
                                             "drop_missing", "level_cap", "missing",
                                             "exclude", "categorical", NULL};

/* ---- data --------------------------------------------------------------- */

/* data.path (or one of its list) resolved against the config's folder.
 * A path that exists but is not a regular file is refused here, where the
 * line is known, before anything opens it: a FIFO would block the reader
 * until some other process writes, /dev/zero would never end. */
static tt_status cfg_resolve_path(tt_cfg_reader *rd, const char *given, char **out)
{
    const char *slash = strrchr(rd->path, '/');
    char *p;
    if (given[0] == '/' || !slash) {
        p = tt_strdup(given);
    } else if (asprintf(&p, "%.*s/%s", (int)(slash - rd->path), rd->path, given) < 0) {
        p = NULL;
    }
    if (!p)
        return tt_cfg_nomem(rd);
    free(*out);
    *out = p;
    const char *what = tt_path_not_regular(p);
    if (what)
        return tt_cfg_fail(rd, 0, "data.path", "%s is %s, not a regular file; give a CSV "
                           "file", p, what);
    return TT_OK;
}

static tt_status cfg_forbid(tt_cfg_reader *rd, int t, const char *const *keys, const char *why)
{
    char kp[TT_CFG_KP_MAX];
    for (size_t i = 0; keys[i]; i++) {
        int type = tt_cfg_get(rd->L, t, keys[i]);
        lua_pop(rd->L, 1);
        if (type != LUA_TNIL) {
            tt_cfg_kp_join(kp, "data", keys[i]);
            return tt_cfg_fail(rd, 0, kp, "%s", why);
        }
    }
    return TT_OK;
}

static tt_status cfg_read_generator(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = cfg_forbid(rd, t, file_only_keys,
                              "only used with data.path (a CSV file), not with a generator");
    if (st != TT_OK)
        return st;
    if (!tt_gen_known(cfg->generator)) {
        char list[256];
        tt_cfg_join_list(tt_gen_names(), list, sizeof list);
        return tt_cfg_fail(rd, 0, "data.generator", "unknown generator \"%s\" (available: %s)",
                        cfg->generator, list);
    }
    long long v;
    if (tt_cfg_get(L, t, "rows") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "data.rows", 10, (long long)(SIZE_MAX >> 1), &v)))
            return st;
        cfg->gen_rows = (size_t)v;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "arms") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "data.arms", 2, 16, &v)))
            return st;
        cfg->gen_arms = (int)v;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "seed") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "data.seed", 0, LLONG_MAX, &v)))
            return st;
        cfg->gen_seed = (uint64_t)v;
    }
    lua_pop(L, 1);
    return TT_OK;
}

/* data.missing: a list of tokens; unlike column names, "" is allowed (it is
 * the usual spelling of an empty cell). */
static tt_status cfg_read_missing(tt_cfg_reader *rd, int idx)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    if (lua_type(L, idx) != LUA_TTABLE || tt_space_dsl_is_space(L, idx))
        return tt_cfg_wrong_type(rd, idx, "data.missing", "a list of strings, e.g. {\"\", \"NA\"}");
    size_t n = lua_rawlen(L, idx);
    if (!(cfg->missing = calloc(n ? n : 1, sizeof(char *))))
        return tt_cfg_nomem(rd);
    for (size_t i = 0; i < n; i++) {
        char kp[TT_CFG_KP_MAX];
        snprintf(kp, sizeof kp, "data.missing[%zu]", i + 1);
        lua_rawgeti(L, idx, (lua_Integer)(i + 1));
        size_t len;
        if (lua_type(L, -1) != LUA_TSTRING)
            return tt_cfg_wrong_type(rd, -1, kp, "a string");
        const char *s = lua_tolstring(L, -1, &len);
        if (strlen(s) != len)
            return tt_cfg_fail(rd, 0, kp, "must not contain NUL bytes");
        if (!(cfg->missing[i] = tt_strdup(s)))
            return tt_cfg_nomem(rd);
        cfg->n_missing++;
        lua_pop(L, 1);
    }
    return TT_OK;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* data.exclude = { column = value, ... }: rows matching every pair are left
 * out. Columns are kept sorted so messages do not follow hashing. */
static tt_status cfg_read_exclude(tt_cfg_reader *rd, int idx)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    if (lua_type(L, idx) != LUA_TTABLE || tt_space_dsl_is_space(L, idx))
        return tt_cfg_wrong_type(rd, idx, "data.exclude", "a table {column = value}");
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return tt_cfg_fail(rd, 0, "data.exclude", "keys must be column names");
        }
        n++;
    }
    if (n == 0 || n > 16)
        return tt_cfg_fail(rd, 0, "data.exclude", "needs 1 to 16 column = value pairs");
    cfg->exclude_cols = calloc(n, sizeof(char *));
    cfg->exclude_vals = calloc(n, sizeof(char *));
    if (!cfg->exclude_cols || !cfg->exclude_vals)
        return tt_cfg_nomem(rd);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!(cfg->exclude_cols[cfg->n_exclude++] = tt_strdup(lua_tostring(L, -1)))) {
            lua_pop(L, 1);
            return tt_cfg_nomem(rd);
        }
    }
    qsort(cfg->exclude_cols, n, sizeof(char *), cmp_cstr);
    for (size_t i = 0; i < n; i++) {
        char kp[TT_CFG_KP_MAX];
        tt_cfg_kp_join(kp, "data.exclude", cfg->exclude_cols[i]);
        int type = tt_cfg_get(L, idx, cfg->exclude_cols[i]);
        char buf[64];
        if (type == LUA_TNUMBER) {
            tt_cfg_format_number(L, -1, buf, sizeof buf);
            if (!(cfg->exclude_vals[i] = tt_strdup(buf)))
                return tt_cfg_nomem(rd);
        } else if (type == LUA_TSTRING) {
            tt_status st = tt_cfg_take_string(rd, -1, kp, &cfg->exclude_vals[i]);
            if (st)
                return st;
        } else {
            return tt_cfg_wrong_type(rd, -1, kp, "a string or a number");
        }
        lua_pop(L, 1);
    }
    return TT_OK;
}

static tt_status cfg_read_file_source(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = cfg_forbid(rd, t, gen_only_keys, "only used with data.generator, not with a file");
    if (st != TT_OK)
        return st;
    char *given = cfg->data_path;
    cfg->data_path = NULL;
    st = cfg_resolve_path(rd, given, &cfg->data_path);
    free(given);
    if (st != TT_OK)
        return st;
    for (size_t i = 0; i < cfg->n_data_paths; i++) {
        given = cfg->data_paths[i];
        cfg->data_paths[i] = NULL;
        st = cfg_resolve_path(rd, given, &cfg->data_paths[i]);
        free(given);
        if (st != TT_OK)
            return st;
    }

    static const char *const required[] = {"outcome", "treatment"};
    char **dst[] = {&cfg->outcome, &cfg->treatment};
    char kp[TT_CFG_KP_MAX];
    for (size_t i = 0; i < 2; i++) {
        tt_cfg_kp_join(kp, "data", required[i]);
        if (tt_cfg_get(L, t, required[i]) == LUA_TNIL)
            return tt_cfg_fail(rd, 0, "data", "%s is required with data.path", required[i]);
        if ((st = tt_cfg_take_string(rd, -1, kp, dst[i])))
            return st;
        lua_pop(L, 1);
    }

    int type = tt_cfg_get(L, t, "control");
    if (type == LUA_TNIL && !cfg->treatment_continuous)
        return tt_cfg_fail(rd, 0, "data", "control (the untreated arm's value) is required with data.path");
    if (type != LUA_TNIL && cfg->treatment_continuous)
        return tt_cfg_fail(rd, 0, "data.control", "a continuous treatment has no control arm "
                           "(effects are per unit of the treatment): remove data.control");
    if (type == LUA_TNIL) {
        /* continuous: nothing to read */
    } else if (type == LUA_TNUMBER) {
        char buf[64];
        if (!isfinite(lua_tonumber(L, -1)))
            return tt_cfg_fail(rd, 0, "data.control", "must be finite");
        tt_cfg_format_number(L, -1, buf, sizeof buf);
        if (!(cfg->control = tt_strdup(buf)))
            return tt_cfg_nomem(rd);
    } else if (type == LUA_TSTRING) {
        if ((st = tt_cfg_take_string(rd, -1, "data.control", &cfg->control)))
            return st;
    } else {
        return tt_cfg_wrong_type(rd, -1, "data.control", "a string or a number");
    }
    lua_pop(L, 1);

    /* An experiment's analysis needs no features (they only sharpen it). */
    int x_type = tt_cfg_get(L, t, "x");
    if (x_type == LUA_TNIL && !cfg->has_experiment)
        return tt_cfg_fail(rd, 0, "data", "x (the effect-modifier columns) is required with data.path");
    if (x_type != LUA_TNIL && (st = tt_cfg_take_strings(rd, -1, "data.x", 1, 1, &cfg->x, &cfg->n_x)))
        return st;
    lua_pop(L, 1);
    struct { const char *key; char ***dst; size_t *n; size_t min; } lists[] = {
        {"w", &cfg->w, &cfg->n_w, 0},
        {"true_effect", &cfg->true_effect, &cfg->n_true_effect, 1},
        {"z", &cfg->z, &cfg->n_z, 1},
        {"propensity", &cfg->propensity, &cfg->n_propensity, 1},
        {"true_propensity", &cfg->true_propensity, &cfg->n_true_propensity, 1},
        {"categorical", &cfg->categorical, &cfg->n_categorical, 1},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        tt_cfg_kp_join(kp, "data", lists[i].key);
        if (tt_cfg_get(L, t, lists[i].key) != LUA_TNIL &&
            (st = tt_cfg_take_strings(rd, -1, kp, 1, lists[i].min, lists[i].dst, lists[i].n)))
            return st;
        lua_pop(L, 1);
    }
    struct { const char *key; char **dst; } names[] = {
        {"id", &cfg->id_col}, {"weight", &cfg->weight_col}, {"split", &cfg->split_col},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tt_cfg_kp_join(kp, "data", names[i].key);
        if (tt_cfg_get(L, t, names[i].key) != LUA_TNIL &&
            (st = tt_cfg_take_string(rd, -1, kp, names[i].dst)))
            return st;
        lua_pop(L, 1);
    }
    type = tt_cfg_get(L, t, "drop_missing");
    if (type == LUA_TBOOLEAN)
        cfg->drop_missing = lua_toboolean(L, -1);
    else if (type != LUA_TNIL)
        return tt_cfg_wrong_type(rd, -1, "data.drop_missing", "a boolean");
    lua_pop(L, 1);
    long long v;
    if (tt_cfg_get(L, t, "level_cap") != LUA_TNIL) {
        if ((st = tt_cfg_take_integer(rd, -1, "data.level_cap", 1, 100000, &v)))
            return st;
        cfg->level_cap = (long)v;
    }
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "missing") != LUA_TNIL && (st = cfg_read_missing(rd, lua_gettop(L))))
        return st;
    lua_pop(L, 1);
    if (tt_cfg_get(L, t, "exclude") != LUA_TNIL && (st = cfg_read_exclude(rd, lua_gettop(L))))
        return st;
    lua_pop(L, 1);
    return TT_OK;
}

tt_status tt_cfg_read_data(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    tt_status st = tt_cfg_check_keys(rd, t, "data", data_keys);
    if (st != TT_OK)
        return st;
    int has_gen = tt_cfg_get(L, t, "generator") != LUA_TNIL;
    if (has_gen && (st = tt_cfg_take_string(rd, -1, "data.generator", &cfg->generator)))
        return st;
    lua_pop(L, 1);
    int has_path = tt_cfg_get(L, t, "path") != LUA_TNIL;
    if (has_path && lua_type(L, -1) == LUA_TTABLE) {
        /* Several files, stacked: data_path names the first for messages. */
        if ((st = tt_cfg_take_strings(rd, -1, "data.path", 0, 1, &cfg->data_paths,
                                      &cfg->n_data_paths)))
            return st;
        if (!(cfg->data_path = tt_strdup(cfg->data_paths[0])))
            return tt_cfg_nomem(rd);
    } else if (has_path && (st = tt_cfg_take_string(rd, -1, "data.path", &cfg->data_path))) {
        return st;
    }
    lua_pop(L, 1);
    if (has_gen && has_path)
        return tt_cfg_fail(rd, 0, "data.path", "give either data.generator or data.path, not both");
    int type = tt_cfg_get(L, t, "randomized");
    if (type == LUA_TBOOLEAN)
        cfg->randomized = lua_toboolean(L, -1);
    else if (type != LUA_TNIL)
        return tt_cfg_wrong_type(rd, -1, "data.randomized", "a boolean");
    lua_pop(L, 1);
    /* A randomised instrument's design: P(Z = 1) for every row, so the
     * instrument propensity is known and never fitted (nuisance.h). */
    type = tt_cfg_get(L, t, "z_propensity");
    if (type == LUA_TNUMBER) {
        cfg->z_propensity = lua_tonumber(L, -1);
        if (!(cfg->z_propensity > 0.0 && cfg->z_propensity < 1.0))
            return tt_cfg_fail(rd, 0, "data.z_propensity",
                               "must be a probability strictly between 0 and 1 (the share of "
                               "rows the design gives Z = 1), got %g", cfg->z_propensity);
    } else if (type != LUA_TNIL) {
        return tt_cfg_wrong_type(rd, -1, "data.z_propensity", "a number in (0, 1)");
    }
    lua_pop(L, 1);
    /* A continuous treatment (a price, a dose): effects are marginal, per
     * unit of T, and only plugins that declare it take such data. */
    type = tt_cfg_get(L, t, "treatment_kind");
    if (type == LUA_TSTRING) {
        const char *k = lua_tostring(L, -1);
        if (strcmp(k, "continuous") == 0)
            cfg->treatment_continuous = 1;
        else if (strcmp(k, "discrete") != 0)
            return tt_cfg_fail(rd, 0, "data.treatment_kind", "must be \"discrete\" (arms, the "
                               "default) or \"continuous\" (a dose or price: effects per unit "
                               "of the treatment), got \"%s\"", k);
    } else if (type != LUA_TNIL) {
        return tt_cfg_wrong_type(rd, -1, "data.treatment_kind",
                                 "\"discrete\" or \"continuous\"");
    }
    lua_pop(L, 1);
    if (!has_gen && !has_path)
        return tt_cfg_fail(rd, 0, "data",
                        "needs either generator = \"synthetic\" or path = \"file.csv\"");
    return has_gen ? cfg_read_generator(rd, t) : cfg_read_file_source(rd, t);
}

/* ---- estimators --------------------------------------------------------- */

static int plugin_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int cmp_estimator(const void *a, const void *b)
{
    return strcmp(((const tt_space_estimator *)a)->plugin, ((const tt_space_estimator *)b)->plugin);
}

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const tt_space_param *)a)->name, ((const tt_space_param *)b)->name);
}

/* Number of string keys of the table at t; the first other key fails. */
static tt_status cfg_count_string_keys(tt_cfg_reader *rd, int t, const char *kp, const char *what,
                                       size_t *n)
{
    lua_State *L = rd->L;
    *n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            char ikp[TT_CFG_KP_MAX];
            tt_cfg_kp_join_key(L, -1, ikp, kp);
            lua_pop(L, 1);
            return tt_cfg_fail(rd, 0, ikp, "keys must be %s names", what);
        }
        (*n)++;
    }
    return TT_OK;
}

/* Keys of the table at t copied into each element's name field, sorted, so
 * that the order of reading (and so of messages) does not follow hashing. */
static tt_status cfg_collect_names(tt_cfg_reader *rd, int t, void *items, size_t size, size_t n,
                                   size_t name_offset, int (*cmp)(const void *, const void *))
{
    lua_State *L = rd->L;
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (i == n) { /* cannot happen: no code ran since the count */
            lua_pop(L, 1);
            break;
        }
        char **name = (char **)((char *)items + i * size + name_offset);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len); /* a string key: no conversion */
        if (!(*name = tt_strdup(s)))
            return tt_cfg_nomem(rd);
        if (strlen(s) != len)
            (*name)[0] = '\0'; /* refused by the name check below */
        i++;
    }
    qsort(items, n, size, cmp);
    return TT_OK;
}

static tt_status cfg_read_param(tt_cfg_reader *rd, int v, const char *kp, tt_space_param *p)
{
    lua_State *L = rd->L;
    int type = lua_type(L, v);
    if (type == LUA_TTABLE && tt_space_dsl_is_space(L, v)) {
        tt_status st = tt_space_dsl_read(L, v, rd->chunkname, p, rd->err, rd->errlen);
        if (st == TT_ERR_CONFIG)
            return tt_cfg_fail(rd, p->line, kp, "%s", rd->err);
        if (st != TT_OK)
            return tt_cfg_nomem(rd);
        if (p->line == 0)
            p->line = tt_config_find_line(rd->src, rd->len, kp);
        return TT_OK;
    }
    p->kind = TT_SPACE_FIXED;
    p->line = tt_config_find_line(rd->src, rd->len, kp);
    if (type == LUA_TNUMBER)
        return tt_cfg_take_number(rd, v, kp, &p->fixed.num);
    if (type == LUA_TBOOLEAN) {
        p->fixed.num = lua_toboolean(L, v);
        p->fixed.is_bool = 1;
        return TT_OK;
    }
    if (type == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, v, &len);
        if (strlen(s) != len)
            return tt_cfg_fail(rd, 0, kp, "must not contain NUL bytes");
        return (p->fixed.str = tt_strdup(s)) ? TT_OK : tt_cfg_nomem(rd);
    }
    return tt_cfg_wrong_type(rd, v, kp,
                          "a number, boolean, string or search space "
                          "(uniform, loguniform, randint, choice)");
}

static tt_status cfg_read_estimator(tt_cfg_reader *rd, int t, tt_space_estimator *e)
{
    lua_State *L = rd->L;
    char kp[TT_CFG_KP_MAX], pkp[TT_CFG_KP_MAX];
    tt_cfg_kp_join(kp, "estimators", e->plugin);
    e->line = tt_config_find_line(rd->src, rd->len, kp);
    if (!plugin_name_ok(e->plugin))
        return tt_cfg_fail(rd, 0, kp,
                        "\"%s\" is not a plugin name (lowercase letters, digits and _, starting "
                        "with a letter, at most 63 characters)", e->plugin);
    if (lua_type(L, t) != LUA_TTABLE || tt_space_dsl_is_space(L, t))
        return tt_cfg_wrong_type(rd, t, kp, "a table of hyperparameters (may be empty: {})");
    size_t n;
    tt_status st = cfg_count_string_keys(rd, t, kp, "hyperparameter", &n);
    if (st != TT_OK)
        return st;
    if (!(e->params = calloc(n ? n : 1, sizeof *e->params)))
        return tt_cfg_nomem(rd);
    e->n_params = n;
    if ((st = cfg_collect_names(rd, t, e->params, sizeof *e->params, n,
                                offsetof(tt_space_param, name), cmp_param)))
        return st;
    for (size_t i = 0; i < n; i++) {
        tt_space_param *p = &e->params[i];
        tt_cfg_kp_join(pkp, kp, p->name);
        if (!tt_cfg_is_identifier(p->name))
            return tt_cfg_fail(rd, 0, pkp, "hyperparameter names are identifiers (letters, digits, _)");
        tt_cfg_get(L, t, p->name);
        st = cfg_read_param(rd, lua_gettop(L), pkp, p);
        lua_pop(L, 1);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
}

tt_status tt_cfg_read_estimators(tt_cfg_reader *rd, int t)
{
    lua_State *L = rd->L;
    tt_config *cfg = rd->cfg;
    size_t n;
    tt_status st = cfg_count_string_keys(rd, t, "estimators", "plugin", &n);
    if (st != TT_OK)
        return st;
    if (n == 0)
        return tt_cfg_fail(rd, 0, "estimators", "needs at least one estimator, e.g. diff_in_means = {}");
    if (!(cfg->estimators = calloc(n, sizeof *cfg->estimators)))
        return tt_cfg_nomem(rd);
    cfg->n_estimators = n;
    if ((st = cfg_collect_names(rd, t, cfg->estimators, sizeof *cfg->estimators, n,
                                offsetof(tt_space_estimator, plugin), cmp_estimator)))
        return st;
    for (size_t i = 0; i < n; i++) {
        tt_space_estimator *e = &cfg->estimators[i];
        luaL_checkstack(L, 8, NULL);
        tt_cfg_get(L, t, e->plugin);
        st = cfg_read_estimator(rd, lua_gettop(L), e);
        lua_pop(L, 1);
        if (st != TT_OK)
            return st;
    }
    return TT_OK;
}

