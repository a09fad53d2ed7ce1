#!/usr/bin/python3
"""Reference side of tests/bench/learners: the same tasks and hyperparameters
as tests/bench/bench_learners.c, with scikit-learn (and xgboost's hist booster
when installed), on the same CSV files.

usage: learners_reference.py <task> <train.csv> <test.csv> <threads> [coef_out [alpha]]
prints "RESULT <task> fit_s=<s> fit_cpu=<s> predict_s=<s> loss=<held-out MSE or log-loss>"
For lasso with coef_out and alpha, the coefficients written are scikit-learn's
Lasso at that alpha (tautune's choice), so both sides are compared at one
solution; the timing is LassoCV's (5 folds, 100 alphas), like tautune's.
"""
import sys
import time

import numpy as np


def load(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    return np.asfortranarray(d[:, :20]), d[:, 20], d[:, 21]


def main():
    task, train, test, threads = sys.argv[1:5]
    coef_out = sys.argv[5] if len(sys.argv) > 5 else None
    threads = int(threads)
    x, yr, yc = load(train)
    tx, tyr, tyc = load(test)
    clf = task in ("forest_clf", "logistic", "gbm_clf")
    y, ty = (yc, tyc) if clf else (yr, tyr)
    if task == "forest_reg":
        from sklearn.ensemble import RandomForestRegressor
        m = RandomForestRegressor(n_estimators=100, min_samples_leaf=5, max_features=7,
                                  n_jobs=threads, random_state=0)
    elif task == "forest_clf":
        from sklearn.ensemble import RandomForestClassifier
        m = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, max_features=4,
                                   n_jobs=threads, random_state=0)
    elif task == "lasso":
        from sklearn.linear_model import LassoCV
        from sklearn.model_selection import KFold
        # Folds differ from tautune's (seeded shuffle); the solution check
        # refits at tautune's chosen alpha below.
        m = LassoCV(cv=KFold(5, shuffle=True, random_state=0), n_alphas=100, eps=1e-3,
                    tol=1e-12, max_iter=100000, n_jobs=1)
    elif task == "logistic":
        from sklearn.linear_model import LogisticRegression
        # tautune: sum of log-losses + (alpha/2)|b|^2 with alpha = 1  <=>  C = 1.
        m = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10, max_iter=1000)
    elif task in ("gbm_reg", "gbm_clf"):
        import xgboost as xgb
        m = (xgb.XGBClassifier if clf else xgb.XGBRegressor)(
            n_estimators=200, learning_rate=0.1, max_depth=6, tree_method="hist",
            max_bin=256, n_jobs=threads, reg_lambda=1.0, min_child_weight=1.0)
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
          f"loss={loss:.6f}")
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
