/*
 * abi_layout.c - include/tautune/plugin.h held to the recorded layout of
 * plugin ABI 1 (layout_v1.h) at compile time: this file stops compiling when
 * the header changes in a way that breaks plugins built against an earlier
 * 1.x header (a member moved, resized, retyped or removed, a struct grown
 * without a minor bump, a constant renumbered). Built twice: against the
 * current headers (abi_layout) and against the frozen ABI 1.0 headers in
 * tests/abi/v1_0/include (abi_layout_v1_0), which shows that the 1.0 part
 * of the record is what 1.0 really was.
 *
 * Offsets and sizes are recorded for x86-64 (LP64); elsewhere only types
 * and constants are checked here, and the comparison with the frozen 1.0
 * header (abi_members.c, TT_ABI_COMPARE) checks the 1.0 members' offsets on
 * any architecture.
 *
 * The program itself only reports what was checked (and compares the
 * entry name and build tag, which are strings); exit 77 (a CTest skip) when
 * the header is not ABI 1.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tautune/plugin.h>
#if TT_PLUGIN_ABI_MAJOR == 1 && TT_PLUGIN_ABI_MINOR >= 10
#include <tautune/slot.h>
#endif

#if TT_PLUGIN_ABI_MAJOR == 1

#include "layout_v1.h"

#if defined(__x86_64__) && defined(__LP64__)
#define TT_ABI_CHECK_OFFSETS 1
#else
#define TT_ABI_CHECK_OFFSETS 0
#endif

/* (type) -> type: types are recorded in parentheses because they hold commas. */
#define TT_ABI_UNPAREN(...) __VA_ARGS__

/* A member keeps its type (a compatible one: _Generic picks by
 * compatibility), and on x86-64 its offset and size. */
#define CHECK_TYPE(s, m, off, size, type)                                                    \
    _Static_assert(_Generic(((s *)0)->m, TT_ABI_UNPAREN type: 1, default: 0),               \
                   #s "." #m " changed type: ABI 1 break");
#define CHECK_PLACE(s, m, off, size, type)                                                   \
    _Static_assert(offsetof(s, m) == (off), #s "." #m " moved: ABI 1 break");               \
    _Static_assert(sizeof(((s *)0)->m) == (size), #s "." #m " changed size: ABI 1 break");

TT_ABI_MEMBERS(CHECK_TYPE)
#if TT_ABI_CHECK_OFFSETS
TT_ABI_MEMBERS(CHECK_PLACE)

/* At a recorded minor a struct is exactly its recorded size: members
 * appended without raising TT_PLUGIN_ABI_MINOR would let a plugin read past
 * the end of an older host's table of the same minor. A newer minor may
 * only have grown. */
#if TT_ABI_SIZES_EXACT
#define CHECK_SIZE(s, size)                                                                  \
    _Static_assert(sizeof(s) == (size),                                                     \
                   #s " is not its recorded size at this minor (members appended without "  \
                   "a minor bump, or removed)");
#else
#define CHECK_SIZE(s, size)                                                                  \
    _Static_assert(sizeof(s) >= (size), #s " shrank: ABI 1 break");
#endif
TT_ABI_SIZES(CHECK_SIZE)
#endif

#define CHECK_VALUE(name, value)                                                             \
    _Static_assert((name) == (value), #name " changed: ABI 1 break");
TT_ABI_VALUES(CHECK_VALUE)

_Static_assert(_Generic((tt_plugin_entry_fn)0, const tt_plugin_descriptor *(*)(void): 1,
                        default: 0),
               "tt_plugin_entry_fn changed type: ABI 1 break");

#define COUNT(...) +1
enum {
    N_MEMBERS = 0 TT_ABI_MEMBERS(COUNT),
    N_SIZES = 0 TT_ABI_SIZES(COUNT),
    N_VALUES = 0 TT_ABI_VALUES(COUNT)
};

#ifdef TT_ABI_COMPARE
int tt_abi_compare_v1_0(void); /* abi_members.c */
#endif

#if TT_PLUGIN_ABI_MINOR >= 10
/* 0 when the NULL-terminated lists have the same names in the same order. */
static int same_list(const char *what, const char *const *now, const char *const *recorded)
{
    size_t i = 0;
    for (; now[i] && recorded[i]; i++)
        if (strcmp(now[i], recorded[i]) != 0)
            break;
    if (!now[i] && !recorded[i])
        return 0;
    printf("FAIL: %s: entry %zu is '%s', ABI 1 recorded '%s'\n", what, i,
           now[i] ? now[i] : "(end)", recorded[i] ? recorded[i] : "(end)");
    return 1;
}

/* A slot block's order and choices (tautune/slot.h). */
static int check_slot(void)
{
    static const tt_plugin_param block[] = {TT_SLOT_PARAMS("s", "a slot")};
    static const char *const suffixes[] = TT_ABI_SLOT_SUFFIXES_1_10;
    static const char *const learners[] = TT_ABI_SLOT_LEARNERS_1_10;
    static const char *const featurizers[] = TT_ABI_SLOT_FEATURIZERS_1_10;
    int bad = 0;
    for (size_t i = 0; i < TT_SLOT_N; i++) {
        if (strcmp(block[i].name + 1, suffixes[i]) != 0) {
            printf("FAIL: slot value %zu is 's%s', ABI 1.10 recorded 's%s'\n", i,
                   block[i].name + 1, suffixes[i]);
            bad = 1;
        }
    }
    bad |= same_list("tautune/slot.h learner choices", block[0].choices, learners);
    bad |= same_list("tautune/slot.h featurizer choices", block[TT_SLOT_N - 1].choices,
                     featurizers);
    if (!bad)
        printf("tautune/slot.h: a slot's %d values and its choices are in their recorded "
               "order\n", TT_SLOT_N);
    return bad;
}
#endif

int main(void)
{
    int bad = 0;
    /* Strings: a renamed entry symbol is a plugin the host cannot find. */
    if (strcmp(TT_PLUGIN_ENTRY_NAME, TT_ABI_ENTRY_NAME_V1) != 0) {
        printf("FAIL: entry symbol '%s', ABI 1 is '%s'\n", TT_PLUGIN_ENTRY_NAME,
               TT_ABI_ENTRY_NAME_V1);
        bad = 1;
    }
    if (strcmp(TT_PLUGIN_BUILD_TAG, TT_ABI_BUILD_TAG_V1) != 0) {
        printf("FAIL: build tag '%s', ABI 1 is '%s'\n", TT_PLUGIN_BUILD_TAG,
               TT_ABI_BUILD_TAG_V1);
        bad = 1;
    }
    printf("plugin.h ABI %d.%d: %d members' types%s, %d constants match layout_v1.h "
           "(which records ABI 1.0 to 1.%d)%s\n",
           TT_PLUGIN_ABI_MAJOR, TT_PLUGIN_ABI_MINOR, (int)N_MEMBERS,
           TT_ABI_CHECK_OFFSETS ? ", offsets and sizes" : "", (int)N_VALUES,
           TT_ABI_RECORDED_MINOR,
           TT_ABI_CHECK_OFFSETS ? "" : " (offsets are recorded for x86-64 only)");
    if (TT_ABI_CHECK_OFFSETS)
        printf("struct sizes: %d %s the record of ABI 1.%d\n", (int)N_SIZES,
               TT_ABI_SIZES_EXACT ? "equal to" : "at least",
               TT_ABI_SIZES_EXACT ? TT_PLUGIN_ABI_MINOR : TT_ABI_RECORDED_MINOR);
    if (TT_PLUGIN_ABI_MINOR > TT_ABI_RECORDED_MINOR)
        printf("note: ABI 1.%d is newer than the record (1.%d): record its members in "
               "tests/abi/layout_v1.h so that they are checked too\n",
               TT_PLUGIN_ABI_MINOR, TT_ABI_RECORDED_MINOR);
#if TT_PLUGIN_ABI_MINOR >= 10
    bad |= check_slot();
#endif
#ifdef TT_ABI_COMPARE
    bad |= tt_abi_compare_v1_0();
#endif
    return bad;
}

#else /* another major: ABI 1's record does not apply */

int main(void)
{
    printf("plugin.h is ABI %d.%d; tests/abi/layout_v1.h records ABI 1: record this major's "
           "layout (see that file)\n",
           TT_PLUGIN_ABI_MAJOR, TT_PLUGIN_ABI_MINOR);
    return 77;
}

#endif
