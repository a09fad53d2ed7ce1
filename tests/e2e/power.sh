#!/usr/bin/env bash
# End-to-end: tautune power (issue 17, power and sample size).
#   power.sh BUILD_DIR SOURCE_DIR WORK_DIR
# Rows per group against statsmodels' tt_ind_solve_power (566.1 -> 567 for
# d = 0.5 / 3; 362.9 -> 363 with CUPED at rho 0.6; 68,437.4 -> 68,438 per
# group for a 5 % lift on a 10 % conversion rate with 3 arms, alpha 0.025 per
# comparison), the minimum detectable lift, a pilot CSV, and the refusals.
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tt" power --sd 3 --mean 10 --lift 0.5 --rho 0.6 > a.out || fail "power: $?"
grep -q '^without CUPED: 567 rows in the control' a.out || fail "$(cat a.out)"
grep -q '^with CUPED: 363 rows in the control' a.out || fail "$(cat a.out)"
"$tt" power --rate 0.1 --relative-lift 0.05 --arms 3 > b.out || fail "power rate: $?"
grep -q '68438 rows in the control and 68438 in each treated arm (205314 in all)' b.out || fail "$(cat b.out)"
"$tt" power --sd 3 --n 1000 > c.out || fail "power --n: $?"
grep -q 'the smallest lift detected is 0.376' c.out || fail "$(cat c.out)"
# A pilot: y = x + noise, corr(x, y) = 1/sqrt(2) in the population.
awk 'BEGIN { srand(3); print "x,y"; for (i = 0; i < 4000; i++) {
  u1 = rand(); u2 = rand(); z1 = sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307 * u2);
  u1 = rand(); u2 = rand(); z2 = sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307 * u2);
  printf "%.6f,%.6f\n", z1, z1 + z2 } }' > pilot.csv
"$tt" power --pilot pilot.csv --outcome y --pre x --lift 0.1 > d.out || fail "pilot: $(cat d.out)"
grep -q '^pilot pilot.csv: 4000 rows' d.out || fail "$(cat d.out)"
grep -q '^with CUPED' d.out || fail "no CUPED from the pilot's --pre: $(cat d.out)"
if "$tt" power --lift 1 2> e.err; then fail "no spread accepted"; fi
grep -q -- '--sd S, --rate P' e.err || fail "$(cat e.err)"
if "$tt" power --rate 1.5 --lift 0.1 2> f.err; then fail "a rate of 1.5 accepted"; fi
if "$tt" power --pilot pilot.csv --outcome nope --lift 1 2> g.err; then fail "a missing column accepted"; fi
grep -q "no column 'nope'" g.err || fail "$(cat g.err)"
echo "ok: power, CUPED, minimum detectable lift, pilot, refusals"
