/* test_nuisance_io.c - the nuisance file (nuisance/nuisance_io.h): what is
 * written reads back identical (values bit for bit, the model predicting
 * the same); every single-byte change and every cut is refused, never read
 * into different models; a version 1 file (no checksum) is still read; text
 * after the checksum line is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn/learner.h"
#include "nuisance/nuisance_io.h"

enum { ROWS = 40, P = 2 };

typedef struct fixture {
    tt_nuisance_result res[2];
    double x[ROWS * P];
    char *bytes; /* the file as written */
    size_t len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    double y[ROWS];
    for (size_t i = 0; i < ROWS; i++) {
        f->x[i] = (double)i / ROWS;
        f->x[ROWS + i] = (double)((i * 7) % 11) / 11.0;
        y[i] = 1.0 + 2.0 * f->x[i] - f->x[ROWS + i] + 0.01 * (double)(i % 3);
    }
    char err[256];
    const char *keys[] = {"alpha"};
    const double values[] = {0.5};
    tt_nuisance_result *r = &f->res[0];
    r->role = TT_NUISANCE_OUTCOME;
    r->arm = -1;
    r->n = ROWS;
    r->width = 1;
    r->oof = malloc(ROWS * sizeof *r->oof);
    for (size_t i = 0; i < ROWS; i++)
        r->oof[i] = y[i] / 3.0; /* not round in decimal: %.17g must round-trip */
    assert_int_equal(tt_learner_create("ridge", keys, values, 1, 7, &r->full, err, sizeof err),
                     TT_OK);
    assert_int_equal(tt_learner_fit(r->full, ROWS, P, f->x, y, NULL, err, sizeof err), TT_OK);
    snprintf(r->diag.learner, sizeof r->diag.learner, "ridge");
    r->diag.n_params = 1;
    snprintf(r->diag.keys[0], sizeof r->diag.keys[0], "alpha");
    r->diag.values[0] = 0.5;
    r->diag.oof_loss = 0.125;
    r->diag.seconds = 0.01;
    /* A propensity without a model (known propensities). */
    tt_nuisance_result *q = &f->res[1];
    q->role = TT_NUISANCE_PROPENSITY;
    q->arm = -1;
    q->n = ROWS;
    q->width = 1;
    q->oof = malloc(ROWS * sizeof *q->oof);
    for (size_t i = 0; i < ROWS; i++)
        q->oof[i] = 0.3 + 0.01 * (double)(i % 5);
    snprintf(q->diag.learner, sizeof q->diag.learner, "known");

    FILE *mem = open_memstream(&f->bytes, &f->len);
    const tt_nuisance_result *list[] = {&f->res[0], NULL, &f->res[1]};
    assert_int_equal(tt_nuisance_write(mem, 0xfeedu, list, 3, err, sizeof err), TT_OK);
    fclose(mem);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 2; i++)
        tt_nuisance_result_clear(&f->res[i]);
    free(f->bytes);
    free(f);
    return 0;
}

/* Read bytes as a file (tmpfile: the reader seeks). */
static tt_status read_bytes(const char *bytes, size_t len, uint64_t *fp,
                            tt_nuisance_result ***out, size_t *n, char *err, size_t errlen)
{
    FILE *t = tmpfile();
    assert_non_null(t);
    assert_int_equal(fwrite(bytes, 1, len, t), len);
    rewind(t);
    tt_status st = tt_nuisance_read(t, fp, out, n, err, errlen);
    fclose(t);
    return st;
}

static void free_results(tt_nuisance_result **res, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tt_nuisance_result_clear(res[i]);
        free(res[i]);
    }
    free(res);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    char err[256];
    uint64_t fp = 0;
    tt_nuisance_result **res;
    size_t n;
    assert_int_equal(read_bytes(f->bytes, f->len, &fp, &res, &n, err, sizeof err), TT_OK);
    assert_true(fp == 0xfeedu);
    assert_int_equal(n, 2);
    assert_int_equal(res[0]->role, TT_NUISANCE_OUTCOME);
    assert_memory_equal(res[0]->oof, f->res[0].oof, ROWS * sizeof(double));
    assert_memory_equal(res[1]->oof, f->res[1].oof, ROWS * sizeof(double));
    assert_null(res[1]->full);
    double a[ROWS], b[ROWS];
    assert_int_equal(tt_learner_predict(f->res[0].full, ROWS, P, f->x, a, err, sizeof err), TT_OK);
    assert_int_equal(tt_learner_predict(res[0]->full, ROWS, P, f->x, b, err, sizeof err), TT_OK);
    assert_memory_equal(a, b, sizeof a);
    free_results(res, n);
    /* The file ends with its checksum line. */
    assert_true(f->len > 15);
    assert_memory_equal(f->bytes + f->len - 15, "crc32 ", 6);
}

static void test_every_damage_refused(void **state)
{
    fixture *f = *state;
    char err[256];
    char *copy = malloc(f->len);
    size_t refused = 0;
    for (size_t i = 0; i < f->len; i++) {
        static const unsigned char flips[] = {0x01, 0x20, 0x80};
        for (size_t k = 0; k < sizeof flips; k++) {
            memcpy(copy, f->bytes, f->len);
            copy[i] = (char)(copy[i] ^ flips[k]);
            uint64_t fp;
            tt_nuisance_result **res = NULL;
            size_t n = 0;
            tt_status st = read_bytes(copy, f->len, &fp, &res, &n, err, sizeof err);
            /* Never read into models or values other than those written. */
            assert_int_not_equal(st, TT_OK);
            assert_null(res);
            refused++;
        }
    }
    assert_int_equal(refused, 3 * f->len);
    /* A change in the values says so in words. */
    memcpy(copy, f->bytes, f->len);
    char *v = strstr(copy, "oof\n") + 4;
    *v = *v == '1' ? '2' : '1';
    uint64_t fp;
    tt_nuisance_result **res;
    size_t n;
    assert_int_equal(read_bytes(copy, f->len, &fp, &res, &n, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "damaged nuisance file"));
    /* Every cut, the checksum line's included. */
    for (size_t cut = 0; cut < f->len; cut++)
        assert_int_not_equal(read_bytes(f->bytes, cut, &fp, &res, &n, err, sizeof err), TT_OK);
    free(copy);
}

static void test_version_1_and_trailing_text(void **state)
{
    fixture *f = *state;
    char err[256];
    uint64_t fp;
    tt_nuisance_result **res;
    size_t n;
    /* An older run folder's file: version 1, no checksum line. */
    char *old = malloc(f->len);
    memcpy(old, f->bytes, f->len - 15);
    char *ver = strstr(old, "tautune-nuisance 2");
    assert_non_null(ver);
    ver[17] = '1';
    assert_int_equal(read_bytes(old, f->len - 15, &fp, &res, &n, err, sizeof err), TT_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(res[0]->oof, f->res[0].oof, ROWS * sizeof(double));
    free_results(res, n);
    free(old);
    /* A version 2 file missing its checksum line is not taken for one. */
    assert_int_equal(read_bytes(f->bytes, f->len - 15, &fp, &res, &n, err, sizeof err),
                     TT_ERR_PARSE);
    /* Nor one with more after the checksum line (the check reads the last
     * line as the checksum: this one fails it). */
    char *more = malloc(f->len + 16);
    memcpy(more, f->bytes, f->len);
    memcpy(more + f->len, "crc32 00000000\n", 15);
    assert_int_equal(read_bytes(more, f->len + 15, &fp, &res, &n, err, sizeof err), TT_ERR_PARSE);
    free(more);
    /* A version 2 file whose "2" became a "1" (two bits) is not read
     * unchecked: a version 1 file ends with its last result. */
    char *down = malloc(f->len);
    memcpy(down, f->bytes, f->len);
    strstr(down, "tautune-nuisance 2")[17] = '1';
    assert_int_equal(read_bytes(down, f->len, &fp, &res, &n, err, sizeof err), TT_ERR_PARSE);
    free(down);
    /* An unknown newer version is refused by name. */
    char *newer = malloc(f->len);
    memcpy(newer, f->bytes, f->len);
    strstr(newer, "tautune-nuisance 2")[17] = '9';
    assert_int_equal(read_bytes(newer, f->len, &fp, &res, &n, err, sizeof err), TT_ERR_PARSE);
    assert_non_null(strstr(err, "version 9"));
    free(newer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_damage_refused),
        cmocka_unit_test(test_version_1_and_trailing_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
