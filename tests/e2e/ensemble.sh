#!/usr/bin/env bash
# End-to-end: ensembles of trials (issue 15, item 4).
#   ensemble.sh BUILD_DIR SOURCE_DIR WORK_DIR
# - a run whose ensemble beats its best trial by the honest score hands the
#   ensemble on: results.json says so (members, weights summing to 1),
#   cate.csv holds the weighted effects, and `tautune predict` on the same
#   rows reproduces cate.csv's effects and intervals exactly;
# - search.ensemble = false builds none, and says so;
# - a metric without per-row terms (energy) builds none, and says why.
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

# A forest and linear learners err differently on this curved surface: their
# mix beats either by more than two paired s.e. (the margin to win).
cat > ens.lua <<'LUA'
return {
  seed = 3,
  data = { generator = "confounded_nonlinear", rows = 2000 },
  budget = { trials = 12 },
  -- 10 bootstrap replicas, not 30: the forest learners' refits dominate this
  -- test's time, and what it checks (the ensemble, its intervals reproduced
  -- by predict) does not depend on how many replicas there are.
  intervals = { resamples = 10 },
  estimators = { t_learner = { model_learner = "forest" },
                 s_learner = { model_learner = "ridge", interactions = true },
                 causal_forest = {} },
}
LUA
"$tt" run ens.lua --ci --out ens > ens.out 2> ens.err || fail "run: $(cat ens.err)"
grep -q '^Handed on: an ensemble of [0-9]* trials' ens.out || fail "no ensemble handed on: $(cat ens.out)"
flat=$(tr -d ' \n\t' < ens/results.json)
grep -q '"ensemble":{"built":true' <<< "$flat" || fail "results.json: ensemble not built"
grep -q '"wins":true' <<< "$flat" || fail "results.json: the ensemble does not win"
grep -q '"chosen":true' <<< "$flat" || fail "results.json: ensemble.chosen is not true"
grep -q '"winner":{"estimator":"ensemble","trial":[0-9]*,"ensemble":true' <<< "$flat" ||
  fail "results.json: the winner is not the ensemble"
# The winner's members' weights sum to 1.
weights=$(grep -o '"winner":{.*"effects"' <<< "$flat" | grep -o '"weight":[0-9.e+-]*' | cut -d: -f2)
awk -v w="$weights" 'BEGIN { n = split(w, a, "\n"); for (i = 1; i <= n; i++) s += a[i];
  exit !(n >= 2 && s > 1 - 1e-9 && s < 1 + 1e-9) }' || fail "member weights do not sum to 1: $weights"
# The members' saved states went from the refits' children into model.ttm
# through hidden files in the run folder; none is left behind.
! ls -A ens | grep -q '^\.state-' || fail "state files left in the run folder: $(ls -A ens)"
echo "ok: the ensemble wins and is handed on"

# predict on the run's own rows gives cate.csv's effects and intervals.
"$tt" gen confounded_nonlinear --rows 2000 --seed 3 --out data.csv > /dev/null
"$tt" predict ens/model.ttm --data data.csv --out pred.csv 2> pred.err || fail "predict: $(cat pred.err)"
head -n 1 pred.csv | grep -q '^row,tau_1,lo_1,hi_1$' || fail "predict header: $(head -n 1 pred.csv)"
paste -d, <(cut -d, -f4-6 ens/cate.csv) <(cut -d, -f2-4 pred.csv) |
  awk -F, 'NR > 1 && ($1 != $4 || $2 != $5 || $3 != $6) { bad = NR } END { exit bad > 0 }' ||
  fail "predict on the ensemble differs from cate.csv"
[ "$(wc -l < pred.csv)" -eq 2001 ] || fail "predict gave $(wc -l < pred.csv) lines"
echo "ok: predict on the ensemble model reproduces cate.csv"

sed 's/budget = { trials = 12 },/budget = { trials = 12 }, search = { ensemble = false },/' ens.lua > off.lua
"$tt" run off.lua --ci --out off > off.out 2> off.err || fail "ensemble = false: $(cat off.err)"
grep -q '"ensemble":{"built":false,"reason":"switchedoff' <(tr -d ' \n\t' < off/results.json) ||
  fail "ensemble = false: results.json does not say so"
grep -q '"winner":{"estimator":"ensemble"' <(tr -d ' \n\t' < off/results.json) &&
  fail "ensemble = false: the ensemble was handed on"
echo "ok: search.ensemble = false builds none"

sed 's/budget = { trials = 12 },/budget = { trials = 6 }, metric = "energy",/' ens.lua > energy.lua
"$tt" run energy.lua --ci --out energy > /dev/null 2> energy.err || fail "energy: $(cat energy.err)"
grep -q '"ensemble":{"built":false,"reason":"[^"]*energy' <(tr -d ' \n\t' < energy/results.json) ||
  fail "energy: no reason for the missing ensemble: $(grep -o '"ensemble":{[^}]*}' energy/results.json)"
echo "ok: a metric without per-row terms builds no ensemble and says why"
