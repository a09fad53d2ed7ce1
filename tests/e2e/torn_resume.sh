#!/usr/bin/env bash
# End-to-end: --resume after a crash tore the last line of trials.jsonl
# (issue 20, item 6), and after damage to the saved nuisance models.
#   torn_resume.sh BUILD_DIR SOURCE_DIR WORK_DIR
# A short run, its trials.jsonl's last line chopped mid-record (head -c), then
# --resume twice: both succeed; the first warns naming the file and line and
# the second does not; the kept lines are byte for byte the run's, no trial
# id is repeated, and every line of the file is one JSON object. Before the
# fix the first resume glued its first record onto the torn bytes and the
# second refused the file.
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
jsonl=$build/tests/damage_check
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > c.lua <<'LUA'
return {
  seed = 3,
  data = { generator = "synthetic", rows = 1500 },
  estimators = { t_learner = {}, s_learner = {}, dml_linear = {} },
}
LUA
"$tt" run c.lua --ci --trials 5 --out r > /dev/null 2> first.err || fail "run: $(cat first.err)"
[ "$(wc -l < r/trials.jsonl)" -eq 5 ] || fail "the run wrote $(wc -l < r/trials.jsonl) trials, not 5"
cp r/trials.jsonl whole.jsonl
# Chop the last line in its middle: what a crash during its write leaves.
last=$(tail -n 1 whole.jsonl | wc -c)
keep=$(( $(wc -c < whole.jsonl) - last / 2 ))
head -c "$keep" whole.jsonl > r/trials.jsonl
head -n 4 whole.jsonl > kept.jsonl

"$tt" run c.lua --ci --trials 8 --resume r > /dev/null 2> resume1.err ||
  fail "first resume: $(cat resume1.err)"
grep -q "warning: r/trials.jsonl:5: the last line was cut short" resume1.err ||
  fail "first resume: no warning naming r/trials.jsonl:5: $(cat resume1.err)"
grep -q "resuming r: 4 finished trials kept" resume1.err || fail "first resume: $(cat resume1.err)"
"$jsonl" jsonl r/trials.jsonl > ids1.txt || fail "after the first resume the file is not JSON lines"
[ "$(wc -l < ids1.txt)" -eq 8 ] || fail "first resume: $(wc -l < ids1.txt) trials, expected 8"
cmp -s kept.jsonl <(head -n 4 r/trials.jsonl) || fail "first resume changed the kept lines"

"$tt" run c.lua --ci --trials 10 --resume r > /dev/null 2> resume2.err ||
  fail "second resume: $(cat resume2.err)"
grep -q "cut short" resume2.err && fail "second resume: a torn line again: $(cat resume2.err)"
grep -q "resuming r: 8 finished trials kept" resume2.err || fail "second resume: $(cat resume2.err)"
"$jsonl" jsonl r/trials.jsonl > ids2.txt || fail "after the second resume the file is not JSON lines"
[ "$(wc -l < ids2.txt)" -eq 10 ] || fail "second resume: $(wc -l < ids2.txt) trials, expected 10"
cmp -s kept.jsonl <(head -n 4 r/trials.jsonl) || fail "second resume changed the kept lines"
cmp -s ids1.txt <(head -n 8 ids2.txt) || fail "second resume changed the first resume's trials"
[ -z "$(sort -n ids2.txt | uniq -d)" ] || fail "trial ids repeated: $(sort -n ids2.txt | uniq -d | tr '\n' ' ')"
grep -q '"winner"' r/results.json || fail "no winner in results.json after the resumes"
echo "ok: --resume drops a torn last line with a warning, twice in a row"

# A torn line in the middle (a newline written after it) is still refused.
head -n 2 whole.jsonl > r2.jsonl
head -n 3 whole.jsonl | tail -n 1 | head -c 50 >> r2.jsonl
printf '\n' >> r2.jsonl
tail -n 2 whole.jsonl >> r2.jsonl
mkdir mid && cp r/config.lua r/nuisance*.ttn mid/ && cp r2.jsonl mid/trials.jsonl
set +e; "$tt" run c.lua --ci --trials 8 --resume mid > /dev/null 2> mid.err; code=$?; set -e
[ $code -eq 2 ] && grep -q "mid/trials.jsonl:3: not a JSON object" mid.err ||
  fail "a damaged middle line: exit $code, $(cat mid.err)"
cmp -s r2.jsonl mid/trials.jsonl || fail "a refused resume changed trials.jsonl"
echo "ok: a damaged line in the middle is refused, naming it"

# A damaged nuisance.ttn (one byte changed in its out-of-fold values) is
# refused by its checksum, named, and fitted again; the resume then goes on,
# and the next resume reuses the file it wrote.
cp r/nuisance.ttn nu.orig
off=$(( $(grep -b -m1 '^oof$' nu.orig | cut -d: -f1) + 6 ))
printf '9' | dd of=r/nuisance.ttn bs=1 seek="$off" conv=notrunc status=none
cmp -s nu.orig r/nuisance.ttn && fail "the damage did not change nuisance.ttn"
"$tt" run c.lua --ci --trials 11 --resume r > /dev/null 2> nu1.err || fail "resume with a damaged nuisance.ttn: $(cat nu1.err)"
grep -q "r/nuisance.ttn: damaged nuisance file (checksum mismatch)" nu1.err ||
  fail "a damaged nuisance.ttn was not named: $(cat nu1.err)"
grep -q "reused from" nu1.err && fail "a damaged nuisance.ttn was reused: $(cat nu1.err)"
grep -q "the saved ones cannot be read; fitting again" nu1.err || fail "no refit message: $(cat nu1.err)"
"$tt" run c.lua --ci --trials 12 --resume r > /dev/null 2> nu2.err || fail "resume after the refit: $(cat nu2.err)"
grep -q "nuisance models: reused from r/nuisance.ttn" nu2.err ||
  fail "the refitted nuisance.ttn was not reused: $(cat nu2.err)"
echo "ok: a damaged nuisance.ttn is refused by its checksum and fitted again"
echo "torn_resume: all checks passed"
