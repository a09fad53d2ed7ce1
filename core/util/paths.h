/*
 * paths.h - where the running binary lives, and the folders derived from it.
 *
 * The build tree and the install tree have the same shape relative to the
 * binary, as seen from the binary:
 *   build:   <dir>/tautune, <dir>/plugins/, <dir>/scripts/
 *   install: <prefix>/bin/tautune, <prefix>/lib/tautune/plugins/,
 *            <prefix>/share/tautune/scripts/
 * so no absolute build path is compiled in and an installed binary never
 * picks up plugins from the build tree by accident.
 */
#ifndef TT_UTIL_PATHS_H
#define TT_UTIL_PATHS_H

#include <stddef.h>

/* Directory of the running executable (via /proc/self/exe) into buf.
 * Returns 0 on success, -1 if it cannot be found. */
int tt_exe_dir(char *buf, size_t len);

/* The built-in plugin folder: <exe>/plugins if it exists, otherwise
 * <exe>/../lib/tautune/plugins. Returns 0, or -1 if neither is known. */
int tt_default_plugin_dir(char *buf, size_t len);

/* The Lua scripts folder: <exe>/scripts if it exists, otherwise
 * <exe>/../share/tautune/scripts. */
int tt_default_scripts_dir(char *buf, size_t len);

/* 1 if path is an existing directory. */
int tt_is_dir(const char *path);

/* What path is when it exists but is not a regular file (following links):
 * "a directory", "a FIFO (named pipe)", "a character device", ...; NULL for
 * a regular file or a path that cannot be stat'ed (the reader then says
 * why). Data files are checked with it before they are opened: opening a
 * FIFO blocks until someone writes to it, and /dev/zero never ends. */
const char *tt_path_not_regular(const char *path);

/* mkdir -p; 0 on success. */
int tt_mkdir_p(const char *path);

/* Write all len bytes of p to fd, retrying short writes and EINTR: 0, or
 * -1 with errno set. */
int tt_write_all(int fd, const void *p, size_t len);

#endif
