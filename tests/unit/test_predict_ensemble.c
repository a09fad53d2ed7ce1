/* test_predict_ensemble.c - `tautune predict` on a model of two members,
 * written by hand: diff_in_means and t_learner fitted here, their states
 * saved, and three model files made of them (each alone, and both with
 * weights 0.25 / 0.75). The ensemble's effects must be the weighted sum of
 * what predict gives for each member alone, and its bounds the weighted
 * sums of theirs; a member whose plugin is missing is named; one without
 * intervals leaves the ensemble without them; one whose load crashes costs
 * exit 7. The command is run as a process (TT_BINARY), as a user runs it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "model/model.h"
#include "plugin/host.h"
#include "test_open_plugin.h"

enum { N = 300, NEW = 25, MAX_COLS = 8 };

static char g_dir[] = "/tmp/tt_test_predict_ens_XXXXXX";
static double g_x[N * 2], g_y[N];
static int g_t[N];
static char *g_arms[] = {"control", "treated"};
static char *g_xnames[] = {"x1", "x2"};

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(g_dir))
        return -1;
    for (size_t i = 0; i < N; i++) {
        double x1 = sin(0.7 * (double)i), x2 = cos(1.9 * (double)i + 0.2);
        g_x[i] = x1;
        g_x[N + i] = x2;
        g_t[i] = (int)((i * 7 + i / 3) % 2);
        g_y[i] = x1 + g_t[i] * (1 + x2) + 0.3 * sin(3.1 * (double)i);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/new.csv", g_dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fprintf(fp, "x1,x2\n");
    for (size_t i = 0; i < NEW; i++)
        fprintf(fp, "%.17g,%.17g\n", -1.5 + 0.125 * (double)i, cos((double)i));
    fclose(fp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Fit plugin NAME with its default hyperparameters and save it: a member
 * owning its params and state (free with member_free). */
static tt_model_member fitted_member(const char *name, uint64_t seed)
{
    plugin p = open_plugin(name);
    tt_host_ctx ctx = {.plugin_name = name, .capabilities = p.d->capabilities,
                       .interval_resamples = 20};
    tt_plugin_host host;
    tt_host_services_init(&host, &ctx, seed);
    double *params = calloc(p.d->n_params + 1, sizeof *params);
    assert_non_null(params);
    for (size_t i = 0; i < p.d->n_params; i++)
        params[i] = p.d->params[i].default_value;
    void *inst = NULL;
    char err[512] = "";
    if (p.d->create(&host, params, 2, &inst, err, sizeof err))
        fail_msg("%s create: %s", name, err);
    tt_plugin_data train = {.struct_size = sizeof train, .n = N, .p_x = 2, .x = g_x, .t = g_t,
                            .y = g_y, .n_arms = 2,
                            .x_names = (const char *const *)g_xnames};
    if (p.d->fit(inst, &train, err, sizeof err))
        fail_msg("%s fit: %s", name, err);
    tt_model_state_buffer buf = {0};
    tt_plugin_sink sink = tt_model_state_sink(&buf);
    if (p.d->save(inst, &sink, err, sizeof err) || buf.failed)
        fail_msg("%s save: %s", name, err);
    tt_model_member mb = {.plugin = strdup(name), .plugin_version = strdup(p.d->version),
                          .n_params = p.d->n_params, .params = params, .seed = seed,
                          .state = buf.bytes, .state_len = buf.len, .weight = 1};
    p.d->destroy(inst);
    close_plugin(&p);
    return mb;
}

static void member_free(tt_model_member *mb)
{
    free(mb->plugin);
    free(mb->plugin_version);
    free(mb->params);
    free(mb->state);
}

static void write_model(const char *name, tt_model_member *members, size_t n_members)
{
    tt_model m = {.n_members = n_members, .members = members, .n_arms = 2,
                  .arm_labels = g_arms, .p_x = 2, .x_names = g_xnames};
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    if (tt_model_write(path, &m, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
}

/* The refit_plugin.c fixtures: rf_good (no intervals), rf_load_crash. */
#define REFIT_PLUGIN_DIR TT_FIXTURE_DIR "/../refit_plugins"

/* tautune predict MODEL on new.csv into OUT (stderr into OUT.err) with
 * extra options; the exit code. */
static int predict_with(const char *model, const char *out, const char *options)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "TAUTUNE_PLUGIN_PATH= '%s' predict '%s/%s' --data '%s/new.csv' --out '%s/%s' "
             "--plugin-path '%s' --plugin-path '%s' %s 2> '%s/%s.err'",
             TT_BINARY, g_dir, model, g_dir, g_dir, out, TT_PLUGIN_BUILD_DIR, REFIT_PLUGIN_DIR,
             options, g_dir, out);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int predict(const char *model, const char *out)
{
    return predict_with(model, out, "");
}

/* The numbers of a predict output: NEW rows of cols values after "row". */
typedef struct table {
    char header[256];
    size_t cols;
    double v[NEW][MAX_COLS];
} table;

static void read_table(const char *name, table *t)
{
    char path[256], line[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(t->header, sizeof t->header, fp));
    t->cols = 0;
    for (const char *c = t->header; *c; c++)
        t->cols += *c == ',';
    assert_true(t->cols >= 1 && t->cols <= MAX_COLS);
    for (size_t i = 0; i < NEW; i++) {
        assert_non_null(fgets(line, sizeof line, fp));
        char *s = strchr(line, ',');
        for (size_t j = 0; j < t->cols; j++) {
            assert_non_null(s);
            t->v[i][j] = strtod(s + 1, &s);
        }
    }
    assert_null(fgets(line, sizeof line, fp));
    fclose(fp);
}

static void slurp_err(const char *name, char *buf, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.err", g_dir, name);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t got = fread(buf, 1, len - 1, fp);
    buf[got] = '\0';
    fclose(fp);
}

static void test_ensemble_is_the_weighted_sum(void **state)
{
    (void)state;
    tt_model_member a = fitted_member("diff_in_means", 3), b = fitted_member("t_learner", 4);
    write_model("a.ttm", &a, 1);
    write_model("b.ttm", &b, 1);
    tt_model_member both[2] = {a, b};
    both[0].weight = 0.25;
    both[1].weight = 0.75;
    write_model("ens.ttm", both, 2);
    assert_int_equal(predict("a.ttm", "a.csv"), 0);
    assert_int_equal(predict("b.ttm", "b.csv"), 0);
    assert_int_equal(predict("ens.ttm", "ens.csv"), 0);
    table ta, tb, te;
    read_table("a.csv", &ta);
    read_table("b.csv", &tb);
    read_table("ens.csv", &te);
    assert_string_equal(te.header, ta.header);
    assert_string_equal(te.header, tb.header);
    assert_non_null(strstr(te.header, "lo_treated")); /* both members give intervals */
    int differ = 0;
    for (size_t i = 0; i < NEW; i++)
        for (size_t j = 0; j < te.cols; j++) {
            double want = 0.25 * ta.v[i][j] + 0.75 * tb.v[i][j];
            if (fabs(te.v[i][j] - want) > 1e-12 * (1 + fabs(want)))
                fail_msg("row %zu column %zu: %.17g, want %.17g", i, j, te.v[i][j], want);
            differ |= ta.v[i][j] != tb.v[i][j];
        }
    assert_true(differ); /* the members disagree, so the weights matter */

    /* A member whose plugin is not installed is named; exit 4. */
    both[1].plugin = (char *)"no_such_plugin"; /* borrowed by the writer */
    write_model("missing.ttm", both, 2);
    assert_int_equal(predict("missing.ttm", "missing.csv"), 4);
    char err[2048];
    slurp_err("missing.csv", err, sizeof err);
    assert_non_null(strstr(err, "needs plugin 'no_such_plugin'"));
    member_free(&a);
    member_free(&b);
}

/* With --no-intervals the ensemble writes effects only, like a single model,
 * and says nothing about intervals. */
static void test_no_intervals(void **state)
{
    (void)state;
    tt_model_member a = fitted_member("diff_in_means", 5), b = fitted_member("t_learner", 6);
    tt_model_member both[2] = {a, b};
    both[0].weight = 0.5;
    both[1].weight = 0.5;
    write_model("ens2.ttm", both, 2);
    assert_int_equal(predict_with("ens2.ttm", "ens2.csv", "--no-intervals"), 0);
    table t;
    read_table("ens2.csv", &t);
    assert_null(strstr(t.header, "lo_"));
    char err[2048];
    slurp_err("ens2.csv", err, sizeof err);
    assert_null(strstr(err, "warning"));
    member_free(&a);
    member_free(&b);
}

/* rf_good's saved state (refit_plugin.c): arms, shift, 16 arm means. Its
 * effect is mean[1] - mean[0] + shift on every row; it has no intervals. */
static tt_model_member rf_member(const char *name, unsigned char *state, size_t state_len)
{
    int arms = 2;
    double shift = 0.5, mean[16] = {1.0, 3.0};
    assert_int_equal(state_len, sizeof arms + sizeof shift + sizeof mean);
    memcpy(state, &arms, sizeof arms);
    memcpy(state + sizeof arms, &shift, sizeof shift);
    memcpy(state + sizeof arms + sizeof shift, mean, sizeof mean);
    static double param = 0;
    return (tt_model_member){.plugin = (char *)name, .plugin_version = (char *)"0",
                             .n_params = 1, .params = &param, .seed = 1, .state = state,
                             .state_len = state_len, .weight = 0.4};
}

/* A member without intervals leaves the ensemble without them (warned);
 * a member whose load crashes costs exit 7 and a message naming it. */
static void test_member_without_intervals_or_crashing(void **state)
{
    (void)state;
    unsigned char rf_state[sizeof(int) + 17 * sizeof(double)];
    tt_model_member b = fitted_member("t_learner", 8);
    tt_model_member both[2] = {b, rf_member("rf_good", rf_state, sizeof rf_state)};
    both[0].weight = 0.6;
    write_model("b8.ttm", &b, 1);
    write_model("mixed.ttm", both, 2);
    assert_int_equal(predict("b8.ttm", "b8.csv"), 0);
    assert_int_equal(predict("mixed.ttm", "mixed.csv"), 0);
    table tb, tm;
    read_table("b8.csv", &tb);
    read_table("mixed.csv", &tm);
    assert_non_null(strstr(tb.header, "lo_treated"));
    assert_null(strstr(tm.header, "lo_"));
    for (size_t i = 0; i < NEW; i++) {
        double want = 0.6 * tb.v[i][0] + 0.4 * 2.5;
        assert_true(fabs(tm.v[i][0] - want) <= 1e-12 * (1 + fabs(want)));
    }
    char err[2048];
    slurp_err("mixed.csv", err, sizeof err);
    assert_non_null(strstr(err, "no intervals for the ensemble: member 2 (rf_good)"));

    both[1].plugin = (char *)"rf_load_crash";
    write_model("crash.ttm", both, 2);
    assert_int_equal(predict("crash.ttm", "crash.csv"), 7);
    slurp_err("crash.csv", err, sizeof err);
    assert_non_null(strstr(err, "plugin 'rf_load_crash' failed at load"));
    member_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ensemble_is_the_weighted_sum),
        cmocka_unit_test(test_no_intervals),
        cmocka_unit_test(test_member_without_intervals_or_crashing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
