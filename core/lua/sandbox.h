/*
 * sandbox.h - a Lua 5.4 state for running untrusted config scripts.
 *
 * Only the base, table, string and math libraries are opened; from base the
 * functions dofile, loadfile, load (replaced by a text-only variant without
 * an environment argument), require, collectgarbage, print and warn are
 * removed, and string.dump too. Chunks are loaded in text mode only (binary
 * chunks are refused); setmetatable refuses __gc (finalizers run with hooks
 * off, so they would escape every limit); math.random starts from a fixed
 * seed so that a config reads the same every time.
 *
 * Limits, fresh for every tt_sandbox_run/tt_sandbox_call, each ending the
 * call with an error that names the file and line where it is known:
 *
 *  - Instructions (default 50 million). A count hook counts VM instructions,
 *    and work done in C that the hook cannot see is charged to the same
 *    budget: one instruction per 16 bytes allocated (concatenation,
 *    string.rep, upper, format, table.concat ...), compared by rawequal or
 *    scanned by a plain string.find; one per byte of text parsed by load,
 *    tonumber, string.format, pack, unpack and packsize, a math function or
 *    a string's arithmetic metamethods; one per value string.byte or
 *    table.unpack returns, per element table.insert/remove shift,
 *    table.move moves or table.concat visits, and n log2 n for table.sort.
 *    string.find, match, gmatch and gsub run a re-implementation of Lua's
 *    matcher (sandbox_match.c) that charges one instruction per matching
 *    step, so a backtracking pattern stops at the budget instead of running
 *    for years; its recursion is capped as Lua's is ("pattern too
 *    complex"), and malformed patterns are reported when the matcher
 *    reaches the bad part, as in Lua.
 *  - Memory (default 64 MiB), by the allocator. Lua answers a refused
 *    allocation with a full collection and a second try; when that is
 *    refused too the limit is hit for good.
 *  - CPU time (default 5 s of the thread's CPU time, checked with the
 *    instruction count): a backstop for C work that is neither allocated nor
 *    counted, such as comparing two distinct 30 MB strings with == or < in
 *    a loop (each comparison is one VM instruction).
 *  - tt_sandbox_interrupt() (async-signal-safe, for a SIGINT handler) stops
 *    a running evaluation at its next count, within milliseconds.
 *
 * Once a limit is hit it is sticky: the hook raises the error again before
 * every instruction, so a script that catches it with pcall or xpcall
 * cannot run on (and a to-be-closed variable's handler cannot either), and
 * the allocator allows only a small reserve above the cap for the message.
 * There are no coroutines (the library is not opened) and no finalizers, so
 * no code runs out of the hook's sight. Lua's own C stack limit ("C stack
 * overflow", e.g. gsub calling a function that calls gsub) is reported
 * with the innermost Lua line.
 */
#ifndef TT_LUA_SANDBOX_H
#define TT_LUA_SANDBOX_H

#include <stddef.h>

#include <lua.h>

#include "tautune/tautune.h"

typedef struct tt_sandbox_limits {
    size_t max_bytes;          /* default 64 MiB */
    unsigned long max_instructions; /* default 50 million (with charged C work) */
    double max_seconds;        /* thread CPU seconds, default 5; 0 = none */
} tt_sandbox_limits;

void tt_sandbox_limits_init(tt_sandbox_limits *lim);

/* Asks every sandbox of the process to stop: a running call ends with
 * TT_ERR_STOPPED ("file:line: interrupted") at its next count, and later
 * calls fail the same way before they start, until the reset. Only sets a
 * flag: safe in a signal handler. */
void tt_sandbox_interrupt(void);
void tt_sandbox_interrupt_reset(void);
int tt_sandbox_interrupted(void); /* 1 after an interrupt until the reset */

/* A new sandboxed state, or NULL on out of memory. Close with tt_sandbox_close. */
lua_State *tt_sandbox_open(const tt_sandbox_limits *lim);
void tt_sandbox_close(lua_State *L); /* NULL is a no-op */

/* Load text chunk `source` named `chunkname` (e.g. "@quickstart.lua" style
 * names are handled as Lua does) and call it with no arguments, leaving
 * nresults results on the stack. On failure returns TT_ERR_CONFIG with
 * Lua's message ("file:line: ...") in err (TT_ERR_STOPPED when interrupted)
 * and leaves the stack as it was. */
tt_status tt_sandbox_run(lua_State *L, const char *source, size_t len, const char *chunkname,
                         int nresults, char *err, size_t errlen);

/* Call the function that lies under nargs arguments on top of the stack
 * (typically a C function reading results back) in protected mode, under the
 * same limits and message handling as tt_sandbox_run, so that Lua errors,
 * including running out of memory, become messages instead of a panic. The
 * function and arguments are consumed; on success nresults results are left.
 * where names the source in messages Lua cannot place (memory), or NULL.
 * Lua errors give TT_ERR_CONFIG (TT_ERR_NOMEM if the system ran out,
 * TT_ERR_STOPPED when interrupted). */
tt_status tt_sandbox_call(lua_State *L, int nargs, int nresults, const char *where, char *err,
                          size_t errlen);

#endif
