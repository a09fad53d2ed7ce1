-- card.lua: Card (1995), NLS young men 1976, n = 3,010. The classic question
-- is IV: the return to schooling (educ -> lwage) with college proximity
-- nearc4 as the instrument (2SLS 0.1315, s.e. 0.055). tautune's IV
-- estimators are plugins still to come, so this config asks the question the
-- built-in estimators can answer without an instrument: the reduced form
-- (intention-to-treat) effect of growing up near a 4-year college on log
-- wages, adjusted for Card's controls. When IV plugins exist, the IV version
-- is: treatment = "educ" (binarised, e.g. educ >= 16), z = { "nearc4" }.
-- The file quotes its header and writes NA for missing values: fatheduc and
-- motheduc have gaps, imputed with the training median plus a
-- "name:missing" indicator in w.
--
--   tautune run configs/card.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/card1995/card.csv",
    outcome = "lwage",
    treatment = "nearc4",
    control = 0,
    x = { "exper", "black", "south", "smsa" },
    w = { "expersq", "smsa66", "reg66?", "fatheduc", "motheduc" },  -- reg661..reg669
    id = "id",
  },
  validation = 0.3,
  metric = "auto",
  budget = { seconds = 15, trials = 30 },
  estimators = {
    diff_in_means = {},
    s_learner = { model_learner = "ridge", model_alpha = loguniform(1e-2, 1e3) },
    t_learner = { model_learner = "ridge", model_alpha = loguniform(1e-2, 1e3) },
  },
}
