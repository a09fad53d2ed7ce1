/* test_sandbox.c - the sandbox's limits against configs written to escape
 * them: errors caught by pcall, C work the count hook does not see,
 * interrupts and the CPU-time backstop (lua/sandbox.c, sandbox_cost.c).
 * Pattern matching has its own file, test_sandbox_strfind.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include <lua.h>

#include "lua/config.h"
#include "lua/sandbox.h"

static char err[1024];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs src as "h.lua" under lim; it must fail with status st and exactly
 * the message want, within max_seconds. Returns the state for more checks
 * (the caller closes it). */
static lua_State *expect(const tt_sandbox_limits *lim, const char *src, tt_status st,
                         const char *want, double max_seconds)
{
    lua_State *L = tt_sandbox_open(lim);
    assert_non_null(L);
    double t0 = now();
    tt_status got = tt_sandbox_run(L, src, strlen(src), "@h.lua", 0, err, sizeof err);
    double took = now() - t0;
    if (got != st || strcmp(err, want) != 0)
        fail_msg("status %d, message \"%s\"; wanted %d, \"%s\"", got, err, st, want);
    if (took > max_seconds)
        fail_msg("took %.2f s (at most %.2f): %s", took, max_seconds, src);
    assert_int_equal(lua_gettop(L), 0);
    return L;
}

static void expect_closed(const tt_sandbox_limits *lim, const char *src, tt_status st,
                          const char *want, double max_seconds)
{
    tt_sandbox_close(expect(lim, src, st, want, max_seconds));
}

/* pcall used to catch the memory error: the loop below allocated up to the
 * cap, caught the error, and started again until the instruction budget
 * ran out; with live data near the cap every round was a full collection.
 * Now the first time the cap holds after Lua's emergency collection, the
 * error comes back before every instruction. */
static void test_memory_error_cannot_be_swallowed(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    lim.max_bytes = (size_t)8 << 20;
    const char *mem = "h.lua:1: config uses more than 8 MiB of memory";
    expect_closed(&lim, "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i "
                        "end end) end", TT_ERR_CONFIG, mem, 2.0);
    expect_closed(&lim, "local keep = {}\npcall(function() for i = 1, 1e9 do keep[i] = i end end)\n"
                        "while true do pcall(function() local x = {} end) end",
                  TT_ERR_CONFIG, "h.lua:3: config uses more than 8 MiB of memory", 2.0);
    /* xpcall's handler cannot run either: it errors at its first step. */
    expect_closed(&lim, "while true do xpcall(function() local s = 'x' while true do s = s .. s "
                        "end end, function(m) while true do end end) end",
                  TT_ERR_CONFIG, mem, 2.0);
    /* A garbage-heavy config that stays under the cap is not stopped: Lua's
     * emergency collection frees what it needs. */
    lua_State *L = tt_sandbox_open(&lim);
    const char *src = "local n = 0\nfor i = 1, 200 do local t = {} for j = 1, 2e4 do t[j] = j end "
                      "n = n + #t end\nreturn n";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 4000000);
    tt_sandbox_close(L);
}

/* After the instruction limit, no code of the script runs again: not the
 * code after pcall, not a to-be-closed variable's handler, not an error
 * object's __tostring (the message handler never calls it). */
static void test_limits_survive_pcall(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    lim.max_instructions = 1000000;
    const char *budget = "config ran more than 1000000 instructions (infinite loop?)";
    char want[256];

    snprintf(want, sizeof want, "h.lua:2: %s", budget);
    lua_State *L = expect(&lim, "local ok = pcall(function()\n  while true do end end)\n"
                                "escaped = true\n", TT_ERR_CONFIG, want, 2.0);
    lua_getglobal(L, "escaped");
    assert_true(lua_isnil(L, -1));
    tt_sandbox_close(L);

    /* The message names the line where the limit was hit first. */
    snprintf(want, sizeof want, "h.lua:4: %s", budget);
    L = expect(&lim, "pcall(function()\n  local c <close> = setmetatable({}, {__close = function()\n"
                     "    closed = true while true do end end})\n  while true do end\nend)\n"
                     "after = true",
               TT_ERR_CONFIG, want, 2.0);
    lua_getglobal(L, "closed");
    assert_true(lua_isnil(L, -1));
    lua_getglobal(L, "after");
    assert_true(lua_isnil(L, -1));
    tt_sandbox_close(L);

    snprintf(want, sizeof want, "h.lua:1: %s", budget);
    expect_closed(&lim, "while true do xpcall(function() while true do end end, "
                        "function() while true do end end) end", TT_ERR_CONFIG, want, 2.0);
    expect_closed(&lim, "error(setmetatable({}, {__tostring = function() while true do end end}))",
                  TT_ERR_CONFIG, "h.lua:1: error object is a table value", 2.0);

    /* The next run starts with a fresh budget. */
    L = tt_sandbox_open(&lim);
    const char *src = "while true do end";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 0, err, sizeof err), TT_ERR_CONFIG);
    src = "return 1 + 1";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 2);
    tt_sandbox_close(L);
}

/* Work in C that allocates nothing, or little, per VM instruction: each is
 * charged, so loops over it end at the budget, at their line. */
static void test_c_work_is_charged(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    lim.max_instructions = 5000000;
    lim.max_seconds = 0; /* only the budget: the backstop must not be what stops these */
    const char *budget = "config ran more than 5000000 instructions (infinite loop?)";
    static const char *const loops[] = {
        /* allocation: concatenation, upper, rep */
        "local s = ('a'):rep(4e6)\nfor i = 1, 1e7 do local t = s .. 'x' end",
        "local s = ('a'):rep(4e6)\nfor i = 1, 1e7 do local t = s:upper() end",
        "local s = ''\nfor i = 1, 1e7 do local t = ('ab'):rep(1e6) end",
        /* parsing */
        "local src = '--' .. ('a'):rep(4e6)\nfor i = 1, 1e7 do load(src) end",
        "local s = (' '):rep(4e6)\nfor i = 1, 1e7 do local x = tonumber(s) end",
        "local s = (' '):rep(4e6) .. '1'\nfor i = 1, 1e7 do local x = s + 1 end",
        "local f = ('x'):rep(4e6)\nfor i = 1, 1e7 do local n = string.packsize(f) end",
        "local s = (' '):rep(4e6) .. '1'\nfor i = 1, 1e7 do local x = math.floor(s) end",
        /* values pushed and elements moved */
        "local s = ('a'):rep(9e5)\nfor i = 1, 1e7 do s:byte(1, -1) end",
        "local t = {}\nfor i = 1, 1e7 do table.unpack(t, 1, 9e5) end",
        "local t = {} for i = 1, 1e5 do t[i] = '' end\nfor i = 1, 1e7 do table.concat(t) end",
        "local t = {} for i = 1, 1e5 do t[i] = -i end\nfor i = 1, 1e7 do table.sort(t) end",
        "local t = {} for i = 1, 1e5 do t[i] = i end\n"
        "for i = 1, 1e7 do table.insert(t, 1, 0) table.remove(t, 1) end",
        "local t = {}\ntable.move(t, 1, 1e15, 2)",
        /* a lying __len makes insert and remove shift for ever */
        "local t = setmetatable({}, {__len = function() return 1e15 end})\ntable.insert(t, 1, 0)",
        "local t = setmetatable({}, {__len = function() return 1e15 end})\ntable.remove(t, 1)",
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        char want[256];
        snprintf(want, sizeof want, "h.lua:2: %s", budget);
        expect_closed(&lim, loops[i], TT_ERR_CONFIG, want, 3.0);
    }

    /* Ordinary use of the same functions stays far below it. */
    lim.max_instructions = 500000;
    lua_State *L = tt_sandbox_open(&lim);
    const char *src = "local t = {}\n"
                      "for i = 1, 1000 do table.insert(t, tostring(i)) end\n"
                      "table.sort(t)\n"
                      "local s = table.concat(t, ',')\n"
                      "return #s + tonumber('12') + select('#', s:byte(1, 10)) + #table.remove(t)";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 3892 + 12 + 10 + 3);
    tt_sandbox_close(L);
}

/* Comparing two distinct long strings is one VM instruction doing
 * megabytes of C work, which nothing can charge: the CPU-time backstop
 * ends it. */
static void test_cpu_time_backstop(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    assert_true(lim.max_seconds == 5.0);
    lim.max_seconds = 0.5;
    expect_closed(&lim, "local s, t = ('a'):rep(8e6), ('a'):rep(8e6)\n"
                        "while true do local same = s == t end",
                  TT_ERR_CONFIG, "h.lua:2: config ran for more than 0.5 s of CPU time", 3.0);
    expect_closed(&lim, "local s, t = ('a'):rep(8e6), ('a'):rep(8e6) .. 'b'\n"
                        "while true do local less = s < t end",
                  TT_ERR_CONFIG, "h.lua:2: config ran for more than 0.5 s of CPU time", 3.0);
}

static void on_alarm(int sig)
{
    (void)sig;
    tt_sandbox_interrupt();
}

/* Arms SIGALRM to call tt_sandbox_interrupt after ms milliseconds. */
static void interrupt_after(int ms)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = ms * 1000}};
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

/* tt_sandbox_interrupt (from a signal handler) stops a running config in
 * the VM, in the matcher and in a long comparison loop, with
 * TT_ERR_STOPPED and the line; later runs fail at once until the reset. */
static void test_interrupt(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    lim.max_instructions = (unsigned long)-1;
    lim.max_seconds = 0;
    static const char *const endless[] = {
        "local n = 0\nwhile true do n = n + 1 end",
        "local s = ('a'):rep(1e5)\nreturn s:match(('(.-)'):rep(30) .. 'b')",
        "local s, t = ('a'):rep(8e6), ('a'):rep(8e6)\nwhile true do local same = s == t end",
        "while true do\n  pcall(function() while true do end end) end",
    };
    for (size_t i = 0; i < sizeof endless / sizeof endless[0]; i++) {
        tt_sandbox_interrupt_reset();
        interrupt_after(300);
        lua_State *L = expect(&lim, endless[i], TT_ERR_STOPPED, "h.lua:2: interrupted", 2.0);
        assert_true(tt_sandbox_interrupted());
        const char *src = "return 1";
        assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@x.lua", 1, err, sizeof err),
                         TT_ERR_STOPPED);
        assert_string_equal(err, "x.lua: interrupted");
        tt_sandbox_interrupt_reset();
        assert_int_equal(tt_sandbox_run(L, src, strlen(src), "@x.lua", 1, err, sizeof err), TT_OK);
        tt_sandbox_close(L);
    }
    /* Through tt_config_load the status is kept, for the command's exit 130. */
    tt_config *cfg = (tt_config *)1;
    interrupt_after(200);
    assert_int_equal(tt_config_load_string("local s, t = ('a'):rep(8e6), ('a'):rep(8e6)\n"
                                           "while true do local same = s == t end",
                                           "cfg.lua", NULL, &cfg, err, sizeof err),
                     TT_ERR_STOPPED);
    assert_null(cfg);
    assert_string_equal(err, "cfg.lua:2: interrupted");
    tt_sandbox_interrupt_reset();
}

int main(void)
{
    /* A limit that fails to hold shows up as a loop: end it well before
     * ctest's timeout (SIGXCPU kills the test). */
    struct rlimit cpu = {.rlim_cur = 60, .rlim_max = 70};
    setrlimit(RLIMIT_CPU, &cpu);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_error_cannot_be_swallowed),
        cmocka_unit_test(test_limits_survive_pcall),
        cmocka_unit_test(test_c_work_is_charged),
        cmocka_unit_test(test_cpu_time_backstop),
        cmocka_unit_test(test_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
