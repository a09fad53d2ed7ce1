/* run_plugins.c - the plugins stage of `run` and `check`: the plugin path
 * loaded (and probed), each configured estimator matched to its plugin and
 * its search space checked against the plugin's schema. A file on the path
 * that was refused is an error when the config names its plugin and one
 * warning otherwise. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "model/model.h"
#include "search/space.h"

/* A configured plugin that is not registered: its file was refused (the
 * refusal, which then is an error rather than a warning), or there is none. */
static void report_missing(const run_state *s, const tt_space_estimator *est,
                           unsigned char *reported)
{
    char line[32] = "";
    if (est->line > 0)
        snprintf(line, sizeof line, "%d:", est->line);
    const tt_plugin_reject *r = tt_registry_find_reject(s->reg, est->plugin);
    if (r) {
        fprintf(stderr, "tautune: %s:%s estimators.%s: plugin '%s' cannot be used: %s: "
                        "rejected: %s\n", s->cfg->path, line, est->plugin, est->plugin, r->path,
                r->why);
        reported[r - tt_registry_reject_at(s->reg, 0)] = 1;
        return;
    }
    const char *near = tt_cli_closest_plugin(s->reg, est->plugin);
    fprintf(stderr,
            "tautune: %s:%s estimators.%s: no plugin named '%s' on the plugin path%s%s%s"
            " (see `tautune plugins`)\n",
            s->cfg->path, line, est->plugin, est->plugin, near ? "; did you mean '" : "",
            near ? near : "", near ? "'?" : "");
}

int tt_run_resolve_plugins(run_state *s, const run_args *a, int keep_going)
{
    s->reg = tt_cli_load_plugins(&a->paths, 1);
    s->descs = calloc(s->cfg->n_estimators + 1, sizeof *s->descs);
    unsigned char *reported = calloc(tt_registry_reject_count(s->reg) + 1, 1);
    if (!s->reg || !s->descs || !reported) {
        free(reported);
        fprintf(stderr, "tautune: out of memory\n");
        return TT_EXIT_ERROR;
    }
    int rc = TT_EXIT_OK;
    for (size_t i = 0; i < s->cfg->n_estimators && (keep_going || !rc); i++) {
        const tt_space_estimator *est = &s->cfg->estimators[i];
        const tt_plugin_entry *e = tt_registry_find(s->reg, est->plugin);
        if (!e) {
            report_missing(s, est, reported);
            if (!rc)
                rc = TT_EXIT_PLUGIN;
            continue;
        }
        char err[1024];
        if (tt_space_check(est, e->desc, s->cfg->path, err, sizeof err) != TT_OK) {
            fprintf(stderr, "tautune: %s\n", err);
            if (!rc)
                rc = TT_EXIT_USAGE;
            continue;
        }
        s->descs[i] = e->desc;
    }
    /* The refused files this config does not use: one warning each. */
    tt_cli_warn_rejects(s->reg, reported);
    free(reported);
    return rc;
}

void tt_run_plugin_origin(const run_state *s, const tt_plugin_descriptor *desc,
                          tt_model_member *mb)
{
    mb->plugin_file = mb->plugin_dir = NULL;
    const tt_plugin_entry *e = s->reg ? tt_registry_find(s->reg, desc->name) : NULL;
    if (!e || !e->path)
        return;
    /* The basename as found (a symlink's own name, which the plugin path
     * listed), the folder resolved: a relative --plugin-path means nothing
     * to a predict run from another folder. */
    const char *slash = strrchr(e->path, '/');
    const char *base = slash ? slash + 1 : e->path;
    size_t dir_len = slash ? (size_t)(slash - e->path) : 0;
    char *dir = slash ? strndup(e->path, dir_len ? dir_len : 1) : strdup(".");
    char resolved[PATH_MAX];
    if (dir && realpath(dir, resolved)) {
        mb->plugin_dir = strdup(resolved);
        mb->plugin_file = mb->plugin_dir ? strdup(base) : NULL;
    }
    free(dir);
    if (!mb->plugin_file)
        tt_run_plugin_origin_free(mb);
}

void tt_run_plugin_origin_free(tt_model_member *mb)
{
    free(mb->plugin_file);
    free(mb->plugin_dir);
    mb->plugin_file = mb->plugin_dir = NULL;
}
