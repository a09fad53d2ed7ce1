-- lalonde.lua: LaLonde (1986) / Dehejia & Wahba (1999): the NSW job-training
-- program's treated men against observational controls from the PSID-1
-- survey, the classic test of whether adjustment recovers an experiment.
-- The experimental benchmark (NSW treated vs NSW controls) is an ATT on re78
-- of 1,794 dollars; the naive contrast with PSID controls is about -15,000.
-- The two files share a header; the NSW experimental controls are left out
-- with `exclude`, so the controls are the 2,490 PSID men.
-- (CPS-1 controls instead: the second path ".../cps_controls.csv". The
--  experiment itself: path = ".../nsw_dw.csv", no exclude, randomized = true.)
--
--   tautune run configs/lalonde.lua
return {
  seed = 1,
  data = {
    path = { "../../shared/data/lalonde/nsw_dw.csv", "../../shared/data/lalonde/psid_controls.csv" },
    exclude = { data_id = "Dehejia-Wahba Sample", treat = 0 },
    outcome = "re78",
    treatment = "treat",
    control = 0,
    x = { "age", "education", "black", "hispanic", "married", "nodegree", "re74", "re75" },
  },
  validation = 0.3,
  metric = "auto",
  budget = { seconds = 30, trials = 100 },
  -- The medium preset (scripts/presets.lua: the wave-1 estimators, causal_forest
  -- and dr_forest); the doubly robust, DML and forest ones use the run's
  -- cross-fitted nuisance models.
  estimators = presets.medium,
}
