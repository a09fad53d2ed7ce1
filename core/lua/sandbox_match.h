/*
 * sandbox_match.h - Lua 5.4 patterns matched with a step count (internal to
 * core/lua).
 *
 * Lua's own matcher runs in C where the count hook never fires, so a
 * backtracking pattern or a long subject searched in a loop ran without
 * limit. This one follows the semantics of the Lua 5.4 manual (section
 * 6.4.1) and charges every step to the sandbox's instruction budget
 * (tt_sb_charge, in batches), so the budget stops it like any loop. Errors
 * (malformed patterns, "pattern too complex") are raised as Lua errors with
 * Lua's messages, when the matcher reaches the bad part, as Lua does.
 */
#ifndef TT_LUA_SANDBOX_MATCH_H
#define TT_LUA_SANDBOX_MATCH_H

#include <stddef.h>

#include <lua.h>

#define TT_PM_MAX_CAPTURES 32 /* LUA_MAXCAPTURES */

typedef struct tt_pm_capture {
    const char *start;
    ptrdiff_t len; /* or TT_PM_CAP_OPEN / TT_PM_CAP_POSITION */
} tt_pm_capture;

enum { TT_PM_CAP_OPEN = -1, TT_PM_CAP_POSITION = -2 };

typedef struct tt_pm_state {
    lua_State *L;
    const char *src, *src_end; /* the subject */
    const char *pat_end;
    int depth;                 /* nested calls left before "pattern too complex" */
    int level;                 /* captures started */
    size_t steps;              /* counted and not yet charged */
    tt_pm_capture cap[TT_PM_MAX_CAPTURES];
} tt_pm_state;

/* Subject s (ls bytes) and pattern p (lp bytes, without a leading '^'
 * anchor, which the callers handle). Both must stay alive while matching. */
void tt_pm_init(tt_pm_state *ms, lua_State *L, const char *s, size_t ls, const char *p,
                size_t lp);

/* Where a match of the pattern from p starting exactly at s ends, or NULL.
 * Clears the captures of any previous attempt first. */
const char *tt_pm_match(tt_pm_state *ms, const char *s, const char *p);

/* Charges the steps counted so far (may raise the budget's error). */
void tt_pm_flush(tt_pm_state *ms);

/* Pushes capture i of the last match s..e: its text, its position for "()",
 * or the whole match when i == 0 and there are no captures. */
void tt_pm_push_capture(tt_pm_state *ms, int i, const char *s, const char *e);

/* Pushes every capture (or the whole match when there is none and s is not
 * NULL) and returns how many. */
int tt_pm_push_captures(tt_pm_state *ms, const char *s, const char *e);

#endif
