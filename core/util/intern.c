/* intern.c - a small table of process-lifetime name copies. */
#include "util/intern.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_names[256];
static size_t g_count;

const char *tt_intern(const char *name)
{
    const char *found = NULL;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_count && !found; i++)
        if (strcmp(g_names[i], name) == 0)
            found = g_names[i];
    if (!found && g_count < sizeof g_names / sizeof g_names[0]) {
        g_names[g_count] = strdup(name);
        found = g_names[g_count];
        if (found)
            g_count++;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}
