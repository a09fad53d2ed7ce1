/* paths.c - locating the binary and the folders laid out around it. */
#include "util/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tt_exe_dir(char *buf, size_t len)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return -1;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if ((size_t)snprintf(buf, len, "%s", path) >= len)
        return -1;
    return 0;
}

int tt_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *tt_path_not_regular(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return NULL;
    if (S_ISDIR(st.st_mode))
        return "a directory";
    if (S_ISFIFO(st.st_mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(st.st_mode))
        return "a character device";
    if (S_ISBLK(st.st_mode))
        return "a block device";
    if (S_ISSOCK(st.st_mode))
        return "a socket";
    return "not a regular file";
}

static int pick_dir(char *buf, size_t len, const char *build_rel, const char *install_rel)
{
    char exe[PATH_MAX];
    if (tt_exe_dir(exe, sizeof exe) != 0)
        return -1;
    if ((size_t)snprintf(buf, len, "%s/%s", exe, build_rel) >= len)
        return -1;
    if (tt_is_dir(buf))
        return 0;
    if ((size_t)snprintf(buf, len, "%s/%s", exe, install_rel) >= len)
        return -1;
    /* Show users /usr/local/lib/... rather than /usr/local/bin/../lib/... */
    char real[PATH_MAX];
    if (realpath(buf, real) && strlen(real) < len)
        strcpy(buf, real);
    return 0;
}

int tt_default_plugin_dir(char *buf, size_t len)
{
    return pick_dir(buf, len, "plugins", "../lib/tautune/plugins");
}

int tt_default_scripts_dir(char *buf, size_t len)
{
    return pick_dir(buf, len, "scripts", "../share/tautune/scripts");
}

int tt_mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", path) >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return -1;
    return tt_is_dir(tmp) ? 0 : -1;
}

int tt_write_all(int fd, const void *p, size_t len)
{
    const unsigned char *b = p;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}
