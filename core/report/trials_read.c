/* trials_read.c - trials.jsonl back into trial results, and reopened for
 * appending after them. */
#include "report/trials_read.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/conditions.h"
#include "util/err.h"
#include "util/intern.h"

static double number_or_nan(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* params object -> canonical point in schema order. Files written since
 * ABI 1.5 omit inactive parameters (they take their defaults); older ones
 * list every parameter, and canonicalising resets the inactive ones, so
 * both forms give the point the search proposes now. */
static tt_status read_point(const cJSON *params, const tt_plugin_descriptor *desc, double *point,
                            char *why, size_t whylen)
{
    unsigned char missing[desc->n_params + 1];
    for (size_t i = 0; i < desc->n_params; i++) {
        const tt_plugin_param *sp = &desc->params[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, sp->name);
        missing[i] = !v;
        if (!v) {
            point[i] = sp->default_value;
            continue;
        }
        if (sp->kind == TT_PARAM_BOOL && cJSON_IsBool(v)) {
            point[i] = cJSON_IsTrue(v) ? 1.0 : 0.0;
        } else if (sp->kind == TT_PARAM_CHOICE && cJSON_IsString(v)) {
            long k = -1;
            for (size_t c = 0; sp->choices[c] && k < 0; c++)
                if (strcmp(sp->choices[c], v->valuestring) == 0)
                    k = (long)c;
            if (k < 0)
                return tt_errf(why, whylen, TT_ERR_DATA, "'%s' is not a choice of %s.%s",
                               v->valuestring, desc->name, sp->name);
            point[i] = (double)k;
        } else if (cJSON_IsNumber(v) && sp->kind != TT_PARAM_BOOL && sp->kind != TT_PARAM_CHOICE) {
            point[i] = v->valuedouble;
        } else {
            return tt_errf(why, whylen, TT_ERR_DATA, "parameter '%s' of %s has the wrong type",
                           sp->name, desc->name);
        }
    }
    tt_point_canonical(desc, point);
    for (size_t i = 0; i < desc->n_params; i++)
        if (missing[i] && tt_param_active(desc, point, i))
            return tt_errf(why, whylen, TT_ERR_DATA, "parameter '%s' of %s is missing",
                           desc->params[i].name, desc->name);
    /* A parameter in the file the plugin no longer has means another schema. */
    const cJSON *item;
    cJSON_ArrayForEach(item, params) {
        size_t i = 0;
        while (i < desc->n_params && strcmp(desc->params[i].name, item->string) != 0)
            i++;
        if (i == desc->n_params)
            return tt_errf(why, whylen, TT_ERR_DATA, "%s has no parameter '%s' any more",
                           desc->name, item->string);
    }
    return TT_OK;
}

static size_t read_scores(const cJSON *obj, const cJSON *reasons, tt_score_value *out, size_t max)
{
    size_t n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, obj) {
        if (n == max)
            break;
        tt_score_value *s = &out[n];
        memset(s, 0, sizeof *s);
        s->name = tt_intern(item->string);
        if (!s->name)
            continue;
        s->value = number_or_nan(item);
        s->is_null = !cJSON_IsNumber(item);
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(reasons, item->string);
        s->reason = tt_intern_text(cJSON_IsString(why) ? why->valuestring : NULL);
        n++;
    }
    return n;
}

tt_status tt_trial_from_json(const cJSON *o, const tt_plugin_descriptor *const *descs,
                             size_t n_descs, tt_trial_result *r, char *why, size_t whylen)
{
    const cJSON *est = cJSON_GetObjectItemCaseSensitive(o, "estimator");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (!cJSON_IsString(est) || !cJSON_IsString(status) || !cJSON_IsNumber(id) || id->valuedouble < 1)
        return tt_errf(why, whylen, TT_ERR_DATA, "not a trial (needs id, estimator, status)");
    size_t e = 0;
    while (e < n_descs && (!descs[e] || strcmp(descs[e]->name, est->valuestring)))
        e++;
    if (e == n_descs)
        return tt_errf(why, whylen, TT_ERR_DATA, "estimator '%s' is not in the config any more",
                       est->valuestring);
    memset(r, 0, sizeof *r);
    r->id = (size_t)id->valuedouble;
    r->estimator = e;
    r->desc = descs[e];
    r->point = calloc(descs[e]->n_params + 1, sizeof *r->point);
    if (!r->point)
        return tt_errf(why, whylen, TT_ERR_NOMEM, "out of memory");
    tt_status st = read_point(cJSON_GetObjectItemCaseSensitive(o, "params"), descs[e], r->point,
                              why, whylen);
    if (st != TT_OK)
        return st;
    r->is_default = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "default_params"));
    const char *s = status->valuestring;
    r->status = !strcmp(s, "ok") ? TT_TRIAL_OK : !strcmp(s, "timeout") ? TT_TRIAL_TIMEOUT
                                                                       : TT_TRIAL_FAILED;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsString(error))
        tt_trial_set_error(r, "%s", error->valuestring);
    r->seconds = number_or_nan(cJSON_GetObjectItemCaseSensitive(o, "seconds"));
    r->fit_seconds = number_or_nan(cJSON_GetObjectItemCaseSensitive(o, "fit_seconds"));
    r->finished = number_or_nan(cJSON_GetObjectItemCaseSensitive(o, "finished_seconds"));
    r->objective = number_or_nan(cJSON_GetObjectItemCaseSensitive(o, "objective"));
    /* Absent in files written before it existed, null without terms. The
     * per-row terms are never stored: a resumed trial has no paired
     * difference (search/rank.h). */
    r->objective_se = number_or_nan(cJSON_GetObjectItemCaseSensitive(o, "objective_se"));
    r->ate = number_or_nan(cJSON_GetObjectItemCaseSensitive(o, "ate"));
    /* "log" (and "log_dropped") are not read back: a resumed search needs
     * none, and the records it keeps hold no log (search/trial.h). Files
     * written before the field existed simply lack it. */
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(o, "null_reasons");
    tt_score_value scores[TT_MAX_SCORES];
    size_t n_scores = read_scores(cJSON_GetObjectItemCaseSensitive(o, "scores"), reasons, scores,
                                  TT_MAX_SCORES);
    tt_score_value oracle[TT_MAX_ORACLE];
    size_t n_oracle = read_scores(cJSON_GetObjectItemCaseSensitive(o, "oracle"), reasons, oracle,
                                  TT_MAX_ORACLE);
    if (tt_trial_set_scores(r, scores, n_scores) != 0 ||
        tt_trial_set_oracle(r, oracle, n_oracle) != 0)
        return tt_errf(why, whylen, TT_ERR_NOMEM, "out of memory");
    return TT_OK;
}

/* A line that is one JSON object and nothing else: cJSON_Parse alone would
 * take the first object of two glued together (what appending onto a torn
 * line used to make) and ignore the rest; a NUL byte (what a crash can leave
 * in unwritten blocks) would end the text early. */
static cJSON *parse_line(const char *line, size_t len)
{
    if (memchr(line, '\0', len))
        return NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
    if (o && !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

tt_status tt_trials_read(const char *path, const tt_config *config,
                         const tt_plugin_descriptor *const *descs, tt_trial_result **trials,
                         size_t *n, tt_trials_tail *tail, char *err, size_t errlen)
{
    *trials = NULL;
    *n = 0;
    memset(tail, 0, sizeof *tail);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap_line = 0, cap = 0, lineno = 0;
    ssize_t len;
    tt_status st = TT_OK;
    while (st == TT_OK && (len = getline(&line, &cap_line, fp)) >= 0) {
        lineno++;
        /* Only the last line can lack its newline. */
        int complete = len > 0 && line[len - 1] == '\n';
        cJSON *o = parse_line(line, (size_t)len);
        if (!o) {
            /* A write cut short by a crash: the last line, without its
             * newline, and (a strict prefix of an object) not JSON. One with
             * its newline was followed by more writes: damage, not a tear. */
            if (!complete) {
                tail->torn_line = lineno;
                tail->torn_bytes = (size_t)len;
                break;
            }
            st = tt_errf(err, errlen, TT_ERR_PARSE, "%s:%zu: not a JSON object", path, lineno);
            break;
        }
        tail->keep_bytes += (long long)len;
        /* A whole record whose newline never reached the disk is kept. */
        tail->unterminated = !complete;
        if (*n == cap) {
            size_t grown_cap = cap ? 2 * cap : 64;
            tt_trial_result *grown = realloc(*trials, grown_cap * sizeof *grown);
            if (!grown) {
                cJSON_Delete(o);
                st = tt_errf(err, errlen, TT_ERR_NOMEM, "out of memory");
                break;
            }
            *trials = grown;
            cap = grown_cap;
        }
        char why[512];
        /* Zeroed first: read_trial may fail before it owns anything. */
        memset(&(*trials)[*n], 0, sizeof (*trials)[*n]);
        st = tt_trial_from_json(o, descs, config->n_estimators, &(*trials)[*n], why, sizeof why);
        cJSON_Delete(o);
        if (st != TT_OK) {
            tt_trial_result_clear(&(*trials)[*n]);
            tt_errf(err, errlen, st, "%s:%zu: %s", path, lineno, why);
            break;
        }
        (*n)++;
    }
    if (st == TT_OK && ferror(fp))
        st = tt_errf(err, errlen, TT_ERR_IO, "%s:%zu: %s", path, lineno + 1, strerror(errno));
    free(line);
    fclose(fp);
    if (st != TT_OK) {
        for (size_t i = 0; i < *n; i++)
            tt_trial_result_clear(&(*trials)[i]);
        free(*trials);
        *trials = NULL;
        *n = 0;
    }
    return st;
}

tt_status tt_trials_reopen(const char *path, const tt_trials_tail *tail, FILE **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_WRONLY | O_APPEND);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        tt_status st = tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return st;
    }
    /* Cutting to what was read must not cut what someone appended since. */
    if ((long long)sb.st_size != tail->keep_bytes + (long long)tail->torn_bytes) {
        close(fd);
        return tt_errf(err, errlen, TT_ERR_IO,
                       "%s changed while it was read (is another run writing it?)", path);
    }
    /* The torn tail is cut off rather than closed with a newline: a newline
     * would make those bytes a damaged line in the middle, which every later
     * --resume refuses, and they hold no record that could be read back (the
     * search simply runs another trial). ftruncate is one step: a crash
     * before it leaves the torn line to be dropped by the next --resume, a
     * crash after it leaves whole lines only. */
    if (tail->torn_line && ftruncate(fd, (off_t)tail->keep_bytes) != 0) {
        tt_status st = tt_errf(err, errlen, TT_ERR_IO, "%s: cannot cut the torn last line: %s",
                               path, strerror(errno));
        close(fd);
        return st;
    }
    FILE *fp = fdopen(fd, "a");
    if (!fp) {
        tt_status st = tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    /* A whole last record without its newline keeps its bytes and gets the
     * newline before anything else is written, so no record is glued onto
     * it; a crash in between leaves the same whole, unterminated line. */
    if (tail->unterminated && (fputc('\n', fp) == EOF || fflush(fp) != 0)) {
        tt_status st = tt_errf(err, errlen, TT_ERR_IO, "%s: %s", path, strerror(errno));
        fclose(fp);
        return st;
    }
    *out = fp;
    return TT_OK;
}
