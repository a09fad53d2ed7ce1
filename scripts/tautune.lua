-- tautune.lua - the prelude: run in the config sandbox before every config.
--
-- Whatever it defines as a global is there for configs to use. It runs with
-- the same limits as a config (base, table, string and math libraries only)
-- and may use the search-space helpers uniform, loguniform, randint and
-- choice, which the program defines before loading this file.

-- merge(a, b) -> a new table: a's entries overridden by b's.
--
-- Where both sides hold a plain table under the same key, the two are merged
-- the same way, so a config can adjust one hyperparameter of a preset:
--   estimators = merge(presets.linear, { t_learner = { model_alpha = 1.0 } })
-- Search spaces (the tables uniform() and friends return) and other values
-- are taken as they are, b's winning. Neither argument is modified, so a
-- preset can be merged into several configs. nil for either side counts as
-- an empty table.
function merge(a, b)
  local function is_plain(v)
    return type(v) == "table" and rawget(v, "__tt_space") == nil
  end
  local function copy(t)
    local out = {}
    for k, v in pairs(t) do
      out[k] = is_plain(v) and copy(v) or v
    end
    return out
  end
  local out = copy(a or {})
  for k, v in pairs(b or {}) do
    if is_plain(v) and is_plain(out[k]) then
      out[k] = merge(out[k], v)
    elseif is_plain(v) then
      out[k] = copy(v)
    else
      out[k] = v
    end
  end
  return out
end

-- without(t, key, ...) -> a copy of t without the given keys, e.g. to drop
-- one estimator from a preset:
--   estimators = without(presets.linear, "diff_in_means")
function without(t, ...)
  local drop = {}
  for _, key in ipairs({...}) do
    drop[key] = true
  end
  local out = {}
  for k, v in pairs(t) do
    if not drop[k] then
      out[k] = v
    end
  end
  return out
end

-- presets: ready-made estimator spaces to use as `estimators = presets.x`
-- or as the start of merge(). Their search spaces are shared values; take a
-- copy with merge() rather than modifying them in place.
presets = {
  -- The baseline alone: the naive difference in means between arms. Useful
  -- as a reference point that every other estimator should beat.
  baseline = {
    diff_in_means = {},
  },

  -- Linear meta-learners on ridge regression, with the ridge penalty searched
  -- on a log scale, plus the baseline for comparison.
  linear = {
    diff_in_means = {},
    s_learner = { model_learner = "ridge", model_alpha = loguniform(1e-3, 1e3) },
    t_learner = { model_learner = "ridge", model_alpha = loguniform(1e-3, 1e3) },
  },
}
