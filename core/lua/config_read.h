/*
 * config_read.h - reading the config table back from Lua (internal to core/lua).
 *
 * The reader runs as a C function under tt_sandbox_call, so any Lua API call
 * may raise a memory error: everything allocated is attached to the
 * tt_config at once, and tt_config_free cleans up whatever stage was reached.
 * Validation failures are not Lua errors; each function returns a status and
 * leaves the message, "<path>:<line>: <key.path>: <what>", in rd->err. Values
 * are read with raw access only, so no metamethod of the script ever runs.
 */
#ifndef TT_LUA_CONFIG_READ_H
#define TT_LUA_CONFIG_READ_H

#include <stddef.h>

#include <lua.h>

#include "lua/config.h"

/* Longest key path kept for messages ("estimators.t_learner.alpha"). */
#define TT_CFG_KP_MAX 256

typedef struct tt_cfg_reader {
    lua_State *L;
    const char *path;      /* the config as given, for messages */
    const char *chunkname; /* "@path": tells the config's own helper calls apart */
    const char *src;
    size_t len;
    tt_config *cfg;
    char *err;
    size_t errlen;
    tt_status status; /* of the read, when Lua itself raised nothing */
} tt_cfg_reader;

/* Formats the message; line <= 0 means "look it up from kp in the source".
 * kp may be NULL or "" for messages about the whole config. */
tt_status tt_cfg_fail(tt_cfg_reader *rd, int line, const char *kp, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
tt_status tt_cfg_nomem(tt_cfg_reader *rd);
tt_status tt_cfg_wrong_type(tt_cfg_reader *rd, int idx, const char *kp, const char *expected);

int tt_cfg_is_identifier(const char *s);
/* Key paths as Lua would write them: parent.key, parent["odd key"], parent[3].
 * dst holds TT_CFG_KP_MAX bytes. */
void tt_cfg_kp_join(char *dst, const char *parent, const char *key);
void tt_cfg_kp_join_key(lua_State *L, int idx, char *dst, const char *parent);
/* items: NULL-terminated. */
void tt_cfg_join_list(const char *const *items, char *buf, size_t n);
int tt_cfg_in_list(const char *const *items, const char *s);

/* Pushes t[key] (raw) and returns its type. */
int tt_cfg_get(lua_State *L, int t, const char *key);

/* Value at idx into *out; a string replaces (and frees) what *out held. */
tt_status tt_cfg_take_string(tt_cfg_reader *rd, int idx, const char *kp, char **out);
tt_status tt_cfg_take_integer(tt_cfg_reader *rd, int idx, const char *kp, long long lo,
                              long long hi, long long *out);
tt_status tt_cfg_take_number(tt_cfg_reader *rd, int idx, const char *kp, double *out);
/* A list of at least min distinct non-empty strings (or, if allow_single, one
 * string). *out and *n_out are set as soon as the array exists. */
tt_status tt_cfg_take_strings(tt_cfg_reader *rd, int idx, const char *kp, int allow_single,
                              size_t min, char ***out, size_t *n_out);
/* Shortest decimal form that reads back to the same number ("0", "0.1"). */
void tt_cfg_format_number(lua_State *L, int idx, char *buf, size_t n);

/* Fails on the first (in file order) key of the table at t not in allowed. */
tt_status tt_cfg_check_keys(tt_cfg_reader *rd, int t, const char *kp, const char *const *allowed);

/* Sections (config_sections.c); t is the section's table. */
tt_status tt_cfg_read_data(tt_cfg_reader *rd, int t);
tt_status tt_cfg_read_estimators(tt_cfg_reader *rd, int t);
tt_status tt_cfg_read_experiment(tt_cfg_reader *rd, int t);

#endif
