/*
 * sandbox_internal.h - what the sandbox's files share (internal to core/lua).
 *
 * sandbox.c owns the state, the allocator, the count hook and the protected
 * calls; sandbox_cost.c wraps library functions whose C work the hook cannot
 * see; sandbox_strfind.c and sandbox_match.c replace string.find, match,
 * gmatch and gsub with a matcher that counts its steps. They all charge the
 * same budget through tt_sb_charge.
 */
#ifndef TT_LUA_SANDBOX_INTERNAL_H
#define TT_LUA_SANDBOX_INTERNAL_H

#include <stddef.h>

#include <lua.h>

/* Work the hook does not see is charged at one instruction per this many
 * bytes allocated, scanned or compared: copying 16 bytes costs about what
 * one VM instruction does. */
#define TT_SB_BYTES_PER_INSTRUCTION 16

/* Charges units of work to the running config's instruction budget. Once
 * the budget is spent, the time limit passed or tt_sandbox_interrupt was
 * called, raises that limit's error at the calling Lua line, and every
 * instruction after it raises again (pcall cannot catch it for good). For
 * C functions a config calls; outside tt_sandbox_run/call it does nothing. */
void tt_sb_charge(lua_State *L, size_t units);

/* Units for n bytes of work, at least 1. */
static inline size_t tt_sb_bytes(size_t n)
{
    return 1 + n / TT_SB_BYTES_PER_INSTRUCTION;
}

/* Replaces library functions whose C work grows with their arguments by
 * wrappers that charge it first (sandbox_cost.c). The libraries must be open;
 * called during setup, in protected mode. */
void tt_sb_wrap_costly(lua_State *L);

/* Sets string.find, match, gmatch and gsub to the counting matcher
 * (sandbox_strfind.c); the string table is on top of the stack. */
void tt_sb_open_strfind(lua_State *L);

#endif
