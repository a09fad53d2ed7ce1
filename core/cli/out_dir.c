/* out_dir.c - the default folder of a command's results (cli.h). */
#include <stdio.h>
#include <time.h>

#include "cli/cli.h"
#include "util/paths.h"

void tt_cli_default_dir(const char *name, char *dir, size_t len)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(dir, len, "runs/%s-%s", name, stamp);
    /* Two runs in the same second get -2, -3, ...: never another run's folder. */
    for (int k = 2; tt_is_dir(dir) && k < 1000; k++)
        snprintf(dir, len, "runs/%s-%s-%d", name, stamp, k);
}
