-- hillstrom_abtest.lua: Kevin Hillstrom's e-mail experiment (MineThatData
-- 2008) analysed as the A/B/N test it was: 64,000 customers split evenly
-- between "Mens E-Mail", "Womens E-Mail" and "No E-Mail" (the control).
-- Per outcome (visit, conversion, spend): each e-mail against no e-mail by
-- difference in means, CUPED on last year's spend (history), Lin's regression
-- on every customer feature, with Holm's correction over the two e-mails;
-- the arm counts are checked against the designed thirds.
--
--   tautune abtest configs/hillstrom_abtest.lua [--search]
return {
  data = {
    path = "../../shared/data/hillstrom/hillstrom.csv",
    outcome = "spend",
    treatment = "segment",
    control = "No E-Mail",
    x = { "recency", "history", "history_segment", "mens", "womens", "newbie", "zip_code",
          "channel" },
    randomized = true,
  },
  experiment = {
    outcomes = { "visit", "conversion", "spend" },
    design = { ["No E-Mail"] = 1, ["Mens E-Mail"] = 1, ["Womens E-Mail"] = 1 },
    pre = "history",
    correction = "holm",
  },
}
