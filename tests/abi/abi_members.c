/*
 * abi_members.c - the offsets and sizes of ABI 1.0's members as one header
 * lays them out. Compiled twice, against the frozen 1.0 headers
 * (TT_ABI_MEMBERS_NAME=tt_abi_members_v1_0) and against the current ones
 * (tt_abi_members_now); tt_abi_compare_v1_0 (in the second) compares the
 * two on whatever architecture this is, where layout_v1.h's numbers are
 * x86-64's.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <tautune/plugin.h>

#include "layout_v1.h"

typedef struct tt_abi_member {
    const char *name;
    size_t offset, size;
} tt_abi_member;

#define ROW(s, m, off, size, type) {#s "." #m, offsetof(s, m), sizeof(((s *)0)->m)},

extern const tt_abi_member TT_ABI_MEMBERS_NAME[];
const tt_abi_member TT_ABI_MEMBERS_NAME[] = {TT_ABI_1_0(ROW){NULL, 0, 0}};

#ifdef TT_ABI_COMPARE_WITH
extern const tt_abi_member TT_ABI_COMPARE_WITH[];
int tt_abi_compare_v1_0(void);

/* 0 when every 1.0 member sits where the 1.0 header put it. */
int tt_abi_compare_v1_0(void)
{
    int bad = 0;
    size_t n = 0;
    for (; TT_ABI_MEMBERS_NAME[n].name; n++) {
        const tt_abi_member *now = &TT_ABI_MEMBERS_NAME[n], *then = &TT_ABI_COMPARE_WITH[n];
        /* Both tables come from the same list, so row n names one member. */
        if (now->offset != then->offset || now->size != then->size) {
            printf("FAIL: %s at %zu (%zu bytes); the ABI 1.0 header has it at %zu (%zu bytes)\n",
                   now->name, now->offset, now->size, then->offset, then->size);
            bad = 1;
        }
    }
    if (!bad)
        printf("the %zu members of ABI 1.0 are where the frozen 1.0 header puts them\n", n);
    return bad;
}
#endif
