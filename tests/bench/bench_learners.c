/*
 * bench_learners.c - times tautune's learners on a data set that
 * tests/bench/learners_reference.py reads too (driven by tests/bench/learners).
 *
 *   bench_learners run <task> <train.csv> <test.csv> <threads> [coef_out]
 *       Files in the bench format (learners_reference.py prep writes them from
 *       `tautune gen` output or ../shared/data): a header, then numeric rows of
 *       p feature columns followed by yreg (regression target) and yclf (0/1).
 *       task: forest_reg | forest_clf | lasso | logistic | gbm_reg | gbm_clf
 *       prints "RESULT <task> fit_s=<wall s> fit_cpu=<cpu s> predict_s=<s>
 *       loss=<held-out MSE or log-loss>"
 *       lasso/logistic also write their coefficients to coef_out.
 * Hyperparameters are fixed here and mirrored in learners_reference.py.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "learn/learner.h"
#include "util/clock.h"

/* One line of any length (NULL at end of file); *buf grows as needed. */
static char *read_line(FILE *f, char **buf, size_t *cap)
{
    size_t len = 0;
    if (!*buf) {
        *cap = 4096;
        *buf = malloc(*cap);
    }
    while (fgets(*buf + len, (int)(*cap - len), f)) {
        len += strlen(*buf + len);
        if (len && (*buf)[len - 1] == '\n')
            return *buf;
        *cap *= 2;
        *buf = realloc(*buf, *cap);
    }
    return len ? *buf : NULL;
}

/* Reads the bench CSV (header; p feature columns, yreg, yclf) into
 * column-major x (n x p), yr, yc. Returns n (0 on failure); sets *p. */
static size_t load(const char *path, size_t *p, double **x, double **yr, double **yc)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char *line = NULL;
    size_t lcap = 0;
    if (!read_line(f, &line, &lcap)) {
        fclose(f);
        free(line);
        return 0;
    }
    size_t q = 1; /* columns */
    for (const char *s = line; *s; s++)
        q += *s == ',';
    if (q < 3) {
        fclose(f);
        free(line);
        return 0;
    }
    size_t cap = 1024, n = 0;
    double *rows = malloc(cap * q * sizeof *rows);
    while (read_line(f, &line, &lcap)) {
        if (line[0] == '\n' || line[0] == '\r' || line[0] == 0)
            continue;
        if (n == cap) {
            cap *= 2;
            rows = realloc(rows, cap * q * sizeof *rows);
        }
        char *s = line;
        for (size_t j = 0; j < q; j++) {
            rows[n * q + j] = strtod(s, &s);
            if (*s == ',')
                s++;
        }
        n++;
    }
    fclose(f);
    free(line);
    *p = q - 2;
    *x = malloc(n * *p * sizeof **x);
    *yr = malloc(n * sizeof **yr);
    *yc = malloc(n * sizeof **yc);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < *p; j++)
            (*x)[j * n + i] = rows[i * q + j];
        (*yr)[i] = rows[i * q + *p];
        (*yc)[i] = rows[i * q + *p + 1];
    }
    free(rows);
    return n;
}

static int run(const char *task, const char *train, const char *test, double threads,
               const char *coef_out)
{
    double *x, *yr, *yc, *tx, *tyr, *tyc;
    size_t P = 0, tp = 0;
    size_t n = load(train, &P, &x, &yr, &yc), m = load(test, &tp, &tx, &tyr, &tyc);
    if (!n || !m || P != tp) {
        fprintf(stderr, "cannot read %s or %s (or their columns differ)\n", train, test);
        return 1;
    }
    /* mtry: round(p/3) for regression, round(sqrt(p)) for classification (as
     * learners_reference.py). */
    double mtry_reg = fmax(1.0, floor((double)P / 3.0 + 0.5));
    double mtry_clf = fmax(1.0, floor(sqrt((double)P) + 0.5));
    const char *name = NULL;
    const char *keys[8];
    double vals[8];
    size_t k = 0;
    int clf = 0;
    if (strncmp(task, "forest", 6) == 0) {
        name = "forest";
        clf = strcmp(task, "forest_clf") == 0;
        keys[k] = "n_trees", vals[k++] = 100;
        keys[k] = "min_leaf", vals[k++] = 5;
        keys[k] = "mtry", vals[k++] = clf ? mtry_clf : mtry_reg;
        keys[k] = "classify", vals[k++] = clf;
        keys[k] = "threads", vals[k++] = threads;
    } else if (strcmp(task, "lasso") == 0) {
        name = "lasso";
        keys[k] = "alpha", vals[k++] = TT_LEARNER_AUTO;
        keys[k] = "cv_folds", vals[k++] = 5;
        keys[k] = "tol", vals[k++] = 1e-12;
    } else if (strcmp(task, "logistic") == 0) {
        name = "logistic";
        clf = 1;
        keys[k] = "alpha", vals[k++] = 1.0;
    } else if (strncmp(task, "gbm", 3) == 0) {
        name = "gbm";
        clf = strcmp(task, "gbm_clf") == 0;
        keys[k] = "n_rounds", vals[k++] = 200;
        keys[k] = "learning_rate", vals[k++] = 0.1;
        keys[k] = "max_depth", vals[k++] = 6;
        keys[k] = "classify", vals[k++] = clf;
        keys[k] = "threads", vals[k++] = threads;
    } else {
        fprintf(stderr, "unknown task %s\n", task);
        return 2;
    }
    const double *y = clf ? yc : yr, *ty = clf ? tyc : tyr;
    tt_learner *l = NULL;
    char err[512] = "";
    if (tt_learner_create(name, keys, vals, k, 2024, &l, err, sizeof err) != TT_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    double t0 = tt_now(), c0 = tt_cpu_now();
    if (tt_learner_fit(l, n, P, x, y, NULL, err, sizeof err) != TT_OK) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    double fit_s = tt_now() - t0, fit_cpu = tt_cpu_now() - c0;
    double *pred = malloc(m * sizeof *pred);
    t0 = tt_now();
    tt_learner_predict(l, m, P, tx, pred, err, sizeof err);
    double pred_s = tt_now() - t0;
    double loss = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (clf) {
            double q = fmin(fmax(pred[i], 1e-15), 1.0 - 1e-15);
            loss -= ty[i] * log(q) + (1.0 - ty[i]) * log(1.0 - q);
        } else {
            loss += (ty[i] - pred[i]) * (ty[i] - pred[i]);
        }
    }
    printf("RESULT %s fit_s=%.4f fit_cpu=%.4f predict_s=%.4f loss=%.8g\n", task, fit_s, fit_cpu,
           pred_s, loss / (double)m);
    if (coef_out && (strcmp(name, "lasso") == 0 || strcmp(name, "logistic") == 0)) {
        /* Linear coefficients recovered from predictions at 0 and unit vectors. */
        FILE *f = fopen(coef_out, "w");
        double *z = calloc(P, sizeof *z), b0 = 0.0, v;
        tt_learner_predict(l, 1, P, z, &b0, err, sizeof err);
        if (strcmp(name, "logistic") == 0)
            b0 = log(b0 / (1.0 - b0));
        fprintf(f, "%.17g\n", b0);
        for (size_t j = 0; j < P; j++) {
            z[j] = 1.0;
            tt_learner_predict(l, 1, P, z, &v, err, sizeof err);
            if (strcmp(name, "logistic") == 0)
                v = log(v / (1.0 - v));
            fprintf(f, "%.17g\n", v - b0);
            z[j] = 0.0;
        }
        if (strcmp(name, "lasso") == 0)
            fprintf(f, "alpha %.17g\n", tt_learner_param(l, "alpha"));
        fclose(f);
        free(z);
    }
    tt_learner_destroy(l);
    free(pred);
    free(x), free(yr), free(yc), free(tx), free(tyr), free(tyc);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "run") == 0)
        return run(argv[2], argv[3], argv[4], atof(argv[5]), argc > 6 ? argv[6] : NULL);
    fprintf(stderr, "usage: bench_learners run <task> <train> <test> <threads> [coef_out]\n");
    return 2;
}
