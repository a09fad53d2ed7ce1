/* intern.c - process-lifetime copies: a small table of names, and a hash set
 * of texts. */
#include "util/intern.h"

#include <pthread.h>
#include <stdint.h>
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

/* Texts: open addressing over a power-of-two table, at most half full. */
static pthread_mutex_t g_text_lock = PTHREAD_MUTEX_INITIALIZER;
static char **g_texts;
static size_t g_text_cap, g_text_count;

static uint64_t text_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of text in table (cap a power of two): its own, or the empty one
 * where it would go. */
static size_t text_slot(char **table, size_t cap, const char *text)
{
    size_t i = (size_t)text_hash(text) & (cap - 1);
    while (table[i] && strcmp(table[i], text) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int text_grow(void)
{
    size_t cap = g_text_cap ? 2 * g_text_cap : 64;
    char **table = calloc(cap, sizeof *table);
    if (!table)
        return -1;
    for (size_t i = 0; i < g_text_cap; i++)
        if (g_texts[i])
            table[text_slot(table, cap, g_texts[i])] = g_texts[i];
    free(g_texts);
    g_texts = table;
    g_text_cap = cap;
    return 0;
}

const char *tt_intern_text(const char *text)
{
    static const char lost[] = "(the reason was lost: out of memory)";
    if (!text || !*text)
        return "";
    const char *found = lost;
    pthread_mutex_lock(&g_text_lock);
    if (2 * (g_text_count + 1) <= g_text_cap || text_grow() == 0) {
        size_t i = text_slot(g_texts, g_text_cap, text);
        if (!g_texts[i] && (g_texts[i] = strdup(text)) != NULL)
            g_text_count++;
        if (g_texts[i])
            found = g_texts[i];
    }
    pthread_mutex_unlock(&g_text_lock);
    return found;
}
