/*
 * check_results.c - asserts on a run folder for the end-to-end test.
 *   check_results RUN_DIR quickstart         the quickstart run's results
 *   check_results RUN_DIR plugin NAME        NAME ran and succeeded at least once
 *   check_results RUN_DIR csv                the CSV run (string arms, randomized)
 *   check_results RUN_DIR interrupted        a run stopped by SIGINT
 *   check_results RUN_DIR same_scores F.json the winner's scores equal `tautune score`'s
 *   check_results RUN_DIR nuisance           plugins on the host's nuisance models
 *   check_results RUN_DIR winner PRED.csv    the refitted winner's outputs, and `tautune
 *                                            predict`'s PRED.csv equal to its cate.csv
 *   check_results RUN_DIR winner_oob PRED.csv  the same for a causal forest winner, and its
 *                                            out-of-bag average effect (ABI 1.4) near the
 *                                            true ATE 1 of the e2e's obs.csv
 *   check_results RUN_DIR budget SECONDS     the search (the run less the winner's refit)
 *                                            and every trial ended within SECONDS
 *   check_results RUN_DIR refit EST STEP FALLBACK N
 *                                            a run (metric pehe) whose winner EST failed its
 *                                            refit at STEP: N refit_failures, and the winner
 *                                            object names FALLBACK (with fallback_from, effects
 *                                            and model) or, for "none", the search's winner
 *                                            without effects or model
 * Every mode also checks that trials carry only active learner-slot
 * parameters (ABI 1.5 conditions: a ridge slot has no _trees, ...).
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

/* A learner slot's parameter suffixes and the learners under which each
 * counts (plugins/common/pu_slot.h). */
static const struct {
    const char *suffix, *learners;
} slot_conditions[] = {
    {"_alpha", " ridge "},          {"_trees", " forest gbm "},
    {"_depth", " gbm "},            {"_min_leaf", " forest gbm "},
    {"_learning_rate", " gbm "},    {"_featurizer", " ridge lasso "},
};

/* params holds a slot's parameter exactly when its learner uses it. */
static void check_slot_params(const cJSON *params, const char *where, double id)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, params) {
        size_t len = strlen(item->string);
        if (len <= 8 || strcmp(item->string + len - 8, "_learner") != 0 || !cJSON_IsString(item))
            continue;
        char want[80];
        snprintf(want, sizeof want, " %s ", item->valuestring);
        for (size_t k = 0; k < sizeof slot_conditions / sizeof slot_conditions[0]; k++) {
            char key[160];
            snprintf(key, sizeof key, "%.*s%s", (int)(len - 8), item->string,
                     slot_conditions[k].suffix);
            int shown = cJSON_GetObjectItemCaseSensitive(params, key) != NULL;
            int active = strstr(slot_conditions[k].learners, want) != NULL;
            CHECK(shown == active, "%s trial %g: %s is %s but %s=%s", where, id, key,
                  shown ? "shown" : "missing", item->string, item->valuestring);
        }
    }
}

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

/* A small CSV of our own writing (no quoted fields): header names and rows
 * of text cells. */
typedef struct table {
    int n_cols, n_rows;
    char *names[64];
    char **cells; /* n_rows * n_cols */
    char *text;
} table;

static int table_read(const char *path, table *t)
{
    memset(t, 0, sizeof *t);
    t->text = slurp(path);
    if (!t->text)
        return -1;
    int cap = 1024, header = 1;
    t->cells = malloc(sizeof *t->cells * (size_t)cap);
    char *save = NULL;
    for (char *line = strtok_r(t->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *cell[64];
        int n = 0;
        for (char *c = line; n < 64;) {
            cell[n++] = c;
            char *comma = strchr(c, ',');
            if (!comma)
                break;
            *comma = '\0';
            c = comma + 1;
        }
        if (header) {
            memcpy(t->names, cell, sizeof *cell * (size_t)n);
            t->n_cols = n;
            header = 0;
            continue;
        }
        if (n != t->n_cols)
            return -1;
        if ((t->n_rows + 1) * n > cap) {
            cap *= 2;
            t->cells = realloc(t->cells, sizeof *t->cells * (size_t)cap);
        }
        memcpy(t->cells + t->n_rows * n, cell, sizeof *cell * (size_t)n);
        t->n_rows++;
    }
    return t->n_cols > 0 ? 0 : -1;
}

static int table_col(const table *t, const char *name)
{
    for (int j = 0; j < t->n_cols; j++)
        if (!strcmp(t->names[j], name))
            return j;
    return -1;
}

static void table_free(table *t)
{
    free(t->cells);
    free(t->text);
}

/* The winner object, and predict's output equal to the run's cate.csv for
 * every row they share (by row number), to 1e-12. */
static void check_winner(const char *dir, const cJSON *root, const cJSON *best, const char *pred)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "winner");
    CHECK(cJSON_IsObject(w), "results.json has no winner");
    CHECK(!strcmp(str(w, "estimator"), str(best, "estimator")), "winner %s is not best %s",
          str(w, "estimator"), str(best, "estimator"));
    CHECK(!strcmp(str(w, "model"), "model.ttm") && !strcmp(str(w, "effects"), "cate.csv"),
          "winner lacks model.ttm or cate.csv");
    const cJSON *avg = cJSON_GetObjectItemCaseSensitive(w, "average_effect");
    CHECK(strlen(str(avg, "interval_method")) > 0, "average effect without interval_method");
    const cJSON *arm;
    cJSON_ArrayForEach(arm, cJSON_GetObjectItemCaseSensitive(avg, "arms")) {
        double e = num(arm, "estimate"), lo = num(arm, "lo"), hi = num(arm, "hi");
        CHECK(lo < e && e < hi, "average effect %g outside its interval [%g, %g]", e, lo, hi);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/cate.csv", dir);
    table run, got;
    CHECK(table_read(path, &run) == 0, "cannot read %s", path);
    CHECK(table_read(pred, &got) == 0, "cannot read %s", pred);
    int rr = table_col(&run, "row"), gr = table_col(&got, "row");
    int compared = 0;
    double worst = 0;
    for (int j = 0; j < run.n_cols; j++) {
        const char *name = run.names[j];
        if (strncmp(name, "tau_", 4) && strncmp(name, "lo_", 3) && strncmp(name, "hi_", 3))
            continue;
        int gj = table_col(&got, name);
        CHECK(gj >= 0, "%s has no column %s", pred, name);
        if (gj < 0)
            continue;
        /* Rows are in file order in both; the run may have dropped some. */
        int g = 0;
        for (int i = 0; i < run.n_rows; i++) {
            long row = atol(run.cells[i * run.n_cols + rr]);
            while (g < got.n_rows && atol(got.cells[g * got.n_cols + gr]) < row)
                g++;
            CHECK(g < got.n_rows && atol(got.cells[g * got.n_cols + gr]) == row,
                  "row %ld of cate.csv is not in %s", row, pred);
            if (g >= got.n_rows)
                break;
            double a = atof(run.cells[i * run.n_cols + j]);
            double b = atof(got.cells[g * got.n_cols + gj]);
            worst = fmax(worst, fabs(a - b) / fmax(1.0, fabs(a)));
            compared++;
        }
    }
    CHECK(compared > 0 && worst <= 1e-12, "predict vs cate.csv: %d cells, worst relative "
          "difference %g", compared, worst);
    printf("check_results: winner %s, predict == cate.csv on %d cells (worst %g)\n",
           str(w, "estimator"), compared, worst);
    table_free(&run);
    table_free(&got);
}

/* winner.average_effect_oob of a binary causal forest: its fields, the
 * interval est -+ z_{0.975} se, and the estimate within 4 se of the true
 * average effect (obs.csv: tau = 1 + x1, x1 ~ U(-1, 1), so 1). */
static void check_refit(const cJSON *root, const cJSON *best, char **arg)
{
    const char *est = arg[0], *step = arg[1], *fallback = arg[2];
    int n = atoi(arg[3]);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "winner");
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(w, "refit_failures");
    const cJSON *first = cJSON_GetArrayItem(fails, 0);
    CHECK(!strcmp(str(best, "estimator"), est), "the search's best is %s, not %s",
          str(best, "estimator"), est);
    CHECK(cJSON_GetArraySize(fails) == n, "%d refit_failures, expected %d",
          cJSON_GetArraySize(fails), n);
    CHECK(!strcmp(str(first, "estimator"), est) && !strcmp(str(first, "step"), step) &&
              num(first, "trial") == num(best, "trial") && strlen(str(first, "error")) > 0,
          "first refit failure is %s at %s (trial %g), expected %s at %s (trial %g)",
          str(first, "estimator"), str(first, "step"), num(first, "trial"), est, step,
          num(best, "trial"));
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(w, "fallback_from");
    if (!strcmp(fallback, "none")) {
        CHECK(!from, "fallback_from without a fallback");
        CHECK(!strcmp(str(w, "estimator"), est) && num(w, "trial") == num(best, "trial"),
              "winner names %s (trial %g), not the search's winner", str(w, "estimator"),
              num(w, "trial"));
        CHECK(!cJSON_GetObjectItemCaseSensitive(w, "model") &&
                  !cJSON_GetObjectItemCaseSensitive(w, "effects"),
              "a winner with effects or a model although no refit worked");
    } else {
        CHECK(cJSON_IsObject(from) && !strcmp(str(from, "estimator"), est) &&
                  !strcmp(str(from, "step"), step),
              "fallback_from is not %s at %s", est, step);
        CHECK(!strcmp(str(w, "estimator"), fallback), "winner names %s, not the fallback %s",
              str(w, "estimator"), fallback);
        CHECK(!strcmp(str(w, "model"), "model.ttm") && !strcmp(str(w, "effects"), "cate.csv"),
              "the fallback has no model or effects");
        CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(w, "average_effect")),
              "the fallback has no average_effect");
    }
}

static void check_oob(const cJSON *root)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "winner");
    const cJSON *oob = cJSON_GetObjectItemCaseSensitive(w, "average_effect_oob");
    CHECK(cJSON_IsObject(oob), "the winner has no average_effect_oob");
    /* From the model handed on: every row's after the final fit (the
     * default), the training rows' with final_fit = "train". */
    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(w, "final_fit");
    const char *want = !strcmp(str(ff, "rows"), "all") ? "all (out-of-bag)"
                                                       : "training (out-of-bag)";
    CHECK(!strcmp(str(oob, "rows"), want), "average_effect_oob.rows is '%s', not '%s'",
          str(oob, "rows"), want);
    CHECK(num(oob, "alpha") == 0.05, "average_effect_oob.alpha is %g", num(oob, "alpha"));
    CHECK(strstr(str(oob, "method"), "out-of-bag") != NULL, "average_effect_oob.method is '%s'",
          str(oob, "method"));
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(oob, "arms");
    CHECK(cJSON_GetArraySize(arms) == 1, "average_effect_oob has %d arms, not 1",
          cJSON_GetArraySize(arms));
    const cJSON *a = cJSON_GetArrayItem(arms, 0);
    double e = num(a, "estimate"), se = num(a, "se"), lo = num(a, "lo"), hi = num(a, "hi");
    CHECK(!strcmp(str(a, "arm"), "treat"), "average_effect_oob arm is '%s'", str(a, "arm"));
    CHECK(se > 0 && fabs(lo - (e - 1.959963984540054 * se)) < 1e-9 &&
              fabs(hi - (e + 1.959963984540054 * se)) < 1e-9,
          "average_effect_oob: [%g, %g] is not %g -+ 1.96 x %g", lo, hi, e, se);
    CHECK(fabs(e - 1.0) < 4 * se, "average_effect_oob %g (se %g) is far from the true 1", e, se);
    printf("check_results: out-of-bag average effect %.4f (se %.4f), true 1\n", e, se);
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
    /* The quickstart data are confounded: "auto" must pick dr_mse; the
     * CSV run says randomized, so plain energy. */
    const char *want_metric = !strcmp(argv[2], "csv") || !strcmp(argv[2], "same_scores")
                                  ? "energy" : !strcmp(argv[2], "refit") ? "pehe" : "dr_mse";
    CHECK(strcmp(str(root, "metric"), want_metric) == 0, "metric is %s, not %s",
          str(root, "metric"), want_metric);
    const char *want_status = !strcmp(argv[2], "interrupted") ? "interrupted" : "complete";
    /* quickstart_like: a completed run on confounded synthetic data. */
    CHECK(strcmp(str(root, "status"), want_status) == 0, "status is %s, not %s",
          str(root, "status"), want_status);
    CHECK(strcmp(str(root, "direction"), "min") == 0, "direction is not min");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    /* One holdout splits the rows; K folds score every row out of fold
     * (train_rows: fold 0's training part). */
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(data, "validation");
    if (val && strcmp(str(val, "kind"), "cross-validated") == 0) {
        CHECK(num(data, "rows") == num(data, "validation_rows"),
              "cross-validated: rows != validation_rows");
        CHECK(num(val, "folds") >= 2, "cross-validated with fewer than 2 folds");
        CHECK(num(data, "train_rows") < num(data, "rows"), "cross-validated: train_rows >= rows");
    } else {
        CHECK(val && strcmp(str(val, "kind"), "holdout") == 0, "data.validation.kind missing");
        CHECK(num(data, "rows") == num(data, "train_rows") + num(data, "validation_rows"),
              "rows != train_rows + validation_rows");
    }
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
        if (t)
            check_slot_params(cJSON_GetObjectItemCaseSensitive(t, "params"), "trials.jsonl",
                              num(t, "id"));
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
        check_slot_params(cJSON_GetObjectItemCaseSensitive(t, "params"), "results.json",
                          num(t, "id"));
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
    } else if (!strcmp(argv[2], "winner") && argc > 3) {
        check_winner(argv[1], root, best, argv[3]);
    } else if (!strcmp(argv[2], "winner_oob") && argc > 3) {
        check_winner(argv[1], root, best, argv[3]);
        check_oob(root);
    } else if (!strcmp(argv[2], "budget") && argc > 3) {
        /* The budget bounds the search; the winner's refit (a bootstrap winner
         * refits B times for its intervals) follows it and is timed apart. */
        const double limit = atof(argv[3]);
        const cJSON *win = cJSON_GetObjectItemCaseSensitive(root, "winner");
        const double search = num(root, "elapsed_seconds") - num(win, "seconds");
        CHECK(search <= limit, "the search took %g s (run %g s, winner refit %g s), limit %g s",
              search, num(root, "elapsed_seconds"), num(win, "seconds"), limit);
        const cJSON *trial;
        cJSON_ArrayForEach(trial, cJSON_GetObjectItemCaseSensitive(root, "trials"))
            CHECK(num(trial, "finished_seconds") <= limit, "trial %g finished at %g s, limit %g s",
                  num(trial, "id"), num(trial, "finished_seconds"), limit);
    } else if (!strcmp(argv[2], "refit") && argc > 6) {
        check_refit(root, best, argv + 3);
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
