-- nhefs.lua: NHEFS (Hernan & Robins, "Causal Inference: What If"): effect of
-- quitting smoking (qsmk) between 1971 and 1982 on weight change wt82_71 (kg).
-- 63 of 1,629 people have no 1982 weight: drop_missing = true drops them (the
-- count is in results.json, data.dropped_rows). Covariates as in the book's
-- chapter 12: sex, race, age, education, smoking intensity and years,
-- exercise, activity, baseline weight. education, exercise and active are
-- codes; listed in w as numbers here (use a string copy for one-hot).
--
--   tautune run configs/nhefs.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/nhefs/NHEFS.csv",
    outcome = "wt82_71",
    treatment = "qsmk",
    control = 0,
    x = { "sex", "race", "age", "smokeintensity", "smokeyrs", "wt71" },
    w = { "education", "exercise", "active" },
    id = "seqn",
    drop_missing = true,
  },
  validation = 0.3,
  metric = "auto",
  budget = { seconds = 30, trials = 100 },
  -- The medium preset (scripts/presets.lua: the wave-1 estimators, causal_forest
  -- and dr_forest); the doubly robust, DML and forest ones use the run's
  -- cross-fitted nuisance models.
  estimators = presets.medium,
}
