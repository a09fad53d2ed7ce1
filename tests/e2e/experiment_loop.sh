#!/usr/bin/env bash
# End-to-end: the experiment loop of docs/experiments.md (issue 17, item 5),
# configs/experiment_loop/loop.sh: a 50/50 round, a round assigned by
# tautune assign from the first round's winner, and both analysed with their
# known propensities.
#   experiment_loop.sh BUILD_DIR SOURCE_DIR WORK_DIR
# Holds: round 2's Thompson assignment gives a larger true effect than a
# 50/50 split (the simulation knows every customer's effect); abtest on
# rounds 1 + 2 sees the same: its uplift of the assignment used over a
# 50/50 design is above 0 with its interval; the propensities reach run as
# known columns.
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
bash "$src/configs/experiment_loop/loop.sh" "$build/tautune" "$work" > "$work.log" 2>&1 ||
  fail "loop.sh: $(tail -20 "$work.log")"
cd "$work"
line=$(grep '^round 2, the true mean effect' "$work.log") || fail "no truth line"
given=$(sed 's/.*arms given: \([-0-9.]*\) (a 50\/50 test \([-0-9.]*\),.*/\1 \2/' <<< "$line")
awk -v g="${given% *}" -v h="${given#* }" 'BEGIN { exit !(g > h + 0.15) }' ||
  fail "Thompson's round gives $given (assigned vs 50/50): no better"
flat=$(tr -d ' \n\t' < abtest3/results.json)
lo=$(grep -o '"design_value":{[^}]*' <<< "$flat" | grep -o '"uplift_lo":[-0-9.e+]*' | cut -d: -f2)
awk -v l="$lo" 'BEGIN { exit !(l > 0) }' || fail "abtest round 3: uplift interval starts at $lo"
grep -Eq '"learner":[[:space:]]*"known"' run3/results.json ||
  fail "run3 did not use the known propensities"
head -1 assign2.csv | grep -q 'p_0,p_1,assigned' || fail "assign2.csv: $(head -1 assign2.csv)"
echo "ok: the loop: assigned vs 50/50 true effect $given; abtest's uplift interval from $lo"
