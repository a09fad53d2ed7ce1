#!/usr/bin/python3
"""Reference for tests/bench/scores: the exact energy score of METRICS.md in numpy.

Usage: scores_reference.py FILE ROWS FEATURES
FILE holds raw native doubles as bench_scores --dump writes them: x (ROWS*FEATURES,
column-major), y, t, tau_hat (ROWS each). Binary treatment. Prints
"seconds=<s> value=<v>" (the seconds exclude reading the file).

Same definition as tautune (standardised columns, population sd, a constant column
centred only; Ŷ0 = y - tau_hat*t scaled by the observed y; V-statistic), written
independently: all pairwise distances by explicit differences, in row blocks so
memory stays bounded, summed with numpy's pairwise summation and math.fsum.
"""
import math
import sys
import time

import numpy as np


def standardise(v):
    mean = v.mean()
    sd = math.sqrt(((v - mean) ** 2).mean())
    scale = sd if (v.max() > v.min() and sd > 0) else 1.0
    return mean, scale


def pair_sum(a, b, block=256):
    """sum over a x b of Euclidean distances (a, b: points in rows)."""
    parts = []
    bt = np.ascontiguousarray(b.T)
    for s in range(0, a.shape[0], block):
        ab = a[s:s + block]
        acc = np.zeros((ab.shape[0], b.shape[0]))
        for k in range(a.shape[1]):
            diff = ab[:, k:k + 1] - bt[k][None, :]
            acc += diff * diff
        parts.append(np.sqrt(acc).sum())
    return math.fsum(parts)


def energy(x, y, t, tau):
    n, p = x.shape
    z = np.empty((n, p + 1))
    for j in range(p):
        m, s = standardise(x[:, j])
        z[:, j] = (x[:, j] - m) / s
    m, s = standardise(y)
    z[:, p] = (y - tau * t - m) / s
    a, b = z[t == 1], z[t == 0]
    na, nb = len(a), len(b)
    return (2.0 * pair_sum(a, b) / (na * nb) - pair_sum(a, a) / na ** 2
            - pair_sum(b, b) / nb ** 2)


def main():
    path, n, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    raw = np.fromfile(path, dtype=np.float64)
    if raw.size != n * p + 3 * n:
        sys.exit("scores_reference.py: %s has %d doubles, expected %d" % (path, raw.size, n * p + 3 * n))
    x = raw[:n * p].reshape(p, n).T.copy()
    y, t, tau = raw[n * p:n * p + n], raw[n * p + n:n * p + 2 * n], raw[n * p + 2 * n:]
    start = time.perf_counter()
    value = energy(x, y, t.astype(np.int64), tau)
    print("seconds=%.6f value=%.17g" % (time.perf_counter() - start, value))


if __name__ == "__main__":
    main()
