-- 401k.lua: SIPP 1991 (Chernozhukov et al. 2018; DoubleML's example):
-- effect of 401(k) eligibility e401 on net financial assets net_tfa, dollars.
-- Covariates as in DoubleML: age, inc, educ, fsize, marr, twoearn, db, pira,
-- hown. p401 (participation) is a consequence of eligibility and nifa, tw are
-- other asset measures, so none of them is a covariate. DoubleML's AIPW
-- estimate is about 8,200 (s.e. 1,100); the naive difference is 19,559.
-- (The IV question, p401 instrumented by e401: configs/401k_iv.lua.)
--
--   tautune run configs/401k.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/401k/sipp1991.csv",
    outcome = "net_tfa",
    treatment = "e401",
    control = 0,
    x = { "age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown" },
  },
  validation = 0.3,
  metric = "auto",
  budget = { seconds = 30, trials = 100 },
  -- The medium preset (scripts/presets.lua: the wave-1 estimators, causal_forest
  -- and dr_forest); the doubly robust, DML and forest ones use the run's
  -- cross-fitted nuisance models.
  estimators = presets.medium,
}
