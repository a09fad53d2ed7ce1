/* test_report.c - trials.jsonl lines and results.json. */
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
        snprintf(r->error, sizeof r->error, "fit: singular matrix");
        return;
    }
    r->scores[0] = (tt_score_value){.name = "energy", .value = energy};
    r->n_scores = 1;
    r->oracle[0] = (tt_score_value){.name = "pehe", .value = NAN, .is_null = 1};
    snprintf(r->oracle[0].reason, sizeof r->oracle[0].reason, "no truth here");
    r->n_oracle = 1;
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
    cJSON_Delete(j);
    tt_trial_result_clear(&r);

    make_trial(&r, 4, TT_TRIAL_FAILED, NAN);
    j = tt_trial_to_json(&r);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "failed");
    assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, "fit: singular matrix");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "objective")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "ate")));
    cJSON_Delete(j);
    tt_trial_result_clear(&r);
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
    size_t n, skipped;
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &skipped, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(back[i].id, t[i].id);
        assert_int_equal(back[i].status, t[i].status);
        assert_memory_equal(back[i].point, t[i].point, 3 * sizeof(double));
        assert_int_equal(back[i].is_default, t[i].is_default);
        assert_true(back[i].objective == t[i].objective ||
                    (isnan(back[i].objective) && isnan(t[i].objective)));
        assert_int_equal(back[i].n_scores, t[i].n_scores);
        tt_trial_result_clear(&back[i]);
    }
    free(back);

    /* A last line cut short by a crash is skipped; the rest is kept. */
    FILE *ap = fopen(path, "a");
    fputs("{\"id\": 4, \"estim", ap);
    fclose(ap);
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &skipped, err, sizeof err), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 1);
    assert_string_equal(back[1].error, "fit: singular matrix");
    for (size_t i = 0; i < n; i++)
        tt_trial_result_clear(&back[i]);
    free(back);

    /* Damage in the middle, or another search, is an error with file:line. */
    write_lines(path, "{\"id\":1,\"estimator\":\"demo\",\"status\":\"ok\",\"params\":"
                      "{\"alpha\":1,\"deep\":true,\"mode\":\"fast\"}}\nnot json\n{}\n");
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &skipped, err, sizeof err),
                     TT_ERR_PARSE);
    assert_non_null(strstr(err, "trials.jsonl:2: not a JSON object"));
    write_lines(path, "{\"id\":1,\"estimator\":\"other\",\"status\":\"ok\",\"params\":{}}\n");
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &skipped, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, ":1: estimator 'other' is not in the config any more"));
    write_lines(path, "{\"id\":1,\"estimator\":\"demo\",\"status\":\"ok\",\"params\":"
                      "{\"alpha\":1,\"deep\":true,\"mode\":\"warp\"}}\n");
    assert_int_equal(tt_trials_read(path, cfg, descs, &back, &n, &skipped, err, sizeof err),
                     TT_ERR_DATA);
    assert_non_null(strstr(err, "'warp' is not a choice of demo.mode"));

    for (int i = 0; i < 3; i++)
        tt_trial_result_clear(&t[i]);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
