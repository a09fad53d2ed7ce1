/* plugins_load.c - building the plugin registry from the plugin path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/paths.h"

static void warn_reject(void *ctx, const char *message)
{
    if (*(int *)ctx)
        fprintf(stderr, "tautune: warning: %s\n", message);
}

static void load_list(tt_registry *reg, const char *list, int *verbose)
{
    char *copy = strdup(list);
    if (!copy)
        return;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char err[1024];
        if (!*dir)
            continue;
        if (tt_registry_load_dir(reg, dir, warn_reject, verbose, NULL, err, sizeof err) != TT_OK &&
            *verbose)
            fprintf(stderr, "tautune: warning: plugin folder %s\n", err);
    }
    free(copy);
}

tt_registry *tt_cli_load_plugins(const tt_plugin_paths *paths, int verbose)
{
    tt_registry *reg = tt_registry_new();
    if (!reg)
        return NULL;
    for (size_t i = 0; i < paths->n; i++)
        load_list(reg, paths->dirs[i], &verbose);
    const char *env = getenv("TAUTUNE_PLUGIN_PATH");
    if (env && *env)
        load_list(reg, env, &verbose);
    char dir[4096];
    if (tt_default_plugin_dir(dir, sizeof dir) == 0 && tt_is_dir(dir))
        load_list(reg, dir, &verbose);
    return reg;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

const char *tt_cli_closest_plugin(const tt_registry *reg, const char *name)
{
    const char *best = NULL;
    size_t best_d = 4; /* only suggest close names */
    for (size_t i = 0; i < tt_registry_count(reg); i++) {
        const char *cand = tt_registry_at(reg, i)->desc->name;
        size_t d = edit_distance(name, cand);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    return best;
}
