/* results.c - trials.jsonl lines and the atomic results.json. */
#include "report/results.h"

#include "search/select.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/conditions.h"
#include "search/log_tail.h"
#include "tautune/tautune.h"
#include "util/err.h"
#include "util/utf8.h"

char *tt_json_text(const cJSON *o, int formatted)
{
    char *raw = o ? (formatted ? cJSON_Print(o) : cJSON_PrintUnformatted(o)) : NULL;
    if (!raw || tt_utf8_valid(raw, strlen(raw), NULL))
        return raw;
    /* A CSV cell or a plugin's message with bytes that are not UTF-8: JSON
     * must be, so they become U+FFFD (structure is ASCII, untouched). */
    char *fixed = tt_utf8_repair(raw);
    cJSON_free(raw);
    return fixed;
}

cJSON *tt_json_number(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* A trial's tree borrows its keys and its fixed texts instead of copying
 * them: tt_results_json holds every trial of a run at once (results.json
 * itself and the report take them one at a time). Borrowed
 * are this file's literals, score names and null reasons (static or
 * interned: util/intern.h), and the plugin's parameter and choice names
 * (they live while the plugin is loaded, longer than any such tree). */
static void put(cJSON *o, const char *key, cJSON *v)
{
    if (!cJSON_AddItemToObjectCS(o, key, v))
        cJSON_Delete(v);
}

static cJSON *text_ref(const char *s)
{
    return cJSON_CreateStringReference(s);
}

/* Only the active parameters: an inactive one was not chosen (the plugin
 * got its default and ignored it), so showing a value would mislead. */
static cJSON *params_to_json(const tt_plugin_descriptor *desc, const double *point)
{
    cJSON *obj = cJSON_CreateObject();
    for (size_t i = 0; obj && i < desc->n_params; i++) {
        const tt_plugin_param *sp = &desc->params[i];
        if (!tt_param_active(desc, point, i))
            continue;
        cJSON *v;
        switch (sp->kind) {
        case TT_PARAM_BOOL: v = cJSON_CreateBool(point[i] != 0.0); break;
        case TT_PARAM_CHOICE: v = text_ref(sp->choices[(size_t)point[i]]); break;
        default: v = cJSON_CreateNumber(point[i]); break;
        }
        put(obj, sp->name, v);
    }
    return obj;
}

static void add_scores(cJSON *parent, const char *key, const tt_score_value *s, size_t n,
                       cJSON *reasons)
{
    cJSON *obj = cJSON_CreateObject();
    put(parent, key, obj);
    for (size_t i = 0; obj && i < n; i++) {
        put(obj, s[i].name, s[i].is_null ? cJSON_CreateNull() : tt_json_number(s[i].value));
        if (s[i].is_null && reasons)
            put(reasons, s[i].name, text_ref(s[i].reason ? s[i].reason : ""));
    }
}

/* "log": the worker's last output lines, oldest first, as an array of
 * strings; when earlier lines were dropped (log_tail.h's bounds) the first
 * entry says how many ("[N earlier lines dropped]") and "log_dropped" gives
 * the number. Absent when the worker printed nothing, and for every record
 * the search kept in memory (results.json): only trials.jsonl has it. */
static void add_log(cJSON *o, const tt_log_tail *log)
{
    size_t n = tt_log_tail_count(log), dropped = tt_log_tail_dropped(log);
    if (n == 0 && dropped == 0)
        return;
    cJSON *a = cJSON_AddArrayToObject(o, "log");
    if (dropped) {
        char head[96];
        snprintf(head, sizeof head, "[%zu earlier line%s dropped]", dropped,
                 dropped == 1 ? "" : "s");
        cJSON_AddItemToArray(a, cJSON_CreateString(head));
    }
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(tt_log_tail_line(log, i)));
    if (dropped)
        cJSON_AddNumberToObject(o, "log_dropped", (double)dropped);
}

cJSON *tt_trial_to_json(const tt_trial_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    put(o, "id", cJSON_CreateNumber((double)r->id));
    put(o, "estimator", text_ref(r->desc->name));
    put(o, "params", params_to_json(r->desc, r->point));
    put(o, "default_params", cJSON_CreateBool(r->is_default));
    put(o, "status", text_ref(tt_trial_status_name(r->status)));
    /* Copied: the record may be cleared while the tree lives. */
    put(o, "error", r->status == TT_TRIAL_OK ? cJSON_CreateNull()
                                             : cJSON_CreateString(tt_trial_error(r)));
    put(o, "seconds", cJSON_CreateNumber(r->seconds));
    if (isfinite(r->fit_seconds))
        put(o, "fit_seconds", cJSON_CreateNumber(r->fit_seconds));
    put(o, "finished_seconds", cJSON_CreateNumber(isfinite(r->finished) ? r->finished : 0.0));
    put(o, "objective", tt_json_number(r->objective));
    put(o, "objective_se", tt_json_number(r->objective_se));
    /* The paired comparison with the best (search/rank.h), only for the
     * trials whose per-row terms the search kept. */
    if (r->has_diff) {
        put(o, "diff_to_best", tt_json_number(r->diff_to_best));
        put(o, "diff_se", tt_json_number(r->diff_se));
        put(o, "tied_with_best", cJSON_CreateBool(r->tied_with_best));
    }
    cJSON *reasons = cJSON_CreateObject();
    if (reasons && r->se_missing)
        put(reasons, "objective_se", text_ref(r->se_missing));
    add_scores(o, "scores", r->scores, r->n_scores, reasons);
    if (r->n_oracle)
        add_scores(o, "oracle", r->oracle, r->n_oracle, reasons);
    if (reasons && cJSON_GetArraySize(reasons) > 0)
        put(o, "null_reasons", reasons);
    else
        cJSON_Delete(reasons);
    put(o, "ate", tt_json_number(r->ate));
    add_log(o, r->log);
    return o;
}

tt_status tt_trials_append(FILE *fp, const tt_trial_result *r, char *err, size_t errlen)
{
    cJSON *o = tt_trial_to_json(r);
    char *text = o ? tt_json_text(o, 0) : NULL;
    cJSON_Delete(o);
    if (!text)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing trials.jsonl");
    int bad = fprintf(fp, "%s\n", text) < 0 || fflush(fp) != 0;
    free(text);
    if (bad)
        return tt_errf(err, errlen, TT_ERR_IO, "trials.jsonl: %s", strerror(errno));
    return TT_OK;
}

static cJSON *strings_to_json(const char *const *s, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s[i]));
    return a;
}

static cJSON *counts_to_json(const size_t *c, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)c[i]));
    return a;
}

static cJSON *best_to_json(const tt_search_outcome *out)
{
    const tt_trial_result *b = &out->trials[out->best];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "trial", (double)b->id);
    cJSON_AddStringToObject(o, "estimator", b->desc->name);
    /* Which rule picked it (search/select.h), the best by objective and how
     * many trials are tied with that one (search/rank.h; 0: no s.e.). */
    cJSON_AddStringToObject(o, "rule", out->rule ? out->rule : "best");
    if (out->best_by_objective >= 0 && (size_t)out->best_by_objective < out->n_trials)
        cJSON_AddNumberToObject(o, "best_by_objective",
                                (double)out->trials[out->best_by_objective].id);
    cJSON_AddNumberToObject(o, "tied", (double)out->n_tied);
    cJSON *picks = cJSON_AddObjectToObject(o, "picks"); /* what each rule would pick */
    for (int r = TT_SELECT_BEST; r <= TT_SELECT_MEDOID; r++)
        if (out->picks[r] >= 0 && (size_t)out->picks[r] < out->n_trials)
            cJSON_AddNumberToObject(picks, tt_selection_name((tt_selection)r),
                                    (double)out->trials[out->picks[r]].id);
    if (out->tied_at_least)
        cJSON_AddBoolToObject(o, "tied_at_least", 1);
    cJSON_AddItemToObject(o, "params", params_to_json(b->desc, b->point));
    cJSON_AddItemToObject(o, "objective", tt_json_number(b->objective));
    cJSON_AddItemToObject(o, "objective_se", tt_json_number(b->objective_se));
    add_scores(o, "scores", b->scores, b->n_scores, NULL);
    if (b->n_oracle)
        add_scores(o, "oracle", b->oracle, b->n_oracle, NULL);
    cJSON_AddItemToObject(o, "ate", tt_json_number(b->ate));
    return o;
}

/* The whole document; with_trials 0 leaves "trials" an empty array, for the
 * writer that streams them. */
static cJSON *results_json(const tt_run_info *info, const tt_search_outcome *out, int with_trials)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "schema_version", TT_RESULTS_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "tautune_version", TT_VERSION_STRING);
    cJSON_AddStringToObject(root, "status", info->status);
    /* Seeds are 64-bit; JSON numbers are exact only to 2^53, so the seed is
     * also given as text. */
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)info->seed);
    cJSON_AddNumberToObject(root, "seed", (double)info->seed);
    cJSON_AddStringToObject(root, "seed_text", seed_text);
    cJSON *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cfg, "path", info->config_path);
    cJSON_AddStringToObject(cfg, "name", info->config_name);
    cJSON_AddStringToObject(root, "metric", info->metric);
    cJSON_AddStringToObject(root, "metric_requested",
                            info->metric_requested ? info->metric_requested : info->metric);
    cJSON_AddStringToObject(root, "direction", info->direction);
    if (info->propensity) {
        cJSON *sc = cJSON_AddObjectToObject(root, "scoring");
        cJSON *pr = cJSON_AddObjectToObject(sc, "propensity");
        cJSON_AddStringToObject(pr, "model", info->propensity_model ? info->propensity_model
                                             : info->known_propensity
                                                 ? "known (data.propensity)"
                                                 : "logistic(alpha=1) on standardised [x, w], "
                                                   "fitted on the training rows");
        cJSON_AddNumberToObject(pr, "clip", info->propensity_clip);
        cJSON_AddItemToObject(pr, "min", tt_json_number(info->propensity->min));
        cJSON_AddItemToObject(pr, "max", tt_json_number(info->propensity->max));
        cJSON_AddNumberToObject(pr, "rows_outside_clip", (double)info->propensity->outside_clip);
        if (info->energy_rows)
            cJSON_AddNumberToObject(sc, "energy_rows", (double)info->energy_rows);
    }

    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "source", info->data_source);
    cJSON_AddNumberToObject(data, "rows", (double)info->rows);
    cJSON_AddNumberToObject(data, "train_rows", (double)info->train_rows);
    cJSON_AddNumberToObject(data, "validation_rows", (double)info->validation_rows);
    cJSON_AddNumberToObject(data, "arms", info->n_arms);
    cJSON_AddItemToObject(data, "arm_labels", strings_to_json(info->arm_labels, (size_t)info->n_arms));
    cJSON_AddItemToObject(data, "train_arm_rows", counts_to_json(info->train_arm_counts, (size_t)info->n_arms));
    cJSON_AddItemToObject(data, "validation_arm_rows", counts_to_json(info->valid_arm_counts, (size_t)info->n_arms));
    cJSON_AddBoolToObject(data, "has_true_effect", info->has_truth);
    const cJSON *fact;
    cJSON_ArrayForEach(fact, info->data_facts)
        cJSON_AddItemToObject(data, fact->string, cJSON_Duplicate(fact, 1));

    if (info->nuisances)
        cJSON_AddItemToObject(root, "nuisances", cJSON_Duplicate(info->nuisances, 1));
    if (info->plan)
        cJSON_AddItemToObject(root, "plan", cJSON_Duplicate(info->plan, 1));
    cJSON *budget = cJSON_AddObjectToObject(root, "budget");
    cJSON_AddItemToObject(budget, "seconds", info->budget_seconds > 0 ? cJSON_CreateNumber(info->budget_seconds) : cJSON_CreateNull());
    cJSON_AddItemToObject(budget, "trials", info->max_trials > 0 ? cJSON_CreateNumber((double)info->max_trials) : cJSON_CreateNull());
    cJSON_AddNumberToObject(root, "elapsed_seconds", info->elapsed_seconds);

    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (size_t i = 0; with_trials && i < out->n_trials; i++)
        cJSON_AddItemToArray(trials, tt_trial_to_json(&out->trials[i]));
    if (out->best >= 0)
        cJSON_AddItemToObject(root, "best", best_to_json(out));
    else
        cJSON_AddNullToObject(root, "best");
    if (info->ensemble)
        cJSON_AddItemToObject(root, "ensemble", cJSON_Duplicate(info->ensemble, 1));
    if (info->iv)
        cJSON_AddItemToObject(root, "iv", cJSON_Duplicate(info->iv, 1));
    if (info->estimand)
        cJSON_AddItemToObject(root, "estimand", cJSON_Duplicate(info->estimand, 1));
    if (info->insight)
        cJSON_AddItemToObject(root, "insight", cJSON_Duplicate(info->insight, 1));
    if (info->policy)
        cJSON_AddItemToObject(root, "policy", cJSON_Duplicate(info->policy, 1));
    if (info->winner)
        cJSON_AddItemToObject(root, "winner", cJSON_Duplicate(info->winner, 1));
    return root;
}

cJSON *tt_results_json(const tt_run_info *info, const tt_search_outcome *out)
{
    return results_json(info, out, 1);
}

cJSON *tt_results_json_no_trials(const tt_run_info *info, const tt_search_outcome *out)
{
    return results_json(info, out, 0);
}

/* A file written beside its final name and renamed over it once complete
 * and synced: a reader (or a crash) sees the old file or the new, never half. */
typedef struct atomic_file {
    FILE *fp;
    char tmp[4096], final[4096];
} atomic_file;

static tt_status atomic_open(atomic_file *f, const char *dir, const char *name, char *err,
                             size_t errlen)
{
    snprintf(f->final, sizeof f->final, "%s/%s", dir, name);
    snprintf(f->tmp, sizeof f->tmp, "%s/.%s.tmp", dir, name);
    f->fp = fopen(f->tmp, "w");
    if (!f->fp)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", f->tmp, strerror(errno));
    return TT_OK;
}

/* bad: a write already failed. Closes f either way. */
static tt_status atomic_commit(atomic_file *f, int bad, char *err, size_t errlen)
{
    bad |= fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    bad |= fclose(f->fp) != 0;
    if (bad || rename(f->tmp, f->final) != 0) {
        int e = errno;
        unlink(f->tmp);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", f->final,
                       e ? strerror(e) : "write failed");
    }
    return TT_OK;
}

tt_status tt_json_write_atomic(const char *dir, const char *name, const cJSON *root, char *err,
                               size_t errlen)
{
    char *text = tt_json_text(root, 1);
    if (!text)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing %s", name);
    atomic_file f;
    tt_status st = atomic_open(&f, dir, name, err, errlen);
    if (st == TT_OK)
        st = atomic_commit(&f, fputs(text, f.fp) == EOF || fputc('\n', f.fp) == EOF, err,
                           errlen);
    free(text);
    return st;
}

/* o's formatted text with every line after the first indented by depth
 * more tabs: what cJSON_Print would have written for o nested that deep
 * (a JSON string holds no raw newline, so every newline is layout). -1 on
 * a write error, -2 out of memory. */
static int put_nested(FILE *fp, const cJSON *o, int depth)
{
    char *text = tt_json_text(o, 1);
    if (!text)
        return -2;
    int bad = 0;
    for (const char *p = text; *p && !bad; p++) {
        bad = fputc(*p, fp) == EOF;
        for (int d = 0; *p == '\n' && d < depth && !bad; d++)
            bad = fputc('\t', fp) == EOF;
    }
    free(text);
    return bad ? -1 : 0;
}

/* results.json written as cJSON_Print would write the whole tree, but with
 * the trials converted one at a time: a 10,000-trial run never holds all
 * their trees, nor the whole text, at once (the main process stays flat). */
tt_status tt_results_write(const char *dir, const tt_run_info *info,
                           const tt_search_outcome *out, char *err, size_t errlen)
{
    cJSON *root = results_json(info, out, 0);
    if (!root)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing results.json");
    atomic_file f;
    tt_status st = atomic_open(&f, dir, "results.json", err, errlen);
    if (st != TT_OK) {
        cJSON_Delete(root);
        return st;
    }
    int rc = fputs("{\n", f.fp) == EOF ? -1 : 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        /* Keys are this file's own ASCII names: nothing to escape. */
        rc = rc ? rc : fprintf(f.fp, "\t\"%s\":\t", item->string) < 0 ? -1 : 0;
        if (!rc && strcmp(item->string, "trials") == 0) {
            rc = fputc('[', f.fp) == EOF ? -1 : 0;
            for (size_t i = 0; !rc && i < out->n_trials; i++) {
                cJSON *t = tt_trial_to_json(&out->trials[i]);
                /* cJSON indents an array's objects one level deeper again. */
                rc = !t ? -2 : (i && fputs(", ", f.fp) == EOF) ? -1 : put_nested(f.fp, t, 2);
                cJSON_Delete(t);
            }
            rc = rc ? rc : fputc(']', f.fp) == EOF ? -1 : 0;
        } else if (!rc) {
            rc = put_nested(f.fp, item, 1);
        }
        rc = rc ? rc : fputs(item->next ? ",\n" : "\n", f.fp) == EOF ? -1 : 0;
    }
    rc = rc ? rc : fputs("}\n", f.fp) == EOF ? -1 : 0;
    cJSON_Delete(root);
    if (rc == -2) {
        atomic_commit(&f, 1, err, errlen);
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing results.json");
    }
    return atomic_commit(&f, rc != 0, err, errlen);
}
