-- quickstart.lua: the built-in synthetic data set (known effects, confounded
-- assignment, nonlinear effect) and the three built-in estimators.
--
--   tautune run configs/quickstart.lua
--
-- The true effect is known here, so the leaderboard also shows each winner's
-- PEHE (root mean squared error of the per-row effects); it is reported, not
-- used for selection.
return {
  seed = 7,
  data = {
    generator = "synthetic",  -- see `synthetic` in README.md for the formulas
    rows = 4000,
  },
  validation = 0.3,
  -- "auto": dr_mse here, because assignment is confounded (plain energy
  -- would favour the biased difference in means); energy for randomized data.
  metric = "auto",
  budget = { seconds = 10, trials = 40 },
  estimators = {
    diff_in_means = {},
    s_learner = { model_alpha = loguniform(1e-3, 1e3), interactions = choice({ true, false }) },
    t_learner = { model_alpha = loguniform(1e-3, 1e3) },
  },
}
