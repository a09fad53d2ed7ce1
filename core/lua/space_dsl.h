/*
 * space_dsl.h - the search-space helpers of configs (internal to core/lua).
 *
 * uniform(lo, hi), loguniform(lo, hi), randint(lo, hi) and choice({...}) are
 * globals in the config sandbox. Each returns a plain table
 *   { __tt_space = "uniform", lo = ..., hi = ..., __line = 12, __source = "@cfg.lua" }
 * (choice: options = {...}, n = #options) that Lua code can read and pass
 * around. Arguments are checked when the table is read back, not when the
 * helper is called: only then is the key path known, so a message can say
 *   cfg.lua:17: estimators.t_learner.alpha: loguniform(): low must be > 0
 * Reading checks the fields again from scratch, so a hand-made or modified
 * table cannot slip past.
 */
#ifndef TT_LUA_SPACE_DSL_H
#define TT_LUA_SPACE_DSL_H

#include <stddef.h>

#include <lua.h>

#include "lua/config.h"

/* A lua_CFunction that sets the helpers as globals. Call it protected
 * (tt_sandbox_call); it takes no arguments and returns nothing. */
int tt_space_dsl_open(lua_State *L);

/* 1 if the value at idx is a table carrying a __tt_space string (raw access;
 * no metamethods run). */
int tt_space_dsl_is_space(lua_State *L, int idx);

/* The helper name of the space at idx ("uniform", ...), or NULL. Points
 * into a Lua string: use it before popping the table. */
const char *tt_space_dsl_kind(lua_State *L, int idx);

/* Check the space at idx and fill p (all but p->name). p must be zeroed;
 * whatever it holds is owned by p even on failure. p->line is the helper's
 * line when it was called from the chunk named chunkname, else 0. On a bad
 * space returns TT_ERR_CONFIG with a message such as
 * "loguniform(): low must be > 0" (no file, line or key). Call it inside a
 * protected call: it pushes values, which can raise a memory error. */
tt_status tt_space_dsl_read(lua_State *L, int idx, const char *chunkname, tt_space_param *p,
                            char *err, size_t errlen);

#endif
