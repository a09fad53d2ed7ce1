/* test_report_html.c - report.html and summary.md (core/report/report.h).
 *
 * A results object shaped like a real run's results.json (trimmed from
 * `tautune run configs/quickstart.lua`) and synthetic validation rows; the
 * page is checked for well-formed markup, its sections, self-containment,
 * escaping, and that every number it shows equals results.json or a
 * brute-force computation done here. As in a run, the pages read the trials
 * from the search's records (here read from the fixture's "trials" with
 * stand-in descriptors), not from the results object, whose "trials" is
 * emptied. */
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

#include "report/report.h"
#include "report/report_int.h"
#include "report/trials_read.h"

/* ---- the fixture ------------------------------------------------------- */

#define HOSTILE "<b>&\\\"x" /* as JSON text: <b>&"x */

static const char results_text[] =
    "{\"schema_version\":1,\"tautune_version\":\"0.1.0\",\"status\":\"complete\","
    "\"seed\":7,\"seed_text\":\"7\",\"config\":{\"path\":\"configs/quickstart.lua\","
    "\"name\":\"quickstart\"},\"metric\":\"psw_energy\",\"metric_requested\":\"auto\","
    "\"direction\":\"min\",\"scoring\":{\"propensity\":{\"model\":\"logistic(alpha=1) on "
    "standardised [x, w], fitted on the training rows\",\"clip\":0.05,\"min\":0.03,"
    "\"max\":0.97,\"rows_outside_clip\":9},\"energy_rows\":400},"
    "\"data\":{\"source\":\"synthetic(rows=1000, arms=2, seed=7)\",\"rows\":1000,"
    "\"train_rows\":600,\"validation_rows\":400,\"arms\":2,\"arm_labels\":[\"ctl\",\"" HOSTILE
    "\"],\"train_arm_rows\":[310,290],\"validation_arm_rows\":[205,195],"
    "\"has_true_effect\":true,\"dropped_rows\":0,\"excluded_rows\":0,"
    "\"known_propensity\":false,\"split\":\"stratified\",\"features\":{\"x\":[\"x1\","
    "\"x<2>\"],\"w\":[\"w1\"],\"z\":[]},\"missing_indicators\":[]},"
    "\"nuisances\":[{\"role\":\"propensity\",\"learner\":\"logistic\",\"params\":{\"alpha\":1},"
    "\"oof_loss\":0.6053707165569242,\"auc\":0.7314531729940605,\"calibration\":0.0152,"
    "\"propensity_min\":0.047,\"propensity_max\":0.955,\"rows_outside_0.05_0.95\":2,"
    "\"candidates\":3,\"seconds\":1.7},{\"role\":\"mu\",\"arm\":1,\"learner\":\"ridge\","
    "\"params\":{\"alpha\":1},\"oof_loss\":0.980594314028527,\"r2\":0.610238671639226,"
    "\"candidates\":3,\"seconds\":1.3}],"
    "\"budget\":{\"seconds\":10,\"trials\":40},\"elapsed_seconds\":4.140366484000424,"
    "\"trials\":["
    "{\"id\":1,\"estimator\":\"diff_in_means\",\"params\":{},\"default_params\":true,"
    "\"status\":\"ok\",\"error\":null,\"seconds\":0.0096,\"finished_seconds\":0.024,"
    "\"objective\":0.091532204315778,\"scores\":{\"energy\":0.17591135198554442,"
    "\"psw_energy\":0.091532204315778,\"erupt\":1.039728075745942,\"qini\":null,"
    "\"ate\":1.8204439678518827},\"oracle\":{\"pehe\":1.5276431321603856},"
    "\"null_reasons\":{\"qini\":\"tau_hat is the same for every row, so it ranks "
    "nothing\"},\"ate\":1.8204439678518827},"
    "{\"id\":2,\"estimator\":\"s_learner\",\"params\":{\"model_learner\":\"ridge\","
    "\"model_alpha\":1,\"interactions\":true},\"default_params\":true,\"status\":\"ok\","
    "\"error\":null,\"seconds\":0.024,\"finished_seconds\":0.057,"
    "\"objective\":0.02690497282887394,\"scores\":{\"energy\":0.18675335410657778,"
    "\"psw_energy\":0.02690497282887394,\"erupt\":1.12458175053402,"
    "\"qini\":248.81702027297658,\"ate\":0.9671615180638067},"
    "\"oracle\":{\"pehe\":0.7770724097569697},\"ate\":0.9671615180638067},"
    "{\"id\":3,\"estimator\":\"t_learner\",\"params\":{\"model_alpha\":1},"
    "\"default_params\":true,\"status\":\"failed\",\"error\":\"fit: <script>alert(1)"
    "</script> & \\\"boom\\\"\",\"seconds\":0.01,\"finished_seconds\":0.09,"
    "\"objective\":null,\"scores\":{},\"ate\":null},"
    "{\"id\":4,\"estimator\":\"s_learner\",\"params\":{\"model_learner\":\"ridge\","
    "\"model_alpha\":51.2242497202362,\"interactions\":true},\"default_params\":false,"
    "\"status\":\"ok\",\"error\":null,\"seconds\":0.03,\"finished_seconds\":0.3,"
    "\"objective\":0.026526915624982106,\"scores\":{\"energy\":0.1936769415554993,"
    "\"psw_energy\":0.026526915624982106,\"erupt\":1.1273459083918567,"
    "\"qini\":246.96089156447212,\"ate\":0.9010295207830072},"
    "\"oracle\":{\"pehe\":0.7906363256155438},\"ate\":0.9010295207830072},"
    "{\"id\":5,\"estimator\":\"t_learner\",\"params\":{\"model_alpha\":3},"
    "\"default_params\":false,\"status\":\"timeout\",\"error\":\"timed out after 5 s\","
    "\"seconds\":5,\"finished_seconds\":5.4,\"objective\":null,\"scores\":{},\"ate\":null}],"
    "\"best\":{\"trial\":4,\"estimator\":\"s_learner\",\"params\":{\"model_learner\":"
    "\"ridge\",\"model_alpha\":51.2242497202362,\"interactions\":true},"
    "\"objective\":0.026526915624982106,\"scores\":{\"energy\":0.1936769415554993,"
    "\"psw_energy\":0.026526915624982106,\"erupt\":1.1273459083918567,"
    "\"qini\":246.96089156447212,\"ate\":0.9010295207830072},"
    "\"oracle\":{\"pehe\":0.7906363256155438},\"ate\":0.9010295207830072},"
    "\"winner\":{\"estimator\":\"s_learner\",\"trial\":4,\"effects\":\"cate.csv\","
    "\"average_effect\":{\"rows\":\"validation\",\"alpha\":0.05,\"interval_method\":"
    "\"bootstrap (normal) over the whole S-learner\",\"arms\":[{\"arm\":\"" HOSTILE "\","
    "\"estimate\":0.9010295207830072,\"lo\":0.800558604619688,\"hi\":1.0015004369463265}]},"
    "\"model\":\"model.ttm\",\"seconds\":0.28}}";

/* Stand-ins for the three plugins the fixture's trials name: their
 * parameters, enough to read the trials' points back. */
static const char *const learners[] = {"ridge", "lasso", NULL};
static const tt_plugin_param s_params[] = {
    {.name = "model_learner", .kind = TT_PARAM_CHOICE, .choices = learners},
    {.name = "model_alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-3, .hi = 1e3, .default_value = 1},
    {.name = "interactions", .kind = TT_PARAM_BOOL, .default_value = 1},
};
static const tt_plugin_param t_params[] = {
    {.name = "model_alpha", .kind = TT_PARAM_LOG_REAL, .lo = 1e-3, .hi = 1e3, .default_value = 1},
};
static const tt_plugin_descriptor dim_desc = {.name = "diff_in_means"};
static const tt_plugin_descriptor s_desc = {.name = "s_learner", .params = s_params,
                                            .n_params = 3};
static const tt_plugin_descriptor t_desc = {.name = "t_learner", .params = t_params,
                                            .n_params = 1};
static const tt_plugin_descriptor *const descs[] = {&dim_desc, &s_desc, &t_desc};

#define N 400
#define N_TRIALS 5

typedef struct fixture {
    cJSON *results;
    cJSON *trials_json;         /* the fixture's trials, as results.json has them */
    tt_trial_result trials[N_TRIALS];
    int k_arms;
    int t[N];
    double y[N], prop[3 * N], pseudo[2 * N], tau0[2 * N], tau1[2 * N], lo[2 * N], hi[2 * N];
    double cost[3];
    tt_report_candidate top[2];
    const char *labels[3];
    tt_report_input in;
    char dir[64];
} fixture;

static uint64_t lcg_state;
static double unif(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

/* Rows with a confounded assignment (some propensities outside the clip),
 * effects rising in x, and two candidates (the second with ties). */
static fixture *make_fixture(int k_arms)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->results = cJSON_Parse(results_text);
    assert_non_null(f->results);
    f->trials_json = cJSON_DetachItemFromObject(f->results, "trials");
    assert_int_equal(cJSON_GetArraySize(f->trials_json), N_TRIALS);
    cJSON_AddItemToObject(f->results, "trials", cJSON_CreateArray());
    for (int i = 0; i < N_TRIALS; i++) {
        char why[256] = "";
        if (tt_trial_from_json(cJSON_GetArrayItem(f->trials_json, i), descs, 3, &f->trials[i],
                               why, sizeof why) != TT_OK)
            fail_msg("trial %d: %s", i + 1, why);
    }
    f->k_arms = k_arms;
    lcg_state = 42;
    for (int i = 0; i < N; i++) {
        double x = unif(), e1 = 0.03 + 0.94 * x;
        double u = unif();
        if (k_arms == 2) {
            f->prop[i] = 1 - e1, f->prop[N + i] = e1;
            f->t[i] = u < e1;
        } else {
            f->prop[i] = 1 - e1, f->prop[N + i] = e1 / 2, f->prop[2 * N + i] = e1 / 2;
            f->t[i] = u < 1 - e1 ? 0 : u < 1 - e1 / 2 ? 1 : 2;
        }
        for (int k = 0; k < k_arms - 1; k++) {
            double tau = (k + 1) * (0.5 + 2 * x);
            f->tau0[k * N + i] = tau + 0.1 * (unif() - 0.5);
            f->tau1[k * N + i] = round(10 * (0.4 + 1.5 * x)) / 10; /* ties */
            f->pseudo[k * N + i] = tau + 3 * (unif() - 0.5);
            f->lo[k * N + i] = f->tau0[k * N + i] - 0.2;
            f->hi[k * N + i] = f->tau0[k * N + i] + 0.2;
        }
        double eff = f->t[i] ? f->t[i] * (0.5 + 2 * x) : 0.0;
        f->y[i] = x + eff + (unif() - 0.5);
    }
    f->cost[0] = 0, f->cost[1] = 0.1, f->cost[2] = 0.3;
    f->labels[0] = "ctl", f->labels[1] = "<b>&\"x", f->labels[2] = "arm two";
    f->top[0] = (tt_report_candidate){"s_learner", 4, f->tau0};
    f->top[1] = (tt_report_candidate){"diff_in_means", 1, f->tau1};
    f->in = (tt_report_input){
        .results = f->results, .trials = f->trials, .n_trials = N_TRIALS, .n = N, .n_arms = k_arms, .arm_labels = f->labels,
        .t = f->t, .y = f->y, .prop = f->prop, .clip = 0.05, .cost = f->cost,
        .pseudo = f->pseudo, .winner_lo = f->lo, .winner_hi = f->hi, .top = f->top,
        .n_top = 2,
    };
    snprintf(f->dir, sizeof f->dir, "/tmp/tt_report_html_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    return f;
}

static void remove_file(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void free_fixture(fixture *f)
{
    remove_file(f->dir, "report.html");
    remove_file(f->dir, "summary.md");
    rmdir(f->dir);
    cJSON_Delete(f->results);
    cJSON_Delete(f->trials_json);
    for (int i = 0; i < N_TRIALS; i++)
        tt_trial_result_clear(&f->trials[i]);
    free(f);
}

static char *read_file(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)len, fp), (size_t)len);
    s[len] = '\0';
    fclose(fp);
    return s;
}

static char *write_page(fixture *f)
{
    char err[256] = "";
    assert_int_equal(tt_report_write_html(f->dir, &f->in, err, sizeof err), TT_OK);
    return read_file(f->dir, "report.html");
}

/* ---- a small well-formedness checker ----------------------------------- */

static int is_void(const char *name, size_t len)
{
    static const char *const v[] = {"meta", "br", "hr", "img", "input", "link", "wbr"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strlen(v[i]) == len && !strncmp(v[i], name, len))
            return 1;
    return 0;
}

/* Every element closed and properly nested (void elements and "/>" aside),
 * every '<' starting a tag, every '&' an entity, no '>' loose inside a tag's
 * quoted attribute. Fails the test with the offset otherwise. */
static void check_well_formed(const char *s)
{
    const char *stack[512];
    size_t len[512], depth = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            const char *semi = strchr(p, ';');
            assert_non_null(semi);
            assert_true(semi - p <= 8);
            assert_true(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4) ||
                        !strncmp(p, "&gt;", 4) || !strncmp(p, "&quot;", 6) ||
                        !strncmp(p, "&#", 2) || !strncmp(p, "&apos;", 6));
            p++;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (!strncmp(p, "<!--", 4)) {
            p = strstr(p, "-->");
            assert_non_null(p);
            continue;
        }
        if (!strncmp(p, "<!DOCTYPE", 9)) {
            p = strchr(p, '>');
            assert_non_null(p);
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t nl = strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-:");
        if (nl == 0)
            fail_msg("'<' that starts no tag at offset %ld", (long)(p - s));
        /* The end of the tag, skipping quoted attribute values. */
        const char *q = name + nl;
        char quote = 0;
        while (*q && (quote || *q != '>')) {
            if (quote && *q == quote)
                quote = 0;
            else if (!quote && (*q == '"' || *q == '\''))
                quote = *q;
            else if (quote && (*q == '<' || *q == '>'))
                fail_msg("unescaped '%c' in an attribute at offset %ld", *q, (long)(q - s));
            q++;
        }
        assert_true(*q == '>');
        int self = q[-1] == '/';
        if (closing) {
            if (depth == 0 || len[depth - 1] != nl || strncmp(stack[depth - 1], name, nl))
                fail_msg("</%.*s> at offset %ld does not close <%.*s>", (int)nl, name,
                         (long)(p - s), depth ? (int)len[depth - 1] : 0,
                         depth ? stack[depth - 1] : "");
            depth--;
        } else if (!self && !is_void(name, nl)) {
            assert_true(depth < 512);
            stack[depth] = name, len[depth++] = nl;
            /* Raw text elements: skip to their end tag. */
            if (nl == 5 && !strncmp(name, "style", 5)) {
                const char *end = strstr(q, "</style>");
                assert_non_null(end);
                q = end - 1;
            }
        }
        p = q + 1;
    }
    if (depth != 0)
        fail_msg("%zu elements left open, innermost <%.*s>", depth, (int)len[depth - 1],
                 stack[depth - 1]);
}

/* ---- reading numbers back ---------------------------------------------- */

/* The start of element id="id" (its '<'), or fail. */
static const char *find_id(const char *page, const char *id)
{
    char key[128];
    snprintf(key, sizeof key, "id=\"%s\"", id);
    const char *p = strstr(page, key);
    if (!p)
        fail_msg("no element with %s", key);
    while (p > page && *p != '<')
        p--;
    return p;
}

/* The numbers of attribute `name` in the tag starting at tag (a space
 * separated list); returns how many (at most max). */
static size_t attr_list(const char *tag, const char *name, double *out, size_t max)
{
    const char *end = strchr(tag, '>');
    char key[128];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(tag, key);
    if (!p || p > end)
        fail_msg("attribute %s missing", name);
    p += strlen(key);
    size_t n = 0;
    while (*p != '"' && n < max) {
        char *e;
        out[n++] = strtod(p, &e);
        assert_true(e != p);
        p = e;
        while (*p == ' ')
            p++;
    }
    return n;
}

/* The end of the element starting at `start` whose end tag is `close`. */
static const char *element_end(const char *start, const char *close)
{
    const char *e = strstr(start, close);
    assert_non_null(e);
    return e;
}

/* Every data-value="..." number in [from, to). */
static size_t values_in(const char *from, const char *to, double *out, size_t max)
{
    size_t n = 0;
    for (const char *p = strstr(from, "data-value=\""); p && p < to && n < max;
         p = strstr(p + 1, "data-value=\"")) {
        char *e;
        double v = strtod(p + 12, &e);
        if (e != p + 12)
            out[n++] = v;
    }
    return n;
}

static double ipw_arm_value(const fixture *f, int arm)
{
    double sw = 0, swy = 0;
    for (int i = 0; i < N; i++) {
        if (f->t[i] != arm)
            continue;
        double e = fmin(fmax(f->prop[arm * N + i], 0.05), 0.95);
        sw += 1 / e, swy += f->y[i] / e;
    }
    return swy / sw;
}

/* ---- tests --------------------------------------------------------------- */

static void test_page_structure(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char *page = write_page(f);
    check_well_formed(page);
    const char *headings[] = {"<h2>The run</h2>", "<h2>Caveats</h2>", "<h2>Winner</h2>",
                              "<h2>Leaderboard</h2>", "<h2>Plots</h2>",
                              "<h2>Nuisance models</h2>"};
    for (size_t i = 0; i < sizeof headings / sizeof headings[0]; i++)
        assert_non_null(strstr(page, headings[i]));
    /* The contents list links every section. */
    const char *anchors[] = {"#run", "#caveats", "#winner", "#leaderboard", "#plots",
                             "#nuisances"};
    for (size_t i = 0; i < 6; i++) {
        char key[64];
        snprintf(key, sizeof key, "href=\"%s\"", anchors[i]);
        assert_non_null(strstr(page, key));
    }
    /* Self-contained: no script, no external reference but the SVG namespace. */
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<SCRIPT"));
    assert_null(strstr(page, "@import"));
    assert_null(strstr(page, "url("));
    assert_null(strstr(page, "<link"));
    for (const char *p = strstr(page, "http"); p; p = strstr(p + 1, "http"))
        assert_true(!strncmp(p, "http://www.w3.org/2000/svg\"", 27));
    assert_non_null(strstr(page, "<svg"));
    assert_non_null(strstr(page, "<style>"));
    /* Every plot of a binary run with pseudo-outcomes is drawn. */
    const char *plots[] = {"plot-time", "plot-scores", "plot-qini-1", "plot-hist-1",
                           "plot-calibration-1", "plot-policy", "plot-overlap-1"};
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
        const char *fig = find_id(page, plots[i]);
        assert_non_null(strstr(fig, "<svg"));
        assert_true(strstr(fig, "<svg") < strstr(fig, "</figure>"));
    }
    /* Caveats computed from the data. */
    assert_non_null(strstr(page, "Weak overlap"));
    assert_non_null(strstr(page, "Oracle figures"));
    free(page);
    free_fixture(f);
}

static void test_escaping(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char *page = write_page(f);
    assert_null(strstr(page, "<b>"));
    assert_null(strstr(page, "<script>alert"));
    assert_null(strstr(page, "x<2>"));
    assert_non_null(strstr(page, "&lt;b&gt;&amp;&quot;x"));
    assert_non_null(strstr(page, "x&lt;2&gt;"));
    assert_non_null(strstr(page, "fit: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;boom"));
    free(page);
    free_fixture(f);
}

/* Each leaderboard row's numbers are its trial's results.json numbers. */
static void check_row(const char *table, const char *table_end, const cJSON *trial)
{
    char key[128];
    snprintf(key, sizeof key, "data-estimator=\"%s\"",
             cJSON_GetObjectItem(trial, "estimator")->valuestring);
    const char *row = strstr(table, key);
    assert_non_null(row);
    assert_true(row < table_end);
    const char *row_end = element_end(row, "</tr>");
    double v[128];
    size_t n = values_in(row, row_end, v, 128);
    const char *groups[] = {"scores", "oracle"};
    for (size_t g = 0; g < 2; g++) {
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(trial, groups[g]))
        {
            if (!cJSON_IsNumber(s))
                continue;
            int found = 0;
            for (size_t i = 0; i < n; i++)
                found |= v[i] == s->valuedouble;
            if (!found)
                fail_msg("%s %s = %.17g not in the row", key, s->string, s->valuedouble);
        }
    }
    const char *obj = strstr(row, "class=\"num obj\" data-value=\"");
    assert_true(obj && obj < row_end);
    assert_true(strtod(obj + 28, NULL) == cJSON_GetObjectItem(trial, "objective")->valuedouble);
}

static void test_leaderboard_numbers(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char *page = write_page(f);
    const char *table = find_id(page, "leaderboard");
    const char *end = element_end(table, "</table>");
    const cJSON *trials = f->trials_json;
    /* Best per estimator: trial 4 for s_learner (not 2), trial 1 for dim. */
    check_row(table, end, cJSON_GetArrayItem(trials, 3));
    check_row(table, end, cJSON_GetArrayItem(trials, 0));
    const char *s = strstr(table, "data-estimator=\"s_learner\"");
    const char *d = strstr(table, "data-estimator=\"diff_in_means\"");
    assert_true(s < d); /* ranked by the objective, minimised */
    const char *t = strstr(table, "data-estimator=\"t_learner\"");
    assert_true(t == NULL || t > end); /* no successful trial: not ranked */
    /* The objective column's header is highlighted too. */
    const char *th = strstr(table, "<th class=\"num obj\"");
    assert_true(th && th < end && strstr(th, "psw_energy") < strstr(th, "</th>"));
    /* The failures table names the estimator that never succeeded. */
    const char *fail = find_id(page, "failures");
    const char *fail_end = element_end(fail, "</table>");
    const char *tl = strstr(fail, "t_learner");
    assert_true(tl && tl < fail_end);
    /* The winner's average effect and interval, exactly. */
    const char *ae = find_id(page, "average-effect");
    double v[8];
    size_t n = values_in(ae, element_end(ae, "</table>"), v, 8);
    assert_int_equal(n, 3);
    assert_true(v[0] == 0.9010295207830072);
    assert_true(v[1] == 0.800558604619688);
    assert_true(v[2] == 1.0015004369463265);
    /* Nuisance diagnostics from results.json. */
    const char *nu = find_id(page, "nuisance-table");
    n = values_in(nu, element_end(nu, "</table>"), v, 8);
    assert_true(n >= 3);
    assert_true(v[0] == 0.6053707165569242);
    free(page);
    free_fixture(f);
}

static void test_calibration_plot(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char *page = write_page(f);
    const char *fig = find_id(page, "plot-calibration-1");
    double tm[16], pm[16];
    assert_int_equal(attr_list(fig, "data-tau-mean", tm, 16), 10);
    assert_int_equal(attr_list(fig, "data-pseudo-mean", pm, 16), 10);
    /* Brute force: a row's decile is 10 * rank / n, rank = rows before it in
     * ascending tau (ties by row). */
    double st[10] = {0}, sp[10] = {0};
    int cnt[10] = {0};
    for (int i = 0; i < N; i++) {
        int rank = 0;
        for (int j = 0; j < N; j++)
            rank += f->tau0[j] < f->tau0[i] || (f->tau0[j] == f->tau0[i] && j < i);
        int d = rank * 10 / N;
        st[d] += f->tau0[i], sp[d] += f->pseudo[i], cnt[d]++;
    }
    for (int d = 0; d < 10; d++) {
        assert_int_equal(cnt[d], N / 10);
        assert_true(fabs(tm[d] - st[d] / cnt[d]) < 1e-12);
        assert_true(fabs(pm[d] - sp[d] / cnt[d]) < 1e-12);
    }
    free(page);
    free_fixture(f);
}

static void test_histograms(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char *page = write_page(f);
    const char *fig = find_id(page, "plot-hist-1");
    double c[64], total = 0;
    size_t nb = attr_list(fig, "data-counts", c, 64);
    for (size_t i = 0; i < nb; i++)
        total += c[i];
    assert_true(total == N);
    /* The bars drawn carry the same counts. */
    double bars[64], bar_total = 0;
    size_t nbar = values_in(fig, element_end(fig, "</figure>"), bars, 64);
    for (size_t i = 0; i < nbar; i++)
        bar_total += bars[i];
    assert_int_equal(nbar, nb);
    assert_true(bar_total == N);
    /* Overlap: the counts of each arm sum to that arm's rows. */
    fig = find_id(page, "plot-overlap-1");
    double c0[64], c1[64], s0 = 0, s1 = 0, n1 = 0;
    size_t k0 = attr_list(fig, "data-counts-control", c0, 64);
    size_t k1 = attr_list(fig, "data-counts-treated", c1, 64);
    for (size_t i = 0; i < k0; i++)
        s0 += c0[i];
    for (size_t i = 0; i < k1; i++)
        s1 += c1[i];
    for (int i = 0; i < N; i++)
        n1 += f->t[i];
    assert_true(s1 == n1 && s0 == N - n1);
    free(page);
    free_fixture(f);
}

static void test_policy_and_qini(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char *page = write_page(f);
    const char *fig = find_id(page, "plot-policy");
    double share[32], v[32];
    assert_int_equal(attr_list(fig, "data-shares", share, 32), 21);
    assert_int_equal(attr_list(fig, "data-value-arm-1", v, 32), 21);
    /* Share 0 treats nobody; share 1 treats everyone and pays cost 0.1. */
    assert_true(share[0] == 0 && fabs(share[20] - 1) < 1e-12);
    assert_true(fabs(v[0] - ipw_arm_value(f, 0)) < 1e-12);
    assert_true(fabs(v[20] - (ipw_arm_value(f, 1) - 0.1)) < 1e-12);
    /* Share 1/2: the 200 rows of highest tau are treated. */
    double sw = 0, swy = 0;
    for (int i = 0; i < N; i++) {
        int rank = 0;
        for (int j = 0; j < N; j++)
            rank += f->tau0[j] > f->tau0[i];
        int arm = rank < N / 2;
        if (f->t[i] != arm)
            continue;
        double e = fmin(fmax(f->prop[arm * N + i], 0.05), 0.95);
        sw += 1 / e, swy += f->y[i] / e;
    }
    assert_true(fabs(v[10] - (swy / sw - 0.5 * 0.1)) < 1e-12);

    /* Qini of the winner at k = 4 j rows (exact group ends: distinct tau). */
    fig = find_id(page, "plot-qini-1");
    double q[128];
    assert_int_equal(attr_list(fig, "data-q", q, 128), 101);
    for (int j = 0; j <= 100; j += 25) {
        int k = 4 * j;
        double yt = 0, yc = 0, nt = 0, nc = 0;
        for (int i = 0; i < N; i++) {
            int rank = 0;
            for (int r = 0; r < N; r++)
                rank += f->tau0[r] > f->tau0[i];
            if (rank >= k)
                continue;
            if (f->t[i])
                yt += f->y[i], nt++;
            else
                yc += f->y[i], nc++;
        }
        double want = nc > 0 ? yt - yc * nt / nc : 0;
        assert_true(fabs(q[j] - want) < 1e-9);
    }
    free(page);
    free_fixture(f);
}

/* A constant tau is one group: the Qini curve is the straight line. */
static void test_qini_ties(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    double c[N], x[11], q[11];
    for (int i = 0; i < N; i++)
        c[i] = 1.5;
    size_t m = 0;
    assert_int_equal(tt_report_qini_curve(N, f->t, f->y, c, 1, 11, x, q, &m), TT_OK);
    assert_int_equal(m, N);
    for (int j = 0; j <= 10; j++)
        assert_true(fabs(q[j] - x[j] * q[10]) < 1e-9);
    free_fixture(f);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_summary(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    char err[256] = "";
    assert_int_equal(tt_report_write_summary(f->dir, &f->in, err, sizeof err), TT_OK);
    char *md = read_file(f->dir, "summary.md");
    assert_true(count_lines(md) < 60);
    assert_non_null(strstr(md, "\n**Winner: s_learner** (trial 4): its own average effect "
                               "(validation rows) 0.90103 [0.800559, 1.0015]"));
    assert_non_null(strstr(md, "psw_energy (lower is better) = 0.0265269"));
    assert_non_null(strstr(md, "| 1 | s_learner | 4 | 0.0265269 |"));
    assert_non_null(strstr(md, "| 2 | diff_in_means | 1 | 0.0915322 |"));
    assert_non_null(strstr(md, "\n**No successful trial:** t_learner (errors"));
    assert_non_null(strstr(md, "## Caveats"));
    assert_non_null(strstr(md, "Weak overlap"));
    free(md);
    free_fixture(f);
}

/* No trial succeeded: the page still has the run facts and the failures. */
static void test_no_winner(void **state)
{
    (void)state;
    fixture *f = make_fixture(2);
    cJSON *r = f->results;
    cJSON_ReplaceItemInObject(r, "best", cJSON_CreateNull());
    cJSON_DeleteItemFromObject(r, "winner");
    for (int i = 0; i < N_TRIALS; i++) {
        tt_trial_result *tr = &f->trials[i];
        if (tr->status == TT_TRIAL_OK) {
            tr->status = TT_TRIAL_FAILED;
            tt_trial_set_error(tr, "worker: signal 11 <SEGV>");
            tr->objective = NAN;
        }
    }
    f->in.n_top = 0;
    f->in.pseudo = NULL;
    char *page = write_page(f);
    check_well_formed(page);
    assert_non_null(strstr(page, "<h2>Winner</h2>"));
    assert_non_null(strstr(page, "No winner"));
    assert_non_null(strstr(page, "No trial succeeded"));
    assert_non_null(strstr(page, "worker: signal 11 &lt;SEGV&gt;"));
    const char *fail = find_id(page, "failures");
    const char *end = element_end(fail, "</table>");
    const char *names[] = {"diff_in_means", "s_learner", "t_learner"};
    for (size_t i = 0; i < 3; i++) {
        const char *p = strstr(fail, names[i]);
        assert_true(p && p < end);
    }
    char err[256] = "";
    assert_int_equal(tt_report_write_summary(f->dir, &f->in, err, sizeof err), TT_OK);
    char *md = read_file(f->dir, "summary.md");
    assert_non_null(strstr(md, "**Winner: none**"));
    assert_non_null(strstr(md, "**No successful trial:** diff_in_means, s_learner, t_learner "));
    assert_true(count_lines(md) < 60);
    free(md);
    free(page);
    free_fixture(f);
}

/* Three arms: per-arm plots for both treated arms, still well-formed. */
static void test_three_arms(void **state)
{
    (void)state;
    fixture *f = make_fixture(3);
    char *page = write_page(f);
    check_well_formed(page);
    const char *ids[] = {"plot-qini-1", "plot-qini-2", "plot-hist-2", "plot-calibration-2",
                         "plot-overlap-2"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        find_id(page, ids[i]);
    const char *fig = find_id(page, "plot-policy");
    double v1[32], v2[32];
    assert_int_equal(attr_list(fig, "data-value-arm-1", v1, 32), 21);
    assert_int_equal(attr_list(fig, "data-value-arm-2", v2, 32), 21);
    assert_true(fabs(v1[0] - ipw_arm_value(f, 0)) < 1e-12);
    assert_true(fabs(v2[0] - ipw_arm_value(f, 0)) < 1e-12);
    assert_true(fabs(v2[20] - (ipw_arm_value(f, 2) - 0.3)) < 1e-12);
    /* The greedy policy's shares add up to 1. */
    const char *sh = find_id(page, "policy-shares");
    double v[16], total = 0;
    size_t n = values_in(sh, element_end(sh, "</table>"), v, 16);
    assert_int_equal(n, 6); /* cost and share per arm */
    for (size_t i = 1; i < n; i += 2)
        total += v[i];
    assert_true(fabs(total - 1) < 1e-12);
    free(page);
    free_fixture(f);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char err[256] = "";
    tt_report_input in = {0};
    assert_int_equal(tt_report_write_html("/tmp", &in, err, sizeof err), TT_ERR_INVALID);
    assert_true(strlen(err) > 0);
    fixture *f = make_fixture(2);
    assert_int_equal(tt_report_write_html("/nonexistent/dir", &f->in, err, sizeof err),
                     TT_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/dir"));
    free_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_structure),   cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_leaderboard_numbers), cmocka_unit_test(test_calibration_plot),
        cmocka_unit_test(test_histograms),       cmocka_unit_test(test_policy_and_qini),
        cmocka_unit_test(test_qini_ties),        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_no_winner),        cmocka_unit_test(test_three_arms),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
