#!/usr/bin/python3
"""Reference side of tests/bench/forest: scikit-learn's RandomForestRegressor
on the CSV files `bench_forest gen` writes (header x1..x10,y; 70/30 split of
the issue-9 DGP), next to tautune's GRF regression forest on the same rows.

usage: forest_reference.py <train.csv> <test.csv> <trees> <threads> <seed>

Settings mirror grf's regression_forest defaults where scikit-learn has the
knob: n_estimators = trees, max_features = 1.0 (grf's mtry = min(ceil(sqrt(p)
+ 20), p) = all 10 features), min_samples_leaf = 5 (grf's min.node.size), and
each tree sees half the rows (max_samples = 0.5; scikit-learn draws them with
replacement, grf without; scikit-learn has no honesty). n_jobs = threads.
Prints "RESULT regress n=<rows> trees=<t> fit_s=<wall> fit_cpu=<cpu>
predict_s=<wall> mse=<held-out MSE>".
"""
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor


def load(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return a[:, :-1], a[:, -1]


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    train, test, trees, threads, seed = sys.argv[1:]
    xtr, ytr = load(train)
    xte, yte = load(test)
    rf = RandomForestRegressor(n_estimators=int(trees), max_features=1.0, min_samples_leaf=5,
                               bootstrap=True, max_samples=0.5, n_jobs=int(threads),
                               random_state=int(seed))
    w0, c0 = time.perf_counter(), time.process_time()
    rf.fit(xtr, ytr)
    fit_s, fit_cpu = time.perf_counter() - w0, time.process_time() - c0
    w1 = time.perf_counter()
    pred = rf.predict(xte)
    pred_s = time.perf_counter() - w1
    mse = float(np.mean((pred - yte) ** 2))
    print(f"RESULT regress n={len(ytr) + len(yte)} trees={trees} fit_s={fit_s:.3f} "
          f"fit_cpu={fit_cpu:.3f} predict_s={pred_s:.3f} mse={mse:.4f}")


if __name__ == "__main__":
    main()
