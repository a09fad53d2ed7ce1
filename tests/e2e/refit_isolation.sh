#!/usr/bin/env bash
# End-to-end: no plugin code in the main process after the search. Plugins
# that pass the search and then crash or fail on the winner's refit (or in
# predict) must cost that refit, not the run: exit 7, a fallback model from
# the next best trial when there is one, the failure in results.json and a
# caveat in the report; predict on a model whose load() crashes exits 7 with
# a message naming the plugin, never with its own SIGSEGV.
#   refit_isolation.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
check=$build/tests/check_results
plugins=$build/tests/refit_plugins
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH RF_MARKER
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
  [ "$code" -eq "$want" ] || fail "$name: exit $code, expected $want; stderr: $(cat "$name.err")"
}

# config NAME ESTIMATORS...: NAME.lua; metric pehe so the rf_* fixtures win
# over rf_good (whose effects are 10 off) every time.
config() {
  local name=$1 est=""
  shift
  for e in "$@"; do est="$est $e = {},"; done
  cat > "$name.lua" <<LUA
return {
  seed = 5,
  data = { generator = "synthetic", rows = 600 },
  metric = "pehe",
  budget = { trials = 8 },
  estimators = { $est },
}
LUA
}

# pages DIR: the report is written whatever happened to the refit.
pages() {
  [ -s "$1/report.html" ] && [ -s "$1/summary.md" ] || fail "$1: report.html or summary.md missing"
  grep -q "The winner's refit failed" "$1/summary.md" || fail "$1: no refit caveat in summary.md"
  grep -q "The winner&#39;s refit failed\|The winner's refit failed" "$1/report.html" \
    || fail "$1: no refit caveat in report.html"
}

echo "== save() crashes: fallback to the next best trial, exit 7"
config save_crash rf_save_crash rf_good
expect 7 save_crash "$tt" run save_crash.lua --out save_crash --plugin-path "$plugins"
# An ASan build catches the SEGV itself and exits 1.
crashed="(died of signal 11|exited with code 1)"
grep -Eq "refitting rf_save_crash \(trial [0-9]+\) failed at save: the refit $crashed" \
  save_crash.err || fail "no message naming plugin, trial and step: $(cat save_crash.err)"
"$check" save_crash refit rf_save_crash save rf_good 1
[ -s save_crash/model.ttm ] && [ -s save_crash/cate.csv ] || fail "no fallback model.ttm/cate.csv"
pages save_crash

echo "== save() crashes and there is no other estimator: no model, still exit 7"
config save_alone rf_save_crash
expect 7 save_alone "$tt" run save_alone.lua --out save_alone --plugin-path "$plugins"
"$check" save_alone refit rf_save_crash save none 1
[ ! -e save_alone/model.ttm ] && [ ! -e save_alone/cate.csv ] || fail "a model from a crashed refit"
grep -q "no refit worked" save_alone.err || fail "$(cat save_alone.err)"
pages save_alone

echo "== fit() fails on the refit only: two tries of that plugin, then the fallback"
config fit_fail rf_fit_fail rf_good
RF_MARKER=$PWD/fit_fail/results.json \
  expect 7 fit_fail "$tt" run fit_fail.lua --out fit_fail --plugin-path "$plugins"
grep -q "refitting rf_fit_fail (trial [0-9]*) failed at fit: refit fixture: fit refuses" \
  fit_fail.err || fail "$(cat fit_fail.err)"
"$check" fit_fail refit rf_fit_fail fit rf_good 2
pages fit_fail

echo "== fit() crashes on the refit: the plugin is ruled out at once"
config fit_crash rf_fit_crash rf_good
RF_MARKER=$PWD/fit_crash/results.json \
  expect 7 fit_crash "$tt" run fit_crash.lua --out fit_crash --plugin-path "$plugins"
grep -Eq "failed at fit: the refit $crashed.*; stderr: refit fixture: crashing in fit" \
  fit_crash.err || fail "$(cat fit_crash.err)"
"$check" fit_crash refit rf_fit_crash fit rf_good 1
pages fit_crash

echo "== load() crashes: the run is fine, predict exits 7 naming the plugin"
config load_crash rf_load_crash rf_good
expect 0 load_crash "$tt" run load_crash.lua --out load_crash --plugin-path "$plugins"
[ -s load_crash/model.ttm ] || fail "no model.ttm"
"$tt" gen synthetic --rows 50 --seed 1 --out new.csv
expect 7 predict_load "$tt" predict load_crash/model.ttm --data new.csv --plugin-path "$plugins"
grep -Eq "plugin 'rf_load_crash' failed at load: the plugin $crashed" predict_load.err \
  || fail "predict message: $(cat predict_load.err)"
[ ! -s predict_load.out ] || fail "predict wrote effects although load crashed"

echo "== a fallback model predicts like its cate.csv says"
expect 0 predict_ok "$tt" predict save_crash/model.ttm --data new.csv --plugin-path "$plugins"
# The fixture's effect is one constant: the first row of each must agree.
pred=$(sed -n 2p predict_ok.out | cut -d, -f2)
cate=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^tau/) c = i } NR == 2 { print $c }' \
  save_crash/cate.csv)
[ -n "$pred" ] && [ "$pred" = "$cate" ] || fail "fallback predict gives $pred, its cate.csv $cate"

echo "== the winner's refit cannot fit the budget: the best trial that can is handed on"
# rf_slow wins (metric pehe) but every fit of it sleeps 3 s: after a
# 10 s budget's search its refit on every row cannot finish within the run's
# tolerance, so the fast rf_good is refitted instead, in time, exit 0, and
# results.json says why the winner was passed over.
cat > slow.lua <<'LUA'
return {
  seed = 3,
  data = { generator = "synthetic", rows = 2000 },
  validation = { folds = 1 },
  metric = "pehe",
  budget = { seconds = 10 },
  estimators = { rf_slow = {}, rf_good = {} },
}
LUA
t0=$(date +%s.%N)
expect 0 slow "$tt" run slow.lua --ci --out slow --plugin-path "$plugins"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a <= 10 + 2) }' ||
  fail "slow: a 10 s budget took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
grep -q "the winner (trial [0-9]*, rf_slow): its refit .* cannot finish" slow.err ||
  fail "slow: no reason given: $(cat slow.err)"
grep -q "are those of trial [0-9]* (rf_good)" slow.err || fail "slow: $(cat slow.err)"
[ -s slow/model.ttm ] && [ -s slow/cate.csv ] || fail "slow: no model handed on"
grep -q '"step":[[:space:]]*"budget"' slow/results.json ||
  fail "slow: results.json has no fallback_from with step budget"

echo "refit_isolation: all checks passed"
