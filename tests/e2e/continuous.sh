#!/usr/bin/env bash
# End-to-end: a continuous treatment (issue 19).
#   continuous.sh BUILD_DIR SOURCE_DIR WORK_DIR
# - the pricing generator (log price with confounded discounts, log demand,
#   heterogeneous elasticity) through check, run and predict: metric auto is
#   r_score, only the estimators of a continuous treatment are accepted, the
#   treatment regression E[T | x, w] is in the nuisances, the arm scores are
#   null saying why, cate.csv carries the treatment's value and an effect per
#   unit of it, model.ttm predicts what the run wrote, and the average
#   elasticity is near the truth's -1;
# - an estimator that takes arms is refused by name, and a numeric treatment
#   read as arms with many values gets the suggestion at check;
# - Card (1995) through run: tsls with years of school as the treatment and
#   nearc4 as the instrument reproduces the textbook 2SLS 0.1315.
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tt" gen pricing --rows 2000 --seed 3 --out pricing.csv > /dev/null
head -1 pricing.csv | grep -q '^y,t,x1,x2,x3,x4,x5,w1,w2,tau1,mu0,t_mean$' ||
  fail "pricing header: $(head -1 pricing.csv)"
cat > pricing.lua <<'LUA'
return {
  seed = 1,
  data = { path = "pricing.csv", outcome = "y", treatment = "t", treatment_kind = "continuous",
           x = { "x*" }, w = { "w1", "w2" }, true_effect = "tau1" },
  budget = { trials = 12 },
  scoring = { scores = { "r_score", "dr_mse", "energy", "qini" } },
  estimators = presets.continuous.cheap,
}
LUA
"$tt" check pricing.lua > check.out 2>&1 || fail "check: $(cat check.out)"
grep -q "^treatment   't', continuous" check.out || fail "check: $(cat check.out)"
grep -q '^metric      auto: r_score for these data' check.out || fail "check: $(cat check.out)"
"$tt" run pricing.lua --ci --out run > run.out 2> run.err || fail "run: $(cat run.err)"
flat=$(tr -d ' \n\t' < run/results.json)
grep -q '"metric":"r_score"' <<< "$flat" || fail "metric auto is not r_score"
grep -q '"role":"treatment","learner"' <<< "$flat" || fail "no treatment regression"
grep -q '"energy":null' <<< "$flat" && grep -q '"energy":"needsarms:thetreatmentiscontinuous"' <<< "$flat" ||
  fail "the energy score is not null on a continuous treatment, with the reason"
grep -q '"dr_mse":[0-9]' <<< "$flat" || fail "dr_mse has no value"
grep -q '"kind":"continuous"' <<< "$flat" || fail "results.json data.treatment.kind"
grep -q '^\*\*Winner: .* average effect per unit of t' run/summary.md || fail "summary: $(grep Winner run/summary.md)"
head -1 run/cate.csv | grep -q '^row,t,split,tau_t,lo_t,hi_t' || fail "cate.csv: $(head -1 run/cate.csv)"
ate=$(grep -o '"average_effect":{[^]]*' <<< "$flat" | grep -o '"estimate":[-0-9.e+]*' | head -1 | cut -d: -f2)
awk -v a="$ate" 'BEGIN { exit !(a > -1.2 && a < -0.8) }' || fail "average elasticity $ate, truth -1"
"$tt" predict run/model.ttm --data pricing.csv --out pred.csv > /dev/null 2> pred.err ||
  fail "predict: $(cat pred.err)"
paste -d, <(cut -d, -f4 run/cate.csv) <(cut -d, -f2 pred.csv) | tail -n +2 |
  awk -F, '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-9) bad++ } END { exit bad > 0 }' ||
  fail "predict differs from the run's cate.csv"
echo "ok: pricing: continuous run, scores, cate.csv and predict"

# An estimator that takes arms is refused by name.
sed 's/estimators = presets.continuous.cheap,/estimators = { t_learner = {} },/' pricing.lua > arms.lua
if "$tt" run arms.lua --ci --out arms > arms.out 2> arms.err; then fail "t_learner ran on a continuous treatment"; fi
grep -q "'t_learner' takes arms" arms.err || fail "no refusal naming t_learner: $(cat arms.err)"
# A numeric treatment with many values read as arms: check suggests the continuous kind.
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
          { v = int($2 * 3); if (v < -6) v = -6; if (v > 6) v = 6; $2 = v; print }' pricing.csv > dose.csv
sed -e 's/pricing.csv/dose.csv/' -e 's/treatment_kind = "continuous",/control = "0",/' \
    -e 's/presets.continuous.cheap/{ t_learner = {} }/' -e 's/, true_effect = "tau1"//' pricing.lua > dose.lua
"$tt" check dose.lua > dose.out 2> dose.err || fail "check dose: $(cat dose.err)"
grep -q 'data.treatment_kind = "continuous"' dose.err || fail "no suggestion: $(cat dose.err)"
echo "ok: refusals and the continuous suggestion"

card=$src/../shared/data/card1995/card.csv
if [ -f "$card" ]; then
  sed "s#\.\./\.\./shared/data/card1995/card.csv#$card#" "$src/configs/card_iv.lua" > card.lua
  "$tt" run card.lua --ci --out card > card.out 2> card.err || fail "card: $(cat card.err)"
  flat=$(tr -d ' \n\t' < card/results.json)
  est=$(grep -o '"average_effect":{[^]]*' <<< "$flat" | grep -o '"estimate":[-0-9.e+]*' | head -1 | cut -d: -f2)
  awk -v a="$est" 'BEGIN { exit !(a > 0.1310 && a < 0.1320) }' || fail "Card 2SLS $est, published 0.1315"
  echo "ok: Card (1995) through run: 2SLS $est (published 0.1315)"
else
  echo "skip: $card not found"
fi
