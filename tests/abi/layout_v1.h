/*
 * layout_v1.h - the recorded layout of plugin ABI 1 (include/tautune/plugin.h)
 * on x86-64 Linux (LP64, System V): every member of every public struct with
 * its offset, size and type, listed under the minor that added it; each
 * struct's size at every minor; and the numbered constants. abi_layout.c
 * checks a header against it at compile time (_Static_assert), so a change
 * that would break plugins built against an earlier 1.x header breaks the
 * build instead:
 *   - a member moved, removed, resized or retyped   -> its offset/size/type
 *   - a member inserted before others                -> the offsets after it
 *   - a struct grown without a minor bump            -> the current minor's size
 *   - a constant renumbered (capability bit, enum value, magic, entry name)
 *   - tautune/slot.h's slot block reordered or its choices renumbered
 * Appending members at the end of tt_plugin_host, tt_plugin_descriptor or
 * tt_plugin_data together with a minor bump is compatible and passes as it
 * is; record the new members anyway, so that they are guarded from then on.
 *
 * Recording a new minor N (TT_PLUGIN_ABI_MINOR raised to N, members appended):
 *   1. Below the last list, add TT_ABI_1_N(X): one X(struct, member, offset,
 *      size, (type)) line per new member. gdb prints offsets and sizes:
 *          gdb -batch -ex 'ptype /o tt_plugin_host' build/tautune
 *   2. Add the row TT_ABI_SIZES_1_N(X): every struct's size at N.
 *   3. New constants (capability bits, enum values) go into TT_ABI_VALUES_1_N.
 *   4. Add the TT_ABI_IF_1_N block at the end, put TT_ABI_IF_1_N into
 *      TT_ABI_MEMBERS and TT_ABI_VALUES, and set TT_ABI_RECORDED_MINOR to N.
 * Never edit a line of an earlier minor: those lines are what plugins in the
 * field were compiled against. A change that has to is a major bump
 * (TT_PLUGIN_ABI_MAJOR 2 with a new entry symbol): start a layout_v2.h, keep
 * this file as the record of ABI 1; abi_layout.c checks v1 only when
 * TT_PLUGIN_ABI_MAJOR is 1.
 *
 * The 1.0 part is checked against the real 1.0 header too: abi_layout.c is
 * also compiled against the frozen copy in tests/abi/v1_0/include.
 */
#ifndef TT_TESTS_ABI_LAYOUT_V1_H
#define TT_TESTS_ABI_LAYOUT_V1_H

/* The newest minor recorded here. */
#define TT_ABI_RECORDED_MINOR 10

/* ---- members: X(struct, member, offset, size, (type)) -------------------- */

#define TT_ABI_1_0(X) \
    X(tt_plugin_param, name, 0, 8, (const char *)) \
    X(tt_plugin_param, kind, 8, 4, (tt_param_kind)) \
    X(tt_plugin_param, lo, 16, 8, (double)) \
    X(tt_plugin_param, hi, 24, 8, (double)) \
    X(tt_plugin_param, default_value, 32, 8, (double)) \
    X(tt_plugin_param, choices, 40, 8, (const char *const *)) \
    X(tt_plugin_param, help, 48, 8, (const char *)) \
    X(tt_plugin_data, struct_size, 0, 8, (size_t)) \
    X(tt_plugin_data, n, 8, 8, (size_t)) \
    X(tt_plugin_data, p_x, 16, 8, (size_t)) \
    X(tt_plugin_data, p_w, 24, 8, (size_t)) \
    X(tt_plugin_data, x, 32, 8, (const double *)) \
    X(tt_plugin_data, w, 40, 8, (const double *)) \
    X(tt_plugin_data, t, 48, 8, (const int *)) \
    X(tt_plugin_data, y, 56, 8, (const double *)) \
    X(tt_plugin_data, weight, 64, 8, (const double *)) \
    X(tt_plugin_data, n_arms, 72, 4, (int)) \
    X(tt_plugin_data, x_names, 80, 8, (const char *const *)) \
    X(tt_plugin_data, w_names, 88, 8, (const char *const *)) \
    X(tt_plugin_sink, struct_size, 0, 8, (size_t)) \
    X(tt_plugin_sink, ctx, 8, 8, (void *)) \
    X(tt_plugin_sink, write, 16, 8, (int (*)(void *, const void *, size_t))) \
    X(tt_plugin_source, struct_size, 0, 8, (size_t)) \
    X(tt_plugin_source, ctx, 8, 8, (void *)) \
    X(tt_plugin_source, read, 16, 8, (int (*)(void *, void *, size_t))) \
    X(tt_plugin_host, struct_size, 0, 8, (size_t)) \
    X(tt_plugin_host, abi_minor, 8, 4, (uint32_t)) \
    X(tt_plugin_host, alloc, 16, 8, (void *(*)(size_t))) \
    X(tt_plugin_host, alloc_zero, 24, 8, (void *(*)(size_t, size_t))) \
    X(tt_plugin_host, resize, 32, 8, (void *(*)(void *, size_t))) \
    X(tt_plugin_host, release, 40, 8, (void (*)(void *))) \
    X(tt_plugin_host, log, 48, 8, (void (*)(void *, tt_log_level, const char *, ...))) \
    X(tt_plugin_host, seed, 56, 8, (uint64_t)) \
    X(tt_plugin_host, should_stop, 64, 8, (int (*)(void *))) \
    X(tt_plugin_host, host_ctx, 72, 8, (void *)) \
    X(tt_plugin_host, learner_create, 80, 8, (int (*)(void *, const char *, \
                                                const char *const *, const double *, size_t, \
                                                tt_learner **, char *, size_t))) \
    X(tt_plugin_host, learner_fit, 88, 8, (int (*)(tt_learner *, size_t, size_t, \
                                             const double *, const double *, const double *, \
                                             char *, size_t))) \
    X(tt_plugin_host, learner_predict, 96, 8, (int (*)(const tt_learner *, size_t, size_t, \
                                                 const double *, double *, char *, size_t))) \
    X(tt_plugin_host, learner_save, 104, 8, (int (*)(const tt_learner *, \
                                               const tt_plugin_sink *, char *, size_t))) \
    X(tt_plugin_host, learner_load, 112, 8, (int (*)(void *, const tt_plugin_source *, \
                                               tt_learner **, char *, size_t))) \
    X(tt_plugin_host, learner_destroy, 120, 8, (void (*)(tt_learner *))) \
    X(tt_plugin_descriptor, magic, 0, 4, (uint32_t)) \
    X(tt_plugin_descriptor, abi_major, 4, 2, (uint16_t)) \
    X(tt_plugin_descriptor, abi_minor, 6, 2, (uint16_t)) \
    X(tt_plugin_descriptor, struct_size, 8, 8, (size_t)) \
    X(tt_plugin_descriptor, build_tag, 16, 8, (const char *)) \
    X(tt_plugin_descriptor, name, 24, 8, (const char *)) \
    X(tt_plugin_descriptor, version, 32, 8, (const char *)) \
    X(tt_plugin_descriptor, summary, 40, 8, (const char *)) \
    X(tt_plugin_descriptor, capabilities, 48, 4, (uint32_t)) \
    X(tt_plugin_descriptor, params, 56, 8, (const tt_plugin_param *)) \
    X(tt_plugin_descriptor, n_params, 64, 8, (size_t)) \
    X(tt_plugin_descriptor, create, 72, 8, (int (*)(const tt_plugin_host *, const double *, \
                                              int, void **, char *, size_t))) \
    X(tt_plugin_descriptor, fit, 80, 8, (int (*)(void *, const tt_plugin_data *, char *, \
                                           size_t))) \
    X(tt_plugin_descriptor, effect, 88, 8, (int (*)(void *, const tt_plugin_data *, \
                                              double *, char *, size_t))) \
    X(tt_plugin_descriptor, effect_interval, 96, 8, (int (*)(void *, const tt_plugin_data *, \
                                                       double, double *, double *, char *, \
                                                       size_t))) \
    X(tt_plugin_descriptor, save, 104, 8, (int (*)(void *, const tt_plugin_sink *, char *, \
                                             size_t))) \
    X(tt_plugin_descriptor, load, 112, 8, (int (*)(const tt_plugin_host *, \
                                             const tt_plugin_source *, void **, char *, \
                                             size_t))) \
    X(tt_plugin_descriptor, destroy, 120, 8, (void (*)(void *))) \
    /* end of ABI 1.0 */

#define TT_ABI_1_1(X) \
    X(tt_plugin_host, learner_n_outputs, 128, 8, (size_t (*)(const tt_learner *))) \
    X(tt_plugin_host, nuisance_oof, 136, 8, (int (*)(void *, tt_nuisance_kind, int, \
                                               const double **, size_t *, size_t *, char *, \
                                               size_t))) \
    X(tt_plugin_host, nuisance_predict, 144, 8, (int (*)(void *, tt_nuisance_kind, int, \
                                                   const tt_plugin_data *, double *, char *, \
                                                   size_t))) \
    /* end of ABI 1.1 */

#define TT_ABI_1_2(X) \
    X(tt_plugin_host, interval_resamples, 152, 8, (size_t)) \
    X(tt_plugin_descriptor, interval_method, 128, 8, (const char *)) \
    X(tt_plugin_descriptor, average_effect, 136, 8, (int (*)(void *, const tt_plugin_data *, \
                                                       double, double *, double *, double *, \
                                                       char *, size_t))) \
    /* end of ABI 1.2 */

#define TT_ABI_1_3(X) \
    X(tt_forest_options, struct_size, 0, 8, (size_t)) \
    X(tt_forest_options, n_trees, 8, 8, (size_t)) \
    X(tt_forest_options, sample_fraction, 16, 8, (double)) \
    X(tt_forest_options, honesty, 24, 4, (int)) \
    X(tt_forest_options, honesty_fraction, 32, 8, (double)) \
    X(tt_forest_options, prune_empty_leaves, 40, 4, (int)) \
    X(tt_forest_options, mtry, 48, 8, (size_t)) \
    X(tt_forest_options, min_node_size, 56, 8, (size_t)) \
    X(tt_forest_options, alpha, 64, 8, (double)) \
    X(tt_forest_options, imbalance_penalty, 72, 8, (double)) \
    X(tt_forest_options, ci_group_size, 80, 8, (size_t)) \
    X(tt_forest_options, threads, 88, 4, (int)) \
    X(tt_plugin_host, forest_fit, 160, 8, (int (*)(void *, tt_forest_kind, \
                                             const tt_forest_options *, size_t, size_t, \
                                             const double *, const double *, const double *, \
                                             size_t, const double *, const double *, \
                                             tt_forest **, char *, size_t))) \
    X(tt_plugin_host, forest_n_outputs, 168, 8, (size_t (*)(const tt_forest *))) \
    X(tt_plugin_host, forest_predict, 176, 8, (int (*)(const tt_forest *, size_t, size_t, \
                                                 const double *, double *, double *, char *, \
                                                 size_t))) \
    X(tt_plugin_host, forest_predict_oob, 184, 8, (int (*)(const tt_forest *, double *, \
                                                     double *, char *, size_t))) \
    X(tt_plugin_host, forest_save, 192, 8, (int (*)(const tt_forest *, \
                                              const tt_plugin_sink *, char *, size_t))) \
    X(tt_plugin_host, forest_load, 200, 8, (int (*)(void *, const tt_plugin_source *, \
                                              tt_forest **, char *, size_t))) \
    X(tt_plugin_host, forest_destroy, 208, 8, (void (*)(tt_forest *))) \
    X(tt_plugin_descriptor, average_method, 144, 8, (const char *)) \
    /* end of ABI 1.3 */

#define TT_ABI_1_4(X) \
    X(tt_plugin_descriptor, average_effect_oob, 152, 8, (int (*)(void *, double, double *, \
                                                           double *, double *, double *, \
                                                           char *, size_t))) \
    X(tt_plugin_descriptor, average_oob_method, 160, 8, (const char *)) \
    /* end of ABI 1.4 */

#define TT_ABI_1_5(X) \
    X(tt_plugin_condition, param, 0, 8, (const char *)) \
    X(tt_plugin_condition, parent, 8, 8, (const char *)) \
    X(tt_plugin_condition, values, 16, 8, (const char *const *)) \
    X(tt_plugin_descriptor, conditions, 168, 8, (const tt_plugin_condition *)) \
    X(tt_plugin_descriptor, n_conditions, 176, 8, (size_t)) \
    /* end of ABI 1.5 */

#define TT_ABI_1_6(X) \
    X(tt_plugin_data, p_z, 96, 8, (size_t)) \
    X(tt_plugin_data, z, 104, 8, (const double *)) \
    X(tt_plugin_data, z_names, 112, 8, (const char *const *)) \
    /* end of ABI 1.6 */

#define TT_ABI_1_7(X) \
    /* end of ABI 1.7 */

#define TT_ABI_1_8(X) \
    X(tt_plugin_data, t_value, 120, 8, (const double *)) \
    /* end of ABI 1.8 */

#define TT_ABI_1_9(X) \
    X(tt_plugin_host, forest_variable_importance, 216, 8, (int (*)(const tt_forest *, \
                                                             double *, size_t, char *, \
                                                             size_t))) \
    X(tt_plugin_descriptor, variable_importance, 184, 8, (int (*)(void *, double *, size_t, \
                                                            char *, size_t))) \
    X(tt_plugin_descriptor, variable_importance_method, 192, 8, (const char *)) \
    /* end of ABI 1.9 */

#define TT_ABI_1_10(X) \
    X(tt_plugin_host, blob_writer_new, 224, 8, \
      (tt_blob_writer *(*)(void *, const char *, uint32_t))) \
    X(tt_plugin_host, blob_put_doubles, 232, 8, \
      (void (*)(tt_blob_writer *, const char *, const double *, size_t))) \
    X(tt_plugin_host, blob_put_ints, 240, 8, \
      (void (*)(tt_blob_writer *, const char *, const int64_t *, size_t))) \
    X(tt_plugin_host, blob_put_text, 248, 8, \
      (void (*)(tt_blob_writer *, const char *, const char *))) \
    X(tt_plugin_host, blob_put_learner, 256, 8, \
      (void (*)(tt_blob_writer *, const char *, const tt_learner *))) \
    X(tt_plugin_host, blob_put_forest, 264, 8, \
      (void (*)(tt_blob_writer *, const char *, const tt_forest *))) \
    X(tt_plugin_host, blob_writer_finish, 272, 8, \
      (int (*)(tt_blob_writer *, const tt_plugin_sink *, char *, size_t))) \
    X(tt_plugin_host, blob_reader_open, 280, 8, \
      (tt_blob_reader *(*)(void *, const tt_plugin_source *, const char *, uint32_t *, \
                           char *, size_t))) \
    X(tt_plugin_host, blob_count, 288, 8, (size_t (*)(tt_blob_reader *, const char *))) \
    X(tt_plugin_host, blob_get_doubles, 296, 8, \
      (void (*)(tt_blob_reader *, const char *, double *, size_t))) \
    X(tt_plugin_host, blob_get_ints, 304, 8, \
      (void (*)(tt_blob_reader *, const char *, int64_t *, size_t))) \
    X(tt_plugin_host, blob_get_text, 312, 8, \
      (const char *(*)(tt_blob_reader *, const char *))) \
    X(tt_plugin_host, blob_get_learner, 320, 8, \
      (void (*)(tt_blob_reader *, const char *, tt_learner **))) \
    X(tt_plugin_host, blob_get_forest, 328, 8, \
      (void (*)(tt_blob_reader *, const char *, tt_forest **))) \
    X(tt_plugin_host, blob_reader_close, 336, 8, (int (*)(tt_blob_reader *, char *, size_t))) \
    X(tt_plugin_host, learner_from_slot, 344, 8, \
      (int (*)(void *, const double *, int, tt_learner **, char *, size_t))) \
    /* end of ABI 1.10 */

/* ---- struct sizes at each minor: X(struct, size) --------------------------- */

#define TT_ABI_SIZES_1_0(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 96) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 128) X(tt_plugin_descriptor, 128)
#define TT_ABI_SIZES_1_1(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 96) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 152) X(tt_plugin_descriptor, 128)
#define TT_ABI_SIZES_1_2(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 96) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 160) X(tt_plugin_descriptor, 144)
#define TT_ABI_SIZES_1_3(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 96) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 216) X(tt_plugin_descriptor, 152) \
    X(tt_forest_options, 96)
#define TT_ABI_SIZES_1_4(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 96) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 216) X(tt_plugin_descriptor, 168) \
    X(tt_forest_options, 96)
#define TT_ABI_SIZES_1_5(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 96) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 216) X(tt_plugin_descriptor, 184) \
    X(tt_forest_options, 96) X(tt_plugin_condition, 24)
#define TT_ABI_SIZES_1_6(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 120) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 216) X(tt_plugin_descriptor, 184) \
    X(tt_forest_options, 96) X(tt_plugin_condition, 24)
#define TT_ABI_SIZES_1_7(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 120) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 216) X(tt_plugin_descriptor, 184) \
    X(tt_forest_options, 96) X(tt_plugin_condition, 24)
#define TT_ABI_SIZES_1_8(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 128) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 216) X(tt_plugin_descriptor, 184) \
    X(tt_forest_options, 96) X(tt_plugin_condition, 24)
#define TT_ABI_SIZES_1_9(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 128) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 224) X(tt_plugin_descriptor, 200) \
    X(tt_forest_options, 96) X(tt_plugin_condition, 24)
#define TT_ABI_SIZES_1_10(X) \
    X(tt_plugin_param, 56) X(tt_plugin_data, 128) X(tt_plugin_sink, 24) \
    X(tt_plugin_source, 24) X(tt_plugin_host, 352) X(tt_plugin_descriptor, 200) \
    X(tt_forest_options, 96) X(tt_plugin_condition, 24)

/* ---- constants: X(name, value) -------------------------------------------- */

/* (TT_PLUGIN_CAP_ALL & bits) == bits: the host keeps accepting every
 * capability bit an earlier minor defined. */

#define TT_ABI_VALUES_1_0(X) \
    X(TT_PLUGIN_ABI_MAJOR, 1) X(TT_PLUGIN_MAGIC, 0x4c505454u) \
    X(TT_PLUGIN_CAP_MULTI_ARM, 1u << 0) X(TT_PLUGIN_CAP_IV, 1u << 1) \
    X(TT_PLUGIN_CAP_INTERVALS, 1u << 2) X(TT_PLUGIN_CAP_SAVE_LOAD, 1u << 3) \
    X(TT_PARAM_INT, 1) X(TT_PARAM_REAL, 2) X(TT_PARAM_LOG_REAL, 3) X(TT_PARAM_BOOL, 4) \
    X(TT_PARAM_CHOICE, 5) \
    X(TT_LOG_ERROR, 0) X(TT_LOG_WARN, 1) X(TT_LOG_INFO, 2) X(TT_LOG_DEBUG, 3) \
    X(TT_OK, 0) X(TT_ERR_NOMEM, 1) X(TT_ERR_IO, 2) X(TT_ERR_PARSE, 3) X(TT_ERR_DATA, 4) \
    X(TT_ERR_CONFIG, 5) X(TT_ERR_PLUGIN, 6) X(TT_ERR_NUMERIC, 7) X(TT_ERR_INVALID, 8) \
    X(TT_ERR_STOPPED, 9) X(TT_ERR_UNSUPPORTED, 10) \
    X(TT_PLUGIN_DESCRIPTOR_SIZE_V1_0, 128) X(TT_PLUGIN_CAP_ALL & 0xfu, 0xfu)
#define TT_ABI_VALUES_1_1(X) \
    X(TT_PLUGIN_CAP_NEEDS_PROPENSITY, 1u << 4) X(TT_PLUGIN_CAP_NEEDS_OUTCOME, 1u << 5) \
    X(TT_PLUGIN_CAP_NEEDS_ARM_OUTCOMES, 1u << 6) \
    X(TT_NUISANCE_KIND_PROPENSITY, 0) X(TT_NUISANCE_KIND_OUTCOME, 1) \
    X(TT_NUISANCE_KIND_ARM_OUTCOME, 2) X(TT_PLUGIN_CAP_ALL & 0x7fu, 0x7fu)
#define TT_ABI_VALUES_1_2(X) X(TT_PLUGIN_DESCRIPTOR_SIZE_V1_2, 144)
#define TT_ABI_VALUES_1_3(X) \
    X(TT_FOREST_REGRESSION, 0) X(TT_FOREST_CAUSAL, 1) X(TT_FOREST_INSTRUMENTAL, 2) \
    X(TT_PLUGIN_DESCRIPTOR_SIZE_V1_3, 152)
#define TT_ABI_VALUES_1_4(X) X(TT_PLUGIN_DESCRIPTOR_SIZE_V1_4, 168)
#define TT_ABI_VALUES_1_5(X) X(TT_PLUGIN_DESCRIPTOR_SIZE_V1_5, 184)
#define TT_ABI_VALUES_1_6(X)
#define TT_ABI_VALUES_1_7(X) \
    X(TT_PLUGIN_CAP_NEEDS_IV_NUISANCES, 1u << 7) X(TT_NUISANCE_KIND_INSTRUMENT, 3) \
    X(TT_NUISANCE_KIND_TREATMENT_GIVEN_Z, 4) X(TT_PLUGIN_CAP_ALL & 0xffu, 0xffu)
#define TT_ABI_VALUES_1_8(X) \
    X(TT_PLUGIN_CAP_CONTINUOUS_TREATMENT, 1u << 8) X(TT_NUISANCE_KIND_TREATMENT_MEAN, 5) \
    X(TT_PLUGIN_CAP_ALL & 0x1ffu, 0x1ffu)
#define TT_ABI_VALUES_1_9(X) X(TT_PLUGIN_DESCRIPTOR_SIZE_V1_9, 200)
#define TT_ABI_VALUES_1_10(X) X(TT_SLOT_N, 7) X(TT_SLOT_NCOND, 6)

/* The entry symbol and build tag (compared as strings, in abi_layout.c). */
#define TT_ABI_ENTRY_NAME_V1 "tt_plugin_entry_v1"
#define TT_ABI_BUILD_TAG_V1 "real=f64;blasint=32"

/* tautune/slot.h (ABI 1.10): learner_from_slot reads a slot's TT_SLOT_N
 * values in this order, and its choices by index, so a compiled plugin's
 * slot block is ABI as much as a struct (compared in abi_layout.c). */
#define TT_ABI_SLOT_SUFFIXES_1_10 \
    {"_learner", "_alpha", "_trees", "_depth", "_min_leaf", "_learning_rate", "_featurizer"}
#define TT_ABI_SLOT_LEARNERS_1_10 {"ridge", "lasso", "forest", "gbm", NULL}
#define TT_ABI_SLOT_FEATURIZERS_1_10 {"none", "poly2", NULL}

/* ---- what the header being compiled has ------------------------------------- */

/* A list may only be expanded where its members exist: up to the header's
 * minor, and no further than recorded. */
#if TT_PLUGIN_ABI_MINOR >= 1
#define TT_ABI_IF_1_1(L, X) L(X)
#else
#define TT_ABI_IF_1_1(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 2
#define TT_ABI_IF_1_2(L, X) L(X)
#else
#define TT_ABI_IF_1_2(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 3
#define TT_ABI_IF_1_3(L, X) L(X)
#else
#define TT_ABI_IF_1_3(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 4
#define TT_ABI_IF_1_4(L, X) L(X)
#else
#define TT_ABI_IF_1_4(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 5
#define TT_ABI_IF_1_5(L, X) L(X)
#else
#define TT_ABI_IF_1_5(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 6
#define TT_ABI_IF_1_6(L, X) L(X)
#else
#define TT_ABI_IF_1_6(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 7
#define TT_ABI_IF_1_7(L, X) L(X)
#else
#define TT_ABI_IF_1_7(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 8
#define TT_ABI_IF_1_8(L, X) L(X)
#else
#define TT_ABI_IF_1_8(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 9
#define TT_ABI_IF_1_9(L, X) L(X)
#else
#define TT_ABI_IF_1_9(L, X)
#endif
#if TT_PLUGIN_ABI_MINOR >= 10
#define TT_ABI_IF_1_10(L, X) L(X)
#else
#define TT_ABI_IF_1_10(L, X)
#endif

#define TT_ABI_MEMBERS(X) \
    TT_ABI_1_0(X) TT_ABI_IF_1_1(TT_ABI_1_1, X) TT_ABI_IF_1_2(TT_ABI_1_2, X) \
    TT_ABI_IF_1_3(TT_ABI_1_3, X) TT_ABI_IF_1_4(TT_ABI_1_4, X) TT_ABI_IF_1_5(TT_ABI_1_5, X) \
    TT_ABI_IF_1_6(TT_ABI_1_6, X) TT_ABI_IF_1_7(TT_ABI_1_7, X) TT_ABI_IF_1_8(TT_ABI_1_8, X) \
    TT_ABI_IF_1_9(TT_ABI_1_9, X) TT_ABI_IF_1_10(TT_ABI_1_10, X)
#define TT_ABI_VALUES(X) \
    TT_ABI_VALUES_1_0(X) TT_ABI_IF_1_1(TT_ABI_VALUES_1_1, X) \
    TT_ABI_IF_1_2(TT_ABI_VALUES_1_2, X) TT_ABI_IF_1_3(TT_ABI_VALUES_1_3, X) \
    TT_ABI_IF_1_4(TT_ABI_VALUES_1_4, X) TT_ABI_IF_1_5(TT_ABI_VALUES_1_5, X) \
    TT_ABI_IF_1_6(TT_ABI_VALUES_1_6, X) TT_ABI_IF_1_7(TT_ABI_VALUES_1_7, X) \
    TT_ABI_IF_1_8(TT_ABI_VALUES_1_8, X) TT_ABI_IF_1_9(TT_ABI_VALUES_1_9, X) \
    TT_ABI_IF_1_10(TT_ABI_VALUES_1_10, X)

/* The size row of the header's minor; a header newer than the record is
 * held to the newest row as a lower bound (abi_layout.c). */
#define TT_ABI_CAT_(a, b) a##b
#define TT_ABI_CAT(a, b) TT_ABI_CAT_(a, b)
#if TT_PLUGIN_ABI_MINOR <= TT_ABI_RECORDED_MINOR
#define TT_ABI_SIZES(X) TT_ABI_CAT(TT_ABI_SIZES_1_, TT_PLUGIN_ABI_MINOR)(X)
#define TT_ABI_SIZES_EXACT 1
#else
#define TT_ABI_SIZES(X) TT_ABI_CAT(TT_ABI_SIZES_1_, TT_ABI_RECORDED_MINOR)(X)
#define TT_ABI_SIZES_EXACT 0
#endif

#endif
