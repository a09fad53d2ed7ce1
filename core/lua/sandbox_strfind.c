/* sandbox_strfind.c - string.find, match, gmatch and gsub for the sandbox,
 * on the counting matcher of sandbox_match.c. Arguments, results and
 * messages are those of Lua 5.4's string library (the manual, section 6.4);
 * tests/unit/test_sandbox_strfind.c checks them against Lua's own. */
#include <string.h>

#include <lauxlib.h>

#include "lua/sandbox_internal.h"
#include "lua/sandbox_match.h"

/* A 1-based, possibly negative, start position as a 0-based offset; may be
 * past the end (callers check). */
static size_t sf_start(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    lua_Unsigned back = 0u - (lua_Unsigned)pos; /* -pos, without overflow */
    if (pos == 0 || back > len)
        return 0;
    return len - (size_t)back;
}

/* No magic character: find can search for the text as it is. */
static int sf_is_plain(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr("^$*+?.([%-", p[i]))
            return 0;
    return 1;
}

/* find and match: anchored or from each position in turn. */
static int sf_find(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = sf_start(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || sf_is_plain(p, lp))) {
        const char *hit = lp == 0 ? s + init
                          : lp > ls - init ? NULL
                                           : memmem(s + init, ls - init, p, lp);
        /* memmem is linear; charge what it read. */
        tt_sb_charge(L, tt_sb_bytes(hit ? (size_t)(hit - s) - init + lp : ls - init));
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
        return 2;
    }
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    tt_pm_state ms;
    tt_pm_init(&ms, L, s, ls, p, lp);
    const char *at = s + init;
    do {
        const char *end = tt_pm_match(&ms, at, p);
        if (end) {
            tt_pm_flush(&ms);
            if (!find)
                return tt_pm_push_captures(&ms, at, end);
            lua_pushinteger(L, (lua_Integer)(at - s) + 1);
            lua_pushinteger(L, (lua_Integer)(end - s));
            return tt_pm_push_captures(&ms, NULL, NULL) + 2;
        }
    } while (at++ < ms.src_end && !anchor);
    tt_pm_flush(&ms);
    luaL_pushfail(L);
    return 1;
}

static int sf_string_find(lua_State *L)
{
    return sf_find(L, 1);
}

static int sf_string_match(lua_State *L)
{
    return sf_find(L, 0);
}

/* Where the gmatch iterator goes on from, as offsets (the subject and
 * pattern are its upvalues 1 and 2, which keep them alive). */
typedef struct sf_gmatch {
    size_t next;
    size_t last_end; /* end of the previous match, or SIZE_MAX: no empty
                        match is taken right where a match ended */
} sf_gmatch;

static int sf_gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    sf_gmatch *g = lua_touserdata(L, lua_upvalueindex(3));
    tt_pm_state ms;
    tt_pm_init(&ms, L, s, ls, p, lp);
    for (size_t at = g->next; at <= ls; at++) {
        const char *end = tt_pm_match(&ms, s + at, p);
        if (end && (size_t)(end - s) != g->last_end) {
            g->next = g->last_end = (size_t)(end - s);
            tt_pm_flush(&ms);
            return tt_pm_push_captures(&ms, s + at, end);
        }
    }
    g->next = ls + 1;
    tt_pm_flush(&ms);
    return 0;
}

/* gmatch(s, pattern [, init]); a '^' is an ordinary character here, as in
 * Lua 5.4. */
static int sf_string_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = sf_start(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    sf_gmatch *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->next = init > ls ? ls + 1 : init;
    g->last_end = (size_t)-1;
    lua_pushcclosure(L, sf_gmatch_next, 3);
    return 1;
}

/* The replacement string with %0-%9 and %% expanded. */
static void sf_add_string(tt_pm_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = ms->L;
    size_t l;
    const char *r = lua_tolstring(L, 3, &l);
    /* Read a byte at a time for every match: "%0" a hundred times over a
     * million matches is a lot of work and, until the result is copied
     * out, little memory. */
    ms->steps += 1 + l;
    tt_pm_flush(ms);
    const char *pct;
    while ((pct = memchr(r, '%', l)) != NULL) {
        luaL_addlstring(b, r, (size_t)(pct - r));
        char c = pct[1]; /* '\0' past the end: an error below, as in Lua */
        if (c == '%') {
            luaL_addchar(b, '%');
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (c >= '1' && c <= '9') {
            tt_pm_push_capture(ms, c - '1', s, e);
            luaL_addvalue(b); /* a position capture becomes its number's text */
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", '%');
        }
        l -= (size_t)(pct + 2 - r);
        r = pct + 2;
    }
    luaL_addlstring(b, r, l);
}

/* Adds the replacement of match s..e; 0 when the match was kept as it was
 * (the function or table gave false or nil). */
static int sf_add_value(tt_pm_state *ms, luaL_Buffer *b, const char *s, const char *e, int kind)
{
    lua_State *L = ms->L;
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = tt_pm_push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (kind == LUA_TTABLE) {
        tt_pm_push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        sf_add_string(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

/* gsub(s, pattern, repl [, n]) */
static int sf_string_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int kind = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
                         kind == LUA_TTABLE, 3, "string/function/table");
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    tt_pm_state ms;
    tt_pm_init(&ms, L, s, ls, p, lp);
    const char *at = s, *last_end = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max_n) {
        const char *end = tt_pm_match(&ms, at, p);
        if (end && end != last_end) {
            n++;
            /* The replacement may call Lua, which must see the steps so far. */
            tt_pm_flush(&ms);
            changed |= sf_add_value(&ms, &b, at, end, kind);
            at = last_end = end;
        } else if (at < ms.src_end) {
            luaL_addchar(&b, *at++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    tt_pm_flush(&ms);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, at, (size_t)(ms.src_end - at));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void tt_sb_open_strfind(lua_State *L)
{
    static const luaL_Reg fns[] = {{"find", sf_string_find},
                                   {"match", sf_string_match},
                                   {"gmatch", sf_string_gmatch},
                                   {"gsub", sf_string_gsub},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
