#!/usr/bin/env bash
# End-to-end: model.ttm's checksum (issue 20, item 7).
#   model_damage.sh BUILD_DIR SOURCE_DIR WORK_DIR
# A short CSV run writes model.ttm (format 4, a CRC-32 line at its end):
# - untouched, predict reproduces cate.csv, with nothing on stderr;
# - 500 copies with one flipped bit and 200 with 2 to 4, at seeded positions:
#   each refused by the model reader and by `tautune predict` with "damaged
#   model file" and exit 1 (before the checksum, 23 of 150 such flips gave
#   other effects without a word); `tautune assign` exits 1 the same way;
# - the same model as tautune wrote it before checksums (format 1) still
#   predicts the same numbers, with a warning that it cannot be verified;
# - the same model as tautune wrote it before it recorded plugin files
#   (format 3, checksummed) predicts the same numbers without a word;
# - a newer format version is refused as "written by a newer tautune" (1).
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
damage=$build/tests/damage_check
check=$build/tests/check_results
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

"$tt" gen synthetic --rows 1500 --seed 4 --out d.csv > /dev/null
cat > c.lua <<'LUA'
return {
  seed = 2,
  data = { path = "d.csv", outcome = "y", treatment = "t", control = "0",
           x = { "x1", "x2", "x3", "x4", "x5" }, w = { "w1", "w2" } },
  budget = { trials = 4 },
  estimators = { x_learner = {}, dml_linear = {} },
}
LUA
"$tt" run c.lua --ci --out r > /dev/null 2> run.err || fail "run: $(cat run.err)"
head -n 1 r/model.ttm | grep -qx 'tautune-model 4' || fail "model.ttm is not format 4"
tail -n 1 r/model.ttm | grep -Eqx 'crc32 [0-9a-f]{8}' || fail "model.ttm has no checksum line"

# Untouched: the run's effects, and no warning.
expect 0 pred "$tt" predict r/model.ttm --data d.csv --out pred.csv
[ ! -s pred.err ] || fail "predict on an untouched model said: $(cat pred.err)"
"$check" r winner pred.csv > /dev/null || fail "predict differs from cate.csv"
echo "ok: an untouched model.ttm predicts cate.csv"

# Flipped bits: the reader and predict.
mkdir flips
"$damage" flips r/model.ttm 20 500 200 "$tt" d.csv flips || fail "a damaged model was not refused"
cp r/model.ttm bad.ttm
printf '\x01' | dd of=bad.ttm bs=1 seek=200 conv=notrunc status=none
expect 1 assign "$tt" assign bad.ttm --data d.csv
grep -q "damaged model file" assign.err || fail "assign: $(cat assign.err)"
echo "ok: every damaged model.ttm refused (exit 1), by predict and assign"

# Written before checksums: read, with a warning, into the same numbers.
"$damage" old r/model.ttm old.ttm || fail "cannot make the old-format model"
head -n 1 old.ttm | grep -qx 'tautune-model 1' || fail "old.ttm is not format 1"
expect 0 pred_old "$tt" predict old.ttm --data d.csv --out pred_old.csv
grep -q "warning: old.ttm was written by an older tautune without a checksum" pred_old.err ||
  fail "no warning for a model without checksum: $(cat pred_old.err)"
cmp -s pred.csv pred_old.csv || fail "the old-format model predicts other numbers"
echo "ok: a model written before checksums predicts the same, with a warning"

# Written before plugin files were recorded: checked, and silent.
"$damage" old3 r/model.ttm old3.ttm || fail "cannot make the format-3 model"
head -n 1 old3.ttm | grep -qx 'tautune-model 3' || fail "old3.ttm is not format 3"
! grep -q 'plugin_file\|plugin_dir' old3.ttm || fail "old3.ttm still names plugin files"
expect 0 pred_old3 "$tt" predict old3.ttm --data d.csv --out pred_old3.csv
[ ! -s pred_old3.err ] || fail "predict on a format-3 model said: $(cat pred_old3.err)"
cmp -s pred.csv pred_old3.csv || fail "the format-3 model predicts other numbers"
echo "ok: a format-3 model (no plugin files) predicts the same, silently"

# A newer format (whatever it ends with) is named as such.
{ printf 'tautune-model 5\n'; tail -c +17 r/model.ttm | head -c -15; } > new.ttm
expect 1 pred_new "$tt" predict new.ttm --data d.csv
grep -q "model format version 5 was written by a newer tautune" pred_new.err ||
  fail "newer format: $(cat pred_new.err)"
echo "ok: a newer model format is refused as such"
echo "model_damage: all checks passed"
