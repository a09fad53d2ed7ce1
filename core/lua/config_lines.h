/*
 * config_lines.h - finding the line of a config key in the script's text
 * (internal to core/lua).
 *
 * A value read back from Lua no longer knows where it was written, so the
 * line is recovered from the source: each identifier segment of a key path
 * such as "estimators.t_learner.alpha" is looked up as `name =` in code (not
 * in comments or strings), the first one at the shallowest brace depth, each
 * next one inside the table that follows the previous one when there is such
 * a table, else anywhere after it. This is a heuristic for messages only.
 */
#ifndef TT_LUA_CONFIG_LINES_H
#define TT_LUA_CONFIG_LINES_H

#include <stddef.h>

/* Line (1-based) of the deepest segment of keypath that could be found, or
 * 0 if not even the first one was. A "[...]" segment ends the walk. */
int tt_config_find_line(const char *src, size_t len, const char *keypath);

#endif
