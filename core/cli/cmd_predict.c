/* cmd_predict.c - `tautune predict`: a run's winner applied to new rows.
 *
 * The model's effects (and intervals) on the rows come from apply_model.h
 * (shared with `tautune assign`) and are written in the same CSV layout as
 * the run's cate.csv, so the two compare cell for cell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apply_model.h"
#include "cli/cli.h"
#include "cli/help.h"
#include "insight/policy_tree.h"
#include "report/cate.h"

typedef struct predict_args {
    const char *model, *data, *out;
    const char *policy;          /* --policy policy.json: each row's arm by that tree */
    double alpha;
    int intervals;
    tt_plugin_paths paths;
} predict_args;

static int parse_args(int argc, char **argv, predict_args *a)
{
    memset(a, 0, sizeof *a);
    a->out = "-";
    a->alpha = 0.05;
    a->intervals = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            tt_help_print("predict", stdout);
            exit(TT_EXIT_OK);
        }
        if (!strcmp(arg, "--no-intervals")) {
            a->intervals = 0;
            continue;
        }
        if (arg[0] != '-' && !a->model) {
            a->model = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune predict: unknown option or missing value: '%s'\n", arg);
            return -1;
        }
        if (!strcmp(arg, "--data")) {
            a->data = val;
        } else if (!strcmp(arg, "--out")) {
            a->out = val;
        } else if (!strcmp(arg, "--policy")) {
            a->policy = val;
        } else if (!strcmp(arg, "--alpha")) {
            char *end;
            a->alpha = strtod(val, &end);
            if (*end || !(a->alpha > 0 && a->alpha < 1)) {
                fprintf(stderr, "tautune predict: --alpha must be in (0, 1), got '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(arg, "--plugin-path")) {
            if (a->paths.n < sizeof a->paths.dirs / sizeof a->paths.dirs[0])
                a->paths.dirs[a->paths.n++] = val;
        } else {
            fprintf(stderr, "tautune predict: unknown option '%s'\n", arg);
            return -1;
        }
        i++;
    }
    if (!a->model || !a->data) {
        fprintf(stderr, "tautune predict: %s\n",
                !a->model ? "no MODEL file given" : "--data FILE.csv is required");
        return -1;
    }
    return 0;
}

/* The arm a policy tree (policy.json of `tautune policy` or a run) gives
 * each row: the tree must name the model's features and arms, in order. */
static int policy_arms(const char *path, const tt_model *m, const tt_dataset *ds, int **out)
{
    cJSON *j;
    int rc = tt_cli_read_json(path, &j);
    if (rc > 0) {
        fprintf(stderr, "tautune predict: --policy %s: %s\n", path, strerror(rc));
        return rc == ENOMEM ? TT_EXIT_ERROR : TT_EXIT_USAGE;
    }
    tt_policy_tree *tree = NULL;
    char err[512];
    if (!j || tt_policy_tree_from_json(j, &tree, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune predict: --policy %s: %s\n", path,
                j ? err : "not JSON (a policy.json written by `tautune policy` or a run)");
        cJSON_Delete(j);
        return TT_EXIT_DATA;
    }
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(j, "feature_names");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(j, "action_names");
    int ok = tt_policy_tree_n_features(tree) == ds->p_x &&
             tt_policy_tree_n_actions(tree) == (size_t)m->n_arms;
    for (size_t k = 0; ok && fn && k < ds->p_x; k++)
        ok = cJSON_IsString(cJSON_GetArrayItem(fn, (int)k)) &&
             strcmp(cJSON_GetArrayItem(fn, (int)k)->valuestring, ds->x_names[k]) == 0;
    for (int k = 0; ok && an && k < m->n_arms; k++)
        ok = cJSON_IsString(cJSON_GetArrayItem(an, k)) &&
             strcmp(cJSON_GetArrayItem(an, k)->valuestring, m->arm_labels[k]) == 0;
    cJSON_Delete(j);
    if (!ok) {
        fprintf(stderr, "tautune predict: --policy %s was learnt on other features or arms "
                        "than the model's (%zu features, %d arms): use the policy of the same "
                        "run\n", path, ds->p_x, m->n_arms);
        tt_policy_tree_free(tree);
        return TT_EXIT_USAGE;
    }
    *out = malloc(sizeof **out * (ds->n + 1));
    if (!*out) {
        tt_policy_tree_free(tree);
        fprintf(stderr, "tautune predict: out of memory\n");
        return TT_EXIT_ERROR;
    }
    tt_policy_tree_predict(tree, ds->n, ds->p_x, ds->x, *out);
    tt_policy_tree_free(tree);
    return TT_EXIT_OK;
}

static int predict(const predict_args *a, const tt_cli_applied *ap)
{
    char err[1024] = "";
    const tt_model *m = ap->m;
    const tt_dataset *ds = ap->ds;
    const size_t cells = ds->n * (size_t)(m->n_arms - 1);
    double *tau = malloc(sizeof *tau * (cells + 1)), *lo = malloc(sizeof *lo * (cells + 1)),
           *hi = malloc(sizeof *hi * (cells + 1));
    char **ids = NULL;
    int *arms = NULL, rc = TT_EXIT_OK;
    if (!tau || !lo || !hi) {
        fprintf(stderr, "tautune predict: out of memory\n");
        rc = TT_EXIT_ERROR;
        goto out;
    }
    if ((rc = tt_cli_apply_effects("predict", ap, a->alpha, a->intervals, tau, &lo, &hi)))
        goto out;
    if (a->policy && (rc = policy_arms(a->policy, m, ds, &arms)))
        goto out;
    ids = tt_cli_apply_ids(ap);
    tt_cate_rows out = {.n = ds->n, .n_arms = m->n_arms,
                        .arm_labels = (const char *const *)m->arm_labels,
                        .id_name = ids ? m->id_name : NULL, .ids = (const char *const *)ids,
                        .tau = tau, .lo = lo, .hi = hi, .policy_arm = arms};
    if (tt_cate_write(a->out, &out, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune predict: %s\n", err);
        rc = TT_EXIT_ERROR;
    }
out:
    tt_cli_apply_free_ids(ids, ds->n);
    free(arms);
    free(tau);
    free(lo);
    free(hi);
    return rc;
}

int tt_cmd_predict(int argc, char **argv)
{
    predict_args a;
    if (parse_args(argc, argv, &a) != 0) {
        tt_help_print("predict", stderr);
        return TT_EXIT_USAGE;
    }
    tt_cli_applied ap;
    int rc = tt_cli_apply_open("predict", a.model, a.data, &a.paths, &ap);
    if (rc == TT_EXIT_OK)
        rc = predict(&a, &ap);
    tt_cli_apply_close(&ap);
    return rc;
}
