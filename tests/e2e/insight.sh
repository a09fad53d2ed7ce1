#!/usr/bin/env bash
# End-to-end: the answer, what drives the effect and a policy (issue 19).
#   insight.sh BUILD_DIR SOURCE_DIR WORK_DIR
# On confounded_linear (tau = 1 + 0.5 x1: the effect grows with x1 only):
# - results.json carries the estimand (ATE, and ATT with --estimand att), the
#   insight (the calibration test finds the heterogeneity; x1 leads the best
#   linear projection) and a policy valued on held-out rows;
# - report.html shows the answer, the verdict and the policy before the run's
#   facts, in that order; summary.md leads with them too;
# - tautune explain prints them, tautune policy refits the tree (on x1), and
#   tautune predict --policy adds each row's arm.
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tt" gen confounded_linear --rows 3000 --seed 4 --out d.csv > /dev/null
cat > h.lua <<'LUA'
return {
  seed = 1,
  data = { path = "d.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" },
           w = { "w1", "w2" }, true_effect = "tau1" },
  budget = { trials = 12 },
  search = { selection = "best" },
  estimators = { dml_linear = {}, t_learner = { model_learner = "ridge" } },
}
LUA
"$tt" run h.lua --ci --out run > run.out 2> run.err || fail "run: $(cat run.err)"
flat=$(tr -d ' \n\t' < run/results.json)
grep -q '"estimand":{"name":"ate"' <<< "$flat" || fail "no ATE estimand"
grep -q '"heterogeneity":true' <<< "$flat" || fail "the calibration test missed tau = 1 + 0.5 x1"
grep -q '"top_features":\[{"name":"x1"' <<< "$flat" || fail "x1 does not lead: $(grep -o '"top_features":\[[^]]*' <<< "$flat")"
grep -q '"policy":{"depth":2' <<< "$flat" || fail "no policy"
grep -q '"importance":{"arm":"1".*"features":\[{"name":"x1"' <<< "$flat" || fail "x1 is not the most important feature"
grep -q '"by_feature":\[{"name":"x1"' <<< "$flat" || fail "no plot data against x1"
grep -q 'id="plot-by-feature-1-x1"' run/report.html || fail "no plot of the effect against x1"
for f in policy.json policy.txt dr_scores.csv; do [ -s "run/$f" ] || fail "no run/$f"; done
grep -q 'x1' run/policy.txt || fail "the policy does not split on x1: $(cat run/policy.txt)"
# The first screen: answer, verdict, policy, then the run's facts.
pos() { grep -bo "$1" run/report.html | head -1 | cut -d: -f1; }
a=$(pos 'id="answer"') v=$(pos 'id="verdict"') w=$(pos 'id="who"') r=$(pos 'id="run"')
[ -n "$a" ] && [ -n "$v" ] && [ -n "$w" ] && [ -n "$r" ] || fail "report.html lacks a first-screen part"
[ "$a" -lt "$v" ] && [ "$v" -lt "$w" ] && [ "$w" -lt "$r" ] || fail "report.html order: answer $a verdict $v who $w run $r"
grep -q 'id="drivers"' run/report.html && grep -q 'id="policy"' run/report.html && grep -q 'id="averages"' run/report.html || fail "report.html sections"
head -8 run/summary.md | grep -q '^\*\*The answer.\*\* Average effect (ATE' || fail "summary.md: $(head -8 run/summary.md)"
grep -q '^\*\*Does it vary?\*\*' run/summary.md || fail "summary.md has no verdict"
echo "ok: estimand, insight, policy, report order"

"$tt" explain run > explain.out || fail "explain: $?"
grep -q '^The answer. Average effect' explain.out && grep -q '^Does it vary?' explain.out &&
  grep -q '^Who to treat?' explain.out || fail "explain: $(cat explain.out)"
"$tt" explain run --json > explain.json || fail "explain --json: $?"
grep -q '"insight"' explain.json || fail "explain --json has no insight"
"$tt" policy run --depth 1 --out pol > pol.out || fail "policy: $(cat pol.out)"
grep -q '^if x1 <= ' pol.out || fail "policy depth 1 is not on x1: $(cat pol.out)"
"$tt" predict run/model.ttm --data d.csv --policy pol/policy.json --out pred.csv 2> pred.err ||
  fail "predict --policy: $(cat pred.err)"
head -1 pred.csv | grep -q ',policy_arm$' || fail "no policy_arm column: $(head -1 pred.csv)"
if "$tt" explain nowhere 2> ex.err; then fail "explain of a missing folder succeeded"; fi
grep -q 'results.json' ex.err || fail "explain: $(cat ex.err)"
echo "ok: explain, policy, predict --policy"

"$tt" run h.lua --ci --out att --estimand att > /dev/null 2> att.err || fail "att: $(cat att.err)"
grep -q '"estimand":{"name":"att"' <(tr -d ' \n\t' < att/results.json) || fail "no ATT"
echo "ok: --estimand att"

# A forest winner: its own split-frequency importance beside the permutation one.
sed -e 's/estimators = { dml_linear = {}, t_learner = { model_learner = "ridge" } },/estimators = { causal_forest_dml = { trees = 100 } },/' \
    -e 's/trials = 12/trials = 2/' h.lua > forest.lua
"$tt" run forest.lua --ci --out forest > /dev/null 2> forest.err || fail "forest: $(cat forest.err)"
grep -q '"model_importance":{"method":"split frequency[^}]*"features":\[{"name":"x1"' <(tr -d '\n\t' < forest/results.json | tr -s ' ') ||
  fail "no split-frequency importance led by x1"
"$tt" explain forest | grep -q 'split frequency' || fail "explain shows no split frequency"
echo "ok: a forest's split frequency"
