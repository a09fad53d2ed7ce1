/* cmd_score.c - `tautune score`: effects made elsewhere, scored on our yardstick.
 *
 * The config's data, split and scoring context are built exactly as `tautune
 * run` builds them, so a model from another tool is judged on the same
 * validation rows with the same scoring nuisances as every candidate of a
 * run with the same config and seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/run.h"
#include "cli/help.h"
#include "data/csv.h"
#include "report/results.h"
#include "score/oracle.h"
#include "util/paths.h"

typedef struct score_args {
    run_args run;
    const char *cate, *columns;
} score_args;

static int parse_args(int argc, char **argv, score_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            tt_help_print("score", stdout);
            exit(TT_EXIT_OK);
        }
        if (arg[0] != '-' && !a->run.config) {
            a->run.config = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune score: unknown option or missing value: '%s'\n", arg);
            return -1;
        }
        i++;
        if (!strcmp(arg, "--cate")) {
            a->cate = val;
        } else if (!strcmp(arg, "--columns")) {
            a->columns = val;
        } else if (!strcmp(arg, "--data")) {
            a->run.data = val;
        } else if (!strcmp(arg, "--seed")) {
            char *end;
            unsigned long long v = strtoull(val, &end, 10);
            if (*end || end == val) {
                fprintf(stderr, "tautune score: --seed expects a non-negative integer\n");
                return -1;
            }
            a->run.has_seed = 1;
            a->run.seed = v;
        } else {
            fprintf(stderr, "tautune score: unknown option '%s'\n", arg);
            return -1;
        }
    }
    if (!a->run.config || !a->cate) {
        fprintf(stderr, "tautune score: %s\n", !a->run.config ? "no config given" : "--cate FILE is required");
        return -1;
    }
    a->run.quiet = 1;
    return 0;
}

/* The effect columns of the CATE file, validation rows only: n_valid x (K-1). */
static int read_effects(const score_args *a, const run_state *s, double **out)
{
    char err[1024];
    tt_csv_table *t = NULL;
    if (tt_csv_read(a->cate, &t, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune score: %s\n", err);
        return TT_EXIT_DATA;
    }
    size_t k1 = (size_t)(s->data->n_arms - 1), n_valid = s->split.n_valid;
    long cols[64];
    size_t n_cols = 0;
    int rc = TT_EXIT_OK;
    if (a->columns) {
        char *list = strdup(a->columns), *save = NULL;
        for (char *c = strtok_r(list, ",", &save); c && rc == TT_EXIT_OK; c = strtok_r(NULL, ",", &save)) {
            long j = tt_csv_find(t, c);
            if (j < 0 || n_cols == 64) {
                fprintf(stderr, "tautune score: %s: no column '%s'\n", a->cate, c);
                rc = TT_EXIT_DATA;
            } else {
                cols[n_cols++] = j;
            }
        }
        free(list);
    } else {
        for (size_t j = 0; j < t->n_cols && n_cols < 64; j++)
            cols[n_cols++] = (long)j;
    }
    if (rc == TT_EXIT_OK && n_cols != k1) {
        fprintf(stderr, "tautune score: %s: %zu effect column%s, but the data have %zu treated "
                        "arm%s (one column each; pick them with --columns)\n",
                a->cate, n_cols, n_cols == 1 ? "" : "s", k1, k1 == 1 ? "" : "s");
        rc = TT_EXIT_DATA;
    }
    if (rc == TT_EXIT_OK && t->n_rows != s->data->n) {
        fprintf(stderr, "tautune score: %s has %zu rows; the data (%s) have %zu after the "
                        "config's drops and exclusions: one effect row per data row\n",
                a->cate, t->n_rows, s->data->source, s->data->n);
        rc = TT_EXIT_DATA;
    }
    for (size_t k = 0; rc == TT_EXIT_OK && k < k1; k++) {
        const tt_csv_column *col = &t->cols[cols[k]];
        if (col->kind != TT_CSV_NUMERIC || col->n_missing) {
            fprintf(stderr, "tautune score: %s: column '%s' must be numbers without gaps\n",
                    a->cate, col->name);
            rc = TT_EXIT_DATA;
        }
    }
    double *tau = rc == TT_EXIT_OK ? malloc((n_valid * k1 + 1) * sizeof *tau) : NULL;
    if (rc == TT_EXIT_OK && !tau)
        rc = TT_EXIT_ERROR;
    for (size_t k = 0; rc == TT_EXIT_OK && k < k1; k++)
        for (size_t i = 0; i < n_valid; i++) {
            double v = t->cols[cols[k]].num[s->split.valid[i]];
            if (!isfinite(v)) {
                fprintf(stderr, "tautune score: %s: line %zu, column '%s': %g is not finite\n",
                        a->cate, t->line[s->split.valid[i]], t->cols[cols[k]].name, v);
                rc = TT_EXIT_DATA;
                break;
            }
            tau[k * n_valid + i] = v;
        }
    tt_csv_free(t);
    if (rc != TT_EXIT_OK) {
        free(tau);
        return rc;
    }
    *out = tau;
    return TT_EXIT_OK;
}

static cJSON *values_json(const tt_score_value *v, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < n; i++)
        cJSON_AddItemToObject(o, v[i].name, v[i].is_null || !isfinite(v[i].value)
                                                ? cJSON_CreateNull()
                                                : cJSON_CreateNumber(v[i].value));
    return o;
}

static int score(run_state *s, const score_args *a)
{
    char err[1024];
    int rc;
    if ((rc = tt_cli_load_config(a->run.config, &s->cfg)))
        return rc;
    if (a->run.has_seed)
        s->cfg->seed = a->run.seed;
    s->quiet = 1;
    if ((rc = tt_run_load_data(s, &a->run)) || (rc = tt_run_split(s)) ||
        (rc = tt_run_build_scores(s)))
        return rc;
    double *tau_hat = NULL;
    if ((rc = read_effects(a, s, &tau_hat)))
        return rc;
    tt_score_value scores[64], oracle[4];
    size_t n_scores = 0, n_oracle = 0;
    const tt_config *c = s->cfg;
    if (tt_scores_compute(s->scores, tau_hat, NULL, NULL, (const char *const *)c->scores,
                          c->n_scores, scores, 64, &n_scores, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune score: %s\n", err);
        free(tau_hat);
        return TT_EXIT_DATA;
    }
    const double *tau = s->valid->tau;
    size_t n = s->valid->n;
    int arms = s->data->n_arms;
    if (tau) {
        oracle[n_oracle++] = (tt_score_value){.name = "pehe", .value = tt_oracle_pehe(n, arms, tau_hat, tau)};
        oracle[n_oracle++] = (tt_score_value){.name = "ate_error", .value = tt_oracle_ate_error(n, arms, tau_hat, tau)};
        oracle[n_oracle++] = (tt_score_value){.name = "cate_corr", .value = tt_oracle_cate_corr(n, arms, tau_hat, tau)};
        oracle[n_oracle++] = (tt_score_value){.name = "policy_true", .value = tt_oracle_policy_true(n, arms, tau_hat, tau, s->costs)};
    }
    free(tau_hat);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "cate", a->cate);
    cJSON_AddStringToObject(root, "data", s->data->source);
    cJSON_AddNumberToObject(root, "validation_rows", (double)n);
    cJSON_AddStringToObject(root, "metric", s->metric);
    cJSON_AddStringToObject(root, "direction", s->maximize ? "max" : "min");
    const tt_score_value *obj = NULL;
    for (size_t i = 0; i < n_scores; i++)
        if (!strcmp(scores[i].name, s->metric))
            obj = &scores[i];
    for (size_t i = 0; i < n_oracle; i++)
        if (!strcmp(oracle[i].name, s->metric))
            obj = &oracle[i];
    cJSON_AddItemToObject(root, "objective", obj && !obj->is_null && isfinite(obj->value)
                                                 ? cJSON_CreateNumber(obj->value)
                                                 : cJSON_CreateNull());
    cJSON_AddItemToObject(root, "scores", values_json(scores, n_scores));
    cJSON *reasons = cJSON_CreateObject();
    for (size_t i = 0; i < n_scores; i++)
        if (scores[i].is_null)
            cJSON_AddStringToObject(reasons, scores[i].name,
                                    scores[i].reason ? scores[i].reason : "");
    cJSON_AddItemToObject(root, "null_reasons", reasons);
    if (n_oracle)
        cJSON_AddItemToObject(root, "oracle", values_json(oracle, n_oracle));
    char *text = tt_json_text(root, 1);
    cJSON_Delete(root);
    if (!text)
        return TT_EXIT_ERROR;
    printf("%s\n", text);
    free(text);
    return TT_EXIT_OK;
}

int tt_cmd_score(int argc, char **argv)
{
    score_args a;
    if (parse_args(argc, argv, &a) != 0) {
        tt_help_print("score", stderr);
        return TT_EXIT_USAGE;
    }
    run_state s;
    memset(&s, 0, sizeof s);
    int rc = score(&s, &a);
    tt_run_state_free(&s);
    return rc;
}
