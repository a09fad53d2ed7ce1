-- pricing.lua: personalised pricing, a continuous treatment. The built-in
-- `pricing` generator draws a log price with confounded discounts (customers
-- with low w1 get bigger discounts and also buy less) and log demand with a
-- price elasticity that varies by customer: -1 - 0.5 x1 + 0.3 (x2^2 - 1)
-- (column tau1). The effect is per unit of the treatment: the change in log
-- demand per unit of log price. The naive slope of demand on price is about
-- -0.43; the DML estimators adjust for w and recover about -1 on average and
-- the elasticity's dependence on x1 (`tautune explain` names it).
--
--   tautune run configs/pricing.lua
return {
  seed = 1,
  data = { generator = "pricing", rows = 5000, treatment_kind = "continuous" },
  budget = { seconds = 30 },
  estimators = presets.continuous.medium,
}
