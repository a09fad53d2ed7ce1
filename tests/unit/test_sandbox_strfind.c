/* test_sandbox_strfind.c - the sandbox's own string.find, match, gmatch and
 * gsub (lua/sandbox_strfind.c, sandbox_match.c) give what Lua's give, and
 * their work counts against the instruction budget. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/sandbox.h"

#ifndef TT_SOURCE_DIR
#define TT_SOURCE_DIR "."
#endif
#define CASES TT_SOURCE_DIR "/tests/fixtures/lua/strfind_cases.lua"

static char err[1024];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Lines of a and b up to the first difference, for the failure message. */
static void report_first_difference(const char *a, const char *b)
{
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    fail_msg("line %d differs:\n  lua:     %.300s\n  sandbox: %.300s", line, la, lb);
}

/* The case script's text from Lua's own string library and from the
 * sandbox's must be the same, byte for byte. */
static void test_same_as_lua(void **state)
{
    (void)state;
    size_t len;
    char *src = slurp(CASES, &len);

    lua_State *plain = luaL_newstate();
    luaL_openlibs(plain);
    if (luaL_loadbufferx(plain, src, len, "=cases", "t") != LUA_OK ||
        lua_pcall(plain, 0, 1, 0) != LUA_OK)
        fail_msg("plain Lua: %s", lua_tostring(plain, -1));
    const char *want = lua_tostring(plain, -1);
    assert_non_null(want);

    lua_State *L = tt_sandbox_open(NULL);
    assert_non_null(L);
    if (tt_sandbox_run(L, src, len, "=cases", 1, err, sizeof err) != TT_OK)
        fail_msg("sandbox: %s", err);
    const char *got = lua_tostring(L, -1);
    assert_non_null(got);
    /* A few thousand calls: a broken script would compare nothing. */
    assert_true(strlen(want) > 100000);
    if (strcmp(want, got) != 0)
        report_first_difference(want, got);
    tt_sandbox_close(L);
    lua_close(plain);
    free(src);
}

/* src must fail with a message that starts with prefix and contains part,
 * within the given limits. */
static void expect_stop(const tt_sandbox_limits *lim, const char *src, const char *prefix,
                        const char *part)
{
    lua_State *L = tt_sandbox_open(lim);
    assert_non_null(L);
    tt_status st = tt_sandbox_run(L, src, strlen(src), "@p.lua", 0, err, sizeof err);
    if (st == TT_OK)
        fail_msg("accepted: %s", src);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, part))
        fail_msg("message \"%s\" lacks \"%s\" ... \"%s\"", err, prefix, part);
    assert_int_equal(lua_gettop(L), 0);
    tt_sandbox_close(L);
}

/* Backtracking without end in Lua's matcher: here every step is counted,
 * so the instruction budget stops them, at the calling line. A budget of 5
 * million keeps the test quick; e2e_hostile_configs runs the default. */
static void test_pattern_bombs(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    lim.max_instructions = 5000000;
    const char *budget = "config ran more than 5000000 instructions";
    expect_stop(&lim, "local s = ('a'):rep(1e5)\nreturn s:match(('(.-)'):rep(30) .. 'b')",
                "p.lua:2: ", budget);
    expect_stop(&lim, "\nreturn string.rep('a', 5000):find(string.rep('a?', 150) .."
                      " string.rep('a', 150) .. 'b')", "p.lua:2: ", budget);
    expect_stop(&lim, "for w in ('a'):rep(1e4):gmatch('(a*)*b') do end", "p.lua:1: ", budget);
    expect_stop(&lim, "return (('a'):rep(3e4):gsub('a-a-a-a-b', 'x'))", "p.lua:1: ", budget);
    /* Lua's own limit on nesting stays: 5000 optional items. */
    expect_stop(&lim, "return string.rep('a', 5000):find(string.rep('a?', 5000) .."
                      " string.rep('a', 5000))", "p.lua:1: ", "pattern too complex");
    /* A set thousands of characters long costs by its length. */
    expect_stop(&lim, "local set = '[' .. ('%a'):rep(5e5) .. ']'\n"
                      "local s = ('1'):rep(1e3)\nfor i = 1, 1e6 do s:find(set) end",
                "p.lua:3: ", budget);
}

/* A plain search through 20 MB costs 20 MB / 16 instructions: the loop
 * ends after a few dozen of them instead of a million. */
static void test_long_subjects(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    const char *budget = "config ran more than 50000000 instructions";
    expect_stop(&lim, "local s = string.rep('a', 20e6) for i = 1, 1e6 do s:find('b') end",
                "p.lua:1: ", budget);
    lim.max_instructions = 5000000;
    budget = "config ran more than 5000000 instructions";
    expect_stop(&lim, "local s = string.rep('a', 20e6)\nfor i = 1, 1e6 do s:find('b', 1, true) end",
                "p.lua:2: ", budget);
    expect_stop(&lim, "local s = string.rep('a', 1e6)\nfor i = 1, 1e6 do s:match('b+') end",
                "p.lua:2: ", budget);
    expect_stop(&lim, "local s = string.rep('ab', 1e6)\n"
                      "for i = 1, 1e6 do for x in s:gmatch('b') do end end", "p.lua:2: ", budget);
    expect_stop(&lim, "local s = string.rep('ab', 1e6)\nfor i = 1, 1e6 do s:gsub('b', 'c') end",
                "p.lua:2: ", budget);

    /* Ordinary use stays far below the budget. */
    lua_State *L = tt_sandbox_open(&lim);
    const char *src = "local n = 0\n"
                      "for i = 1, 2000 do\n"
                      "  local k, v = ('  key_' .. i .. ' = value '):match('^%s*([%w_]+)%s*=%s*(%w+)')\n"
                      "  if k and v == 'value' then n = n + 1 end\n"
                      "end\n"
                      "return n";
    assert_int_equal(tt_sandbox_run(L, src, strlen(src), "=t", 1, err, sizeof err), TT_OK);
    assert_int_equal(lua_tointeger(L, -1), 2000);
    tt_sandbox_close(L);
}

/* gsub calling a function calling gsub ...: Lua's C stack limit, reported
 * with the line (Lua itself gives none for it), never a crash. */
static void test_deep_recursion_through_gsub(void **state)
{
    (void)state;
    tt_sandbox_limits lim;
    tt_sandbox_limits_init(&lim);
    expect_stop(&lim, "local function f(s)\n  return (s:gsub('.', f))\nend\nf('x')", "p.lua:2: ",
                "C stack overflow");
    expect_stop(&lim, "local t = setmetatable({}, {__index = function(t, k)\n"
                      "  return (('x'):gsub('x', t)) end})\nreturn t.y",
                "p.lua:2: ", "stack overflow");
    /* Huge counts are work and memory, not recursion: the replacement is
     * charged by its length for every match. */
    expect_stop(&lim, "local s = ('x'):rep(1e6)\nreturn s:gsub('.', ('%0'):rep(100))",
                "p.lua:2: ", "config ran more than 50000000 instructions");
    expect_stop(&lim, "local big = ('y'):rep(1e5)\n"
                      "return ('x'):rep(1e3):gsub('.', function() return big end)", "p.lua",
                "config uses more than 64 MiB of memory");
}

int main(void)
{
    /* A limit that fails to hold shows up as a loop: end it well before
     * ctest's timeout (SIGXCPU kills the test). */
    struct rlimit cpu = {.rlim_cur = 60, .rlim_max = 70};
    setrlimit(RLIMIT_CPU, &cpu);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_lua),
        cmocka_unit_test(test_pattern_bombs),
        cmocka_unit_test(test_long_subjects),
        cmocka_unit_test(test_deep_recursion_through_gsub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
