/*
 * check_results.c - asserts on a run folder for the end-to-end test.
 *   check_results RUN_DIR quickstart         the quickstart run's results
 *   check_results RUN_DIR plugin NAME        NAME ran and succeeded at least once
 *   check_results RUN_DIR csv                the CSV run (string arms, randomized)
 *   check_results RUN_DIR interrupted        a run stopped by SIGINT
 *   check_results RUN_DIR same_scores F.json the winner's scores equal `tautune score`'s
 *   check_results RUN_DIR nuisance           plugins on the host's nuisance models
 * Exits non-zero with a message on the first failed check.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static int failures;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "check_results: " __VA_ARGS__); \
            fputc('\n', stderr);                           \
            failures++;                                    \
        }                                                  \
    } while (0)

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, fp) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[len] = '\0';
    fclose(fp);
    return buf;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: check_results RUN_DIR quickstart|plugin NAME\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/results.json", argv[1]);
    char *text = slurp(path);
    if (!text) {
        fprintf(stderr, "check_results: cannot read %s\n", path);
        return 1;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root) {
        fprintf(stderr, "check_results: %s is not valid JSON\n", path);
        return 1;
    }
    CHECK(num(root, "schema_version") == 1, "schema_version is not 1");
    CHECK(strlen(str(root, "tautune_version")) > 0, "no tautune_version");
    /* The quickstart data are confounded: "auto" must pick psw_energy; the
     * CSV run says randomized, so plain energy. */
    const char *want_metric = !strcmp(argv[2], "csv") || !strcmp(argv[2], "same_scores")
                                  ? "energy" : "psw_energy";
    CHECK(strcmp(str(root, "metric"), want_metric) == 0, "metric is %s, not %s",
          str(root, "metric"), want_metric);
    const char *want_status = !strcmp(argv[2], "interrupted") ? "interrupted" : "complete";
    /* quickstart_like: a completed run on confounded synthetic data. */
    CHECK(strcmp(str(root, "status"), want_status) == 0, "status is %s, not %s",
          str(root, "status"), want_status);
    CHECK(strcmp(str(root, "direction"), "min") == 0, "direction is not min");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    CHECK(num(data, "rows") == num(data, "train_rows") + num(data, "validation_rows"),
          "rows != train_rows + validation_rows");
    CHECK(num(data, "arms") == 2, "arms is not 2");

    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(root, "trials");
    CHECK(cJSON_IsArray(trials) && cJSON_GetArraySize(trials) > 0, "no trials");

    /* trials.jsonl has one parseable line per trial in results.json. */
    snprintf(path, sizeof path, "%s/trials.jsonl", argv[1]);
    char *lines = slurp(path);
    int n_lines = 0;
    for (char *line = lines ? strtok(lines, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        cJSON *t = cJSON_Parse(line);
        CHECK(t != NULL, "trials.jsonl line %d is not JSON", n_lines + 1);
        cJSON_Delete(t);
        n_lines++;
    }
    free(lines);
    CHECK(n_lines == cJSON_GetArraySize(trials), "trials.jsonl has %d lines, results.json %d trials",
          n_lines, cJSON_GetArraySize(trials));

    double dim_best_pehe = INFINITY;
    int plugin_ok = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, trials) {
        const char *status = str(t, "status");
        CHECK(!strcmp(status, "ok") || !strcmp(status, "failed") || !strcmp(status, "timeout"),
              "trial %g has status '%s'", num(t, "id"), status);
        const char *est = str(t, "estimator");
        const cJSON *oracle = cJSON_GetObjectItemCaseSensitive(t, "oracle");
        if (!strcmp(est, "diff_in_means") && !strcmp(status, "ok"))
            dim_best_pehe = fmin(dim_best_pehe, num(oracle, "pehe"));
        if (argc > 3 && !strcmp(est, argv[3]) && !strcmp(status, "ok"))
            plugin_ok = 1;
    }

    const cJSON *best = cJSON_GetObjectItemCaseSensitive(root, "best");
    CHECK(cJSON_IsObject(best), "no best trial");
    if (!cJSON_IsObject(best)) {
        cJSON_Delete(root);
        return 1;
    }
    if (!strcmp(argv[2], "quickstart")) {
        double best_pehe = num(cJSON_GetObjectItemCaseSensitive(best, "oracle"), "pehe");
        CHECK(isfinite(dim_best_pehe), "diff_in_means did not run successfully");
        CHECK(best_pehe < dim_best_pehe, "winner's pehe %g is not below diff_in_means's %g",
              best_pehe, dim_best_pehe);
        printf("check_results: winner %s pehe %.4f < diff_in_means pehe %.4f\n", str(best, "estimator"),
               best_pehe, dim_best_pehe);
    } else if (!strcmp(argv[2], "plugin")) {
        CHECK(argc > 3 && plugin_ok, "plugin %s has no successful trial", argc > 3 ? argv[3] : "?");
    } else if (!strcmp(argv[2], "same_scores") && argc > 3) {
        /* `tautune score` of the winner's effects gives the winner's scores. */
        char *stext = slurp(argv[3]);
        cJSON *sj = stext ? cJSON_Parse(stext) : NULL;
        free(stext);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(best, "scores");
        const cJSON *got = cJSON_GetObjectItemCaseSensitive(sj, "scores");
        CHECK(cJSON_IsObject(got), "%s has no scores", argv[3]);
        int compared = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, want) {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
            if (!strncmp(w->string, "ate_", 4))
                continue; /* interval figures: the run had Welch intervals, the file none */
            CHECK(g != NULL, "score %s missing from %s", w->string, argv[3]);
            if (!g)
                continue;
            if (cJSON_IsNull(w) || cJSON_IsNull(g)) {
                CHECK(cJSON_IsNull(w) == cJSON_IsNull(g), "score %s: null in one only", w->string);
                continue;
            }
            double a = w->valuedouble, b = g->valuedouble;
            CHECK(fabs(a - b) <= 1e-9 * fmax(1.0, fabs(a)), "score %s: run %.17g, score %.17g",
                  w->string, a, b);
            compared++;
        }
        CHECK(compared >= 8, "only %d scores compared", compared);
        cJSON_Delete(sj);
    } else if (!strcmp(argv[2], "nuisance")) {
        /* Plugins on the host's nuisance models: diagnostics are reported, and
         * the doubly robust average effect corrects the confounding that the
         * difference in means suffers. */
        const cJSON *nu = cJSON_GetObjectItemCaseSensitive(root, "nuisances");
        CHECK(cJSON_GetArraySize(nu) == 3, "expected 3 nuisance models (e, mu_0, mu_1)");
        const cJSON *first = cJSON_GetArrayItem(nu, 0);
        CHECK(!strcmp(str(first, "role"), "propensity") && isfinite(num(first, "auc")),
              "the propensity model has no AUC");
        double aipw = NAN, dim = NAN;
        cJSON_ArrayForEach(t, trials) {
            double e = num(cJSON_GetObjectItemCaseSensitive(t, "oracle"), "ate_error");
            if (!strcmp(str(t, "estimator"), "nx_aipw"))
                aipw = e;
            if (!strcmp(str(t, "estimator"), "diff_in_means"))
                dim = e;
        }
        CHECK(aipw < 0.3 && dim > 0.5, "ate_error: aipw %g (want < 0.3), diff_in_means %g", aipw,
              dim);
    } else if (!strcmp(argv[2], "csv")) {
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(data, "arm_labels");
        CHECK(cJSON_GetArraySize(labels) == 2 &&
                  !strcmp(cJSON_GetArrayItem(labels, 0)->valuestring, "ctrl") &&
                  !strcmp(cJSON_GetArrayItem(labels, 1)->valuestring, "treat, B"),
              "arm labels are not [ctrl, \"treat, B\"]");
        CHECK(num(data, "rows") == 800, "rows is not 800");
        /* True effect 1 + x1 with x1 ~ U(-1, 1): the winner's mean is near 1. */
        double ate = num(best, "ate");
        CHECK(fabs(ate - 1.0) < 0.25, "winner's ate %g is far from 1", ate);
    }
    cJSON_Delete(root);
    if (failures)
        fprintf(stderr, "check_results: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
