/* config_values.c - single config values: types, ranges, lists, messages. */
#include "lua/config_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/config_lines.h"
#include "lua/space_dsl.h"
#include "util/err.h"
#include "util/mem.h"

/* Integers beyond 2^63 are not Lua integers. */
#define CFG_INT_LIMIT 9223372036854775808.0

/* ---- messages ---------------------------------------------------------- */

tt_status tt_cfg_fail(tt_cfg_reader *rd, int line, const char *kp, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line <= 0 && kp && *kp)
        line = tt_config_find_line(rd->src, rd->len, kp);
    if (line > 0 && kp && *kp)
        return tt_errf(rd->err, rd->errlen, TT_ERR_CONFIG, "%s:%d: %s: %s", rd->path, line, kp,
                       what);
    if (kp && *kp)
        return tt_errf(rd->err, rd->errlen, TT_ERR_CONFIG, "%s: %s: %s", rd->path, kp, what);
    return tt_errf(rd->err, rd->errlen, TT_ERR_CONFIG, "%s: %s", rd->path, what);
}

tt_status tt_cfg_nomem(tt_cfg_reader *rd)
{
    return tt_errf(rd->err, rd->errlen, TT_ERR_NOMEM, "%s: out of memory", rd->path);
}

int tt_cfg_is_identifier(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

/* parent.key, or parent["key"] when key is not a name, as Lua would write it. */
void tt_cfg_kp_join(char *dst, const char *parent, const char *key)
{
    const char *dot = parent && *parent ? "." : "";
    if (!parent)
        parent = "";
    if (tt_cfg_is_identifier(key))
        snprintf(dst, TT_CFG_KP_MAX, "%s%s%s", parent, dot, key);
    else
        snprintf(dst, TT_CFG_KP_MAX, "%s[\"%.64s\"]", parent, key);
}

/* Key at idx (a lua_next key: never converted in place) joined to parent. */
void tt_cfg_kp_join_key(lua_State *L, int idx, char *dst, const char *parent)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        tt_cfg_kp_join(dst, parent, lua_tostring(L, idx));
    } else if (lua_isinteger(L, idx)) {
        snprintf(dst, TT_CFG_KP_MAX, "%s[%lld]", parent, (long long)lua_tointeger(L, idx));
    } else {
        snprintf(dst, TT_CFG_KP_MAX, "%s[<%s key>]", parent, luaL_typename(L, idx));
    }
}

/* Type as a message names it: a helper's table is not "a table" to its author. */
static const char *cfg_type(lua_State *L, int idx, char *buf, size_t n)
{
    const char *kind = tt_space_dsl_kind(L, idx);
    if (kind) {
        snprintf(buf, n, "%s() search space", kind);
        return buf;
    }
    return luaL_typename(L, idx);
}

void tt_cfg_join_list(const char *const *items, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; items[i]; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%s", i ? ", " : "", items[i]);
    }
}

int tt_cfg_in_list(const char *const *items, const char *s)
{
    for (size_t i = 0; items[i]; i++)
        if (strcmp(items[i], s) == 0)
            return 1;
    return 0;
}

/* ---- single values ------------------------------------------------------ */

/* Pushes t[key] (raw) and returns its type. */
int tt_cfg_get(lua_State *L, int t, const char *key)
{
    lua_pushstring(L, key);
    return lua_rawget(L, t);
}

tt_status tt_cfg_wrong_type(tt_cfg_reader *rd, int idx, const char *kp, const char *expected)
{
    char buf[64];
    return tt_cfg_fail(rd, 0, kp, "expected %s, got %s", expected, cfg_type(rd->L, idx, buf, sizeof buf));
}

/* The string at idx, copied to *out (freeing what was there). */
tt_status tt_cfg_take_string(tt_cfg_reader *rd, int idx, const char *kp, char **out)
{
    lua_State *L = rd->L;
    if (lua_type(L, idx) != LUA_TSTRING)
        return tt_cfg_wrong_type(rd, idx, kp, "a string");
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (len == 0)
        return tt_cfg_fail(rd, 0, kp, "must not be empty");
    if (strlen(s) != len)
        return tt_cfg_fail(rd, 0, kp, "must not contain NUL bytes");
    char *copy = tt_strdup(s);
    if (!copy)
        return tt_cfg_nomem(rd);
    free(*out);
    *out = copy;
    return TT_OK;
}

/* An integral number at idx within [lo, hi]. */
tt_status tt_cfg_take_integer(tt_cfg_reader *rd, int idx, const char *kp, long long lo,
                                  long long hi, long long *out)
{
    lua_State *L = rd->L;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return tt_cfg_wrong_type(rd, idx, kp, "an integer");
    long long v;
    if (lua_isinteger(L, idx)) {
        v = (long long)lua_tointeger(L, idx);
    } else {
        double d = lua_tonumber(L, idx);
        if (!(d == floor(d) && d >= -CFG_INT_LIMIT && d < CFG_INT_LIMIT))
            return tt_cfg_fail(rd, 0, kp, "expected an integer, got %g", d);
        v = (long long)d;
    }
    if (v < lo)
        return tt_cfg_fail(rd, 0, kp, "must be >= %lld, got %lld", lo, v);
    if (v > hi)
        return tt_cfg_fail(rd, 0, kp, "must be <= %lld, got %lld", hi, v);
    *out = v;
    return TT_OK;
}

tt_status tt_cfg_take_number(tt_cfg_reader *rd, int idx, const char *kp, double *out)
{
    if (lua_type(rd->L, idx) != LUA_TNUMBER)
        return tt_cfg_wrong_type(rd, idx, kp, "a number");
    double v = lua_tonumber(rd->L, idx);
    if (!isfinite(v))
        return tt_cfg_fail(rd, 0, kp, "must be finite, got %g", v);
    *out = v;
    return TT_OK;
}

/* Shortest "%.Ng" that reads back to the same double. */
void tt_cfg_format_number(lua_State *L, int idx, char *buf, size_t n)
{
    if (lua_isinteger(L, idx)) {
        snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
        return;
    }
    double v = lua_tonumber(L, idx);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A list of non-empty, distinct strings; a lone string too when allowed. */
tt_status tt_cfg_take_strings(tt_cfg_reader *rd, int idx, const char *kp, int allow_single,
                                  size_t min, char ***out, size_t *n_out)
{
    lua_State *L = rd->L;
    char ikp[TT_CFG_KP_MAX];
    idx = lua_absindex(L, idx);
    if (allow_single && lua_type(L, idx) == LUA_TSTRING) {
        char **one = calloc(1, sizeof *one);
        if (!one)
            return tt_cfg_nomem(rd);
        *out = one;
        *n_out = 1;
        return tt_cfg_take_string(rd, idx, kp, &one[0]);
    }
    if (lua_type(L, idx) != LUA_TTABLE || tt_space_dsl_is_space(L, idx))
        return tt_cfg_wrong_type(rd, idx, kp,
                              allow_single ? "a string or a list of strings" : "a list of strings");
    size_t n = lua_rawlen(L, idx), entries = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > n) {
            tt_cfg_kp_join_key(L, -1, ikp, kp);
            lua_pop(L, 1);
            return tt_cfg_fail(rd, 0, ikp, "expected a list of strings like {\"a\", \"b\"}");
        }
        entries++;
    }
    if (entries != n)
        return tt_cfg_fail(rd, 0, kp, "the list has holes (nil entries)");
    if (n < min)
        return tt_cfg_fail(rd, 0, kp, "needs at least %zu name%s", min, min == 1 ? "" : "s");
    char **list = calloc(n ? n : 1, sizeof *list);
    if (!list)
        return tt_cfg_nomem(rd);
    *out = list;
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(ikp, sizeof ikp, "%s[%zu]", kp, i + 1);
        lua_rawgeti(L, idx, (lua_Integer)(i + 1));
        tt_status st = tt_cfg_take_string(rd, -1, ikp, &list[i]);
        lua_pop(L, 1);
        if (st != TT_OK)
            return st;
        for (size_t j = 0; j < i; j++)
            if (strcmp(list[j], list[i]) == 0)
                return tt_cfg_fail(rd, 0, ikp, "\"%s\" is listed twice", list[i]);
    }
    return TT_OK;
}

/* Unknown keys are reported first-in-file, so fixing errors top to bottom works. */
tt_status tt_cfg_check_keys(tt_cfg_reader *rd, int t, const char *kp, const char *const *allowed)
{
    lua_State *L = rd->L;
    char best[TT_CFG_KP_MAX] = "", cur[TT_CFG_KP_MAX];
    int best_line = 0, found = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && tt_cfg_in_list(allowed, lua_tostring(L, -1)))
            continue;
        tt_cfg_kp_join_key(L, -1, cur, kp);
        int line = tt_config_find_line(rd->src, rd->len, cur);
        if (!found || (line > 0 && (best_line == 0 || line < best_line)) ||
            (line == best_line && strcmp(cur, best) < 0)) {
            memcpy(best, cur, sizeof best);
            best_line = line;
            found = 1;
        }
    }
    if (!found)
        return TT_OK;
    char list[256];
    tt_cfg_join_list(allowed, list, sizeof list);
    return tt_cfg_fail(rd, best_line, best, "unknown key (allowed: %s)", list);
}

