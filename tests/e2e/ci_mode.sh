#!/usr/bin/env bash
# End-to-end: `tautune run --ci`, its exit codes, --fail-under/--fail-over,
# `tautune check`, every command's --help and the freshness of docs/cli.md.
#   ci_mode.sh BUILD_DIR SOURCE_DIR WORK_DIR
# Runs inside WORK_DIR (the --ci run folder is runs/<config name> under the
# current directory). Takes well under a minute.
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
misbehaving=$build/tests/misbehaving
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

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

cat > tiny.lua <<'LUA'
return {
  seed = 3,
  data = { generator = "synthetic", rows = 600 },
  budget = { trials = 3 },
  estimators = { diff_in_means = {}, t_learner = {} },
}
LUA
cat > syntax.lua <<'LUA'
return { data = { generator = "synthetic" }, estimators = { t_learner = {} }
LUA
cat > typo.lua <<'LUA'
return { data = { generator = "synthetic", rows = 600 }, estimators = { t_lerner = {} } }
LUA
cp "$src/tests/fixtures/data/ragged.csv" ragged.csv
cat > ragged.lua <<'LUA'
return {
  data = { path = "ragged.csv", outcome = "y", treatment = "t", control = 0, x = { "x" } },
  estimators = { diff_in_means = {} },
}
LUA
cat > nan.lua <<'LUA'
return {
  data = { generator = "synthetic", rows = 600 },
  budget = { trials = 2 },
  estimators = { mb_nan = {} },
}
LUA
cat > long.lua <<'LUA'
return {
  data = { generator = "synthetic", rows = 20000 },
  budget = { seconds = 120 },
  estimators = { s_learner = {}, t_learner = {} },
}
LUA

echo "== check: a good config, nothing is run"
expect 0 check_ok "$tt" check tiny.lua
[ ! -e runs ] || fail "tautune check created runs/"
for want in "config      tiny" "rows        600" "arms        2" "x 5 (x1, x2, x3, x4, x5); w 2 (w1, w2)" \
            "t_learner" "check       ok"; do
  grep -qF "$want" check_ok.out || fail "check report lacks '$want': $(cat check_ok.out)"
done

echo "== check: bad configs exit as run would"
expect 2 check_syntax "$tt" check syntax.lua
expect 3 check_ragged "$tt" check ragged.lua
grep -q "ragged row" check_ragged.err || fail "check: no ragged-row message: $(cat check_ragged.err)"
expect 4 check_typo "$tt" check typo.lua
grep -q "did you mean 't_learner'" check_typo.err || fail "check: no suggestion: $(cat check_typo.err)"
# A capability problem: any installed two-arm-only plugin on three arms.
"$tt" plugins > plugins.txt 2> /dev/null
two_arm=$(awk '/^[a-z][a-z0-9_]* .*\[/ && !/multi-arm/ { print $1; exit }' plugins.txt)
if [ -n "$two_arm" ]; then
  cat > arms3.lua <<LUA
return { data = { generator = "synthetic", rows = 600, arms = 3 }, estimators = { $two_arm = {} } }
LUA
  expect 4 check_arms "$tt" check arms3.lua
  grep -q "$two_arm .*PROBLEM: handles two arms only" check_arms.out \
    || fail "check does not show the capability problem: $(cat check_arms.out)"
fi
[ ! -e runs ] || fail "a failing tautune check created runs/"

echo "== run --ci: exit 0, fixed folder, plain progress"
expect 0 ci_ok "$tt" run tiny.lua --ci
[ -s runs/tiny/results.json ] || fail "--ci did not write runs/tiny/results.json"
grep -q "^Run folder: runs/tiny$" ci_ok.out || fail "--ci run folder: $(grep 'Run folder' ci_ok.out)"
if grep -q $'[\r\033]' ci_ok.err; then fail "--ci stderr holds a carriage return or escape code"; fi
grep -q "trials of 3" ci_ok.err || fail "--ci printed no plain progress line: $(cat ci_ok.err)"
# On a terminal too: the live line is what --ci must switch off.
if command -v script > /dev/null; then
  script -qec "'$tt' run tiny.lua --ci --out tty_ci --trials 2" /dev/null > tty_ci.log 2>&1 \
    || fail "--ci run on a terminal failed: $(cat tty_ci.log)"
  if grep -q $'\033' tty_ci.log; then fail "--ci on a terminal printed escape codes"; fi
  script -qec "'$tt' run tiny.lua --out tty_live --trials 2" /dev/null > tty_live.log 2>&1 \
    || fail "run on a terminal failed: $(cat tty_live.log)"
  grep -q $'\033' tty_live.log || fail "control: without --ci a terminal shows no live line"
fi

echo "== run --ci: exit 2"
expect 2 ci_exists "$tt" run tiny.lua --ci
grep -q "runs/tiny already exists and is not empty; pass --out" ci_exists.err \
  || fail "--ci into a used folder: $(cat ci_exists.err)"
expect 2 ci_syntax "$tt" run syntax.lua --ci
expect 2 ci_unknown_score "$tt" run tiny.lua --ci --out unknown_score --fail-under nosuchscore=1
grep -q "'nosuchscore' is not a score" ci_unknown_score.err || fail "$(cat ci_unknown_score.err)"
[ ! -e unknown_score ] || fail "an unknown --fail-under score was found only after the run"
expect 2 ci_no_eq "$tt" run tiny.lua --ci --out no_eq --fail-over energy
expect 2 ci_not_number "$tt" run tiny.lua --ci --out not_number --fail-under energy=high
[ ! -e no_eq ] && [ ! -e not_number ] || fail "a malformed threshold was refused too late"

echo "== run --ci: exit 3, 4, 5"
expect 3 ci_ragged "$tt" run ragged.lua --ci
expect 4 ci_typo "$tt" run typo.lua --ci
expect 5 ci_nan "$tt" run nan.lua --ci --plugin-path "$misbehaving"
grep -q "no trial succeeded" ci_nan.err || fail "exit 5 without its message: $(cat ci_nan.err)"
[ -s runs/nan/trials.jsonl ] || fail "the failed trials were not written"

echo "== thresholds: exit 6 after everything is written, 0 when met"
expect 6 ci_under "$tt" run tiny.lua --ci --out under --fail-under energy=1e9
grep -q "^tautune: threshold missed: energy = .* < 1e9$" ci_under.err \
  || fail "--fail-under message: $(cat ci_under.err)"
[ -s under/results.json ] && [ -s under/cate.csv ] || fail "a missed threshold lost the run folder"
expect 6 ci_over "$tt" run tiny.lua --out over --fail-over pehe=0
grep -q "^tautune: threshold missed: pehe = .* > 0$" ci_over.err || fail "--fail-over: $(cat ci_over.err)"
expect 0 ci_met "$tt" run tiny.lua --ci --out met --fail-over energy=1e9 --fail-under pehe=0
# A figure the run cannot compute (no true effects in a CSV) is a miss too.
awk 'BEGIN { srand(2); print "x,t,y"; for (i = 0; i < 400; i++) { x = rand(); t = rand() < 0.5;
  printf "%.4f,%d,%.4f\n", x, t, x + t + rand() } }' > plain.csv
cat > plain.lua <<'LUA'
return {
  data = { path = "plain.csv", outcome = "y", treatment = "t", control = 0, x = { "x" },
           randomized = true },
  budget = { trials = 1 },
  estimators = { diff_in_means = {} },
}
LUA
expect 6 ci_null "$tt" run plain.lua --ci --out null --fail-over pehe=1
grep -q "threshold missed: pehe was not computed" ci_null.err || fail "null score: $(cat ci_null.err)"

echo "== run --ci: exit 130 on SIGINT"
"$tt" run long.lua --ci > int.out 2> int.err &
pid=$!
for _ in $(seq 1 150); do
  [ -s runs/long/trials.jsonl ] && break
  sleep 0.1
done
kill -INT $pid
set +e
wait $pid; code=$?
set -e
[ $code -eq 130 ] || fail "interrupted --ci run: exit $code, expected 130: $(cat int.err)"
[ -s runs/long/results.json ] || fail "the interrupted run wrote no results.json"

echo "== --help for every command, and docs/cli.md is fresh"
# Every command `tautune help` lists, so a new command is covered the day it lands.
commands=$("$tt" help | awk '$1 == "tautune" && NF > 2 && $2 ~ /^[a-z][a-z-]*$/ { print $2 }')
[ "$(wc -w <<< "$commands")" -ge 14 ] || fail "tautune help lists: $commands"
for c in $commands; do
  "$tt" "$c" --help > "help_$c.txt" || fail "tautune $c --help failed"
  head -n 1 "help_$c.txt" | grep -q "^Usage: tautune $c" || fail "tautune $c --help: $(head -n 1 "help_$c.txt")"
  "$tt" help "$c" | diff -q - "help_$c.txt" > /dev/null || fail "tautune help $c differs from $c --help"
done
"$tt" help --markdown | diff -u "$src/docs/cli.md" - \
  || fail "docs/cli.md is stale: regenerate with tautune help --markdown > docs/cli.md"

echo "ci_mode: all checks passed"
