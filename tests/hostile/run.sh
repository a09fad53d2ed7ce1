#!/usr/bin/env bash
# tests/hostile/run.sh BUILD_DIR WORK_DIR - the hostile-input corpus (issue 20).
# Every tests/hostile/*.lua starts with a line
#   -- expect: EXIT FRAGMENT
# (and optionally "-- command: COMMAND", default check); the runner runs
# `tautune COMMAND FILE.lua` with a time limit and asserts the exit code and
# that FRAGMENT appears in what it printed (stdout and stderr). A case that
# hangs fails at the limit instead of hanging the suite.
set -uo pipefail
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
tt=$build/tautune
rm -rf "$work" && mkdir -p "$work"
failed=0 n=0
for cfg in "$here"/*.lua; do
  name=$(basename "$cfg" .lua)
  expect=$(sed -n '1s/^-- expect: //p' "$cfg")
  want=${expect%% *} fragment=${expect#* }
  cmd=$(sed -n 's/^-- command: //p' "$cfg" | head -1)
  n=$((n + 1))
  out="$work/$name.out"
  (cd "$here" && timeout 60 "$tt" ${cmd:-check} "$cfg" > "$out" 2>&1)
  got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, expected $want"; sed 's/^/    /' "$out" | head -5; failed=$((failed + 1))
  elif ! grep -qF -- "$fragment" "$out"; then
    echo "FAIL $name: no '$fragment' in:"; sed 's/^/    /' "$out" | head -5; failed=$((failed + 1))
  else
    echo "ok   $name (exit $got)"
  fi
done
# Text that is not UTF-8 (an arm label here) reaches results.json and
# trials.jsonl as U+FFFD: every JSON file stays valid UTF-8.
n=$((n + 1))
printf 'return { data = { path = "%s/csv/label_not_utf8.csv", outcome = "y", treatment = "t",\n  control = "B", x = { "x1" } }, budget = { trials = 2 }, estimators = { diff_in_means = {} } }\n' \
  "$here" > "$work/label.lua"
if ! timeout 120 "$tt" run "$work/label.lua" --out "$work/label" --quiet > "$work/label.out" 2>&1; then
  echo "FAIL label_not_utf8: run failed"; sed 's/^/    /' "$work/label.out" | head -5; failed=$((failed + 1))
elif ! iconv -f UTF-8 -t UTF-8 "$work/label/results.json" > /dev/null 2>&1 ||
     ! iconv -f UTF-8 -t UTF-8 "$work/label/trials.jsonl" > /dev/null 2>&1; then
  echo "FAIL label_not_utf8: results.json or trials.jsonl is not UTF-8"; failed=$((failed + 1))
else
  echo "ok   label_not_utf8 (valid UTF-8 JSON)"
fi
echo "$((n - failed)) of $n hostile inputs handled as expected"
[ "$failed" = 0 ]
