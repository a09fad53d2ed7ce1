-- estimators_wave1.lua: every wave-1 estimator plugin on the built-in
-- synthetic data (known effects, confounded assignment, nonlinear effect).
--
--   tautune run configs/estimators_wave1.lua
--
-- Baselines (diff_in_means, ipw, transformed_outcome), meta-learners (s, t,
-- x, da), the doubly robust learners (dr, dr_linear, dr_sparse_linear) and
-- double machine learning (dml_linear, dml_sparse_linear, dml_nonparam).
-- The spaces are those of scripts/presets.lua at its "medium" level, minus
-- forests (slow for their gain here), spelled out because a config cannot
-- load another script; with a prelude that runs presets.lua this is
--   estimators = presets.medium
-- The true effect is known, so the leaderboard also shows PEHE (reported,
-- not used for selection). Bootstrap replicas are no hyperparameter: the
-- run's `intervals = { resamples = B }` sets them (default 30).

-- A learner slot (plugins/common/pu_slot.h) searched over ridge, lasso and
-- small boosted models; prefix names the slot ("model", "final", ...).
local function slot(prefix)
  return {
    [prefix .. "_learner"] = choice({ "ridge", "lasso", "gbm" }),
    [prefix .. "_alpha"] = loguniform(1e-2, 1e2),
    [prefix .. "_trees"] = randint(20, 200),
    [prefix .. "_depth"] = randint(2, 6),
    [prefix .. "_min_leaf"] = randint(1, 20),
    [prefix .. "_learning_rate"] = loguniform(0.03, 0.3),
  }
end

-- The tables of a, b, ... in one new table.
local function join(...)
  local out = {}
  for _, t in ipairs({ ... }) do
    for k, v in pairs(t) do
      out[k] = v
    end
  end
  return out
end

local clip = { min_propensity = loguniform(1e-3, 0.1) }
local featurizer = choice({ "none", "poly2" })

return {
  seed = 7,
  data = {
    generator = "synthetic",  -- see `synthetic` in README.md for the formulas
    rows = 4000,
  },
  validation = 0.3,
  metric = "auto",            -- psw_energy: the assignment is confounded
  budget = { seconds = 120, trials = 80 },
  estimators = {
    -- baselines
    diff_in_means = {},
    ipw = clip,
    transformed_outcome = join({ clip = uniform(0.02, 0.1) }, slot("final")),
    -- meta-learners
    s_learner = join(slot("model"), { interactions = choice({ true, false }) }),
    t_learner = slot("model"),
    x_learner = join(slot("outcome"), slot("effect")),
    da_learner = join(slot("outcome"), slot("effect")),
    -- doubly robust learners
    dr = join(clip, slot("final")),
    dr_linear = join(clip, { fit_cate_intercept = choice({ true, false }), featurizer = featurizer }),
    dr_sparse_linear = join(clip, { featurizer = featurizer }),
    -- double machine learning
    dml_linear = { fit_cate_intercept = choice({ true, false }), featurizer = featurizer },
    dml_sparse_linear = { fit_cate_intercept = choice({ true, false }), featurizer = featurizer },
    dml_nonparam = slot("final"),
  },
}
