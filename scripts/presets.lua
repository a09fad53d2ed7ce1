-- presets.lua - ready-made search spaces for every built-in estimator plugin.
--
-- Three levels per plugin, by how much a search may spend:
--   cheap   ridge learner slots and linear final stages without features,
--           propensity clips at their defaults; the strong simple
--           candidates (t_learner, s_learner, dr and ra_learner) may also
--           take a small boosted model (100-300 rounds of depth 3-4), which
--           their defaults leave at ridge: every trial fits in well under a
--           second on a few thousand rows; for quick looks and small budgets.
--   medium  ridge, lasso and small boosted models; the polynomial featurizer;
--           the propensity clip searched; forests of 100-500 trees. The
--           usual choice.
--   wide    every learner of a slot over its whole schema range, forests of
--           up to 2000 trees. For long runs: forests and deep gbm models are
--           slow on big data.
--
-- What it defines (all plain tables of search spaces; take a copy with
-- merge() before changing one, the spaces are shared values):
--   presets.spaces.<plugin>.<level>        one plugin's hyperparameter table
--   presets.<level>                        the 14 non-forest plugins at that level,
--                                          plus forests: none in cheap (a
--                                          forest trial takes seconds, not
--                                          milliseconds), causal_forest and
--                                          dr_forest in medium, all four in
--                                          wide. causal_forest is binary only:
--                                          with 3+ arms take it out with
--                                          without(presets.medium, "causal_forest")
--   presets.<family>.<level>               one family: baselines, meta (with
--                                          ra_learner), dr, dml,
--                                          forests (issue 9: dr_forest,
--                                          causal_forest_dml, causal_forest,
--                                          multi_arm_causal_forest), iv (issue 16:
--                                          every instrumental-variable plugin;
--                                          needs data.z, never in presets.<level>),
--                                          continuous (the DML family and
--                                          causal_forest_dml: a continuous
--                                          treatment's estimators)
--   presets.level(level, "dr", "dml_linear", ...)   the named plugins only
-- e.g.
--   estimators = presets.medium
--   estimators = merge(presets.dr.cheap, { dr = { final_learner = "gbm" } })
--
-- Every preset names every parameter of its plugin: one a config leaves out
-- is searched over its plugin's whole schema range. The bootstrap replicas
-- are not a hyperparameter and appear in no preset: they are the run's
-- setting `intervals = { resamples = B }` (default 30 for the built-ins).
-- The parameter names are the plugins' schemas (`tautune plugins NAME`);
-- learner slots follow plugins/common/pu_slot.h: <slot>_learner, _alpha,
-- _trees, _depth, _min_leaf, _learning_rate, _featurizer.
--
-- Loading: configs cannot `require` files (the sandbox removes require,
-- dofile and loadfile). This file is a chunk in the style of the prelude
-- scripts/tautune.lua: run after it in the same state, it adds its tables to
-- the global `presets` (creating it if absent) and also returns them, so a
-- loader that runs every scripts/*.lua after tautune.lua, or one that
-- `require`s it, both work. It only needs uniform, loguniform, randint and
-- choice, which the program defines before any script runs.

local P = {}

-- A learner slot's hyperparameters at a level; prefix is the slot's name.
-- strong: the slot of a strong simple candidate (t_learner, s_learner, dr,
-- ra_learner: on IHDP a T-learner with gradient boosting is among the best
-- single estimators), whose cheap level may also pick a small gbm so that
-- even a cheap search reaches it. The schema default (ridge) stays the
-- first point the searcher tries; the gbm ranges hold the schema's defaults
-- (100 rounds, depth 4, rate 0.1), so the first gbm point is those.
local function slot(prefix, level, strong)
  local s = {}
  if level == "cheap" and strong then
    s.learner = choice({ "ridge", "gbm" })
    s.alpha = loguniform(1e-2, 1e2)
    s.trees = randint(100, 300)
    s.depth = randint(3, 4)
    s.min_leaf = 5
    s.learning_rate = loguniform(0.05, 0.1)
    s.featurizer = "none"
  elseif level == "cheap" then
    -- Only the penalty varies; the rest is pinned at the schema defaults
    -- (a parameter a config leaves out is searched over its whole range).
    s.learner = "ridge"
    s.alpha = loguniform(1e-2, 1e2)
    s.trees = 100
    s.depth = 4
    s.min_leaf = 5
    s.learning_rate = 0.1
    s.featurizer = "none"
  elseif level == "medium" then
    s.learner = choice({ "ridge", "lasso", "gbm" })
    s.alpha = loguniform(1e-2, 1e2)
    s.trees = randint(20, 200)
    s.depth = randint(2, 6)
    s.min_leaf = randint(1, 20)
    s.learning_rate = loguniform(0.03, 0.3)
    s.featurizer = choice({ "none", "poly2" })
  else
    s.learner = choice({ "ridge", "lasso", "forest", "gbm" })
    s.alpha = loguniform(1e-3, 1e3)
    s.trees = randint(20, 500)
    s.depth = randint(2, 10)
    s.min_leaf = randint(1, 50)
    s.learning_rate = loguniform(0.01, 0.3)
    s.featurizer = choice({ "none", "poly2" })
  end
  local out = {}
  for k, v in pairs(s) do
    out[prefix .. "_" .. k] = v
  end
  return out
end

-- a, b, ... merged into one new table (later ones win); none is modified.
local function join(...)
  local out = {}
  for _, t in ipairs({ ... }) do
    for k, v in pairs(t) do
      out[k] = v
    end
  end
  return out
end

-- The propensity clip of the estimators that divide by propensities.
local function min_propensity(level)
  if level == "cheap" then
    return { min_propensity = 0.01 }
  elseif level == "medium" then
    return { min_propensity = loguniform(1e-3, 0.1) }
  end
  return { min_propensity = loguniform(1e-6, 0.1) }
end

-- phi(x) of the linear final stages (dr_linear, dml_linear, ...).
local function linear_stage(level, with_intercept)
  local t = {}
  if level == "cheap" then
    t.featurizer = "none"
    if with_intercept then
      t.fit_cate_intercept = true
    end
  else
    t.featurizer = choice({ "none", "poly2" })
    if with_intercept then
      t.fit_cate_intercept = choice({ true, false })
    end
  end
  return t
end

-- The forest plugins' hyperparameters (plugins/common/pu_forest.h). The
-- schema's default of 200 trees keeps search trials cheap; "wide" searches
-- up to grf's 2000. mtry_share 0 means grf's default mtry.
local function forest(level)
  if level == "cheap" then
    return { trees = 100, min_node_size = 5, sample_fraction = 0.5, mtry_share = 0,
             honesty = true, honesty_fraction = 0.5, alpha = 0.05 }
  elseif level == "medium" then
    return { trees = randint(100, 500), min_node_size = randint(1, 20),
             sample_fraction = uniform(0.2, 0.5), mtry_share = uniform(0.1, 1),
             honesty = true, honesty_fraction = uniform(0.4, 0.6), alpha = uniform(0, 0.15) }
  end
  return { trees = randint(50, 2000), min_node_size = randint(1, 50),
           sample_fraction = uniform(0.05, 0.5), mtry_share = uniform(0.1, 1),
           honesty = choice({ true, false }), honesty_fraction = uniform(0.3, 0.7),
           alpha = uniform(0, 0.25) }
end

-- The doubly robust IV family's own knobs (plugins/driv.c): the clip of
-- cov(T, Z | x), the preliminary effect and, beyond cheap, the projection.
local function driv_stage(level, with_projection)
  if level == "cheap" then
    return { cov_clip = 0.001, prel_cate_approach = "driv" }
  end
  local t = { cov_clip = loguniform(1e-4, 0.05),
              prel_cate_approach = choice({ "driv", "dmliv" }),
              opt_reweighted = choice({ false, true }) }
  if with_projection then
    t.projection = choice({ false, true })
  end
  return t
end

-- Each plugin's space as a function of the level.
local builders = {
  diff_in_means = function() return {} end,
  ipw = function(level) return min_propensity(level) end,
  transformed_outcome = function(level)
    local clip = { clip = 0.05 }
    if level == "medium" then
      clip.clip = uniform(0.02, 0.1)
    elseif level == "wide" then
      clip.clip = uniform(0.01, 0.2)
    end
    return join(clip, slot("final", level))
  end,
  s_learner = function(level)
    local t = slot("model", level, true)
    t.interactions = level == "cheap" or choice({ true, false })
    return t
  end,
  t_learner = function(level) return slot("model", level, true) end,
  x_learner = function(level)
    return join(slot("outcome", level), slot("effect", level))
  end,
  da_learner = function(level)
    return join(slot("outcome", level), slot("effect", level))
  end,
  ra_learner = function(level) return slot("final", level, true) end,
  dr = function(level) return join(min_propensity(level), slot("final", level, true)) end,
  dr_linear = function(level) return join(min_propensity(level), linear_stage(level, true)) end,
  dr_sparse_linear = function(level)
    return join(min_propensity(level), linear_stage(level, false))
  end,
  dml_linear = function(level) return linear_stage(level, true) end,
  dml_sparse_linear = function(level) return linear_stage(level, true) end,
  dml_nonparam = function(level) return slot("final", level) end,
  dr_forest = function(level) return join(min_propensity(level), forest(level)) end,
  causal_forest_dml = forest,
  causal_forest = forest,
  multi_arm_causal_forest = forest,
  -- Instrumental variables (need data.z).
  tsls = function(level)
    if level == "cheap" then
      return { effect = choice({ "constant", "linear" }) }
    end
    return { effect = choice({ "constant", "linear", "poly2" }) }
  end,
  dml_iv = function(level) return linear_stage(level, true) end,
  ortho_iv = function(level) return linear_stage(level, true) end,
  dml_iv_nonparam = function(level) return slot("final", level) end,
  driv = function(level) return join(driv_stage(level, true), slot("final", level)) end,
  driv_linear = function(level)
    return join(driv_stage(level, true), linear_stage(level, true))
  end,
  driv_sparse_linear = function(level)
    return join(driv_stage(level, true), linear_stage(level, false))
  end,
  driv_intent_to_treat = function(level)
    return join(driv_stage(level, false), linear_stage(level, true))
  end,
  instrumental_forest = forest,
}

local families = {
  baselines = { "diff_in_means", "ipw", "transformed_outcome" },
  meta = { "s_learner", "t_learner", "x_learner", "da_learner", "ra_learner" },
  dr = { "dr", "dr_linear", "dr_sparse_linear" },
  dml = { "dml_linear", "dml_sparse_linear", "dml_nonparam" },
}
-- Not in families, so presets.<level> takes them per level (level_forests
-- below); all four are presets.forests.<level>.
local extra_families = {
  forests = { "dr_forest", "causal_forest_dml", "causal_forest", "multi_arm_causal_forest" },
  -- presets.iv.<level>: every IV estimator (data.z with a binary instrument;
  -- tsls takes any instrument).
  iv = { "tsls", "dml_iv", "ortho_iv", "dml_iv_nonparam", "driv", "driv_linear",
         "driv_sparse_linear", "driv_intent_to_treat", "instrumental_forest" },
  -- presets.continuous.<level>: the estimators that take a continuous
  -- treatment (data.treatment_kind = "continuous"; effects per unit of T).
  continuous = { "dml_linear", "dml_sparse_linear", "dml_nonparam", "causal_forest_dml" },
}
-- The forests each level adds to the non-forest set: medium the binary grf
-- forest and the DR forest (one of each kind of final stage), wide all.
local level_forests = {
  cheap = {},
  medium = { "causal_forest", "dr_forest" },
  wide = extra_families.forests,
}

local levels = { "cheap", "medium", "wide" }

P.spaces = {}
for name, build in pairs(builders) do
  P.spaces[name] = {}
  for _, level in ipairs(levels) do
    P.spaces[name][level] = build(level)
  end
end

-- level(level, name, ...) -> an estimators table of the named plugins.
function P.level(level, ...)
  local out = {}
  for _, name in ipairs({ ... }) do
    local s = P.spaces[name]
    if s == nil then
      error("presets.level: no preset for plugin '" .. tostring(name) .. "'", 2)
    end
    if s[level] == nil then
      error("presets.level: level must be cheap, medium or wide, got '" .. tostring(level) .. "'", 2)
    end
    out[name] = s[level]
  end
  return out
end

local all = {}
for _, family in pairs(families) do
  for _, name in ipairs(family) do
    all[#all + 1] = name
  end
end
for _, level in ipairs(levels) do
  local names = { table.unpack(all) }
  for _, name in ipairs(level_forests[level]) do
    names[#names + 1] = name
  end
  P[level] = P.level(level, table.unpack(names))
end
for family, names in pairs(extra_families) do
  families[family] = names
end
for family, names in pairs(families) do
  P[family] = {}
  for _, level in ipairs(levels) do
    P[family][level] = P.level(level, table.unpack(names))
  end
end

-- Add to the prelude's presets (baseline, linear) without replacing them.
if type(presets) ~= "table" then
  presets = {}
end
for k, v in pairs(P) do
  presets[k] = v
end
return P
