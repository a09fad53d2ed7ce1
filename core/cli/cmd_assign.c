/* cmd_assign.c - `tautune assign`: the next round of an experiment from a
 * run's winner (issue 17, item 3).
 *
 * Each new row gets, for every arm, the probability that the arm is the
 * best under the winner's uncertainty about its effects (Thompson
 * sampling), floored so every arm keeps being explored, and one arm drawn
 * from those probabilities under a seed. The probabilities are written as
 * columns beside the effects, so the next round's data carry them as known
 * propensities (data.propensity).
 *
 * The uncertainty is the model's 95 % intervals, read as normal: plugins
 * hand out intervals, not their bootstrap replicas, so a bootstrap plugin's
 * normal interval stands for its replicas. A model without intervals is
 * refused rather than given a made-up spread: the probabilities would then
 * say more than the model knows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apply_model.h"
#include "cli/cli.h"
#include "cli/help.h"
#include "experiment/assign.h"
#include "report/cate.h"
#include "score/policy.h"
#include "score/thompson.h"

/* The intervals asked of the model: 95 %, so sd = (hi - lo) / (2 z_0.975). */
#define ASSIGN_ALPHA 0.05

typedef struct assign_args {
    const char *model, *data, *out;
    double min_prob;
    unsigned long long seed;
    tt_plugin_paths paths;
} assign_args;

static int parse_args(int argc, char **argv, assign_args *a)
{
    memset(a, 0, sizeof *a);
    a->out = "-";
    a->min_prob = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (arg[0] != '-' && !a->model) {
            a->model = arg;
            continue;
        }
        if (!val) {
            fprintf(stderr, "tautune assign: unknown option or missing value: '%s'\n", arg);
            return -1;
        }
        char *end;
        if (!strcmp(arg, "--data")) {
            a->data = val;
        } else if (!strcmp(arg, "--out")) {
            a->out = val;
        } else if (!strcmp(arg, "--min-prob")) {
            a->min_prob = strtod(val, &end);
            if (end == val || *end) {
                fprintf(stderr, "tautune assign: --min-prob expects a number, got '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(arg, "--seed")) {
            a->seed = strtoull(val, &end, 10);
            if (val[0] < '0' || val[0] > '9' || *end) {
                fprintf(stderr, "tautune assign: --seed expects a whole number >= 0, got '%s'\n",
                        val);
                return -1;
            }
        } else if (!strcmp(arg, "--plugin-path")) {
            if (a->paths.n < sizeof a->paths.dirs / sizeof a->paths.dirs[0])
                a->paths.dirs[a->paths.n++] = val;
        } else {
            fprintf(stderr, "tautune assign: unknown option '%s'\n", arg);
            return -1;
        }
        i++;
    }
    if (!a->model || !a->data) {
        fprintf(stderr, "tautune assign: %s\n",
                !a->model ? "no MODEL file given" : "--data FILE.csv is required");
        return -1;
    }
    /* The floor's upper bound needs the model's arms; the rest is known now. */
    if (!(a->min_prob >= TT_ASSIGN_MIN_FLOOR && a->min_prob <= 0.5)) {
        fprintf(stderr, "tautune assign: --min-prob must be in [%g, 1/K] for K arms, got '%g'\n",
                TT_ASSIGN_MIN_FLOOR, a->min_prob);
        return -1;
    }
    return 0;
}

/* What the model must be for Thompson sampling: arms, and intervals from
 * every member (checked before any plugin runs). */
static int usable(const assign_args *a, const tt_model *m, const tt_plugin_descriptor *const *d)
{
    char err[512];
    if (m->continuous) {
        fprintf(stderr, "tautune assign: %s: the model's treatment is continuous; assign "
                        "draws one of a set of arms\n", a->model);
        return TT_EXIT_USAGE;
    }
    if (tt_assign_floor_check(a->min_prob, m->n_arms, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune assign: --min-prob: %s\n", err);
        return TT_EXIT_USAGE;
    }
    for (size_t k = 0; k < m->n_members; k++)
        if (!(d[k]->capabilities & TT_PLUGIN_CAP_INTERVALS)) {
            fprintf(stderr, "tautune assign: %s: %s '%s' gives no intervals, and Thompson "
                            "sampling needs the uncertainty of the effects: use a model whose "
                            "winner has intervals (estimators that `tautune plugins` lists "
                            "with 'intervals:')\n", a->model,
                    m->n_members > 1 ? "a member's plugin" : "its plugin", d[k]->name);
            return TT_EXIT_PLUGIN;
        }
    return TT_EXIT_OK;
}

/* Means and sds of the arms' effects from tau and the 95 % intervals; a
 * cell that is no usable normal is the plugin's fault, named by row. */
static int posterior(const assign_args *a, const tt_cli_applied *ap, const double *tau,
                     const double *lo, const double *hi, double *sd)
{
    const tt_model *m = ap->m;
    const size_t n = ap->ds->n;
    for (int k = 1; k < m->n_arms; k++)
        for (size_t i = 0; i < n; i++) {
            const size_t at = (size_t)(k - 1) * n + i;
            sd[at] = (hi[at] - lo[at]) / (2.0 * TT_Z975);
            if (!isfinite(tau[at]) || !isfinite(sd[at]) || sd[at] < 0.0) {
                fprintf(stderr, "tautune assign: %s: line %zu, arm '%s': the model gives "
                                "effect %g with interval [%g, %g], which is no normal "
                                "posterior\n", a->data, ap->table->line[i], m->arm_labels[k],
                        tau[at], lo[at], hi[at]);
                return TT_EXIT_REFIT;
            }
        }
    return TT_EXIT_OK;
}

/* How the uncertainty was made, for the summary: the plugin's interval
 * method, or for an ensemble the averaging and each member's method. */
static void uncertainty_text(const tt_cli_applied *ap, char *buf, size_t len)
{
    const tt_model *m = ap->m;
    size_t off = 0;
    int bootstrap = 0;
    if (m->n_members == 1)
        off = (size_t)snprintf(buf, len, "the model's 95 %% intervals by ");
    else
        off = (size_t)snprintf(buf, len, "the weighted average of its %zu members' 95 %% "
                                         "intervals, by ", m->n_members);
    for (size_t k = 0, shown = 0; k < m->n_members && off < len; k++) {
        /* A plugin several members share is named once. */
        size_t seen = 0;
        while (seen < k && strcmp(ap->d[seen]->name, ap->d[k]->name) != 0)
            seen++;
        if (seen < k)
            continue;
        const char *method = tt_plugin_interval_method(ap->d[k]);
        bootstrap |= method && strstr(method, "bootstrap") != NULL;
        off += (size_t)snprintf(buf + off, len - off, "%s%s (%s)", shown++ ? "; " : "",
                                method ? method : "an unnamed method", ap->d[k]->name);
    }
    if (bootstrap && off < len)
        snprintf(buf + off, len - off, "; plugins hand out a bootstrap's normal interval, "
                                       "not its replicas, so that interval stands for them");
}

/* Rows, arms, mean probability and share drawn per arm, the uncertainty,
 * and the config line that reads the columns back. */
static void summary(FILE *fp, const assign_args *a, const tt_cli_applied *ap, const double *pi,
                    const int *arm)
{
    const tt_model *m = ap->m;
    const size_t n = ap->ds->n;
    char how[2048];
    uncertainty_text(ap, how, sizeof how);
    fprintf(fp, "assign: %zu rows, %d arms, control '%s'\n", n, m->n_arms, m->arm_labels[0]);
    fprintf(fp, "uncertainty: %s; each treated arm's effect read as an independent normal, "
                "sd = (hi - lo) / (2 x %.4f)\n", how, TT_Z975);
    fprintf(fp, "probabilities: P(the arm is best) by quadrature, floored at %g "
                "(p = %g + %g x P)\n", a->min_prob, a->min_prob,
            1.0 - m->n_arms * a->min_prob);
    fprintf(fp, "draw: seed %llu (stream %s)\n", a->seed, TT_ASSIGN_STREAM);
    fprintf(fp, "%-16s %12s %12s\n", "arm", "mean p", "drawn");
    for (int k = 0; k < m->n_arms; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            s += pi[(size_t)k * n + i];
            c += arm[i] == k;
        }
        fprintf(fp, "%-16s %12.4f %12.4f  (%zu rows)\n", m->arm_labels[k], n ? s / (double)n : 0,
                n ? (double)c / (double)n : 0, c);
    }
    fprintf(fp, "next round: treatment = \"assigned\", propensity = {");
    for (int k = 0; k < m->n_arms; k++)
        fprintf(fp, "%s\"p_%s\"", k ? ", " : " ", m->arm_labels[k]);
    fprintf(fp, " }\n");
}

static int assign(const assign_args *a, const tt_cli_applied *ap)
{
    const tt_model *m = ap->m;
    const size_t n = ap->ds->n, K = (size_t)m->n_arms, cells = n * (K - 1);
    int rc = usable(a, m, ap->d);
    if (rc)
        return rc;
    double *tau = malloc(sizeof *tau * (cells + 1)), *lo = malloc(sizeof *lo * (cells + 1)),
           *hi = malloc(sizeof *hi * (cells + 1)), *sd = malloc(sizeof *sd * (cells + 1)),
           *pi = malloc(sizeof *pi * (n * K + 1));
    int *arm = malloc(sizeof *arm * (n + 1));
    char **ids = NULL, err[1024];
    if (!tau || !lo || !hi || !sd || !pi || !arm) {
        fprintf(stderr, "tautune assign: out of memory\n");
        rc = TT_EXIT_ERROR;
        goto out;
    }
    if ((rc = tt_cli_apply_effects("assign", ap, ASSIGN_ALPHA, 1, tau, &lo, &hi)))
        goto out;
    if (!lo || !hi) {
        fprintf(stderr, "tautune assign: %s: the model gave no intervals for these rows (see "
                        "the warning above), and Thompson sampling needs them\n", a->model);
        rc = TT_EXIT_REFIT;
        goto out;
    }
    if ((rc = posterior(a, ap, tau, lo, hi, sd)))
        goto out;
    if (tt_thompson_exact(n, m->n_arms, tau, sd, pi, NULL, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune assign: %s\n", err);
        rc = TT_EXIT_ERROR;
        goto out;
    }
    tt_assign_floor(n, m->n_arms, a->min_prob, pi);
    tt_assign_draw(n, m->n_arms, pi, a->seed, arm);
    ids = tt_cli_apply_ids(ap);
    tt_cate_rows rows = {.n = n, .n_arms = m->n_arms,
                         .arm_labels = (const char *const *)m->arm_labels,
                         .id_name = ids ? m->id_name : NULL, .ids = (const char *const *)ids,
                         .tau = tau, .lo = lo, .hi = hi, .prob = pi, .assigned = arm};
    if (tt_cate_write(a->out, &rows, err, sizeof err) != TT_OK) {
        fprintf(stderr, "tautune assign: %s\n", err);
        rc = TT_EXIT_ERROR;
        goto out;
    }
    /* Never into the CSV: with --out - the summary goes to stderr. */
    summary(strcmp(a->out, "-") ? stdout : stderr, a, ap, pi, arm);
out:
    tt_cli_apply_free_ids(ids, n);
    free(tau);
    free(lo);
    free(hi);
    free(sd);
    free(pi);
    free(arm);
    return rc;
}

int tt_cmd_assign(int argc, char **argv)
{
    assign_args a;
    if (parse_args(argc, argv, &a) != 0) {
        tt_help_print("assign", stderr);
        return TT_EXIT_USAGE;
    }
    tt_cli_applied ap;
    int rc = tt_cli_apply_open("assign", a.model, a.data, &a.paths, &ap);
    if (rc == TT_EXIT_OK)
        rc = assign(&a, &ap);
    tt_cli_apply_close(&ap);
    return rc;
}
