#!/usr/bin/python3
"""Reference side of tests/bench/ihdp: scikit-learn meta-learners on IHDP.

    ihdp_reference.py DATA_DIR REP [REP ...]       (Debian python3: numpy, scikit-learn)

For each replication REP, reads DATA_DIR/ihdp_npci_REP.csv and splits it into
training and validation rows exactly as `tautune run` does with seed = REP and
validation = 0.3 (core/data/split.c: rows bucketed by arm in row order, each
bucket shuffled by Fisher-Yates with the xoshiro256** stream ("split", seed)
of core/util/rng.c, the first round(0.3 n_arm) of each bucket to validation).
The driver checks this reproduction against tautune's own diff_in_means
trial (the `fingerprint` below), so a change to tautune's split shows up as a
mismatch instead of a silently different comparison.

Then fits on the training rows and scores on the validation rows against the
truth mu1 - mu0:
  - t_rf, t_gbr: T-learner, one regressor per arm;
  - s_rf, s_gbr: S-learner, one regressor on [x, t], tau = f(x, 1) - f(x, 0);
with sklearn's RandomForestRegressor / GradientBoostingRegressor at their
defaults (random_state = REP so the run repeats). Prints one JSON object per
replication and learner on stdout:
  {"rep": 1, "name": "t_rf", "sqrt_pehe": ..., "ate_error": ..., "fit_s": ...}
and per replication one {"rep": 1, "name": "fingerprint", "ate": ...,
"sqrt_pehe": ..., "ate_error": ..., "n_train": ..., "n_valid": ...}: the
difference in training means and its oracle figures on the validation rows.

These are the same 70 % training and 30 % held-out rows as tests/bench/ihdp's
tuned search (its part (b) runs tautune on the training rows and applies the
handed-on model.ttm to the held-out rows): the driver imports split_valid()
below, which is pure Python (no numpy), so its outer split and this script's
cannot drift apart.
"""
import json
import math
import os
import sys
import time

try:
    import numpy as np
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
except ImportError:  # tests/bench/ihdp imports split_valid() alone, which needs neither
    np = None

MASK = (1 << 64) - 1
VALIDATION = 0.3


# ---- tautune's random streams (core/util/rng.c), in 64-bit arithmetic ----

def _splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def _fnv1a(name):
    h = 0xCBF29CE484222325
    for byte in name.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class TTRng:
    """xoshiro256** seeded as tt_rng_seed(seed, stream)."""

    def __init__(self, seed, stream):
        state = (seed ^ _fnv1a(stream)) & MASK
        state, _ = _splitmix64(state)
        _, derived = _splitmix64(state)
        state = derived
        self.s = []
        for _ in range(4):
            state, v = _splitmix64(state)
            self.s.append(v)

    def u64(self):
        s = self.s
        result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def below(self, n):
        limit = MASK - MASK % n
        while True:
            r = self.u64()
            if r < limit:
                return r % n

    def shuffle(self, a):
        for i in range(len(a), 1, -1):
            j = self.below(i)
            a[i - 1], a[j] = a[j], a[i - 1]


def split_valid(arm, seed, share=VALIDATION):
    """Validation flags (a list of bools, one per row) as tt_split_stratified(arm,
    seed): arm is a sequence of arm indices 0, 1, ... Pure Python."""
    arm = [int(a) for a in arm]
    rng = TTRng(seed, "split")
    valid = [False] * len(arm)
    for a in range(max(arm) + 1):
        rows = [i for i in range(len(arm)) if arm[i] == a]
        nv = int(math.floor(len(rows) * share + 0.5))  # C round(): half away from zero
        rng.shuffle(rows)
        for i in rows[:nv]:
            valid[i] = True
    return valid


def tautune_split(arm, seed, share=VALIDATION):
    """Boolean mask of validation rows (numpy), as split_valid()."""
    return np.array(split_valid(arm, seed, share), dtype=bool)


# ---- the reference learners ----

def _regressor(kind, seed):
    if kind == "rf":
        return RandomForestRegressor(random_state=seed)
    return GradientBoostingRegressor(random_state=seed)


def t_learner(kind, seed, x, t, y, xv):
    m1 = _regressor(kind, seed).fit(x[t == 1], y[t == 1])
    m0 = _regressor(kind, seed).fit(x[t == 0], y[t == 0])
    return m1.predict(xv) - m0.predict(xv)


def s_learner(kind, seed, x, t, y, xv):
    m = _regressor(kind, seed).fit(np.column_stack([x, t]), y)
    ones, zeros = np.ones(len(xv)), np.zeros(len(xv))
    return m.predict(np.column_stack([xv, ones])) - m.predict(np.column_stack([xv, zeros]))


LEARNERS = [
    ("t_rf", lambda *a: t_learner("rf", *a)),
    ("t_gbr", lambda *a: t_learner("gbr", *a)),
    ("s_rf", lambda *a: s_learner("rf", *a)),
    ("s_gbr", lambda *a: s_learner("gbr", *a)),
]


def oracle(tau_hat, tau):
    """tautune's oracle figures (core/score/oracle.c): sqrt(PEHE), |ATE error|."""
    return float(np.sqrt(np.mean((tau_hat - tau) ** 2))), float(abs(tau_hat.mean() - tau.mean()))


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    col = {name: data[:, i] for i, name in enumerate(header)}
    xs = sorted((n for n in header if n.startswith("x")), key=lambda n: int(n[1:]))
    return (col["treatment"].astype(int), col["y_factual"], col["mu1"] - col["mu0"],
            np.column_stack([col[n] for n in xs]))


def run(data_dir, rep):
    t, y, tau, x = load(os.path.join(data_dir, f"ihdp_npci_{rep}.csv"))
    valid = tautune_split(t, rep)
    tr = ~valid
    dim = y[tr & (t == 1)].mean() - y[tr & (t == 0)].mean()
    pehe, ate_err = oracle(np.full(valid.sum(), dim), tau[valid])
    print(json.dumps({"rep": rep, "name": "fingerprint", "ate": float(dim), "sqrt_pehe": pehe,
                      "ate_error": ate_err, "n_train": int(tr.sum()),
                      "n_valid": int(valid.sum())}), flush=True)
    for name, fit in LEARNERS:
        start = time.perf_counter()
        tau_hat = fit(rep, x[tr], t[tr], y[tr], x[valid])
        seconds = time.perf_counter() - start
        pehe, ate_err = oracle(tau_hat, tau[valid])
        print(json.dumps({"rep": rep, "name": name, "sqrt_pehe": pehe, "ate_error": ate_err,
                          "fit_s": seconds}), flush=True)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    if np is None:
        sys.exit("ihdp_reference.py: needs numpy and scikit-learn (apt-get install python3-sklearn)")
    for rep in sys.argv[2:]:
        run(sys.argv[1], int(rep))


if __name__ == "__main__":
    main()
