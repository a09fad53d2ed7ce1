#!/usr/bin/python3
"""Independent reference for core/insight/blp.c: least squares and the HC0,
HC1 and HC3 sandwich standard errors in numpy (with p-values from scipy when
installed), for the best linear projection and the calibration test.

usage:
  insight_reference.py blp <csv> [subset]   columns: gamma, any x columns, optional w
  insight_reference.py calibration <csv>    columns: y, t, m_hat, e_hat, tau_hat, optional w
  insight_reference.py fixed                the fixed datasets of tests/unit/test_insight_blp.c
  insight_reference.py tsf                  Student t tails for the same test

The method is deliberately not tautune's (QR of the weighted design): the
coefficients come from numpy's SVD least squares (lstsq), the bread from a
pseudo-inverse of X'WX, the leverages from the explicit hat-matrix diagonal
  h_ii = w_i x_i' (X'WX)^-1 x_i,
and the meat from sum_i (w_i e_i s_i)^2 x_i x_i' with s_i = 1 (HC0, HC1 then
times n/(n-q)) or 1/(1 - h_ii) (HC3): the definitions of sandwich::vcovHC and
statsmodels. Rows of weight 0 are dropped (n counts positive weights only).

"fixed" regenerates the two small datasets from integer formulas whose values
are exact binary fractions, so the C test rebuilds the very same doubles and
can hold these printed numbers as constants.
"""
import csv
import sys

import numpy as np

try:
    from scipy import stats
except ImportError:  # p-values are optional
    stats = None


def ols_hc(a, y, w=None):
    """coef, {hc: se}, df, two-sided p-values (t with n - q df) for each hc."""
    a = np.asarray(a, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    keep = w > 0
    a, y, w = a[keep], y[keep], w[keep]
    n, q = a.shape
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)[0]
    e = y - a @ coef
    bread = np.linalg.pinv(a.T @ (a * w[:, None]))
    h = np.einsum("ij,jk,ik->i", a, bread, a) * w
    out = {}
    for hc in ("HC0", "HC1", "HC3"):
        u = w * e
        if hc == "HC3":
            u = u / (1.0 - h)
        meat = (a * (u ** 2)[:, None]).T @ a
        v = bread @ meat @ bread
        if hc == "HC1":
            v = v * n / (n - q)
        out[hc] = np.sqrt(np.diag(v))
    df = n - q
    pv = {}
    if stats is not None:
        for hc, se in out.items():
            pv[hc] = 2.0 * stats.t.sf(np.abs(coef / se), df)
    return coef, out, df, pv


def calibration_design(y, t, m_hat, e_hat, tau_hat, w=None):
    ww = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    keep = ww > 0
    tau_bar = np.sum(ww[keep] * tau_hat[keep]) / np.sum(ww[keep])
    dt = t - e_hat
    a = np.column_stack([tau_bar * dt, (tau_hat - tau_bar) * dt])
    return a, y - m_hat, tau_bar


def one_sided(coef, se, df):
    if stats is None:
        return [float("nan")] * len(coef)
    return list(stats.t.sf(coef / se, df))


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        rows = np.array([[float(v) for v in row] for row in r])
    return head, rows


def show(name, coef, se, df, pv):
    print("%s df=%d" % (name, df))
    for j in range(len(coef)):
        line = "  coef[%d]=%.17g" % (j, coef[j])
        for hc in ("HC0", "HC1", "HC3"):
            line += " se_%s=%.17g" % (hc, se[hc][j])
        if pv:
            line += " p_HC3=%.17g" % pv["HC3"][j]
        print(line)


def fixed_blp():
    """test_insight_blp.c: fixed_blp_data()."""
    n = 97
    rows = []
    for i in range(n):
        x1 = ((i * 37 + 11) % 101) / 8.0 - 6.0
        x2 = ((i * i * 13 + 5 * i + 3) % 89) / 16.0 - 2.75
        x3 = ((i * 53) % 17) / 4.0
        u = ((i * i * 7 + i * 29 + 17) % 103 - 51) / 32.0
        gamma = 1.0 + 0.5 * x1 - 0.25 * x2 + 0.125 * x3 + u * (1.0 + abs(x1) / 4.0)
        w = 1.0 + (i % 5) / 4.0
        rows.append((x1, x2, x3, gamma, w))
    return np.array(rows)


def fixed_calibration():
    """test_insight_blp.c: fixed_calibration_data()."""
    n = 120
    rows = []
    for i in range(n):
        t = 1.0 if (i * 31 + 7) % 11 < 5 else 0.0
        e = 0.25 + ((i * 17) % 9) / 16.0
        tau = 0.5 + ((i * 23 + 3) % 13) / 8.0
        m = ((i * 41) % 29) / 8.0 - 1.5
        u = ((i * i * 5 + i * 3 + 1) % 37 - 18) / 16.0
        y = m + (t - e) * (0.25 + 0.75 * tau) + u
        rows.append((y, t, m, e, tau))
    return np.array(rows)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "blp":
        head, d = read_csv(sys.argv[2])
        gi = head.index("gamma")
        wi = head.index("w") if "w" in head else None
        xs = [j for j in range(len(head)) if j not in (gi, wi)]
        a = np.column_stack([np.ones(len(d))] + [d[:, j] for j in xs])
        coef, se, df, pv = ols_hc(a, d[:, gi], None if wi is None else d[:, wi])
        show("blp", coef, se, df, pv)
    elif cmd == "calibration":
        head, d = read_csv(sys.argv[2])
        col = {h: d[:, k] for k, h in enumerate(head)}
        a, dy, tau_bar = calibration_design(col["y"], col["t"], col["m_hat"], col["e_hat"],
                                            col["tau_hat"], col.get("w"))
        coef, se, df, pv = ols_hc(a, dy, col.get("w"))
        show("calibration tau_bar=%.17g" % tau_bar, coef, se, df, pv)
        print("  one-sided p HC3:", " ".join("%.17g" % v for v in one_sided(coef, se["HC3"], df)))
    elif cmd == "fixed":
        d = fixed_blp()
        x, gamma, w = d[:, :3], d[:, 3], d[:, 4]
        a = np.column_stack([np.ones(len(d)), x])
        show("fixed blp, unweighted, all rows", *ols_hc(a, gamma))
        show("fixed blp, weighted, all rows", *ols_hc(a, gamma, w))
        sub = np.array([i for i in range(len(d)) if i % 3 != 1])
        a2 = np.column_stack([np.ones(len(sub)), x[sub][:, [2, 0]]])
        show("fixed blp, weighted, rows i % 3 != 1, cols {2, 0}", *ols_hc(a2, gamma[sub], w[sub]))
        c = fixed_calibration()
        a, dy, tau_bar = calibration_design(c[:, 0], c[:, 1], c[:, 2], c[:, 3], c[:, 4])
        coef, se, df, pv = ols_hc(a, dy)
        show("fixed calibration tau_bar=%.17g" % tau_bar, coef, se, df, pv)
        print("  one-sided p HC3:", " ".join("%.17g" % v for v in one_sided(coef, se["HC3"], df)))
    elif cmd == "tsf":
        if stats is None:
            sys.exit("insight_reference.py: tsf needs scipy")
        for t, df in [(0.5, 1), (2.0, 3), (-1.3, 7.5), (2.5, 30), (4.0, 95), (-3.0, 1000),
                      (12.0, 200), (1.0, 1e6), (5.0, 1e6), (37.0, 2000)]:
            print("{%r, %r, %.17g}," % (t, df, stats.t.sf(t, df)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
