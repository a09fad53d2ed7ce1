#!/usr/bin/env bash
# End-to-end: tautune assign (issue 17, item 3).
#   assign.sh BUILD_DIR SOURCE_DIR WORK_DIR
# On a three-arm randomized experiment (rct_linear, tau_k = k (1 + 0.5 x1))
# with an id column, a quick dml_linear run's model assigns new rows:
# - the columns are predict's (the effects cell for cell) then p_0, p_1, p_2
#   and assigned; every probability inside [F, 1 - 2F], rows summing to 1
#   within 1e-12, for the default floor and --min-prob 0.2;
# - the same seed gives the same file (and --out - the same CSV, the summary
#   on stderr), another seed the same probabilities and other arms;
# - the next round's data, with the written columns as data.propensity, pass
#   `tautune check`;
# - refusals: a missing model (3), a bad --min-prob (2), a missing column (3),
#   a model whose plugin has no intervals (4).
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE NAME COMMAND...: NAME.out/NAME.err, and the exit code CODE.
expect() {
  local want=$1 name=$2 code
  shift 2
  set +e
  "$@" > "$name.out" 2> "$name.err"
  code=$?
  set -e
  [ "$code" -eq "$want" ] || fail "$name: exit $code, expected $want; stderr: $(cat "$name.err")"
}

# with_id IN OUT PREFIX: IN with a first column uid = PREFIX<row>.
with_id() { awk -F, -v p="$3" 'NR == 1 { print "uid," $0; next } { print p (NR - 1) "," $0 }' "$1" > "$2"; }
"$tt" gen rct_linear --arms 3 --rows 1500 --seed 2 --out g.csv > /dev/null
"$tt" gen rct_linear --arms 3 --rows 300 --seed 9 --out gn.csv > /dev/null
with_id g.csv d.csv u
with_id gn.csv new.csv n
cat > c.lua <<'LUA'
return {
  seed = 1,
  data = { path = "d.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" },
           w = { "w1", "w2" }, id = "uid" },
  budget = { trials = 3 },
  estimators = { dml_linear = {} },
}
LUA
"$tt" run c.lua --ci --out run > run.out 2> run.err || fail "run: $(cat run.err)"

"$tt" assign --help | head -1 | grep -q '^Usage: tautune assign' || fail "assign --help"
expect 0 a "$tt" assign run/model.ttm --data new.csv --out a.csv --seed 5
[ ! -s a.err ] || fail "assign wrote on stderr with --out FILE: $(cat a.err)"
head -1 a.csv | grep -qx 'row,uid,tau_1,lo_1,hi_1,tau_2,lo_2,hi_2,p_0,p_1,p_2,assigned' ||
  fail "columns: $(head -1 a.csv)"
[ "$(wc -l < a.csv)" -eq 301 ] || fail "$(wc -l < a.csv) lines, expected 301"
# The effects are predict's, cell for cell.
"$tt" predict run/model.ttm --data new.csv --out p.csv 2> p.err || fail "predict: $(cat p.err)"
cmp -s p.csv <(cut -d, -f1-8 a.csv) || fail "the effects differ from predict's"
cut -d, -f1 new.csv | cmp -s - <(cut -d, -f2 a.csv | sed '1s/.*/uid/') || fail "ids"
# rows F: every p in [F, 1 - 2F], the row sum 1 within 1e-12, a known arm.
rows() {
  awk -F, -v f="$2" 'NR > 1 {
    s = 0
    for (j = 9; j <= 11; j++) {
      if (!($j >= f * (1 - 1e-15) && $j <= 1 - 2 * f + 1e-15 && $j > 0 && $j < 1)) {
        print "line " NR ": p = " $j; exit 1 }
      s += $j
    }
    if (s - 1 > 1e-12 || 1 - s > 1e-12) { print "line " NR ": sum " s; exit 1 }
    if ($12 != "0" && $12 != "1" && $12 != "2") { print "line " NR ": arm " $12; exit 1 }
  }' "$1" || fail "$1: probabilities"
}
rows a.csv 0.05
# The model's interval method and the per-arm lines.
grep -q "^uncertainty: the model's 95 % intervals by HC1 sandwich (dml_linear)" a.out ||
  fail "summary: $(cat a.out)"
grep -q '^assign: 300 rows, 3 arms' a.out || fail "summary: $(cat a.out)"
for k in 0 1 2; do grep -qE "^$k +0\.[0-9]{4} +[01]\.[0-9]{4}  \([0-9]+ rows\)" a.out || fail "no line for arm $k: $(cat a.out)"; done
grep -q 'propensity = { "p_0", "p_1", "p_2" }' a.out || fail "summary: $(cat a.out)"
# tau_2 = 2 tau_1 here, so arm 2 should be drawn most.
[ "$(awk -F, 'NR > 1 && $12 == "2"' a.csv | wc -l)" -gt 150 ] || fail "arm 2 is not drawn most"
echo "ok: columns, predict's effects, probabilities, floor, summary"

expect 0 a2 "$tt" assign run/model.ttm --data new.csv --out a2.csv --seed 5
cmp -s a.csv a2.csv || fail "the same seed gave another file"
expect 0 std "$tt" assign run/model.ttm --data new.csv --out - --seed 5
cmp -s a.csv std.out || fail "--out - differs from --out FILE"
grep -q '^assign: 300 rows' std.err || fail "no summary on stderr with --out -"
expect 0 b "$tt" assign run/model.ttm --data new.csv --out b.csv --seed 6
cmp -s <(cut -d, -f1-11 a.csv) <(cut -d, -f1-11 b.csv) || fail "another seed changed the probabilities"
cmp -s <(cut -d, -f12 a.csv) <(cut -d, -f12 b.csv) && fail "another seed drew the same arms"
expect 0 f "$tt" assign run/model.ttm --data new.csv --out f.csv --min-prob 0.2
rows f.csv 0.2
expect 0 u "$tt" assign run/model.ttm --data new.csv --out u.csv --min-prob 0.3333333333333333
awk -F, 'NR > 1 { for (j = 9; j <= 11; j++) if ($j < 0.3333333 || $j > 0.3333334) exit 1 }' u.csv ||
  fail "a floor of 1/3 did not give 1/3 everywhere"
echo "ok: same seed same file, other seed other arms, floors 0.2 and 1/3"

# The next round: outcomes observed under the assigned arms, the written
# probabilities as known propensities.
paste -d, gn.csv <(cut -d, -f9-12 a.csv) > next.csv
cat > next.lua <<'LUA'
return {
  data = { path = "next.csv", outcome = "y", treatment = "assigned", control = "0",
           x = { "x*" }, w = { "w1", "w2" }, propensity = { "p_0", "p_1", "p_2" } },
  estimators = { dml_linear = {} },
}
LUA
expect 0 check "$tt" check next.lua
# ... and check does read them: the true propensity of one arm in their place is refused.
sed 's/"p_2" }/"e2" }/' next.lua > wrong.lua
expect 3 wrong "$tt" check wrong.lua
grep -q 'propensity columns sum to' wrong.err || fail "$(cat wrong.err)"
echo "ok: the written probabilities pass as data.propensity"

expect 3 nomodel "$tt" assign nowhere.ttm --data new.csv
grep -q 'nowhere.ttm' nomodel.err || fail "$(cat nomodel.err)"
expect 2 floor_big "$tt" assign run/model.ttm --data new.csv --min-prob 0.34
grep -q 'at most 1/3' floor_big.err || fail "$(cat floor_big.err)"
expect 2 floor_zero "$tt" assign run/model.ttm --data new.csv --min-prob 0
grep -q -- '--min-prob must be in' floor_zero.err || fail "$(cat floor_zero.err)"
expect 2 floor_text "$tt" assign run/model.ttm --data new.csv --min-prob five
expect 2 nodata "$tt" assign run/model.ttm
expect 2 seed "$tt" assign run/model.ttm --data new.csv --seed -1
cut -d, -f1-3,5- new.csv > nox2.csv
expect 3 nocol "$tt" assign run/model.ttm --data nox2.csv
grep -q 'nox2.csv' nocol.err || fail "$(cat nocol.err)"
# A winner without intervals (the refit fixture rf_good has none).
cat > rf.lua <<'LUA'
return {
  seed = 5,
  data = { generator = "synthetic", rows = 400 },
  budget = { trials = 2 },
  estimators = { rf_good = {} },
}
LUA
"$tt" run rf.lua --ci --out rf --plugin-path "$build/tests/refit_plugins" > rf.out 2> rf.err ||
  fail "rf run: $(cat rf.err)"
"$tt" gen synthetic --rows 50 --seed 3 --out rfnew.csv > /dev/null
expect 4 noint "$tt" assign rf/model.ttm --data rfnew.csv --plugin-path "$build/tests/refit_plugins"
grep -q "gives no intervals" noint.err || fail "$(cat noint.err)"
[ ! -s noint.out ] || fail "a refused assign wrote output"
echo "ok: refusals (no model, floors, no data, bad seed, missing column, no intervals)"
