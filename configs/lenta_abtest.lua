-- lenta_abtest.lua: a 50,000-row sample of the Lenta uplift experiment (SMS
-- offers to grocery customers; is_treatment 1 = sent, 75 % of the rows).
-- Outcome: response_att (the customer came to the store). CUPED uses the
-- customer's share of food purchases in the 15 days before the campaign;
-- Lin's regression adds age and gender. The sample comes without the
-- designed split, so there is no experiment.design and the sample-ratio
-- check is skipped (give design = {0.25, 0.75} if the plan was 1:3).
--
--   tautune abtest configs/lenta_abtest.lua [--search]
return {
  data = {
    path = "../../shared/data/lenta/lenta_50k.csv",
    outcome = "response_att",
    treatment = "is_treatment",
    control = "0",
    x = { "food_share_15d", "age", "is_women" },
    randomized = true,
  },
  experiment = {
    pre = "food_share_15d",
  },
}
