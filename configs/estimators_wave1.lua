-- estimators_wave1.lua: the medium preset (the wave-1 plugins, causal_forest
-- and dr_forest) on the built-in
-- synthetic data (known effects, confounded assignment, nonlinear effect).
--
--   tautune run configs/estimators_wave1.lua
--
-- Baselines (diff_in_means, ipw, transformed_outcome), meta-learners (s, t,
-- x, da), the doubly robust learners (dr, dr_linear, dr_sparse_linear) and
-- double machine learning (dml_linear, dml_sparse_linear, dml_nonparam), each
-- over its "medium" space of scripts/presets.lua (ridge, lasso and small
-- boosted models in the learner slots, the polynomial featurizer, the
-- propensity clip searched). The true effect is known, so the leaderboard
-- also shows PEHE (reported, not used for selection). Bootstrap replicas are
-- no hyperparameter: the run's `intervals = { resamples = B }` sets them
-- (default 30).
return {
  seed = 7,
  data = {
    generator = "synthetic",  -- see `synthetic` in README.md for the formulas
    rows = 4000,
  },
  validation = 0.3,
  metric = "auto",            -- dr_mse: the assignment is confounded
  budget = { seconds = 120, trials = 80 },
  estimators = presets.medium,
}
