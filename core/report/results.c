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
        case TT_PARAM_CHOICE: v = cJSON_CreateString(sp->choices[(size_t)point[i]]); break;
        default: v = cJSON_CreateNumber(point[i]); break;
        }
        cJSON_AddItemToObject(obj, sp->name, v);
    }
    return obj;
}

static void add_scores(cJSON *parent, const char *key, const tt_score_value *s, size_t n,
                       cJSON *reasons)
{
    cJSON *obj = cJSON_AddObjectToObject(parent, key);
    for (size_t i = 0; obj && i < n; i++) {
        cJSON_AddItemToObject(obj, s[i].name,
                              s[i].is_null ? cJSON_CreateNull() : tt_json_number(s[i].value));
        if (s[i].is_null && reasons)
            cJSON_AddStringToObject(reasons, s[i].name, s[i].reason ? s[i].reason : "");
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
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddStringToObject(o, "estimator", r->desc->name);
    cJSON_AddItemToObject(o, "params", params_to_json(r->desc, r->point));
    cJSON_AddBoolToObject(o, "default_params", r->is_default);
    cJSON_AddStringToObject(o, "status", tt_trial_status_name(r->status));
    if (r->status == TT_TRIAL_OK)
        cJSON_AddNullToObject(o, "error");
    else
        cJSON_AddStringToObject(o, "error", r->error);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    if (isfinite(r->fit_seconds))
        cJSON_AddNumberToObject(o, "fit_seconds", r->fit_seconds);
    cJSON_AddNumberToObject(o, "finished_seconds", isfinite(r->finished) ? r->finished : 0.0);
    cJSON_AddItemToObject(o, "objective", tt_json_number(r->objective));
    cJSON_AddItemToObject(o, "objective_se", tt_json_number(r->objective_se));
    /* The paired comparison with the best (search/rank.h), only for the
     * trials whose per-row terms the search kept. */
    if (r->has_diff) {
        cJSON_AddItemToObject(o, "diff_to_best", tt_json_number(r->diff_to_best));
        cJSON_AddItemToObject(o, "diff_se", tt_json_number(r->diff_se));
        cJSON_AddBoolToObject(o, "tied_with_best", r->tied_with_best);
    }
    cJSON *reasons = cJSON_CreateObject();
    if (reasons && r->se_missing)
        cJSON_AddStringToObject(reasons, "objective_se", r->se_missing);
    add_scores(o, "scores", r->scores, r->n_scores, reasons);
    if (r->n_oracle)
        add_scores(o, "oracle", r->oracle, r->n_oracle, reasons);
    if (reasons && cJSON_GetArraySize(reasons) > 0)
        cJSON_AddItemToObject(o, "null_reasons", reasons);
    else
        cJSON_Delete(reasons);
    cJSON_AddItemToObject(o, "ate", tt_json_number(r->ate));
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

cJSON *tt_results_json(const tt_run_info *info, const tt_search_outcome *out)
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
    for (size_t i = 0; i < out->n_trials; i++)
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

tt_status tt_json_write_atomic(const char *dir, const char *name, const cJSON *root, char *err,
                               size_t errlen)
{
    char *text = tt_json_text(root, 1);
    if (!text)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing %s", name);
    char tmp[4096], final[4096];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        free(text);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", tmp, strerror(errno));
    }
    int bad = fputs(text, fp) == EOF || fputc('\n', fp) == EOF || fflush(fp) != 0 ||
              fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    free(text);
    if (bad || rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", final, strerror(e));
    }
    return TT_OK;
}

tt_status tt_results_write(const char *dir, const tt_run_info *info,
                           const tt_search_outcome *out, char *err, size_t errlen)
{
    cJSON *root = tt_results_json(info, out);
    if (!root)
        return tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory writing results.json");
    tt_status st = tt_json_write_atomic(dir, "results.json", root, err, errlen);
    cJSON_Delete(root);
    return st;
}
