-- round3.lua: round 3 of docs/experiments.md's loop - rounds 1 and 2 stacked
-- (rounds.csv), each row with the probabilities it was assigned with: 0.5 /
-- 0.5 in round 1, tautune assign's p_0 / p_1 in round 2. `tautune abtest`
-- weights the arm means by them and says what a 50/50 assignment would have
-- earned against the assignment used; `tautune run` learns from all rows
-- with the propensities known, not fitted.
return {
  seed = 3,
  data = { path = "rounds.csv", outcome = "y", treatment = "t", control = "0",
           x = { "x1", "x2", "x3", "x4", "x5" }, w = { "w1", "w2" },
           propensity = { "p_0", "p_1" } },
  experiment = { design = { 0.5, 0.5 } },
  budget = { trials = 12, seconds = 120 },  -- a trial count: the same winner on any machine
  estimators = { causal_forest_dml = {}, dml_linear = { featurizer = "poly2" } },
}
