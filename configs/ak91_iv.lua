-- ak91_iv.lua: Angrist & Krueger (1991), 1980 Census, 329,509 men born
-- 1930-39: the return to schooling, instrumented by quarter of birth.
-- Compulsory schooling laws bind by age, so men born early in the year may
-- leave school with a little less of it; quarter of birth moves years of
-- education (educ, a continuous treatment) and, the design assumes, nothing
-- else that sets weekly wages (lwklywge, log dollars).
-- qob is one-hot encoded (three quarter dummies as instruments, the most
-- frequent quarter the reference); year of birth enters linearly (x), and
-- "linear" effects let the return vary with it. Published (AK 1991, Table V): OLS 0.0709 (0.0003);
-- 2SLS with 30 quarter x year instruments and year dummies 0.0891 (0.0161);
-- the Wald estimate Q1 against Q2-4 0.1020 (0.0239).
-- A real-sized IV run: 329,509 rows, every phase's time printed at the end.
--
--   tautune run configs/ak91_iv.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/angrist_krueger1991/ak91.csv",
    outcome = "lwklywge",
    treatment = "educ",
    treatment_kind = "continuous",  -- effects per year of school
    z = { "qob" },
    x = { "yob" },                  -- the return may vary across birth cohorts
    categorical = { "qob" },
  },
  metric = "auto",
  budget = { seconds = 120 },
  estimators = {
    tsls = { effect = choice({ "constant", "linear" }) },
  },
}
