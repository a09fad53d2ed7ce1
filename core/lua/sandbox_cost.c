/* sandbox_cost.c - library functions whose C work grows with their
 * arguments, wrapped to charge that work to the instruction budget first.
 *
 * The count hook only sees VM instructions, and what a C function allocates
 * is charged by the allocator; what is left is work that allocates nothing:
 * reading a long text (tonumber, string.pack, a numeric string's arithmetic),
 * pushing many values (string.byte, table.unpack) and moving or visiting
 * table elements (table.insert, remove, move, sort, concat), which a
 * lying __len can make as large as it likes. */
#include <limits.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/sandbox_internal.h"

/* The wrapped function, run in the wrapper's own call frame rather than
 * through lua_call, so that its error messages ("bad argument #1 to
 * 'insert'"), error levels and line numbers are exactly Lua's. Only
 * functions without upvalues are wrapped (sb_wrap checks): the original
 * would otherwise read the wrapper's. */
static int sb_original(lua_State *L)
{
    lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
    return f(L);
}

/* Elements from..to inclusive, 0 if none; saturates instead of wrapping. */
static size_t sb_span(lua_Integer from, lua_Integer to)
{
    if (to < from)
        return 0;
    lua_Unsigned d = (lua_Unsigned)to - (lua_Unsigned)from;
    return d >= SIZE_MAX ? SIZE_MAX : (size_t)d + 1;
}

/* #t as the table library reads it: a __len metamethod counts (and so runs
 * once more than it otherwise would); 0 for a non-table, which the original
 * function then refuses. */
static lua_Integer sb_len(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0;
    if (luaL_getmetafield(L, idx, "__len") == LUA_TNIL)
        return (lua_Integer)lua_rawlen(L, idx);
    lua_pop(L, 1);
    return luaL_len(L, idx);
}

/* Integer argument idx, or def when absent; *ok = 0 when it is neither, so
 * nothing is charged and the original raises its own error. */
static lua_Integer sb_int_arg(lua_State *L, int idx, lua_Integer def, int *ok)
{
    if (lua_isnoneornil(L, idx))
        return def;
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isnum);
    if (!isnum)
        *ok = 0;
    return v;
}

/* Parses its string arguments in full, a byte at a time (tonumber,
 * string.format and pack, math on a numeric string, ...): a few
 * nanoseconds a byte, so one instruction each. */
static int sb_cost_parse(lua_State *L)
{
    size_t n = 1;
    for (int i = 1, top = lua_gettop(L); i <= top; i++)
        if (lua_type(L, i) == LUA_TSTRING)
            n += lua_rawlen(L, i);
    tt_sb_charge(L, n);
    return sb_original(L);
}

/* Compares its string arguments at memory speed (rawequal). */
static int sb_cost_compare(lua_State *L)
{
    size_t n = 0;
    for (int i = 1, top = lua_gettop(L); i <= top; i++)
        if (lua_type(L, i) == LUA_TSTRING)
            n += lua_rawlen(L, i);
    tt_sb_charge(L, tt_sb_bytes(n));
    return sb_original(L);
}

/* One per value returned (string.byte, table.unpack): charged afterwards,
 * as one call is bounded by Lua's stack limit. */
static int sb_cost_results(lua_State *L)
{
    int n = sb_original(L);
    tt_sb_charge(L, 1 + (size_t)n);
    return n;
}

/* table.insert(t, pos, v) moves t[pos..#t] up by one. */
static int sb_cost_insert(lua_State *L)
{
    size_t units = 1;
    if (lua_gettop(L) == 3) {
        int ok = 1;
        lua_Integer pos = sb_int_arg(L, 2, 0, &ok);
        if (ok && pos >= 1)
            units += sb_span(pos, sb_len(L, 1));
    }
    tt_sb_charge(L, units);
    return sb_original(L);
}

/* table.remove(t, pos) moves t[pos+1..#t] down by one. */
static int sb_cost_remove(lua_State *L)
{
    size_t units = 1;
    if (lua_gettop(L) >= 2) {
        int ok = 1;
        lua_Integer pos = sb_int_arg(L, 2, 0, &ok);
        if (ok && pos >= 0 && pos < LUA_MAXINTEGER)
            units += sb_span(pos + 1, sb_len(L, 1));
    }
    tt_sb_charge(L, units);
    return sb_original(L);
}

/* table.move(a1, f, e, t [, a2]) moves e - f + 1 elements, nil or not. */
static int sb_cost_move(lua_State *L)
{
    int ok = 1;
    lua_Integer f = sb_int_arg(L, 2, 0, &ok);
    lua_Integer e = sb_int_arg(L, 3, 0, &ok);
    tt_sb_charge(L, 1 + (ok ? sb_span(f, e) : 0));
    return sb_original(L);
}

/* table.concat(t [, sep [, i [, j]]]) visits t[i..j], empty strings
 * included (which allocate nothing). Charged afterwards: it stops at the
 * first value that is not a string, so a range far past the table's end
 * fails at once, and the values it did visit are real or came from a Lua
 * __index that the hook counts. */
static int sb_cost_concat(lua_State *L)
{
    int ok = 1;
    lua_Integer i = sb_int_arg(L, 3, 1, &ok);
    lua_Integer j = lua_isnoneornil(L, 4) ? sb_len(L, 1) : sb_int_arg(L, 4, 0, &ok);
    int n = sb_original(L);
    tt_sb_charge(L, 1 + (ok ? sb_span(i, j) : 0));
    return n;
}

/* table.sort: about n log2 n comparisons and moves. */
static int sb_cost_sort(lua_State *L)
{
    lua_Integer n = sb_len(L, 1);
    size_t units = 1;
    if (n > 1) {
        size_t log2n = 0;
        for (lua_Unsigned m = (lua_Unsigned)n; m > 1; m >>= 1)
            log2n++;
        size_t un = (lua_Unsigned)n >= SIZE_MAX / 64 ? SIZE_MAX / 64 : (size_t)n;
        units += un * (log2n + 1);
    }
    tt_sb_charge(L, units);
    return sb_original(L);
}

/* Replaces t[name] (t on top of the stack) by the cost wrapper, when it is
 * a C function without upvalues; others are left alone. */
static void sb_wrap(lua_State *L, const char *name, lua_CFunction cost)
{
    int t = lua_gettop(L);
    if (lua_getfield(L, t, name) == LUA_TFUNCTION && lua_iscfunction(L, -1) &&
        lua_getupvalue(L, -1, 1) == NULL) { /* pushes nothing when there is none */
        lua_pushcclosure(L, cost, 1);
        lua_setfield(L, t, name);
    }
    lua_settop(L, t);
}

static void sb_wrap_all(lua_State *L, const char *const *names, lua_CFunction cost)
{
    for (size_t i = 0; names[i]; i++)
        sb_wrap(L, names[i], cost);
}

void tt_sb_wrap_costly(lua_State *L)
{
    static const char *const string_parse[] = {"format", "pack", "packsize", "unpack", NULL};
    /* math.random and randomseed keep their state in an upvalue, so
     * sb_wrap leaves them alone; numbers cost nothing here. */
    static const char *const math_parse[] = {
        "abs", "ceil", "floor", "fmod", "modf", "sqrt", "exp", "log", "sin", "cos", "tan",
        "asin", "acos", "atan", "tointeger", "ult", "max", "min", "type", NULL};
    static const char *const string_meta[] = {"__add", "__sub", "__mul", "__mod", "__pow",
                                              "__div", "__idiv", "__unm", NULL};
    lua_pushglobaltable(L);
    sb_wrap(L, "tonumber", sb_cost_parse);
    sb_wrap(L, "rawequal", sb_cost_compare);
    lua_pop(L, 1);

    lua_getglobal(L, LUA_STRLIBNAME);
    sb_wrap_all(L, string_parse, sb_cost_parse);
    sb_wrap(L, "byte", sb_cost_results);
    lua_pop(L, 1);
    /* A numeric string's arithmetic ("1" + s) converts it in C. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        sb_wrap_all(L, string_meta, sb_cost_parse);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    lua_getglobal(L, LUA_MATHLIBNAME);
    sb_wrap_all(L, math_parse, sb_cost_parse);
    lua_pop(L, 1);

    lua_getglobal(L, LUA_TABLIBNAME);
    sb_wrap(L, "insert", sb_cost_insert);
    sb_wrap(L, "remove", sb_cost_remove);
    sb_wrap(L, "move", sb_cost_move);
    sb_wrap(L, "concat", sb_cost_concat);
    sb_wrap(L, "sort", sb_cost_sort);
    sb_wrap(L, "unpack", sb_cost_results);
    lua_pop(L, 1);
}
