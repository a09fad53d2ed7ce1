-- 401k_iv.lua: SIPP 1991, the instrumental-variable question: the effect of
-- 401(k) participation p401 on net financial assets net_tfa (dollars),
-- instrumented by eligibility e401 (offered by the employer, so as good as
-- random given the covariates; only eligible workers can participate:
-- one-sided non-compliance, so nobody ineligible participates and the
-- model of participation without eligibility is exactly 0).
-- DoubleML's LATE with random-forest nuisances: 11,792 (s.e. 1,604).
-- Covariates as in 401k.lua.
--
-- The IV family (issue 16) with forest nuisances, as DoubleML's figure:
-- tsls's constant effect is the textbook 2SLS LATE with these controls;
-- dml_iv, ortho_iv, driv_linear and instrumental_forest estimate effects
-- that vary with x and report the LATE as their average effect. The search
-- ranks by iv_dr_mse (metric auto on a binary instrument), and the run
-- prints the instrument's first-stage F, compliance and Wald ratio.
--
--   tautune run configs/401k_iv.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/401k/sipp1991.csv",
    outcome = "net_tfa",
    treatment = "p401",
    control = 0,
    z = { "e401" },
    x = { "age", "inc", "educ", "fsize", "marr", "twoearn", "db", "pira", "hown" },
  },
  nuisance = { outcome = "forest", propensity = "forest" },
  budget = { seconds = 90 },
  estimators = {
    tsls = { effect = choice({ "constant", "linear" }) },
    dml_iv = { featurizer = "none" },
    ortho_iv = { featurizer = "none" },
    driv_linear = { featurizer = "none" },
    instrumental_forest = {},
  },
}
