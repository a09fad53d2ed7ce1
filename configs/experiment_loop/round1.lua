-- round1.lua: round 1 of docs/experiments.md's loop - a 50/50 test on
-- round1.csv (tautune gen rct_nonlinear: the effect sin(2 x1) + 0.5 x2^2
-- helps most customers and hurts some). `tautune abtest round1.lua` reads it
-- as an experiment; `tautune run round1.lua` learns who benefits and hands on
-- model.ttm for `tautune assign`.
return {
  seed = 1,
  data = { path = "round1.csv", outcome = "y", treatment = "t", control = "0",
           x = { "x1", "x2", "x3", "x4", "x5" }, w = { "w1", "w2" }, randomized = true },
  experiment = { design = { 0.5, 0.5 } },
  budget = { trials = 12, seconds = 120 },  -- a trial count: the same winner on any machine
  -- Estimators with intervals, so assign has an effect distribution to sample.
  estimators = { causal_forest_dml = {}, dml_linear = { featurizer = "poly2" } },
}
