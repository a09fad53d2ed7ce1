#!/usr/bin/env bash
# End-to-end: tautune abtest (issue 17, item 1 and the design value of item 4).
#   abtest.sh BUILD_DIR SOURCE_DIR WORK_DIR
# A generated 3-arm RCT (effects 1 and 2 on average) through every method,
# with its sample-ratio check passing and a skewed copy flagged; rows
# assigned with known propensities (known_propensity: ATE 1, a 50/50 design
# earns 0.5) through the weighted means and the design value; Hillstrom's
# arm means against the published table and Lenta end to end when
# ../shared/data is there; the refusals.
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
# The n-th effect estimate of a method in results.json (flattened).
effect() { # file method arm-index
  tr -d ' \n\t' < "$1" | grep -o "\"method\":\"$2\"[^]]*" | grep -o '"estimate":[-0-9.e+]*' |
    sed -n "$3p" | cut -d: -f2
}
between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

"$tt" gen rct_linear --rows 30000 --arms 3 --seed 4 --out rct.csv
cat > rct.lua <<'LUA'
return {
  data = { path = "rct.csv", outcome = "y", treatment = "t", control = "0",
           x = { "x1", "x2", "x3" }, w = { "w1" } },
  experiment = { design = { 1, 1, 1 }, pre = "x2", correction = "bonferroni" },
}
LUA
"$tt" abtest rct.lua --out rct --search > rct.out 2> rct.err || fail "abtest: $(cat rct.err)"
for f in results.json summary.md report.html; do [ -s "rct/$f" ] || fail "no rct/$f"; done
grep -q 'sample ratio  chi2 .*: ok' rct.out || fail "sample ratio: $(head -4 rct.out)"
for m in welch cuped lin aipw; do
  a1=$(effect rct/results.json $m 1) a2=$(effect rct/results.json $m 2)
  between "$a1" 0.9 1.1 || fail "$m arm 1: $a1, truth 1"
  between "$a2" 1.9 2.1 || fail "$m arm 2: $a2, truth 2"
done
grep -q 'p adj. and intervals by Bonferroni over the 2 arms' rct.out || fail "correction not stated"
grep -q 'CUPED on x2: theta' rct.out || fail "no CUPED line"
grep -q 'id="forest-0"' rct/report.html || fail "no forest plot"
grep -q '| Lin |' rct/summary.md || fail "summary.md: $(cat rct/summary.md)"
# A broken assignment: drop most of arm 2's rows -> the sample ratio is flagged.
awk -F, 'NR == 1 || $2 != 2 || NR % 3 == 0' rct.csv > skew.csv
sed 's/rct.csv/skew.csv/' rct.lua > skew.lua
"$tt" abtest skew.lua --out skew > skew.out 2>&1 || fail "abtest skew: $(cat skew.out)"
grep -q 'MISMATCH' skew.out || fail "a 3:3:1 split passed the sample-ratio check: $(head -4 skew.out)"
echo "ok: Welch, CUPED, Lin, AIPW on a 3-arm RCT; sample ratio ok and flagged"

# Known propensities: the weighted means and the design value.
"$tt" gen known_propensity --rows 20000 --seed 2 --out kp.csv
cat > kp.lua <<'LUA'
return {
  data = { path = "kp.csv", outcome = "y", treatment = "t", control = "0",
           x = { "x1", "x2" }, w = { "w1" }, propensity = { "p0", "p1" } },
  experiment = { resamples = 300 },
}
LUA
"$tt" abtest kp.lua --out kp > kp.out 2> kp.err || fail "abtest kp: $(cat kp.err)"
grep -q 'assignment probabilities vary by row' kp.out || fail "no note on the weighting"
if grep -q 'Welch' kp.out; then fail "Welch shown for adaptively assigned rows"; fi
h=$(effect kp/results.json hajek 1)
between "$h" 0.85 1.15 || fail "weighted effect $h, truth 1"
flat=$(tr -d ' \n\t' < kp/results.json)
lo=$(grep -o '"design_value":{[^}]*' <<< "$flat" | grep -o '"lo":[-0-9.e+]*' | cut -d: -f2)
hi=$(grep -o '"design_value":{[^}]*' <<< "$flat" | grep -o '"hi":[-0-9.e+]*' | cut -d: -f2)
between 0.5 "$lo" "$hi" || fail "design value interval [$lo, $hi] misses 0.5"
echo "ok: known propensities: weighted effect $h, 50/50 design value in [$lo, $hi] (truth 0.5)"

# Refusals.
if "$tt" run rct.lua --out nope > /dev/null 2> run.err; then fail "run without estimators"; fi
grep -q 'tautune abtest' run.err || fail "run's refusal: $(cat run.err)"
sed 's/design = { 1, 1, 1 }/design = { ["0"] = 1, ["9"] = 1, ["2"] = 1 }/' rct.lua > bad1.lua
if "$tt" abtest bad1.lua --out b1 2> b1.err > /dev/null; then fail "unknown arm in design"; fi
grep -q "names arm '9'" b1.err || fail "$(cat b1.err)"
sed 's/pre = "x2"/pre = "nope"/' rct.lua > bad2.lua
if "$tt" abtest bad2.lua --out b2 2> b2.err > /dev/null; then fail "unknown pre column"; fi
grep -q "experiment.pre 'nope' is not a column" b2.err || fail "$(cat b2.err)"
sed 's/design = { 1, 1, 1 }/design = { 1, 1 }/' rct.lua > bad3.lua
if "$tt" abtest bad3.lua --out b3 2> b3.err > /dev/null; then fail "2 shares for 3 arms"; fi
grep -q 'has 2 shares for 3 arms' b3.err || fail "$(cat b3.err)"
sed 's/correction = "bonferroni"/correction = "sidak"/' rct.lua > bad4.lua
if "$tt" abtest bad4.lua 2> b4.err > /dev/null; then fail "unknown correction"; fi
grep -q 'bad4.lua:4: experiment.correction: unknown value "sidak"' b4.err || fail "$(cat b4.err)"
echo "ok: refusals"

data=$src/../shared/data
if [ -f "$data/hillstrom/hillstrom.csv" ]; then
  sed "s#\.\./\.\./shared/data#$data#" "$src/configs/hillstrom_abtest.lua" > hill.lua
  "$tt" abtest hill.lua --out hill > hill.out 2> hill.err || fail "hillstrom: $(cat hill.err)"
  # The published arm means (../shared/data/README.md): visit, then spend.
  for want in "Mens E-Mail 21307 0.182757" "Womens E-Mail 21387 0.1514" "No E-Mail 21306 0.106167" \
              "Mens E-Mail 21307 1.42262" "Womens E-Mail 21387 1.0772" "No E-Mail 21306 0.652789"; do
    tr -s ' ' < hill.out | grep -q "^ $want " || fail "Hillstrom: no '$want' in $(cat hill.out)"
  done
  grep -q 'sample ratio  chi2 0.2025 (df 2), p 0.904' hill.out || fail "Hillstrom SRM"
  sed "s#\.\./\.\./shared/data#$data#" "$src/configs/lenta_abtest.lua" > lenta.lua
  "$tt" abtest lenta.lua --out lenta > lenta.out 2> lenta.err || fail "lenta: $(cat lenta.err)"
  grep -q 'CUPED (pre-period food_share_15d)' lenta.out || fail "lenta: $(cat lenta.out)"
  echo "ok: Hillstrom arm means as published; Lenta end to end"
else
  echo "skip: ../shared/data not found (Hillstrom, Lenta)"
fi
