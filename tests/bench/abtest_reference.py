#!/usr/bin/env python3
"""Reference figures for tests/unit/test_abtest.c, from statsmodels and scipy.

    /usr/bin/python3 tests/bench/abtest_reference.py [--write-fixture]

--write-fixture (re)writes tests/fixtures/data/abtest_small.csv: 300 rows,
3 arms of unequal size (0 the control), features x1 (normal) and x2 (0/1),
a pre-period column pre correlated with y, and y with arm effects 0.4 and
-0.2 and an x1 interaction. Without it, the fixture is read and the
figures test_abtest.c holds are printed: Welch (ttest_ind and
CompareMeans.tconfint_diff, usevar="unequal"), CUPED (Welch on
y - theta (pre - mean(pre))), Lin's regression (OLS with centred features
interacted with the arms, cov_type="HC2", use_t=True), Holm
(multipletests) and the sample-ratio chi-square (scipy.stats.chisquare).
"""
import sys

import numpy as np
import scipy.stats as st
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

PATH = "tests/fixtures/data/abtest_small.csv"


def write_fixture():
    rng = np.random.default_rng(17)
    n = 300
    t = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    x1 = rng.normal(size=n)
    x2 = (rng.uniform(size=n) < 0.4).astype(float)
    pre = x1 + rng.normal(size=n)
    tau = np.where(t == 1, 0.4 + 0.3 * x1, np.where(t == 2, -0.2, 0.0))
    y = 1.0 + 0.8 * pre + 0.5 * x2 + tau + rng.normal(size=n) * (1 + 0.5 * (t == 2))
    with open(PATH, "w") as f:
        f.write("t,x1,x2,pre,y\n")
        for i in range(n):
            f.write("%d,%.6f,%.0f,%.6f,%.6f\n" % (t[i], x1[i], x2[i], pre[i], y[i]))


def main():
    if "--write-fixture" in sys.argv:
        write_fixture()
    d = np.genfromtxt(PATH, delimiter=",", names=True)
    t, y, pre = d["t"].astype(int), d["y"], d["pre"]
    X = np.column_stack([d["x1"], d["x2"]])
    print("/* Welch: estimate, se, lo, hi, df, p (arm 1, arm 2 vs 0) */")
    for k in (1, 2):
        a, b = y[t == k], y[t == 0]
        stat, p, df = ttest_ind(a, b, usevar="unequal")
        lo, hi = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(0.05, usevar="unequal")
        est = a.mean() - b.mean()
        print("{%.17g, %.17g, %.17g, %.17g, %.17g, %.17g}," % (est, est / stat, lo, hi, df, p))
    theta = np.cov(y, pre, ddof=1)[0, 1] / np.var(pre, ddof=1)
    ya = y - theta * (pre - pre.mean())
    print("/* CUPED theta %.17g; Welch on the adjusted outcome */" % theta)
    for k in (1, 2):
        a, b = ya[t == k], ya[t == 0]
        stat, p, df = ttest_ind(a, b, usevar="unequal")
        lo, hi = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(0.05, usevar="unequal")
        est = a.mean() - b.mean()
        print("{%.17g, %.17g, %.17g, %.17g, %.17g, %.17g}," % (est, est / stat, lo, hi, df, p))
    Xc = X - X.mean(axis=0)
    D = np.column_stack([(t == 1).astype(float), (t == 2).astype(float)])
    A = np.column_stack([np.ones(len(y)), D, Xc, D[:, [0]] * Xc, D[:, [1]] * Xc])
    fit = sm.OLS(y, A).fit(cov_type="HC2", use_t=True)
    ci = fit.conf_int(0.05)
    print("/* Lin (HC2, t with n - q df): estimate, se, lo, hi, df, p */")
    for j in (1, 2):
        print("{%.17g, %.17g, %.17g, %.17g, %.17g, %.17g}," % (
            fit.params[j], fit.bse[j], ci[j, 0], ci[j, 1], fit.df_resid, fit.pvalues[j]))
    ps = [0.01, 0.04, 0.03, 0.2]
    print("/* Holm of %s */" % ps)
    print(", ".join("%.17g" % v for v in multipletests(ps, method="holm")[1]))
    print("/* chi-square of 52,000 / 48,000 and 50,100 / 49,900 against 1/2 */")
    for c in ((52000, 48000), (50100, 49900)):
        r = st.chisquare(c, [50000, 50000])
        print("%.17g, %.17g" % (r.statistic, r.pvalue))


if __name__ == "__main__":
    main()
