-- ihdp.lua: IHDP (Hill 2011, NPCI surface), semi-synthetic, replication 1 of 10.
-- 747 children, 139 treated; the true CATE is mu1 - mu0 (the oracle figures
-- PEHE and ATE error use it; it is never a feature). y_cfactual, mu0 and mu1
-- are not covariates: x = "x*" takes only x1..x25.
--
--   tautune run configs/ihdp.lua
--   tautune run configs/ihdp.lua --data ../shared/data/ihdp/ihdp_npci_2.csv
return {
  seed = 1,
  data = {
    path = "../../shared/data/ihdp/ihdp_npci_1.csv", -- relative to this file
    outcome = "y_factual",
    treatment = "treatment",
    control = 0,
    x = "x*",                   -- x1..x25: 6 continuous, 19 binary
    true_effect = "mu1 - mu0",  -- a difference of two columns
  },
  validation = 0.3,
  metric = "auto",              -- dr_mse: assignment is not random
  budget = { seconds = 30, trials = 100 },
  -- The medium preset (scripts/presets.lua: the 14 non-forest estimators, causal_forest, dr_forest).
  estimators = presets.medium,
}
