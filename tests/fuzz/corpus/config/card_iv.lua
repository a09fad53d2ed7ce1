-- card_iv.lua: Card (1995), NLS young men 1976, n = 3,010: the return to
-- schooling, instrumented. Years of education (educ, 1-18) is a continuous
-- treatment; growing up near a four-year college (nearc4) is the instrument.
-- With Card's controls (exper, expersq, black, south, smsa, smsa66 and the
-- 1966 regions reg661-reg668) the textbook two-stage least squares gives
-- 0.1315 (s.e. 0.0550; Wooldridge, Example 15.4): each year of school raises
-- wages by about 13 %. tsls with a constant effect is that estimator; "linear"
-- lets the return vary with experience, race and region.
--
--   tautune run configs/card_iv.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/card1995/card.csv",
    outcome = "lwage",
    treatment = "educ",
    treatment_kind = "continuous",  -- effects per year of school
    z = { "nearc4" },
    x = { "exper", "black", "south", "smsa" },
    w = { "expersq", "smsa66", "reg66[1-8]" },  -- reg661..reg668 (reg669 is the base)
    id = "id",
  },
  metric = "auto",  -- iv_dr_mse: a binary instrument
  budget = { seconds = 15 },
  estimators = {
    tsls = { effect = choice({ "constant", "linear" }) },
  },
}
