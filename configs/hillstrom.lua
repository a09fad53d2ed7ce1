-- hillstrom.lua: Kevin Hillstrom's e-mail RCT (MineThatData 2008), 64,000
-- customers, 3 arms: "No E-Mail" (control), "Mens E-Mail", "Womens E-Mail".
-- The file has CRLF line ends and quoted fields with commas; zip_code, channel
-- (and history_segment) are strings and are one-hot encoded (levels ordered by
-- frequency, the most frequent is the reference). Outcome: spend (dollars);
-- use "visit" or "conversion" for the other outcomes.
--
--   tautune run configs/hillstrom.lua
return {
  seed = 1,
  data = {
    path = "../../shared/data/hillstrom/hillstrom.csv",
    outcome = "spend",
    treatment = "segment",
    control = "No E-Mail",
    x = { "recency", "history", "history_segment", "mens", "womens", "newbie", "zip_code",
          "channel" },
    randomized = true,          -- an RCT: metric auto = energy
  },
  validation = 0.3,
  metric = "auto",
  budget = { seconds = 45, trials = 30 },
  -- Every multi-arm wave-1 estimator at its cheap preset (3 arms: the
  -- binary-only transformed_outcome and dml_nonparam are left out).
  estimators = without(presets.cheap, "transformed_outcome", "dml_nonparam"),
}
