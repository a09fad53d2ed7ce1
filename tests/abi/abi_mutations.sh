#!/usr/bin/env bash
# The ABI check checked: copies of include/tautune/plugin.h with one change
# each, compiled with abi_layout.c. Every incompatible change must stop the
# compile with the message that names it; a member appended with a minor
# bump, and a major bump, must not.
#   abi_mutations.sh CC SOURCE_DIR WORK_DIR
set -euo pipefail
cc=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
n_checked=0

# mutate NAME PERL_EXPR [HEADER]: a copy of the public headers with HEADER
# (default plugin.h) edited by PERL_EXPR (perl -0pe: the whole file at once)
# in $work/NAME; fails if nothing changed.
mutate() {
  local dir=$work/$1/include/tautune h=${3:-plugin.h}
  mkdir -p "$dir"
  cp "$src"/include/tautune/*.h "$dir/"
  perl -0pe "$2" "$src/include/tautune/$h" > "$dir/$h"
  cmp -s "$src/include/tautune/$h" "$dir/$h" &&
    fail "$1: the edit did not apply (has $h's text changed? update this test)"
  return 0
}

build() { # NAME -> compiles abi_layout.c against $work/NAME; output in NAME.log
  "$cc" -std=c11 -Wall -Wextra -I"$work/$1/include" "$src/tests/abi/abi_layout.c" \
    -o "$work/$1/abi_layout" > "$work/$1.log" 2>&1
}

# breaks NAME MESSAGE PERL_EXPR: the change must fail to compile, saying MESSAGE.
breaks() {
  mutate "$1" "$3"
  build "$1" && fail "$1: compiled; the check missed an incompatible change"
  grep -qF -- "$2" "$work/$1.log" || fail "$1: failed without '$2': $(head -n 5 "$work/$1.log")"
  echo "ok   $1: $2"
  n_checked=$((n_checked + 1))
}

echo "== incompatible changes stop the build"
breaks reorder "tt_plugin_host.alloc moved" \
  's/(\n\s*void \*\(\*alloc\)\(size_t size\);)(\n\s*void \*\(\*alloc_zero\)\(size_t count, size_t size\);)/$2$1/'
breaks insert "tt_plugin_data.x moved" \
  's/(\n\s*size_t p_w;[^\n]*)/$1\n    size_t p_extra;/'
breaks resize "tt_plugin_descriptor.n_params changed size" \
  's/\n    size_t n_params;\n/\n    uint32_t n_params;\n/'
breaks remove "no member named" \
  's/\n\s*const char \*summary;[^\n]*//'
breaks retype "tt_plugin_host.learner_fit changed type" \
  's/(int \(\*learner_fit\)\(tt_learner \*learner, )size_t n,/$1int n,/'
breaks retype_data "tt_plugin_data.t changed type" \
  's/const int \*t;/const long *t;/'
breaks grow_without_bump "tt_plugin_host is not its recorded size" \
  's/\n\} tt_plugin_host;/\n    int (*extra)(void *host_ctx);\n} tt_plugin_host;/'
breaks renumber_cap "TT_PLUGIN_CAP_IV changed" \
  's/(#define TT_PLUGIN_CAP_IV\s+)\(1u << 1\)/$1(1u << 9)/'
breaks renumber_enum "TT_PARAM_INT changed" \
  's/TT_PARAM_INT = 1,/TT_PARAM_INT = 0,/'
breaks magic "TT_PLUGIN_MAGIC changed" \
  's/(#define TT_PLUGIN_MAGIC )0x4c505454u/${1}0x4c505455u/'

echo "== compatible changes pass"
# A member appended to the host table with the minor raised.
mutate append_with_bump \
  's/\n\} tt_plugin_host;/\n    int (*extra)(void *host_ctx);\n} tt_plugin_host;/;
   s/(#define TT_PLUGIN_ABI_MINOR )(\d+)/$1 . ($2 + 1)/e'
build append_with_bump || fail "append_with_bump: refused: $(head -n 5 "$work/append_with_bump.log")"
"$work/append_with_bump/abi_layout" > "$work/append_with_bump.out" || fail "append_with_bump: run"
grep -q "record its members in tests/abi/layout_v1.h" "$work/append_with_bump.out" \
  || fail "append_with_bump: no reminder to record the new minor: $(cat "$work/append_with_bump.out")"
echo "ok   append_with_bump: compiles, reminds to record the new members"
n_checked=$((n_checked + 1))
# A major bump may change anything: the v1 record no longer applies (skip, 77).
mutate major_bump 's/(#define TT_PLUGIN_ABI_MAJOR )1/${1}2/; s/const int \*t;/const long *t;/'
build major_bump || fail "major_bump: refused: $(head -n 5 "$work/major_bump.log")"
set +e
"$work/major_bump/abi_layout" > "$work/major_bump.out"; code=$?
set -e
[ $code -eq 77 ] || fail "major_bump: exit $code, expected 77 (skip)"
echo "ok   major_bump: compiles, the v1 record is skipped"
n_checked=$((n_checked + 1))

echo "== renamed or reordered names are caught when the check runs"
mutate entry 's/(#define TT_PLUGIN_ENTRY_NAME )"tt_plugin_entry_v1"/$1"tt_plugin_entry_v2"/'
build entry || fail "entry: $(head -n 5 "$work/entry.log")"
"$work/entry/abi_layout" > "$work/entry.out" && fail "entry: a renamed entry symbol passed"
grep -q "FAIL: entry symbol" "$work/entry.out" || fail "entry: $(cat "$work/entry.out")"
echo "ok   entry: FAIL: entry symbol"
n_checked=$((n_checked + 1))
if [ -f "$src/include/tautune/slot.h" ]; then
  # A slot's learner is read by index: swapping two choices is a break.
  mutate slot_order 's/"forest",(\s*)"gbm"/"gbm",$1"forest"/' slot.h
  build slot_order || fail "slot_order: $(head -n 5 "$work/slot_order.log")"
  "$work/slot_order/abi_layout" > "$work/slot_order.out" && fail "slot_order: passed"
  grep -q "FAIL: tautune/slot.h learner choices" "$work/slot_order.out" \
    || fail "slot_order: $(cat "$work/slot_order.out")"
  echo "ok   slot_order: FAIL: tautune/slot.h learner choices"
  n_checked=$((n_checked + 1))
fi
echo "abi_mutations: $n_checked changes judged as they should be"
