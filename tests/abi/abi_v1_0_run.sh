#!/usr/bin/env bash
# A plugin built against the frozen ABI 1.0 headers (abi_v1_0_plugin.c) in
# today's tautune, end to end: listed as ABI 1.0, searched, refitted as the
# winner with its own intervals, its model saved and applied by predict to
# new rows, whose true effects it recovers.
#   abi_v1_0_run.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
tt=$build/tautune
dir=$build/tests/abi_plugins
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== listed"
"$tt" plugins abi_v1_0 --plugin-path "$dir" > plugins.txt || fail "tautune plugins: $(cat plugins.txt)"
grep -q '^abi_v1_0 1.0.0  \[multi-arm,intervals,save-load\]  ABI 1.0$' plugins.txt \
  || fail "listing: $(head -n 1 plugins.txt)"
grep -q '^    widen  *choice  *{plain|wide}  *default plain ' plugins.txt || fail "schema: $(cat plugins.txt)"

echo "== searched and refitted"
"$tt" gen rct_linear --arms 3 --rows 1500 --seed 2 --out train.csv > /dev/null
"$tt" gen rct_linear --arms 3 --rows 300 --seed 9 --out new.csv > /dev/null
cat > v10.lua <<'LUA'
return {
  seed = 4,
  data = { path = "train.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" },
           w = { "w1", "w2" } },
  budget = { trials = 4 },
  estimators = { abi_v1_0 = { alpha = loguniform(0.01, 10), widen = choice({ "plain", "wide" }) } },
}
LUA
"$tt" run v10.lua --plugin-path "$dir" --out run --quiet > run.out 2> run.err \
  || fail "run: $(cat run.err)"
[ "$(grep -c '"estimator":"abi_v1_0".*"status":"ok"' run/trials.jsonl)" -eq 4 ] \
  || fail "not 4 good trials: $(cat run/trials.jsonl)"
[ -s run/model.ttm ] || fail "no model.ttm"
head -n 1 run/cate.csv | grep -q 'lo_1,hi_1' || fail "cate.csv has no intervals: $(head -n 1 run/cate.csv)"

echo "== its model applied by predict"
"$tt" predict run/model.ttm --data new.csv --plugin-path "$dir" --out pred.csv 2> pred.err || fail "predict: $(cat pred.err)"
head -n 1 pred.csv | grep -qx 'row,tau_1,lo_1,hi_1,tau_2,lo_2,hi_2' || fail "predict: $(head -n 1 pred.csv)"
[ "$(wc -l < pred.csv)" -eq 301 ] || fail "predict wrote $(wc -l < pred.csv) lines"
# Truth: new.csv's tau1, tau2 (tau_k = k (1 + 0.5 x1)); mean absolute error per arm.
paste -d, pred.csv new.csv | awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { for (k = 1; k <= 2; k++) {
      tau = $(col["tau_" k]); lo = $(col["lo_" k]); hi = $(col["hi_" k]); truth = $(col["tau" k])
      if (!(lo <= tau && tau <= hi)) { print "row " NR ": interval [" lo ", " hi "] misses " tau; exit 1 }
      err[k] += (tau > truth ? tau - truth : truth - tau); n[k]++ } }
  END { for (k = 1; k <= 2; k++) { m = err[k] / n[k]; print "arm " k ": mean absolute error " m
          if (!(m < 0.35)) exit 1 } }' || fail "predict's effects are off the truth"
echo "abi_v1_0_run: all checks passed"
