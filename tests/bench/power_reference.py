#!/usr/bin/python3
"""Reference figures for tests/unit/test_power.c: statsmodels' two-sample
t-test power (TTestIndPower / tt_ind_solve_power) and scipy's noncentral t.

Run:  /usr/bin/python3 tests/bench/power_reference.py
Needs python3-statsmodels and python3-scipy (Debian). The test hard-codes the
numbers this prints; rerun it to check them.
"""
from scipy import stats
from statsmodels.stats.power import TTestIndPower, tt_ind_solve_power

CASES = [(0.2, 0.05, 0.8, 1.0, "two-sided"), (0.5, 0.05, 0.9, 2.0, "two-sided"),
         (0.05, 0.01, 0.8, 1.0, "larger"), (1.2, 0.05, 0.8, 1.0, "two-sided"),
         (0.1, 0.005, 0.95, 0.5, "two-sided")]
for d, a, p, r, alt in CASES:
    n = tt_ind_solve_power(effect_size=d, alpha=a, power=p, ratio=r, alternative=alt)
    print(f"n1 d={d} alpha={a} power={p} ratio={r} {alt}: {n!r}")
print("power d=0.3 n1=50:", repr(TTestIndPower().power(effect_size=0.3, nobs1=50, alpha=0.05)))
print("power d=0.3 n1=7 ratio=1.5 larger:",
      repr(TTestIndPower().power(effect_size=0.3, nobs1=7, alpha=0.05, ratio=1.5,
                                 alternative="larger")))
print("mde n1=1000:", repr(tt_ind_solve_power(nobs1=1000, alpha=0.05, power=0.8, ratio=1.0)))
print("mde n1=25 alpha=0.01 power=0.9 ratio=3 larger:",
      repr(tt_ind_solve_power(nobs1=25, alpha=0.01, power=0.9, ratio=3.0, alternative="larger")))
print("nct:", repr(stats.nct.cdf(1.5, 10, 0.7)), repr(stats.nct.cdf(-2.1, 5, 1.3)),
      repr(stats.nct.sf(1.96, 400, 3.0)))
