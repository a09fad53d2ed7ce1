#!/usr/bin/env bash
# End-to-end: instrumental-variable runs (issue 16).
#   iv.sh BUILD_DIR SOURCE_DIR WORK_DIR
# - on the iv generator with its randomised instrument declared
#   (data.z_propensity), metric auto is iv_dr_mse, an IV estimator wins over
#   the confounded t_learner, the instrument propensity is the design's (no
#   model), the treatment-given-instrument models are fitted, and results.json,
#   summary.md and report.html carry the instrument's diagnostics;
# - the same data with the instrument replaced by a coin flip unrelated to T:
#   a loud weak-instrument warning (even with --quiet), the caveat in
#   results.json and summary.md, and a winner whose interval is too wide to
#   mean anything - never a confident number.
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tt" gen iv --rows 3000 --seed 2 --out iv.csv > /dev/null
cat > strong.lua <<'LUA'
return {
  seed = 1,
  data = { path = "iv.csv", outcome = "y", treatment = "t", control = "0", x = "x*",
           w = { "w1", "w2" }, z = { "z" }, z_propensity = 0.5, true_effect = "tau1" },
  budget = { trials = 10 },
  estimators = { tsls = { effect = "linear" }, driv_linear = {}, t_learner = {} },
}
LUA
"$tt" check strong.lua > check.out 2>&1 || fail "check: $(cat check.out)"
grep -q '^metric      auto: iv_dr_mse for these data' check.out || fail "check: $(cat check.out)"
grep -q '^instrument  z (binary' check.out || fail "check names no instrument: $(cat check.out)"
"$tt" run strong.lua --ci --out strong > strong.out 2> strong.err || fail "run: $(cat strong.err)"
flat=$(tr -d ' \n\t' < strong/results.json)
grep -q '"metric":"iv_dr_mse"' <<< "$flat" || fail "metric auto is not iv_dr_mse"
grep -Eq '"winner":\{"estimator":"(tsls|driv_linear)"' <<< "$flat" ||
  fail "an IV estimator did not win: $(grep -o '"winner":{"estimator":"[a-z_]*"' <<< "$flat")"
grep -q '"role":"instrument","learner":"known"' <<< "$flat" ||
  fail "the declared instrument propensity was fitted"
grep -q '"role":"treatment_given_z","z":1' <<< "$flat" || fail "no P(T=1|x,w,Z=1) model"
grep -q '"weak":false' <<< "$flat" || fail "a strong instrument was called weak"
f=$(grep -o '"first_stage":{"coef":[^}]*' <<< "$flat" | grep -o '"f":[0-9.e+]*' | cut -d: -f2)
awk -v f="$f" 'BEGIN { exit !(f > 100) }' || fail "first-stage F $f, expected > 100"
grep -q '^Instrument z: first-stage F' strong/summary.md || fail "summary.md has no instrument"
grep -q 'id="plot-compliance"' strong/report.html || fail "report.html has no compliance plot"
grep -q "instrument 'z': first-stage F" strong.err || fail "stderr has no instrument line"
echo "ok: strong instrument: IV winner, diagnostics everywhere"

# A coin flip in place of the instrument (awk's fixed seed: reproducible).
awk -F, 'BEGIN { OFS = ","; srand(7) } NR == 1 { print; next } { $3 = (rand() < 0.5); print }' \
  iv.csv > coin.csv
sed 's/iv.csv/coin.csv/' strong.lua > weak.lua
"$tt" run weak.lua --ci --quiet --out weak > weak.out 2> weak.err || fail "weak run: $(cat weak.err)"
grep -q "WARNING: instrument 'z' is weak" weak.err || fail "no weak-instrument warning: $(cat weak.err)"
flat=$(tr -d ' \n\t' < weak/results.json)
grep -q '"weak":true' <<< "$flat" || fail "results.json iv.weak is not true"
grep -q 'Caveat: weak instrument' weak/summary.md || fail "summary.md has no weak caveat"
# The winner's average effect: an interval wider than 2 (the effect is ~1) -
# never a confident number. (The winner gives intervals: a missing one fails.)
lo=$(grep -o '"average_effect":{[^]]*' <<< "$flat" | grep -o '"lo":[-0-9.e+]*' | cut -d: -f2)
hi=$(grep -o '"average_effect":{[^]]*' <<< "$flat" | grep -o '"hi":[-0-9.e+]*' | cut -d: -f2)
[ -n "$lo" ] && [ -n "$hi" ] || fail "the winner's average effect has no interval"
awk -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(hi - lo > 2) }' ||
  fail "a confident average effect [$lo, $hi] from an instrument unrelated to T"
echo "ok: unrelated instrument: loud caveat, no confident number"

# One-sided non-compliance (nobody treated without the instrument, as with
# 401(k) eligibility): P(T=1 | Z=0) is exactly 0 with no model, and the
# final fit on every row refits it the same way (a regression: it once
# asked for a learner named "constant").
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { if ($3 == 0) $2 = 0; print }' \
  iv.csv > onesided.csv
sed 's/iv.csv/onesided.csv/; s/z_propensity = 0.5, //' strong.lua > onesided.lua
"$tt" run onesided.lua --ci --quiet --out onesided > onesided.out 2> onesided.err ||
  fail "one-sided run: $(cat onesided.err)"
flat=$(tr -d ' \n\t' < onesided/results.json)
grep -q '"role":"treatment_given_z","z":0,"learner":"constant"' <<< "$flat" ||
  fail "P(T=1|Z=0) is not the exact constant"
grep -q '"final_fit":{"rows":"all"' <<< "$flat" || fail "the final fit on every row failed: $(cat onesided.err)"
echo "ok: one-sided non-compliance: exact p_0 and a final fit on every row"
