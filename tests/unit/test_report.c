/* test_report.c - trials.jsonl lines (with a trial's log) and results.json;
 * trials.jsonl read back, lines with and without a log alike. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lua/config.h"
#include "report/results.h"
#include "report/trials_read.h"
#include "search/log_tail.h"

static const char *const modes[] = {"fast", "slow", NULL};
static const tt_plugin_param params[] = {
    {.name = "alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-3, .hi = 10, .default_value = 1},
    {.name = "deep", .kind = TT_PARAM_BOOL, .lo = 0, .hi = 1, .default_value = 0},
    {.name = "mode", .kind = TT_PARAM_CHOICE, .default_value = 0, .choices = modes},
};
static const tt_plugin_descriptor desc = {
    TT_PLUGIN_DESCRIPTOR_HEADER, .name = "demo", .params = params, .n_params = 3,
};

static void make_trial(tt_trial_result *r, size_t id, tt_trial_status st, double energy)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->desc = &desc;
    r->point = malloc(3 * sizeof *r->point);
    r->point[0] = 0.5;
    r->point[1] = 1;
    r->point[2] = 1;
    r->status = st;
    r->seconds = 0.25;
    r->objective = energy;
    r->ate = st == TT_TRIAL_OK ? 1.5 : NAN;
    if (st != TT_TRIAL_OK) {
        tt_trial_set_error(r, "fit: singular matrix");
        return;
    }
    const tt_score_value energy_score = {.name = "energy", .value = energy};
    assert_int_equal(tt_trial_set_scores(r, &energy_score, 1), 0);
    const tt_score_value pehe = {.name = "pehe", .value = NAN, .is_null = 1,
                                 .reason = "no truth here"};
    assert_int_equal(tt_trial_set_oracle(r, &pehe, 1), 0);
}

/* A message with bytes that are not UTF-8 (a plugin's, a CSV cell's). */
static void tt_set_error_bytes(tt_trial_result *r, const char *bytes)
{
    tt_trial_set_error(r, "%s", bytes);
}

static cJSON *parse_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    return j;
}

static void test_trial_json_fields(void **state)
{
    (void)state;
    tt_trial_result r;
    make_trial(&r, 3, TT_TRIAL_OK, 0.125);
    cJSON *j = tt_trial_to_json(&r);
    assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(j, "estimator")->valuestring, "demo");
    cJSON *p = cJSON_GetObjectItem(j, "params");
    assert_true(cJSON_GetObjectItem(p, "alpha")->valuedouble == 0.5);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "deep")));
    assert_string_equal(cJSON_GetObjectItem(p, "mode")->valuestring, "slow");
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "error")));
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "scores"), "energy")->valuedouble == 0.125);
    /* A null score is JSON null with its reason, never NaN text. */
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "oracle"), "pehe")));
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "null_reasons"), "pehe")->valuestring,
        "no truth here");
    assert_null(cJSON_GetObjectItem(j, "log")); /* nothing printed: no field */
    cJSON_Delete(j);
    tt_trial_result_clear(&r);

    make_trial(&r, 4, TT_TRIAL_FAILED, NAN);
    j = tt_trial_to_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "failed");
    assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, "fit: singular matrix");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "objective")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "ate")));
    cJSON_Delete(j);

    /* Its log: the lines, oldest first. */
    r.log = tt_log_tail_new();
    const char text[] = "warning: [demo] one\nstdout \"two\"\n";
    tt_log_tail_feed(r.log, text, sizeof text - 1);
    j = tt_trial_to_json(&r);
    cJSON *log = cJSON_GetObjectItem(j, "log");
    assert_int_equal(cJSON_GetArraySize(log), 2);
    assert_string_equal(cJSON_GetArrayItem(log, 0)->valuestring, "warning: [demo] one");
    assert_string_equal(cJSON_GetArrayItem(log, 1)->valuestring, "stdout \"two\"");
    assert_null(cJSON_GetObjectItem(j, "log_dropped"));
    cJSON_Delete(j);
    /* More than 50 lines: the first entry says how many were dropped. */
    char line[32];
    for (int i = 0; i < 60; i++) {
        snprintf(line, sizeof line, "line %d\n", i);
        tt_log_tail_feed(r.log, line, strlen(line));
    }
    j = tt_trial_to_json(&r);
    log = cJSON_GetObjectItem(j, "log");
    assert_int_equal(cJSON_GetArraySize(log), 51);
    assert_string_equal(cJSON_GetArrayItem(log, 0)->valuestring, "[12 earlier lines dropped]");
    assert_string_equal(cJSON_GetArrayItem(log, 1)->valuestring, "line 10");
    assert_int_equal(cJSON_GetObjectItem(j, "log_dropped")->valueint, 12);
    cJSON_Delete(j);
    tt_trial_result_clear(&r); /* frees the log too */
}

static void test_jsonl_and_results(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_report_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);

    tt_search_outcome out = {.n_trials = 2, .best = 0};
    out.trials = calloc(2, sizeof *out.trials);
    make_trial(&out.trials[0], 1, TT_TRIAL_OK, 0.5);
    make_trial(&out.trials[1], 2, TT_TRIAL_TIMEOUT, NAN);
    char err[256];
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(tt_trials_append(fp, &out.trials[i], err, sizeof err), TT_OK);
    /* Flushed as written: readable before the file is closed. */
    FILE *rd = fopen(path, "r");
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, rd)) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, ++lines);
        cJSON_Delete(j);
    }
    fclose(rd);
    fclose(fp);
    assert_int_equal(lines, 2);

    const char *labels[] = {"0", "1"};
    size_t train_counts[] = {70, 30}, valid_counts[] = {30, 13};
    tt_run_info info = {
        .config_path = "x.lua", .config_name = "x", .seed = 12345678901234567ull,
        .metric = "energy", .direction = "min", .data_source = "synthetic", .rows = 143,
        .train_rows = 100, .validation_rows = 43, .n_arms = 2, .arm_labels = labels,
        .train_arm_counts = train_counts, .valid_arm_counts = valid_counts, .has_truth = 1,
        .budget_seconds = 0, .max_trials = 2, .elapsed_seconds = 1.5, .status = "complete",
    };
    assert_int_equal(tt_results_write(dir, &info, &out, err, sizeof err), TT_OK);
    snprintf(path, sizeof path, "%s/results.json", dir);
    cJSON *j = parse_file(path);
    assert_int_equal(cJSON_GetObjectItem(j, "schema_version")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(j, "seed_text")->valuestring, "12345678901234567");
    cJSON *data = cJSON_GetObjectItem(j, "data");
    assert_int_equal(cJSON_GetObjectItem(data, "validation_rows")->valueint, 43);
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(data, "validation_arm_rows"), 1)->valueint, 13);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "budget"), "seconds")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "trials")), 2);
    cJSON *best = cJSON_GetObjectItem(j, "best");
    assert_int_equal(cJSON_GetObjectItem(best, "trial")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(best, "estimator")->valuestring, "demo");
    cJSON_Delete(j);
    /* Streamed trial by trial, the file is byte for byte what printing the
     * whole tree writes (nested objects indented alike, invalid UTF-8 in a
     * trial's error repaired alike), with no trials and with them. */
    tt_set_error_bytes(&out.trials[1], "bad \xff byte");
    for (size_t n = 0; n <= 2; n += 2) {
        out.n_trials = n;
        assert_int_equal(tt_results_write(dir, &info, &out, err, sizeof err), TT_OK);
        cJSON *whole = tt_results_json(&info, &out);
        char *text = tt_json_text(whole, 1);
        cJSON_Delete(whole);
        FILE *rf = fopen(path, "r");
        assert_non_null(rf);
        static char got[65536];
        size_t len = fread(got, 1, sizeof got - 1, rf);
        got[len] = '\0';
        fclose(rf);
        assert_int_equal(len, strlen(text) + 1);
        assert_memory_equal(got, text, strlen(text));
        assert_int_equal(got[len - 1], '\n');
        free(text);
    }

    /* Rewriting replaces the file and leaves no temporary behind. */
    out.best = -1;
    assert_int_equal(tt_results_write(dir, &info, &out, err, sizeof err), TT_OK);
    j = parse_file(path);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "best")));
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/.results.json.tmp", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    /* An unwritable folder is an error, not a crash. */
    assert_int_equal(tt_results_write("/nonexistent/dir", &info, &out, err, sizeof err), TT_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/dir"));

    tt_search_outcome_free(&out);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

static void write_lines(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_trials_read_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_resume_XXXXXX", path[256], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    FILE *fp = fopen(path, "w");
    tt_trial_result t[3];
    make_trial(&t[0], 1, TT_TRIAL_OK, 0.5);
    t[0].is_default = 1;
    make_trial(&t[1], 3, TT_TRIAL_FAILED, NAN);
    /* A line with a log (longer than any line before logs) reads back as
     * the others: --resume of a run with logs. */
    t[1].log = tt_log_tail_new();
    for (int i = 0; i < 80; i++) {
        char line[300];
        snprintf(line, sizeof line, "a long log line %d %0200d\n", i, i);
        tt_log_tail_feed(t[1].log, line, strlen(line));
    }
    make_trial(&t[2], 2, TT_TRIAL_OK, 0.25);
    t[2].point[0] = 1.0 / 3.0; /* must come back bit for bit */
    for (int i = 0; i < 3; i++)
        assert_int_equal(tt_trials_append(fp, &t[i], err, sizeof err), TT_OK);
    fclose(fp);

    tt_config *cfg = NULL;
    assert_int_equal(tt_config_load_string("return { data = { generator = 'synthetic' },"
                                           " estimators = { demo = {} } }",
                                           "t.lua", NULL, &cfg, err, sizeof err), TT_OK);
    const tt_plugin_descriptor *descs[] = {&desc};
    tt_trial_result *back;
    size_t n;
    tt_trials_tail tail;
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tail.torn_line, 0);
    assert_int_equal(tail.unterminated, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(back[i].id, t[i].id);
        assert_int_equal(back[i].status, t[i].status);
        assert_memory_equal(back[i].point, t[i].point, 3 * sizeof(double));
        assert_int_equal(back[i].is_default, t[i].is_default);
        assert_true(back[i].objective == t[i].objective ||
                    (isnan(back[i].objective) && isnan(t[i].objective)));
        assert_int_equal(back[i].n_scores, t[i].n_scores);
        assert_null(back[i].log); /* the log stays in the file */
        tt_trial_result_clear(&back[i]);
    }
    free(back);

    /* A last line cut short by a crash is skipped; the rest is kept. */
    FILE *ap = fopen(path, "a");
    fputs("{\"id\": 4, \"estim", ap);
    fclose(ap);
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tail.torn_line, 4);
    assert_string_equal(back[1].error, "fit: singular matrix");
    for (size_t i = 0; i < n; i++)
        tt_trial_result_clear(&back[i]);
    free(back);

    /* Damage in the middle, or another search, is an error with file:line. */
    write_lines(path, "{\"id\":1,\"estimator\":\"demo\",\"status\":\"ok\",\"params\":"
                      "{\"alpha\":1,\"deep\":true,\"mode\":\"fast\"}}\nnot json\n{}\n");
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &tail, err, sizeof err),
                     TT_ERR_PARSE);
    assert_non_null(strstr(err, "trials.jsonl:2: not a JSON object"));
    write_lines(path, "{\"id\":1,\"estimator\":\"other\",\"status\":\"ok\",\"params\":{}}\n");
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &tail, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, ":1: estimator 'other' is not in the config any more"));
    write_lines(path, "{\"id\":1,\"estimator\":\"demo\",\"status\":\"ok\",\"params\":"
                      "{\"alpha\":1,\"deep\":true,\"mode\":\"warp\"}}\n");
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &tail, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "'warp' is not a choice of demo.mode"));

    for (int i = 0; i < 3; i++)
        tt_trial_result_clear(&t[i]);
    tt_config_free(cfg);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

/* ---- a torn last line (issue 20, item 6) ---------------------------------- */

static char *slurp_text(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *b = malloc(65536);
    assert_non_null(b);
    *len = fread(b, 1, 65535, fp);
    b[*len] = '\0';
    fclose(fp);
    return b;
}

static void write_bytes(const char *path, const char *bytes, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, len, fp), len);
    fclose(fp);
}

/* tt_trials_read, the trials freed; its status, with n and *tail. */
static tt_status read_count(const char *path, const tt_config *cfg, size_t *n,
                            tt_trials_tail *tail, char *err, size_t errlen)
{
    const tt_plugin_descriptor *descs[] = {&desc};
    tt_trial_result *back = NULL;
    tt_status st = tt_trials_read(path, cfg, descs, &back, n, tail, err, errlen);
    for (size_t i = 0; st == TT_OK && i < *n; i++)
        tt_trial_result_clear(&back[i]);
    free(back);
    return st;
}

/* Every line of path ends with '\n' and is one JSON object with an id;
 * the ids in order into ids (at most max), their count returned. */
static size_t ids_of_lines(const char *path, size_t *ids, size_t max)
{
    size_t len, n = 0;
    char *text = slurp_text(path, &len);
    assert_true(len > 0 && text[len - 1] == '\n');
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        cJSON *o = cJSON_ParseWithOpts(line, NULL, 1);
        if (!o)
            fail_msg("%s: line %zu is not JSON: %s", path, n + 1, line);
        assert_true(n < max);
        ids[n++] = (size_t)cJSON_GetObjectItem(o, "id")->valuedouble;
        cJSON_Delete(o);
    }
    free(text);
    return n;
}

static void append_trial(const char *path, const tt_trials_tail *tail, size_t id)
{
    char err[512];
    FILE *fp = NULL;
    assert_int_equal(tt_trials_reopen(path, tail, &fp, err, sizeof err), TT_OK);
    tt_trial_result t;
    make_trial(&t, id, TT_TRIAL_OK, 0.125);
    assert_int_equal(tt_trials_append(fp, &t, err, sizeof err), TT_OK);
    tt_trial_result_clear(&t);
    assert_int_equal(fclose(fp), 0);
}

static void test_trials_torn_tail(void **state)
{
    (void)state;
    char dir[] = "/tmp/tt_torn_XXXXXX", path[256], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    tt_config *cfg = NULL;
    assert_int_equal(tt_config_load_string("return { data = { generator = 'synthetic' },"
                                           " estimators = { demo = {} } }",
                                           "t.lua", NULL, &cfg, err, sizeof err), TT_OK);
    /* Three whole records, then the first 40 bytes of a fourth. */
    FILE *fp = fopen(path, "w");
    for (size_t id = 1; id <= 4; id++) {
        tt_trial_result t;
        make_trial(&t, id, TT_TRIAL_OK, 0.5);
        assert_int_equal(tt_trials_append(fp, &t, err, sizeof err), TT_OK);
        tt_trial_result_clear(&t);
    }
    fclose(fp);
    size_t whole_len;
    char *whole = slurp_text(path, &whole_len);
    char *fourth = whole;
    for (int k = 0; k < 3; k++)
        fourth = strchr(fourth, '\n') + 1;
    const size_t three = (size_t)(fourth - whole), torn = 40;
    assert_true(three + torn < whole_len);
    write_bytes(path, whole, three + torn);

    /* The torn line is dropped and described; the three before it kept. */
    size_t n, ids[8];
    tt_trials_tail tail;
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tail.torn_line, 4);
    assert_int_equal(tail.torn_bytes, torn);
    assert_int_equal(tail.keep_bytes, (long long)three);
    assert_int_equal(tail.unterminated, 0);
    /* Appending after it cuts the torn bytes off first: the file is the three
     * lines and the new one, and reads back whole (before the fix the new
     * record was glued onto the torn line, and the next read refused line 4). */
    append_trial(path, &tail, 4);
    size_t len;
    char *text = slurp_text(path, &len);
    assert_memory_equal(text, whole, three);
    free(text);
    assert_int_equal(ids_of_lines(path, ids, 8), 4);
    assert_int_equal(ids[3], 4);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(n, 4);
    assert_int_equal(tail.torn_line, 0);
    assert_int_equal(tail.keep_bytes, (long long)len);

    /* A whole last record whose newline was lost is kept, and gets its
     * newline before the next record. */
    write_bytes(path, whole, three - 1);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tail.torn_line, 0);
    assert_int_equal(tail.unterminated, 1);
    append_trial(path, &tail, 4);
    assert_int_equal(ids_of_lines(path, ids, 8), 4);
    assert_int_equal(ids[2], 3);
    assert_int_equal(ids[3], 4);

    /* A torn last line of NUL bytes (unwritten blocks after a crash). */
    char zeros[three + 5];
    memcpy(zeros, whole, three);
    memset(zeros + three, 0, 5);
    write_bytes(path, zeros, sizeof zeros);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_OK);
    assert_int_equal(tail.torn_line, 4);
    assert_int_equal(tail.torn_bytes, 5);

    /* A torn line in the middle (it has its newline: more was written after
     * it) is an error naming its line, and so is the old bug's product, a
     * record glued onto a torn one, even as the last line. */
    char *mid = malloc(whole_len + 64);
    size_t first = (size_t)(strchr(whole, '\n') + 1 - whole);
    memcpy(mid, whole, first + 30);
    mid[first + 30] = '\n';
    memcpy(mid + first + 31, whole + first, whole_len - first);
    write_bytes(path, mid, whole_len + 31);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "trials.jsonl:2: not a JSON object"));
    memcpy(mid, whole, three + torn);
    memcpy(mid + three + torn, fourth, whole_len - three);
    write_bytes(path, mid, three + torn + whole_len - three);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "trials.jsonl:4: not a JSON object"));
    /* Two whole records on one line: cJSON_Parse alone would take the first. */
    memcpy(mid, whole, three - 1);
    memcpy(mid + three - 1, fourth, whole_len - three);
    write_bytes(path, mid, whole_len - 1);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "trials.jsonl:3: not a JSON object"));
    free(mid);

    /* Grown since it was read (another run appending): nothing is cut. */
    write_bytes(path, whole, three + torn);
    assert_int_equal(read_count(path, cfg, &n, &tail, err, sizeof err), TT_OK);
    write_bytes(path, whole, whole_len);
    fp = NULL;
    assert_int_equal(tt_trials_reopen(path, &tail, &fp, err, sizeof err), TT_ERR_IO);
    assert_null(fp);
    assert_non_null(strstr(err, "changed while it was read"));
    text = slurp_text(path, &len);
    assert_int_equal(len, whole_len);
    free(text);

    free(whole);
    tt_config_free(cfg);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trial_json_fields),
        cmocka_unit_test(test_jsonl_and_results),
        cmocka_unit_test(test_trials_read_back),
        cmocka_unit_test(test_trials_torn_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
