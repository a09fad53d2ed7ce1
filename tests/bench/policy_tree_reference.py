#!/usr/bin/env python3
"""policy_tree_reference.py - an independent optimum of depth-2 policy trees
in numpy (value only), to check tautune's exact search at sizes the C brute
force cannot reach.

    policy_tree_reference.py DATA.csv K [--min M]

DATA.csv is what `bench_policy_tree --dump` writes: x1..xP then g0..g{K-1}.
For every root split (each feature, each boundary between distinct values)
the two children's best trees of depth <= 1 come from sorting the child's
rows on every feature at once and taking cumulative sums: best left action
of the prefix plus best right action of the rest, over boundaries between
distinct values with at least M rows on each side; a child may also stay a
leaf. Prints
    RESULT side=numpy n=.. p=.. k=.. depth=2 seconds=.. value=..
with value the mean reward (sum / n) of the optimum. Needs numpy (Debian's
/usr/bin/python3 has python3-numpy).
"""
import sys
import time

import numpy as np


def best1(X, G, min_node):
    """Largest reward sum of a tree of depth <= 1 on these rows."""
    m = X.shape[0]
    T = G.sum(axis=0)
    best = T.max()
    if m < 2 * min_node:
        return best
    order = np.argsort(X, axis=0, kind="stable")      # m x p
    xs = np.take_along_axis(X, order, axis=0)          # m x p
    P = np.cumsum(G[order], axis=0)[:-1]               # (m-1) x p x K: left sums
    left_rows = np.arange(1, m)
    ok = (xs[:-1] < xs[1:]) & ((left_rows >= min_node) & (m - left_rows >= min_node))[:, None]
    if ok.any():
        v = P.max(axis=2) + (T - P).max(axis=2)
        best = max(best, v[ok].max())
    return best


def best2(X, G, min_node):
    m, p = X.shape
    best = G.sum(axis=0).max()
    if m < 2 * min_node:
        return best
    for j in range(p):
        order = np.argsort(X[:, j], kind="stable")
        xs = X[order, j]
        for c in range(min_node, m - min_node + 1):    # c rows go left
            if xs[c - 1] == xs[c]:
                continue
            L, R = order[:c], order[c:]
            best = max(best, best1(X[L], G[L], min_node) + best1(X[R], G[R], min_node))
    return best


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, k = argv[1], int(argv[2])
    min_node = int(argv[argv.index("--min") + 1]) if "--min" in argv else 1
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    X, G = data[:, :-k].copy(), data[:, -k:].copy()
    n, p = X.shape
    t0 = time.perf_counter()
    value = best2(X, G, min_node) / n
    secs = time.perf_counter() - t0
    print(f"RESULT side=numpy n={n} p={p} k={k} depth=2 seconds={secs:.4f} value={value:.17g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
