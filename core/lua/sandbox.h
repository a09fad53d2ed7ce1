/*
 * sandbox.h - a Lua 5.4 state for running untrusted config scripts.
 *
 * Only the base, table, string and math libraries are opened; from base the
 * functions dofile, loadfile, load (replaced by a text-only variant without
 * an environment argument), require, collectgarbage and print are
 * removed, and string.dump too. Chunks are loaded in text mode only (binary
 * chunks are refused). An allocator caps memory and a count hook caps the
 * number of VM instructions; both raise a Lua error with a clear message.
 * Also: warn is removed; setmetatable refuses __gc (finalizers run with hooks
 * off, so they would escape the instruction cap); string.rep is bounded by
 * the memory cap up front (with empty pieces it loops in C without
 * allocating); math.random starts from a fixed seed so that a config reads
 * the same every time. Not covered: C functions run without the count hook,
 * so a pathological string pattern (string.find and friends) can still take
 * very long.
 */
#ifndef TT_LUA_SANDBOX_H
#define TT_LUA_SANDBOX_H

#include <stddef.h>

#include <lua.h>

#include "tautune/tautune.h"

typedef struct tt_sandbox_limits {
    size_t max_bytes;          /* default 64 MiB */
    unsigned long max_instructions; /* default 50 million */
} tt_sandbox_limits;

void tt_sandbox_limits_init(tt_sandbox_limits *lim);

/* A new sandboxed state, or NULL on out of memory. Close with tt_sandbox_close. */
lua_State *tt_sandbox_open(const tt_sandbox_limits *lim);
void tt_sandbox_close(lua_State *L); /* NULL is a no-op */

/* Load text chunk `source` named `chunkname` (e.g. "@quickstart.lua" style
 * names are handled as Lua does) and call it with no arguments, leaving
 * nresults results on the stack. On failure returns TT_ERR_CONFIG with
 * Lua's message ("file:line: ...") in err and leaves the stack as it was. */
tt_status tt_sandbox_run(lua_State *L, const char *source, size_t len, const char *chunkname,
                         int nresults, char *err, size_t errlen);

/* Call the function that lies under nargs arguments on top of the stack
 * (typically a C function reading results back) in protected mode, under the
 * same limits and message handling as tt_sandbox_run, so that Lua errors,
 * including running out of memory, become messages instead of a panic. The
 * function and arguments are consumed; on success nresults results are left.
 * where names the source in messages Lua cannot place (memory), or NULL.
 * Lua errors give TT_ERR_CONFIG (TT_ERR_NOMEM if the system ran out). */
tt_status tt_sandbox_call(lua_State *L, int nargs, int nresults, const char *where, char *err,
                          size_t errlen);

#endif
