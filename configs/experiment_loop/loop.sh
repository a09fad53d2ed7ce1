#!/usr/bin/env bash
# loop.sh - the experiment loop of docs/experiments.md on simulated data:
#   round 1: a 50/50 test; analyse it, and learn who benefits (tautune run);
#   round 2: new customers assigned by Thompson sampling (tautune assign);
#   round 3: rounds 1 + 2 analysed together with their known propensities.
#   bash configs/experiment_loop/loop.sh [TAUTUNE] [WORK_DIR]
# The simulation knows every customer's effect (tau1) and untreated outcome
# (mu0), so round 2's outcomes are those the assigned arm would have given,
# with the generator's own noise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tt=${1:-$here/../../build/tautune}
work=${2:-runs/experiment_loop}
mkdir -p "$work"
cp "$here/round1.lua" "$here/round3.lua" "$work/"
cd "$work"

echo "== round 1: a 50/50 test of 4,000 customers"
"$tt" gen rct_nonlinear --rows 4000 --seed 1 --out round1.csv
"$tt" abtest round1.lua --out abtest1 --quiet
"$tt" run round1.lua --out run1 --quiet > run1.out

echo "== round 2: 4,000 new customers, assigned by Thompson sampling from run1's winner"
"$tt" gen rct_nonlinear --rows 4000 --seed 2 --out population2.csv
"$tt" assign run1/model.ttm --data population2.csv --out assign2.csv --seed 2
# The outcome each customer would have had under the arm assign drew: the
# generator's noise (y - mu0 - tau1 t) plus mu0 plus tau1 if treated.
paste -d, population2.csv assign2.csv | awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            print "y,t,x1,x2,x3,x4,x5,w1,w2,tau1,p_0,p_1"; next }
  { a = ($c["assigned"] == "1"); noise = $c["y"] - $c["mu0"] - $c["tau1"] * $c["t"]
    printf "%.17g,%d", $c["mu0"] + $c["tau1"] * a + noise, a
    split("x1 x2 x3 x4 x5 w1 w2 tau1 p_0 p_1", k, " ")
    for (j = 1; j <= 10; j++) printf ",%s", $c[k[j]]; printf "\n" }' > round2.csv

echo "== round 3: both rounds with their known propensities"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
                   print "y,t,x1,x2,x3,x4,x5,w1,w2,tau1,p_0,p_1"; next }
         { printf "%s,%s", $c["y"], $c["t"]
           split("x1 x2 x3 x4 x5 w1 w2 tau1", k, " ")
           for (j = 1; j <= 8; j++) printf ",%s", $c[k[j]]; printf ",0.5,0.5\n" }' round1.csv > rounds.csv
tail -n +2 round2.csv >> rounds.csv
"$tt" abtest round3.lua --out abtest3 --quiet
"$tt" run round3.lua --out run3 --quiet > run3.out
# What each round earned against what it could have: the mean outcome, and
# the mean true effect of the arms given (a perfect policy treats exactly
# the customers with tau1 > 0).
awk -F, 'NR > 1 { n++; g += ($2 == 1) * $10; all += $10; best += ($10 > 0) * $10 }
         END { printf "round 2, the true mean effect of the arms given: %.4f (a 50/50 test %.4f, treat everyone %.4f, a perfect policy %.4f)\n", g / n, all / (2 * n), all / n, best / n }' round2.csv
# The truth behind round 3's design value: what the arms given earned over a
# 50/50 assignment of the same rows (abtest3's "uplift" estimates it).
awk -F, 'NR > 1 { n++; u += ($2 == 1) * $10 - 0.5 * $10 }
         END { printf "rounds 1 + 2, the true uplift of the arms given over a 50/50 design: %.4f\n", u / n }' rounds.csv
echo "done: $work/abtest1, run1, assign2.csv, abtest3, run3"
