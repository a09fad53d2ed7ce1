#!/usr/bin/python3
"""Reference side of tests/bench/learners: the same tasks and hyperparameters
as tests/bench/bench_learners.c, with scikit-learn (and xgboost's hist booster
when installed), on the same CSV files.

usage:
  learners_reference.py prep gen <tautune-gen.csv> <out.csv>
  learners_reference.py prep 401k|hillstrom <source.csv> <train.csv> <test.csv> [split_seed]
  learners_reference.py <task> <train.csv> <test.csv> <threads> [coef_out [alpha]]

prep writes the bench format both sides read: a header, then numeric rows of
p feature columns followed by yreg (regression target) and yclf (0/1 label).
Values are copied verbatim from the source text, so both sides parse the same
digits into the same doubles.
  gen        features: every x* and w* column of `tautune gen` (x1..x18, w1, w2
             when generated with --x 18: 20 columns); yreg = y (outcome),
             yclf = t (treatment).
  401k       features: age, inc, educ, fsize, marr, twoearn, db, pira, hown;
             yreg = net_tfa, yclf = e401. Seeded 80/20 train/test split
             (split_seed, default 2024).
  hillstrom  features: recency, history, mens, womens, newbie, one-hot
             zip_code (3), channel (3) and segment (3 arms): 14 columns;
             yreg = spend, yclf = visit. Seeded 80/20 train/test split.

A task prints "RESULT <task> fit_s=<s> fit_cpu=<s> predict_s=<s> loss=<held-out
MSE or log-loss>". mtry (max_features) depends on p: round(p/3) for regression,
round(sqrt(p)) for classification, at least 1 (bench_learners.c does the same).
xgboost starts from the training mean of y (base_score; for classification the
mean label, i.e. its log-odds as the initial score), as tautune's gbm does and
xgboost 2.x does by default: 1.7's fixed 0.5 would be a different model.
For lasso with coef_out and alpha, the coefficients written are scikit-learn's
Lasso at that alpha (tautune's choice), so both sides are compared at one
solution; the timing is LassoCV's (5 folds, 100 alphas, n_jobs = threads), like
tautune's.
"""
import csv
import sys
import time

import numpy as np


def write_rows(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def split_write(rows, header, train, test, seed, test_share=0.2):
    perm = np.random.default_rng(seed).permutation(len(rows))
    m = int(round(test_share * len(rows)))
    write_rows(test, header, [rows[i] for i in sorted(perm[:m])])
    write_rows(train, header, [rows[i] for i in sorted(perm[m:])])


def prep(kind, args):
    if kind == "gen":
        src, out = args
        with open(src, newline="") as f:
            r = csv.reader(f)
            head = next(r)
            feats = [i for i, h in enumerate(head) if h[:1] in ("x", "w") and h[1:].isdigit()]
            iy, it = head.index("y"), head.index("t")
            cols = feats + [iy, it]
            with open(out, "w", newline="") as g:
                w = csv.writer(g, lineterminator="\n")
                w.writerow([head[i] for i in feats] + ["yreg", "yclf"])
                for row in r:
                    w.writerow([row[i] for i in cols])
        return
    src, train, test = args[:3]
    seed = int(args[3]) if len(args) > 3 else 2024
    with open(src, newline="") as f:
        r = csv.DictReader(f)
        data = [{k.strip(): v.strip() for k, v in row.items()} for row in r]
    if kind == "401k":
        feats = ["age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown"]
        rows = [[d[c] for c in feats] + [d["net_tfa"], d["e401"]] for d in data]
        header = feats + ["yreg", "yclf"]
    elif kind == "hillstrom":
        onehot = {c: sorted({d[c] for d in data}) for c in ("zip_code", "channel", "segment")}
        header = ["recency", "history", "mens", "womens", "newbie"]
        for c, levels in onehot.items():
            header += [f"{c}={v}" for v in levels]
        rows = []
        for d in data:
            row = [d[c] for c in ("recency", "history", "mens", "womens", "newbie")]
            for c, levels in onehot.items():
                row += ["1" if d[c] == v else "0" for v in levels]
            rows.append(row + [d["spend"], d["visit"]])
        header = [h.replace(" ", "_").replace(",", "") for h in header] + ["yreg", "yclf"]
    else:
        sys.exit("unknown data set " + kind)
    split_write(rows, header, train, test, seed)


def load(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return np.asfortranarray(d[:, :-2]), d[:, -2], d[:, -1]


def main():
    if sys.argv[1] == "prep":
        prep(sys.argv[2], sys.argv[3:])
        return
    task, train, test, threads = sys.argv[1:5]
    coef_out = sys.argv[5] if len(sys.argv) > 5 else None
    threads = int(threads)
    x, yr, yc = load(train)
    tx, tyr, tyc = load(test)
    p = x.shape[1]
    mtry_reg, mtry_clf = max(1, int(np.floor(p / 3 + 0.5))), max(1, int(np.floor(np.sqrt(p) + 0.5)))
    clf = task in ("forest_clf", "logistic", "gbm_clf")
    y, ty = (yc, tyc) if clf else (yr, tyr)
    if task == "forest_reg":
        from sklearn.ensemble import RandomForestRegressor
        m = RandomForestRegressor(n_estimators=100, min_samples_leaf=5, max_features=mtry_reg,
                                  n_jobs=threads, random_state=0)
    elif task == "forest_clf":
        from sklearn.ensemble import RandomForestClassifier
        m = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, max_features=mtry_clf,
                                   n_jobs=threads, random_state=0)
    elif task == "lasso":
        from sklearn.linear_model import LassoCV
        from sklearn.model_selection import KFold
        # Folds differ from tautune's (seeded shuffle); the solution check
        # refits at tautune's chosen alpha below.
        m = LassoCV(cv=KFold(5, shuffle=True, random_state=0), n_alphas=100, eps=1e-3,
                    tol=1e-12, max_iter=100000, n_jobs=threads)
    elif task == "logistic":
        from sklearn.linear_model import LogisticRegression
        # tautune: sum of log-losses + (alpha/2)|b|^2 with alpha = 1  <=>  C = 1.
        m = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10, max_iter=1000)
    elif task in ("gbm_reg", "gbm_clf"):
        import xgboost as xgb
        m = (xgb.XGBClassifier if clf else xgb.XGBRegressor)(
            n_estimators=200, learning_rate=0.1, max_depth=6, tree_method="hist",
            max_bin=256, n_jobs=threads, reg_lambda=1.0, min_child_weight=1.0,
            base_score=float(np.mean(y)))
    else:
        sys.exit("unknown task " + task)
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(x, y)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    pred = m.predict_proba(tx)[:, 1] if clf else m.predict(tx)
    pred_s = time.perf_counter() - t0
    if clf:
        q = np.clip(pred, 1e-15, 1 - 1e-15)
        loss = -np.mean(ty * np.log(q) + (1 - ty) * np.log(1 - q))
    else:
        loss = np.mean((ty - pred) ** 2)
    print(f"RESULT {task} fit_s={fit_s:.4f} fit_cpu={fit_cpu:.4f} predict_s={pred_s:.4f} "
          f"loss={loss:.8g}")
    cv_alpha = getattr(m, "alpha_", None)
    if coef_out and task == "lasso" and len(sys.argv) > 6:
        # The same solution check: scikit-learn's Lasso at tautune's chosen alpha.
        from sklearn.linear_model import Lasso
        m = Lasso(alpha=float(sys.argv[6]), tol=1e-14, max_iter=1000000).fit(x, y)
    if coef_out and task in ("lasso", "logistic"):
        with open(coef_out, "w") as f:
            f.write(f"{float(np.ravel(m.intercept_)[0]):.17g}\n")
            for c in np.ravel(m.coef_):
                f.write(f"{c:.17g}\n")
            if cv_alpha is not None:
                f.write(f"alpha {cv_alpha:.17g}\n")


if __name__ == "__main__":
    main()
