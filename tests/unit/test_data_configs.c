/* test_data_configs.c - every shipped config for the shared data sets goes
 * through the data path of a run (read, roles, split, preprocessing fitted on
 * the training rows). The data live outside the project (../shared/data);
 * a config whose file is absent is skipped with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data/csv.h"
#include "data/frame.h"
#include "data/prep.h"
#include "lua/config.h"

static char err[2048];

static tt_csv_table *read_all(const tt_config *c)
{
    tt_csv_options o = {(const char *const *)c->missing, c->n_missing, c->missing != NULL};
    size_t n = c->n_data_paths ? c->n_data_paths : 1;
    tt_csv_table *parts[4] = {NULL}, *t = NULL;
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++)
        if (tt_csv_read_opts(c->n_data_paths ? c->data_paths[i] : c->data_path, &o, &parts[i],
                             err, sizeof err) != TT_OK)
            fail_msg("%s", err);
    if (n == 1)
        return parts[0];
    if (tt_csv_concat(parts, n, &t, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    for (size_t i = 0; i < n; i++)
        tt_csv_free(parts[i]);
    return t;
}

static void run_config(const char *name, size_t want_rows, int want_arms)
{
    char path[512];
    snprintf(path, sizeof path, "%s/configs/%s.lua", TT_SOURCE_DIR, name);
    tt_config *c = NULL;
    if (tt_config_load(path, TT_SCRIPTS_DIR, &c, err, sizeof err) != TT_OK)
        fail_msg("%s", err);
    if (access(c->data_path, R_OK) != 0) {
        print_message("skipping %s: %s not present\n", name, c->data_path);
        tt_config_free(c);
        return;
    }
    tt_csv_table *t = read_all(c);
    tt_roles r = {
        .outcome = c->outcome, .treatment = c->treatment, .control = c->control,
        .x = (const char *const *)c->x, .n_x = c->n_x,
        .w = (const char *const *)c->w, .n_w = c->n_w,
        .true_effect = (const char *const *)c->true_effect, .n_true_effect = c->n_true_effect,
        .z = (const char *const *)c->z, .n_z = c->n_z,
        .propensity = (const char *const *)c->propensity, .n_propensity = c->n_propensity,
        .id = c->id_col, .weight = c->weight_col, .split = c->split_col,
        .drop_missing = c->drop_missing, .level_cap = (size_t)c->level_cap,
        .exclude_cols = (const char *const *)c->exclude_cols,
        .exclude_vals = (const char *const *)c->exclude_vals, .n_exclude = c->n_exclude,
    };
    tt_data_frame *f = NULL;
    tt_split s;
    tt_prep *p = NULL;
    tt_dataset *d = NULL;
    if (tt_frame_build(t, &r, &f, err, sizeof err) != TT_OK ||
        tt_frame_split(f, c->validation, c->seed, &s, err, sizeof err) != TT_OK ||
        tt_prep_fit(f, s.train, s.n_train, &p, err, sizeof err) != TT_OK ||
        tt_frame_dataset(f, p, &d, err, sizeof err) != TT_OK)
        fail_msg("%s: %s", name, err);
    assert_int_equal(d->n, want_rows);
    assert_int_equal(d->n_arms, want_arms);
    assert_true(d->p_x >= 1);
    tt_dataset_free(d);
    tt_prep_free(p);
    tt_split_free(&s);
    tt_frame_free(f);
    tt_csv_free(t);
    tt_config_free(c);
}

static void test_ihdp(void **state) { (void)state; run_config("ihdp", 747, 2); }
static void test_hillstrom(void **state) { (void)state; run_config("hillstrom", 64000, 3); }
static void test_401k(void **state) { (void)state; run_config("401k", 9915, 2); }
static void test_lalonde(void **state) { (void)state; run_config("lalonde", 185 + 2490, 2); }
static void test_nhefs(void **state) { (void)state; run_config("nhefs", 1629 - 63, 2); }
static void test_card(void **state) { (void)state; run_config("card", 3010, 2); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ihdp),     cmocka_unit_test(test_hillstrom),
        cmocka_unit_test(test_401k),     cmocka_unit_test(test_lalonde),
        cmocka_unit_test(test_nhefs),    cmocka_unit_test(test_card),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
