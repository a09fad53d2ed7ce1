#!/usr/bin/env bash
# End-to-end: `tautune plugin-test` names each flaw of the fixture plugins
# (tests/fixtures/flawed_plugin.c) with one FAIL line and exit 4, passes the
# flawless one, survives plugins that crash, hang or return NaN (each costs
# its checks, not the command), and reports a file the loader refuses.
#   plugin_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
fl=$build/tests/flawed_plugins
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
export TAUTUNE_PROBE_CACHE=0
fail() { echo "FAIL: $*" >&2; exit 1; }
: "$src"

# expect CODE NAME COMMAND...: run COMMAND, keep its stdout/stderr in
# NAME.out/NAME.err, and fail unless it exits with CODE.
expect() {
  local want=$1 name=$2 code
  shift 2
  set +e
  "$@" > "$name.out" 2> "$name.err"
  code=$?
  set -e
  [ "$code" -eq "$want" ] || fail "$name: exit $code, expected $want; stdout: $(cat "$name.out"); stderr: $(cat "$name.err")"
}

# verdict NAME CHECK WORD: the table in NAME.out has CHECK with WORD.
verdict() {
  grep -Eq "^$2 +$3  " "$1.out" || fail "$1: no '$2 $3' line: $(cat "$1.out")"
}

# only_fail NAME CHECK: CHECK is the one FAIL line of NAME.out.
only_fail() {
  verdict "$1" "$2" FAIL
  local n
  n=$(grep -Ec '^[a-z0-9-]+ +FAIL  ' "$1.out" || true)
  [ "$n" -eq 1 ] || fail "$1: $n FAIL lines, expected only $2: $(grep -E ' FAIL  ' "$1.out")"
  grep -q "^fl_[a-z_]*: [0-9]* passed, 1 failed" "$1.out" || fail "$1: summary: $(tail -n 1 "$1.out")"
}

have_valgrind=0
command -v valgrind > /dev/null && have_valgrind=1

echo "== the flawless fixture passes every check"
expect 0 good "$tt" plugin-test --quick "$fl/fl_good.so"
for check in load schema fit-2arm shape-2arm finite-2arm recovery-2arm fit-3arm shape-3arm \
             finite-3arm recovery-3arm intervals determinism save-load schema-points weights \
             refusal should-stop; do
  verdict good "$check" PASS
done
verdict good fit-continuous SKIP
verdict good fit-iv SKIP
verdict good fit-time INFO
verdict good valgrind SKIP
grep -q ' FAIL  ' good.out && fail "good: a FAIL line: $(grep ' FAIL  ' good.out)"
grep -q '^recovery-2arm .*mean .* vs true 1: |error| .* <= .*5 s.e. of a difference in means' good.out \
  || fail "good: the recovery line does not state its tolerance: $(grep '^recovery-2arm' good.out)"
grep -q '^intervals .*rule: >= 50%' good.out || fail "good: the intervals line does not state its rule"

echo "== each flaw is one named FAIL, exit 4"
expect 4 load_drops_param "$tt" plugin-test --quick "$fl/fl_load_drops_param.so"
only_fail load_drops_param save-load
grep -q '^save-load .*fitted at shift=0.025.*effects differ' load_drops_param.out \
  || fail "load_drops_param: $(grep '^save-load' load_drops_param.out)"
expect 4 nondeterministic "$tt" plugin-test --quick "$fl/fl_nondeterministic.so"
only_fail nondeterministic determinism
expect 4 inverted_intervals "$tt" plugin-test --quick "$fl/fl_inverted_intervals.so"
only_fail inverted_intervals intervals
grep -q '^intervals .*inverted at row 1, arm 1: lo .* > hi' inverted_intervals.out \
  || fail "inverted_intervals: $(grep '^intervals' inverted_intervals.out)"
expect 4 nan_arm "$tt" plugin-test --quick "$fl/fl_nan_arm.so"
only_fail nan_arm finite-3arm
grep -q '^finite-3arm .*arm 2: 500 of 500' nan_arm.out || fail "nan_arm: $(grep '^finite-3arm' nan_arm.out)"
verdict nan_arm finite-2arm PASS
expect 4 one_column "$tt" plugin-test --quick "$fl/fl_one_column.so"
only_fail one_column shape-3arm
grep -q "^shape-3arm .*left 500 of 1000 cells unwritten.* arm 2's column 500 of 500" one_column.out \
  || fail "one_column: $(grep '^shape-3arm' one_column.out)"
if [ $have_valgrind -eq 1 ]; then
  expect 4 leak "$tt" plugin-test --quick --valgrind "$fl/fl_leak.so"
  only_fail leak valgrind
  grep -q '^valgrind .*definitely lost.* at fl_fit' leak.out || fail "leak: $(grep '^valgrind' leak.out)"
  expect 0 good_valgrind "$tt" plugin-test --quick --valgrind "$fl/fl_good.so"
  verdict good_valgrind valgrind PASS
else
  echo "(no valgrind on PATH: the leak check is not asserted)"
  expect 2 no_valgrind "$tt" plugin-test --quick --valgrind "$fl/fl_leak.so"
  grep -q 'no valgrind on PATH' no_valgrind.err || fail "no_valgrind: $(cat no_valgrind.err)"
fi
# Without valgrind the leak is invisible: every other check passes.
expect 0 leak_quick "$tt" plugin-test --quick "$fl/fl_leak.so"

echo "== a crash, a hang and a NaN each cost their checks, not the command"
expect 4 crash "$tt" plugin-test --quick "$build/tests/misbehaving/mb_crash.so"
grep -Eq '^fit-2arm +FAIL  in fit: the plugin (died of signal 11|exited with code 1)' crash.out \
  || fail "crash: $(grep '^fit-2arm' crash.out)"
verdict crash shape-2arm SKIP
grep -q '^mb_crash: [0-9]* passed, [0-9]* failed' crash.out || fail "crash: no summary line"
expect 4 hang "$tt" plugin-test --quick --timeout 1 "$build/tests/misbehaving/mb_hang.so"
grep -q '^fit-2arm .*FAIL  in fit: the plugin was killed after its timeout of 1 s' hang.out \
  || fail "hang: $(grep '^fit-2arm' hang.out)"
grep -q '^should-stop .*FAIL  .*killed after its timeout of 5 s' hang.out \
  || fail "hang: $(grep '^should-stop' hang.out)"
expect 4 nan "$tt" plugin-test --quick "$build/tests/misbehaving/mb_nan.so"
grep -q '^finite-2arm .*FAIL  1 non-finite effects (first: row 251, arm 1 = nan)' nan.out \
  || fail "nan: $(grep '^finite-2arm' nan.out)"

echo "== a file the loader refuses is the first line, exit 4"
expect 4 bad_magic "$tt" plugin-test --quick "$build/tests/fixtures/fx_bad_magic.so"
grep -q '^load .*FAIL  rejected: .*magic' bad_magic.out || fail "bad_magic: $(cat bad_magic.out)"
expect 4 missing "$tt" plugin-test --quick "$work/nothing.so"
verdict missing load FAIL

echo "== usage errors"
expect 2 no_path "$tt" plugin-test --quick
expect 2 bad_option "$tt" plugin-test "$fl/fl_good.so" --fast
expect 2 both "$tt" plugin-test "$fl/fl_good.so" --valgrind --no-valgrind
expect 2 bad_seed "$tt" plugin-test "$fl/fl_good.so" --seed x
grep -q "^Usage: tautune plugin-test" bad_option.err || fail "bad_option: no usage text"

echo "e2e plugin-test: all checks passed"
