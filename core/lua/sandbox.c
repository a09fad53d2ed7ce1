/* sandbox.c - a Lua state fit for running config scripts we did not write. */
#include "lua/sandbox.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/sandbox_internal.h"
#include "util/clock.h"
#include "util/err.h"

#define SB_DEFAULT_BYTES ((size_t)64 << 20)
#define SB_DEFAULT_INSTRUCTIONS 50000000UL
#define SB_DEFAULT_SECONDS 5.0
/* Instructions between two hook calls: often enough that an instruction
 * doing much C work (comparing two long strings) still reaches the time
 * check within a fraction of a second, rare enough to cost little. */
#define SB_HOOK_EVERY 128
/* Once a limit is hit, allocations may go this far past the memory cap, so
 * that the error message naming the line can still be made. */
#define SB_RESERVE ((size_t)256 << 10)

typedef enum sb_trip {
    SB_RUNNING = 0,
    SB_TRIP_INSTRUCTIONS,
    SB_TRIP_MEMORY,
    SB_TRIP_TIME,
    SB_TRIP_INTERRUPT
} sb_trip;

/* Lives in the allocator's ud so that every callback can reach it from L. */
typedef struct sb_state {
    lua_State *L;                /* the main thread (configs cannot make others) */
    size_t used;
    size_t max_bytes;
    int cap_hit;                 /* an allocation was refused for the cap */
    /* The last refused request. Lua answers a refusal with a full garbage
     * collection and the same request again; refused twice, the config is
     * really over its cap. */
    int refused;
    const void *refused_ptr;
    size_t refused_size;
    int active;                  /* inside sb_pcall: limits are counted */
    unsigned long max_instructions;
    size_t executed;
    double max_seconds;
    double cpu_start;            /* thread CPU seconds when sb_pcall began */
    double next_time_check;      /* monotonic time before which CPU cannot be over */
    sb_trip trip;                /* the limit hit; sticky until the next sb_pcall */
    char trip_msg[512];          /* its message as first raised, with file:line */
} sb_state;

/* Set from signal handlers: only a sig_atomic_t may be written there. */
static volatile sig_atomic_t sb_interrupt_flag;

void tt_sandbox_interrupt(void)
{
    sb_interrupt_flag = 1;
}

void tt_sandbox_interrupt_reset(void)
{
    sb_interrupt_flag = 0;
}

int tt_sandbox_interrupted(void)
{
    return sb_interrupt_flag != 0;
}

void tt_sandbox_limits_init(tt_sandbox_limits *lim)
{
    lim->max_bytes = SB_DEFAULT_BYTES;
    lim->max_instructions = SB_DEFAULT_INSTRUCTIONS;
    lim->max_seconds = SB_DEFAULT_SECONDS;
}

static sb_state *sb_get(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static double sb_thread_cpu(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sb_hook(lua_State *L, lua_Debug *ar);

/* Records the limit hit and makes the hook run before every instruction
 * from now on, so that the error is raised again each time a pcall catches
 * it. lua_sethook may be called at any moment (even from a signal handler),
 * so the allocator can do this too. */
static void sb_trip_now(sb_state *sb, sb_trip why)
{
    if (!sb->active || sb->trip != SB_RUNNING)
        return;
    sb->trip = why;
    lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, 1);
}

/* Adds units to the instruction count and checks every limit. Reading the
 * thread's CPU clock is a system call, so it is read only once the wall
 * clock says the CPU limit could have been reached. */
static void sb_spend(sb_state *sb, size_t units)
{
    if (!sb->active || sb->trip != SB_RUNNING)
        return;
    sb->executed = units > SIZE_MAX - sb->executed ? SIZE_MAX : sb->executed + units;
    if (sb_interrupt_flag) {
        sb_trip_now(sb, SB_TRIP_INTERRUPT);
    } else if (sb->executed > sb->max_instructions) {
        sb_trip_now(sb, SB_TRIP_INSTRUCTIONS);
    } else if (sb->max_seconds > 0) {
        double now = tt_now();
        if (now >= sb->next_time_check) {
            double cpu = sb_thread_cpu() - sb->cpu_start;
            if (cpu > sb->max_seconds)
                sb_trip_now(sb, SB_TRIP_TIME);
            else
                sb->next_time_check = now + (sb->max_seconds - cpu);
        }
    }
}

static void sb_trip_text(const sb_state *sb, char *buf, size_t n)
{
    switch (sb->trip) {
    case SB_TRIP_INSTRUCTIONS:
        snprintf(buf, n, "config ran more than %lu instructions (infinite loop?)",
                 sb->max_instructions);
        break;
    case SB_TRIP_MEMORY:
        snprintf(buf, n, "config uses more than %zu MiB of memory", sb->max_bytes >> 20);
        break;
    case SB_TRIP_TIME:
        snprintf(buf, n, "config ran for more than %g s of CPU time", sb->max_seconds);
        break;
    case SB_TRIP_INTERRUPT:
        snprintf(buf, n, "interrupted");
        break;
    default:
        snprintf(buf, n, "no limit hit");
    }
}

/* Raises the tripped limit's error, prefixed with where ("file:line: " or
 * ""). The first one is kept for sb_pcall to report: it names the line
 * where the limit was hit, and the error the unwinding ends with may be
 * another (raised again after a pcall, or by a to-be-closed variable). */
static int sb_raise_trip(lua_State *L, sb_state *sb, const char *where)
{
    char text[256];
    sb_trip_text(sb, text, sizeof text);
    if (!sb->trip_msg[0])
        snprintf(sb->trip_msg, sizeof sb->trip_msg, "%s%s", where, text);
    lua_pushfstring(L, "%s%s", where, text);
    return lua_error(L);
}

/* "file:line: " of the Lua function at level (a hook's own record is
 * level 0), or "" for C functions and unknown lines. */
static void sb_where(lua_State *L, lua_Debug *ar, char *buf, size_t n)
{
    buf[0] = '\0';
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        snprintf(buf, n, "%s:%d: ", ar->short_src, ar->currentline);
}

void tt_sb_charge(lua_State *L, size_t units)
{
    sb_state *sb = sb_get(L);
    sb_spend(sb, units);
    if (sb->trip == SB_RUNNING)
        return;
    /* Level 1 is the Lua code calling the C function that charges. */
    char where[LUA_IDSIZE + 32] = "";
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar))
        sb_where(L, &ar, where, sizeof where);
    sb_raise_trip(L, sb, where);
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
    if (nsize > old) {
        size_t grow = nsize - old;
        size_t cap = sb->max_bytes + (sb->trip != SB_RUNNING ? SB_RESERVE : 0);
        if (grow > cap || sb->used + grow > cap) {
            sb->cap_hit = 1;
            if (sb->refused && sb->refused_ptr == ptr && sb->refused_size == nsize)
                sb_trip_now(sb, SB_TRIP_MEMORY);
            sb->refused = 1;
            sb->refused_ptr = ptr;
            sb->refused_size = nsize;
            return NULL; /* Lua collects garbage and retries before it gives up */
        }
        sb->refused = 0;
        /* Bytes made cost instructions: string work in C (concatenation,
         * string.rep, upper, format, table.concat) allocates its result. */
        sb_spend(sb, tt_sb_bytes(grow));
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
    if (sb->trip == SB_RUNNING) {
        sb_spend(sb, SB_HOOK_EVERY);
        if (sb->trip == SB_RUNNING)
            return;
    }
    /* luaL_error would blame the caller of the looping function; the hook's
     * own record knows the line actually running. */
    char where[LUA_IDSIZE + 32];
    sb_where(L, ar, where, sizeof where);
    sb_raise_trip(L, sb, where);
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
    if (lua_type(L, 1) == LUA_TSTRING) {
        /* Lua raises this one from inside the C call that went too deep
         * (gsub calling a function calling gsub ...), which has no line. */
        if (strcmp(lua_tostring(L, 1), "C stack overflow") == 0) {
            sb_push_where(L, 1);
            lua_pushvalue(L, 1);
            lua_concat(L, 2);
        }
        return 1;
    }
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
    /* Parsing is C work the hook does not see (a long comment allocates
     * nothing): one instruction a byte, charged first. */
    tt_sb_charge(L, 1 + len);
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
 * can ask for huge buffers in one go. The result is copied by doubling, so
 * its cost is that of the bytes made, which the allocator charges. */
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
    /* One period (piece and separator), then the filled prefix, a whole
     * number of periods, copied after itself until the total is reached. */
    size_t filled = l < total ? l : total;
    memcpy(p, s, filled);
    if (filled < total) {
        memcpy(p + filled, sep, lsep);
        filled += lsep;
    }
    while (filled < total) {
        size_t chunk = filled < total - filled ? filled : total - filled;
        memcpy(p + filled, p, chunk);
        filled += chunk;
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

/* The handler sb_xpcall gives Lua: the config's own (upvalue 1), unless a
 * limit has been hit. Lua calls a message handler right where the error is
 * raised, and a limit's error is raised inside the count hook, where Lua
 * turns hooks off: the config's handler would run unwatched, for ever. */
static int sb_xpcall_handler(lua_State *L)
{
    if (sb_get(L)->trip != SB_RUNNING)
        return 1; /* the error as it is */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall(f, msgh, ...) as Lua's (upvalue 1), with msgh behind
 * sb_xpcall_handler. Lua's runs in this call's own frame, so its results
 * and messages are unchanged. */
static int sb_xpcall(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, sb_xpcall_handler, 1);
    lua_replace(L, 2);
    lua_CFunction xpcall = lua_tocfunction(L, lua_upvalueindex(1));
    return xpcall(L);
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
    lua_getfield(L, -1, "xpcall");
    lua_pushcclosure(L, sb_xpcall, 1);
    lua_setfield(L, -2, "xpcall");
    lua_pop(L, 1);

    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pushcfunction(L, sb_string_rep);
    lua_setfield(L, -2, "rep");
    tt_sb_open_strfind(L);
    lua_pop(L, 1);
    tt_sb_wrap_costly(L);
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
    sb->max_seconds = lim->max_seconds;
    lua_State *L = lua_newstate(sb_alloc, sb);
    if (!L) {
        free(sb);
        return NULL;
    }
    sb->L = L;
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
    const char *sep = where && *where ? ": " : "";
    if (!where)
        where = "";
    /* A signal that came between two calls (the prelude and the config)
     * stops the next one before it starts. */
    if (sb_interrupt_flag) {
        lua_pop(L, nargs + 1);
        return tt_errf(err, errlen, TT_ERR_STOPPED, "%s%sinterrupted", where, sep);
    }
    sb->executed = 0;
    sb->trip = SB_RUNNING;
    sb->trip_msg[0] = '\0';
    sb->cap_hit = 0;
    sb->refused = 0;
    sb->cpu_start = sb_thread_cpu();
    sb->next_time_check = tt_now() + sb->max_seconds;
    sb->active = 1;
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, SB_HOOK_EVERY);

    int base = lua_gettop(L) - nargs; /* index of the function */
    lua_pushcfunction(L, sb_msgh);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    sb->active = 0;
    lua_sethook(L, NULL, 0, 0);
    if (rc == LUA_OK)
        return TT_OK;

    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    /* A memory error re-raised from C (a failed load) or by the script after
     * pcall arrives as an ordinary error carrying Lua's fixed message. */
    int is_mem = rc == LUA_ERRMEM || (sb->cap_hit && msg && strcmp(msg, "not enough memory") == 0);
    tt_status st = TT_ERR_CONFIG;
    if (sb->trip != SB_RUNNING) {
        /* A limit was hit: its message, whatever error the unwinding ended
         * with. A memory error nobody caught never reached the hook, so its
         * line is unknown. */
        if (sb->trip == SB_TRIP_INTERRUPT)
            st = TT_ERR_STOPPED;
        if (sb->trip_msg[0]) {
            tt_errf(err, errlen, st, "%s", sb->trip_msg);
        } else {
            char text[256];
            sb_trip_text(sb, text, sizeof text);
            tt_errf(err, errlen, st, "%s%s%s", where, sep, text);
        }
    } else if (is_mem && sb->cap_hit) {
        /* Lua calls no handler for memory errors, so the line is unknown. */
        tt_errf(err, errlen, st, "%s%sconfig uses more than %zu MiB of memory", where, sep,
                sb->max_bytes >> 20);
    } else if (is_mem) {
        st = tt_errf(err, errlen, TT_ERR_NOMEM, "%s%sout of memory", where, sep);
    } else if (rc == LUA_ERRERR) {
        /* The message handler itself failed: the C stack was exhausted. */
        tt_errf(err, errlen, st, "%s%serror while reporting an error (C stack overflow?)", where,
                sep);
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
