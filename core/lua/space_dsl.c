/* space_dsl.c - uniform/loguniform/randint/choice for config scripts. */
#include "lua/space_dsl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "util/err.h"
#include "util/mem.h"

/* Integers beyond this are not exactly representable as doubles. */
#define DSL_MAX_EXACT_INT 9007199254740992.0
/* A search over more options than this is a mistake, not a plan. */
#define DSL_MAX_OPTIONS 100000

static const struct {
    const char *name;
    tt_space_kind kind;
} dsl_kinds[] = {
    {"uniform", TT_SPACE_UNIFORM},
    {"loguniform", TT_SPACE_LOGUNIFORM},
    {"randint", TT_SPACE_RANDINT},
    {"choice", TT_SPACE_CHOICE},
};

static void dsl_set_string(lua_State *L, int t, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, t, key);
}

/* The new tagged table goes on top; it records the caller's line so that
 * errors can point at the helper call, wherever the value ends up. */
static int dsl_new(lua_State *L, const char *kind)
{
    lua_createtable(L, 0, 6);
    int t = lua_gettop(L);
    dsl_set_string(L, t, "__tt_space", kind);
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, t, "__line");
        dsl_set_string(L, t, "__source", ar.source);
    }
    return t;
}

static int dsl_range(lua_State *L, const char *kind)
{
    int nargs = lua_gettop(L);
    lua_settop(L, 2); /* the table goes above the arguments, missing ones nil */
    int t = dsl_new(L, kind);
    lua_pushvalue(L, 1);
    lua_setfield(L, t, "lo");
    lua_pushvalue(L, 2);
    lua_setfield(L, t, "hi");
    if (nargs > 2) {
        lua_pushfstring(L, "%s(): expected 2 arguments (low, high), got %d", kind, nargs);
        lua_setfield(L, t, "__tt_error");
    }
    return 1;
}

static int dsl_uniform(lua_State *L)
{
    return dsl_range(L, "uniform");
}

static int dsl_loguniform(lua_State *L)
{
    return dsl_range(L, "loguniform");
}

static int dsl_randint(lua_State *L)
{
    return dsl_range(L, "randint");
}

static int dsl_choice(lua_State *L)
{
    int nargs = lua_gettop(L);
    int t = dsl_new(L, "choice");
    if (nargs != 1 || lua_type(L, 1) != LUA_TTABLE) {
        lua_pushfstring(L, "choice(): expected one list of options, e.g. choice({1, 2, 3}), got %s",
                        nargs == 1 ? luaL_typename(L, 1) : nargs == 0 ? "nothing" : "several arguments");
        lua_setfield(L, t, "__tt_error");
        return 1;
    }
    /* Copy the list: options are fixed at the call, as the line is. */
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    lua_createtable(L, n > 0 && n < 1024 ? (int)n : 0, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        lua_rawseti(L, -2, i);
    }
    lua_setfield(L, t, "options");
    lua_pushinteger(L, n);
    lua_setfield(L, t, "n");

    /* Other keys would be dropped by the copy without a word. */
    lua_Integer entries = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            lua_pushliteral(L, "choice(): expected a plain list of options like {1, 2, 3}, "
                               "got a table with other keys");
            lua_setfield(L, t, "__tt_error");
            return 1;
        }
        entries++;
    }
    if (entries != n) {
        lua_pushliteral(L, "choice(): the list of options has holes (nil values)");
        lua_setfield(L, t, "__tt_error");
    }
    return 1;
}

int tt_space_dsl_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"uniform", dsl_uniform},
        {"loguniform", dsl_loguniform},
        {"randint", dsl_randint},
        {"choice", dsl_choice},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        lua_pushcfunction(L, fns[i].func);
        lua_setglobal(L, fns[i].name);
    }
    return 0;
}

/* Raw field to the top of the stack; returns its type. */
static int dsl_field(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

int tt_space_dsl_is_space(lua_State *L, int idx)
{
    return tt_space_dsl_kind(L, idx) != NULL;
}

const char *tt_space_dsl_kind(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return NULL;
    idx = lua_absindex(L, idx);
    const char *kind = NULL;
    if (dsl_field(L, idx, "__tt_space") == LUA_TSTRING)
        kind = lua_tostring(L, -1); /* still referenced by the table */
    lua_pop(L, 1);
    return kind;
}

/* The bound named label of a range helper, as a finite number. */
static tt_status dsl_bound(lua_State *L, int t, const char *key, const char *fn,
                           const char *label, double *out, char *err, size_t errlen)
{
    int type = dsl_field(L, t, key);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (type != LUA_TNUMBER)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): %s must be a number, got %s", fn, label,
                       lua_typename(L, type));
    if (!isfinite(v))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): %s must be finite, got %g", fn, label, v);
    *out = v;
    return TT_OK;
}

static tt_status dsl_read_range(lua_State *L, int t, const char *fn, tt_space_param *p, char *err,
                                size_t errlen)
{
    tt_status st = dsl_bound(L, t, "lo", fn, "low", &p->lo, err, errlen);
    if (st == TT_OK)
        st = dsl_bound(L, t, "hi", fn, "high", &p->hi, err, errlen);
    if (st != TT_OK)
        return st;
    if (p->kind == TT_SPACE_RANDINT) {
        if (p->lo != floor(p->lo) || fabs(p->lo) > DSL_MAX_EXACT_INT)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): low must be an integer, got %g", fn,
                           p->lo);
        if (p->hi != floor(p->hi) || fabs(p->hi) > DSL_MAX_EXACT_INT)
            return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): high must be an integer, got %g", fn,
                           p->hi);
        if (p->lo > p->hi)
            return tt_errf(err, errlen, TT_ERR_CONFIG,
                           "%s(): low must be <= high, got low %.17g > high %.17g", fn, p->lo, p->hi);
        return TT_OK;
    }
    if (p->kind == TT_SPACE_LOGUNIFORM && !(p->lo > 0))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): low must be > 0, got %g", fn, p->lo);
    if (!(p->lo < p->hi))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): low must be < high, got low %g, high %g",
                       fn, p->lo, p->hi);
    if (!isfinite(p->hi - p->lo))
        return tt_errf(err, errlen, TT_ERR_CONFIG, "%s(): the range [%g, %g] is too wide", fn,
                       p->lo, p->hi);
    return TT_OK;
}

static tt_status dsl_read_choice(lua_State *L, int t, tt_space_param *p, char *err, size_t errlen)
{
    if (dsl_field(L, t, "options") != LUA_TTABLE) {
        lua_pop(L, 1);
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "choice(): expected one list of options, e.g. choice({1, 2, 3})");
    }
    int opts = lua_gettop(L);
    /* Trust the recorded count over the length operator: a trailing nil in
     * the user's list must not vanish silently. */
    lua_Integer n = (lua_Integer)lua_rawlen(L, opts);
    if (dsl_field(L, t, "n") == LUA_TNUMBER && lua_isinteger(L, -1))
        n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n < 1) {
        lua_pop(L, 1);
        return tt_errf(err, errlen, TT_ERR_CONFIG, "choice(): the list of options is empty");
    }
    if (n > DSL_MAX_OPTIONS) {
        lua_pop(L, 1);
        return tt_errf(err, errlen, TT_ERR_CONFIG, "choice(): more than %d options", DSL_MAX_OPTIONS);
    }
    p->options = calloc((size_t)n, sizeof *p->options);
    if (!p->options) {
        lua_pop(L, 1);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "choice(): out of memory");
    }
    p->n_options = (size_t)n;
    tt_status st = TT_OK;
    for (lua_Integer i = 1; i <= n && st == TT_OK; i++) {
        tt_space_value *v = &p->options[i - 1];
        int type = lua_rawgeti(L, opts, i);
        if (type == LUA_TNUMBER) {
            v->num = lua_tonumber(L, -1);
            if (!isfinite(v->num))
                st = tt_errf(err, errlen, TT_ERR_CONFIG, "choice(): option %lld must be finite",
                             (long long)i);
        } else if (type == LUA_TBOOLEAN) {
            v->num = lua_toboolean(L, -1);
            v->is_bool = 1;
        } else if (type == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            if (strlen(s) != len)
                st = tt_errf(err, errlen, TT_ERR_CONFIG,
                             "choice(): option %lld contains a NUL byte", (long long)i);
            else if (!(v->str = tt_strdup(s)))
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "choice(): out of memory");
        } else {
            st = tt_errf(err, errlen, TT_ERR_CONFIG,
                         "choice(): option %lld must be a number, boolean or string, got %s",
                         (long long)i, lua_typename(L, type));
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return st;
}

tt_status tt_space_dsl_read(lua_State *L, int idx, const char *chunkname, tt_space_param *p,
                            char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    const char *kind = tt_space_dsl_kind(L, idx);
    if (!kind)
        return tt_errf(err, errlen, TT_ERR_CONFIG, "not a search space");
    const char *fn = NULL;
    for (size_t i = 0; i < sizeof dsl_kinds / sizeof dsl_kinds[0]; i++) {
        if (strcmp(kind, dsl_kinds[i].name) == 0) {
            fn = dsl_kinds[i].name;
            p->kind = dsl_kinds[i].kind;
        }
    }
    if (!fn)
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "unknown search space \"%s\" (expected uniform, loguniform, randint or "
                       "choice)", kind);

    p->line = 0;
    if (chunkname && dsl_field(L, idx, "__source") == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), chunkname) == 0) {
        if (dsl_field(L, idx, "__line") == LUA_TNUMBER && lua_isinteger(L, -1) &&
            lua_tointeger(L, -1) > 0 && lua_tointeger(L, -1) <= 0x7fffffff)
            p->line = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    if (chunkname)
        lua_pop(L, 1);

    if (dsl_field(L, idx, "__tt_error") == LUA_TSTRING) {
        tt_errf(err, errlen, TT_ERR_CONFIG, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return TT_ERR_CONFIG;
    }
    lua_pop(L, 1);
    if (p->kind == TT_SPACE_CHOICE)
        return dsl_read_choice(L, idx, p, err, errlen);
    return dsl_read_range(L, idx, fn, p, err, errlen);
}
