/* sandbox.c - a Lua state fit for running config scripts we did not write. */
#include "lua/sandbox.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "util/err.h"

#define SB_DEFAULT_BYTES ((size_t)64 << 20)
#define SB_DEFAULT_INSTRUCTIONS 50000000UL
/* Instructions between two hook calls: often enough to stop a loop quickly,
 * rare enough to cost nothing measurable. */
#define SB_HOOK_EVERY 1000

/* Lives in the allocator's ud so that every callback can reach it from L. */
typedef struct sb_state {
    size_t used;
    size_t max_bytes;
    int cap_hit;                 /* an allocation was refused for the cap */
    unsigned long max_instructions;
    unsigned long executed;
    int tripped;                 /* the instruction limit has been reached */
} sb_state;

void tt_sandbox_limits_init(tt_sandbox_limits *lim)
{
    lim->max_bytes = SB_DEFAULT_BYTES;
    lim->max_instructions = SB_DEFAULT_INSTRUCTIONS;
}

static sb_state *sb_get(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sb_state *sb = ud;
    /* With ptr == NULL, osize is a type tag, not a size. */
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (nsize > old && (nsize - old > sb->max_bytes || sb->used + (nsize - old) > sb->max_bytes)) {
        sb->cap_hit = 1;
        return NULL; /* Lua collects garbage and retries before it gives up */
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    sb->used = sb->used - old + nsize;
    return p;
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    sb_state *sb = sb_get(L);
    if (!sb->tripped) {
        sb->executed += SB_HOOK_EVERY;
        if (sb->executed <= sb->max_instructions)
            return;
        sb->tripped = 1;
        /* From now on stop at every instruction, so that a script catching the
         * error with pcall cannot keep going. */
        lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
    }
    /* luaL_error would blame the caller of the looping function; the hook's
     * own record knows the line actually running. */
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        lua_pushfstring(L, "%s:%d: ", ar->short_src, ar->currentline);
    else
        lua_pushliteral(L, "");
    lua_pushfstring(L, "config ran more than %I instructions (infinite loop?)",
                    (lua_Integer)sb->max_instructions);
    lua_concat(L, 2);
    lua_error(L);
}

/* "file:line: " of the innermost Lua function on the stack, from level on. */
static void sb_push_where(lua_State *L, int level)
{
    lua_Debug ar;
    for (; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

/* Message handler: keeps Lua's "file:line: message" as it is (no traceback:
 * config authors want one line), and gives non-string error values a place. */
static int sb_msgh(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        return 1;
    sb_push_where(L, 1);
    lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    lua_concat(L, 2);
    return 1;
}

static int sb_is_binary(const char *s, size_t len)
{
    return len > 0 && s[0] == LUA_SIGNATURE[0];
}

/* load(chunk [, chunkname [, mode]]): strings only, text only, no env. */
static int sb_load(lua_State *L)
{
    int nargs = lua_gettop(L);
    if (lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "load(): expected a string, got %s", luaL_typename(L, 1));
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s);
    const char *mode = luaL_optstring(L, 3, "t");
    if (strcmp(mode, "t") != 0)
        return luaL_error(L, "load(): only text chunks are allowed (mode \"t\")");
    if (nargs > 3)
        return luaL_error(L, "load(): the env argument is not supported in configs");
    if (sb_is_binary(s, len)) {
        lua_pushnil(L);
        lua_pushliteral(L, "load(): binary chunks are not allowed in configs");
        return 2;
    }
    if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

/* setmetatable as Lua has it, except that finalizers are refused: they run
 * with hooks off, so a __gc loop would escape the instruction limit (and run
 * again when the state is closed). */
static int sb_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable(): __gc metamethods are not allowed in configs");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* string.rep, bounded: Lua's own loops in C without allocating when the
 * pieces are empty, so neither limit would stop string.rep("", 1e15), and it
 * can ask for huge buffers in one go. */
static int sb_string_rep(lua_State *L)
{
    size_t l, lsep = 0;
    const char *s = luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &lsep);
    size_t cap = sb_get(L)->max_bytes;
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    if (l + lsep < l || (lua_Unsigned)n > cap / (l + lsep))
        return luaL_error(L, "config uses more than %I MiB of memory (string.rep)",
                          (lua_Integer)(cap >> 20));
    size_t count = (size_t)n;
    size_t total = count * l + (count - 1) * lsep;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, total);
    for (size_t i = 0; i < count; i++) {
        memcpy(p, s, l);
        p += l;
        if (lsep > 0 && i + 1 < count) {
            memcpy(p, sep, lsep);
            p += lsep;
        }
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

/* Runs protected so that running out of memory while building the state is
 * an error, not a panic. */
static int sb_setup(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"dofile", "loadfile", "require", "collectgarbage",
                                          "print", "warn"};
    lua_pushglobaltable(L);
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, removed[i]);
    }
    lua_pushcfunction(L, sb_load);
    lua_setfield(L, -2, "load");
    lua_pushcfunction(L, sb_setmetatable);
    lua_setfield(L, -2, "setmetatable");
    lua_pop(L, 1);

    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pushcfunction(L, sb_string_rep);
    lua_setfield(L, -2, "rep");
    lua_pop(L, 1);
    /* Lua seeds math.random from the clock; a fixed seed keeps a config
     * that uses it describing the same search every time it is read. */
    lua_getglobal(L, LUA_MATHLIBNAME);
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, 0);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    return 0;
}

lua_State *tt_sandbox_open(const tt_sandbox_limits *lim)
{
    tt_sandbox_limits def;
    if (!lim) {
        tt_sandbox_limits_init(&def);
        lim = &def;
    }
    sb_state *sb = calloc(1, sizeof *sb);
    if (!sb)
        return NULL;
    sb->max_bytes = lim->max_bytes;
    sb->max_instructions = lim->max_instructions;
    lua_State *L = lua_newstate(sb_alloc, sb);
    if (!L) {
        free(sb);
        return NULL;
    }
    lua_pushcfunction(L, sb_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        tt_sandbox_close(L);
        return NULL;
    }
    return L;
}

void tt_sandbox_close(lua_State *L)
{
    if (!L)
        return;
    sb_state *sb = sb_get(L);
    lua_close(L);
    free(sb);
}

/* Shown in messages that Lua itself does not place: what Lua would print. */
static const char *sb_display_name(const char *chunkname)
{
    if (chunkname[0] == '@' || chunkname[0] == '=')
        return chunkname + 1;
    return chunkname;
}

/* Protected call of the function under nargs arguments, with fresh limits. */
static tt_status sb_pcall(lua_State *L, int nargs, int nresults, const char *where, char *err,
                          size_t errlen)
{
    sb_state *sb = sb_get(L);
    sb->executed = 0;
    sb->tripped = 0;
    sb->cap_hit = 0;
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, SB_HOOK_EVERY);

    int base = lua_gettop(L) - nargs; /* index of the function */
    lua_pushcfunction(L, sb_msgh);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    lua_sethook(L, NULL, 0, 0);
    if (rc == LUA_OK)
        return TT_OK;

    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    /* A memory error re-raised from C (a failed load) or by the script after
     * pcall arrives as an ordinary error carrying Lua's fixed message. */
    int is_mem = rc == LUA_ERRMEM || (sb->cap_hit && msg && strcmp(msg, "not enough memory") == 0);
    tt_status st = TT_ERR_CONFIG;
    const char *sep = where && *where ? ": " : "";
    if (!where)
        where = "";
    if (is_mem && sb->cap_hit) {
        /* Lua calls no handler for memory errors, so the line is unknown. */
        tt_errf(err, errlen, st, "%s%sconfig uses more than %zu MiB of memory", where, sep,
                sb->max_bytes >> 20);
    } else if (is_mem) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s%sout of memory", where, sep);
    } else {
        tt_errf(err, errlen, st, "%s", msg ? msg : "unknown Lua error");
    }
    lua_pop(L, 1);
    return st;
}

/* Loads and runs the chunk described by its arguments; loading allocates,
 * so it belongs inside the protected call too. */
static int sb_load_and_call(lua_State *L)
{
    const char *source = lua_touserdata(L, 1);
    size_t len = (size_t)lua_tointeger(L, 2);
    const char *chunkname = lua_touserdata(L, 3);
    lua_settop(L, 0);
    if (luaL_loadbufferx(L, source, len, chunkname, "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L);
}

tt_status tt_sandbox_run(lua_State *L, const char *source, size_t len, const char *chunkname,
                         int nresults, char *err, size_t errlen)
{
    if (!L || !source || !chunkname || nresults < 0)
        return tt_errf(err, errlen, TT_ERR_INVALID, "tt_sandbox_run: invalid argument");
    const char *where = sb_display_name(chunkname);
    if (sb_is_binary(source, len))
        return tt_errf(err, errlen, TT_ERR_CONFIG,
                       "%s: binary (precompiled) Lua chunks are not allowed; give the source text",
                       where);
    /* Nothing pushed here may allocate: outside a protected call a memory
     * error would be a panic. */
    if (!lua_checkstack(L, 5 + nresults))
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s: out of memory", where);
    lua_pushcfunction(L, sb_load_and_call);
    lua_pushlightuserdata(L, (void *)source);
    lua_pushinteger(L, (lua_Integer)len);
    lua_pushlightuserdata(L, (void *)chunkname);
    return sb_pcall(L, 3, nresults, where, err, errlen);
}

tt_status tt_sandbox_call(lua_State *L, int nargs, int nresults, const char *where, char *err,
                          size_t errlen)
{
    if (!lua_checkstack(L, 2 + (nresults > 0 ? nresults : 0))) {
        lua_pop(L, nargs + 1);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "%s%sout of memory", where ? where : "",
                       where ? ": " : "");
    }
    return sb_pcall(L, nargs, nresults, where, err, errlen);
}
