#!/usr/bin/env bash
# End-to-end: install tautune into a scratch prefix and use only the installed
# files, as a user or a third-party plugin author would.
#   install_and_run.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
cmake_bin=${CMAKE:-cmake}
check=$build/tests/check_results
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== install"
"$cmake_bin" --install "$build" --prefix "$prefix" >/dev/null
for f in bin/tautune lib/tautune/plugins/diff_in_means.so lib/tautune/plugins/s_learner.so \
         lib/tautune/plugins/t_learner.so share/tautune/scripts/tautune.lua \
         share/tautune/configs/quickstart.lua include/tautune/plugin.h include/tautune/tautune.h \
         lib/pkgconfig/tautune-plugin.pc; do
  [ -e "$prefix/$f" ] || fail "install is missing $f"
done
tt=$prefix/bin/tautune
unset TAUTUNE_PLUGIN_PATH

echo "== plugins"
"$tt" plugins > "$work/plugins.txt"
for p in diff_in_means s_learner t_learner; do
  grep -q "^$p " "$work/plugins.txt" || fail "tautune plugins does not list $p"
done
grep -q "$prefix/lib/tautune/plugins" "$work/plugins.txt" || fail "plugins not loaded from the install"
"$tt" plugins causal_forest | grep -q "out-of-bag average effect on the training rows: AIPW" \
  || fail "tautune plugins causal_forest does not name its out-of-bag average (ABI 1.4)"

echo "== quickstart run"
"$tt" run "$prefix/share/tautune/configs/quickstart.lua" --out "$work/run1" --budget 20 --trials 15 --quiet \
  > "$work/run1.txt"
cat "$work/run1.txt"
"$check" "$work/run1" quickstart

echo "== report.html and summary.md (rendered by a real browser where Chromium is installed)"
[ -s "$work/run1/report.html" ] || fail "no report.html"
grep -q "^\*\*Winner: " "$work/run1/summary.md" || fail "summary.md has no winner line"
bash "$src/tests/e2e/report_browser.sh" "$work/run1" "$work/report.png" || fail "report.html did not render"

echo "== same seed, same trials"
"$tt" run "$src/configs/quickstart.lua" --out "$work/run2" --trials 15 --quiet > /dev/null
"$tt" run "$src/configs/quickstart.lua" --out "$work/run3" --trials 15 --quiet > /dev/null
strip() { sed -E 's/"(finished_|fit_)?seconds":[^,}]*//g' "$1"; }
strip_sorted() { strip "$1" | sort; }
diff <(strip "$work/run2/trials.jsonl") <(strip "$work/run3/trials.jsonl") >/dev/null \
  || fail "two runs with the same seed differ"
"$tt" run "$src/configs/quickstart.lua" --out "$work/run4" --trials 15 --seed 99 --quiet > /dev/null
if diff <(strip "$work/run2/trials.jsonl") <(strip "$work/run4/trials.jsonl") >/dev/null; then
  fail "a different seed gave identical trials"
fi

echo "== out-of-tree example plugin, built against the installed headers only"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig "$cmake_bin" -S "$src/tests/example_plugin" -B "$work/example" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
"$cmake_bin" --build "$work/example" >/dev/null
so=$(find "$work/example" -name 'example_shrunk_diff.so' | head -n 1)
[ -n "$so" ] || fail "example plugin did not build"
grep -q -- "-I$src" "$work/example/CMakeFiles/example_shrunk_diff.dir/flags.make" \
  && fail "example plugin was compiled against the source tree"
"$tt" plugins example_shrunk_diff --plugin-path "$(dirname "$so")" | grep -q '^example_shrunk_diff ' \
  || fail "installed tautune does not list the example plugin"
cat > "$work/example.lua" <<'LUA'
return {
  seed = 3,
  data = { generator = "synthetic", rows = 1500 },
  budget = { trials = 6 },
  estimators = { example_shrunk_diff = { shrink = uniform(0, 0.5) }, diff_in_means = {} },
}
LUA
"$tt" run "$work/example.lua" --plugin-path "$(dirname "$so")" --out "$work/run_example" --quiet >/dev/null
"$check" "$work/run_example" plugin example_shrunk_diff
# The example has no effect_interval: the host bootstraps it (plugin/host_boot.h),
# so its winning model still has intervals, named, in every output.
sed -e 's/, diff_in_means = {}//' -e 's/trials = 6/trials = 2/' "$work/example.lua" > "$work/example_only.lua"
"$tt" run "$work/example_only.lua" --plugin-path "$(dirname "$so")" --out "$work/run_example_only" \
  --quiet > /dev/null || fail "the example-only run failed"
grep -q '"interval_method":[[:space:]]*"bootstrap by the host (normal, [0-9]* refits)"' \
  "$work/run_example_only/results.json" || fail "no host bootstrap intervals for the example plugin"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i ~ /^lo_/) l = i; if ($i ~ /^hi_/) h = i } next }
  !(l && h && $l + 0 <= $h + 0 && $l != "" && $h != "") { bad++ } END { exit bad > 0 }' \
  "$work/run_example_only/cate.csv" || fail "cate.csv lacks ordered intervals: $(head -n 2 "$work/run_example_only/cate.csv")"
grep -q 'bootstrap by the host' "$work/run_example_only/summary.md" ||
  fail "summary.md does not name the host's bootstrap"
grep -q 'n/a, n/a' "$work/run_example_only/summary.md" && fail "summary.md still shows n/a intervals"
# The example a third party copies must pass the checker it would run.
"$tt" plugin-test --quick "$so" > "$work/example_plugin_test.txt" \
  || fail "tautune plugin-test --quick fails the example plugin: $(grep ' FAIL  ' "$work/example_plugin_test.txt")"
grep -q '^save-load .* PASS  ' "$work/example_plugin_test.txt" \
  || fail "plugin-test did not check the example's save/load: $(cat "$work/example_plugin_test.txt")"

echo "== TAUTUNE_PLUGIN_PATH"
TAUTUNE_PLUGIN_PATH="/nonexistent:$(dirname "$so")" "$tt" plugins example_shrunk_diff 2>/dev/null \
  | grep -q '^example_shrunk_diff ' || fail "TAUTUNE_PLUGIN_PATH is not searched"

echo "== a CSV file with string arms"
awk 'BEGIN { srand(5); print "id,arm,x1,x2,y";
  for (i = 1; i <= 800; i++) { x1 = rand() * 2 - 1; x2 = rand(); t = rand() < 0.5;
    printf "%d,%s,%.6f,%.6f,%.6f\n", i, t ? "\"treat, B\"" : "ctrl", x1, x2, x1 + t * (1 + x1) + rand() } }' \
  > "$work/rct.csv"
cat > "$work/rct.lua" <<'LUA'
return {
  data = { path = "rct.csv", outcome = "y", treatment = "arm", control = "ctrl",
           x = { "x1", "x2" }, randomized = true },
  budget = { trials = 8 },
  estimators = { diff_in_means = {}, t_learner = {} },
}
LUA
"$tt" run "$work/rct.lua" --out "$work/run_csv" --quiet > /dev/null
"$check" "$work/run_csv" csv

echo "== tautune score gives a model made elsewhere the run's own scores"
cat > "$work/rct_dim.lua" <<'LUA'
return {
  data = { path = "rct.csv", outcome = "y", treatment = "arm", control = "ctrl",
           x = { "x1", "x2" }, randomized = true },
  budget = { trials = 1 },
  estimators = { diff_in_means = {} },
}
LUA
"$tt" run "$work/rct_dim.lua" --out "$work/run_dim" --quiet > /dev/null
# 800 rows are scored by 5-fold cross-validation: the effects the scores saw
# are cate.csv's out-of-fold column, on every row.
head -n 1 "$work/run_dim/cate.csv" | grep -q 'oos_tau_' || fail "run_dim/cate.csv has no oos_tau column"
awk -F, 'NR == 1 { print "tau"; next } { print $NF }' "$work/run_dim/cate.csv" > "$work/dim_cate.csv"
"$tt" score "$work/rct_dim.lua" --cate "$work/dim_cate.csv" \
  > "$work/dim_score.json"
"$check" "$work/run_dim" same_scores "$work/dim_score.json"
set +e
"$tt" score "$work/rct_dim.lua" --cate "$work/rct.csv" > /dev/null 2> "$work/score.err"; code=$?
set -e
[ $code -eq 3 ] && grep -q "effect column" "$work/score.err" || fail "a CATE file with 5 columns for 1 arm was not refused"

echo "== Ctrl-C keeps finished work"
cat > "$work/long.lua" <<'LUA'
return {
  data = { generator = "synthetic", rows = 20000 },
  budget = { seconds = 120 },
  estimators = { s_learner = {}, t_learner = {} },
}
LUA
"$tt" run "$work/long.lua" --out "$work/run_int" --quiet > /dev/null 2>&1 &
pid=$!
# (The nuisance stage comes first: the headline average's models, ~10-20 s here.)
for _ in $(seq 1 600); do
  [ -s "$work/run_int/trials.jsonl" ] && break
  sleep 0.1
done
kill -INT $pid
set +e
wait $pid; code=$?
set -e
[ $code -eq 130 ] || fail "interrupted run: exit $code, expected 130"
"$check" "$work/run_int" interrupted
before=$(wc -l < "$work/run_int/trials.jsonl")

echo "== --resume continues without losing or repeating a trial"
"$tt" run "$work/long.lua" --resume "$work/run_int" --trials $((before + 3)) --quiet > /dev/null
after=$(wc -l < "$work/run_int/trials.jsonl")
[ "$after" -eq $((before + 3)) ] || fail "resume: $before trials before, $after after (expected $((before + 3)))"
ids=$(grep -o '"id":[0-9]*' "$work/run_int/trials.jsonl" | sort | uniq -d)
[ -z "$ids" ] || fail "resume repeated trial ids: $ids"
"$check" "$work/run_int" quickstart_like

echo "== --jobs 2 repeats itself"
"$tt" run "$src/configs/quickstart.lua" --out "$work/jobs_a" --trials 12 --jobs 2 --quiet > /dev/null
"$tt" run "$src/configs/quickstart.lua" --out "$work/jobs_b" --trials 12 --jobs 2 --quiet > /dev/null
diff <(strip_sorted "$work/jobs_a/trials.jsonl") <(strip_sorted "$work/jobs_b/trials.jsonl") >/dev/null \
  || fail "two --jobs 2 runs with the same seed differ"

echo "== plugins that crash, hang or return NaN cost one trial each"
cat > "$work/bad.lua" <<'LUA'
return {
  data = { generator = "synthetic", rows = 800 },
  budget = { trials = 4, trial_seconds = 2 },
  estimators = { diff_in_means = {}, mb_crash = {}, mb_hang = {}, mb_nan = {} },
}
LUA
"$tt" run "$work/bad.lua" --plugin-path "$build/tests/misbehaving" --out "$work/run_bad" --quiet \
  > /dev/null || fail "a run with misbehaving plugins did not succeed"
# (a sanitizer build catches the bad store itself, reports it and exits 1)
grep -Eq '"estimator":"mb_crash".*"status":"failed","error":"worker (died of signal 11|exited with code 1)' \
  "$work/run_bad/trials.jsonl" || fail "the crash was not recorded with its cause"
grep -q '"estimator":"mb_hang".*"status":"timeout"' "$work/run_bad/trials.jsonl" \
  || fail "the hang was not recorded as a timeout"
grep -q '"estimator":"mb_nan".*"status":"failed".*non-finite effect' "$work/run_bad/trials.jsonl" \
  || fail "the NaN effect was not recorded"
"$check" "$work/run_bad" plugin diff_in_means

echo "== the budget is honoured"
# (6 s: a smaller budget may be refused when a busy machine makes the
# setup slow; the refusal is tested in e2e_trust)
"$tt" run "$work/long.lua" --out "$work/run_budget" --budget 6 --quiet > /dev/null
"$check" "$work/run_budget" budget 8 || fail "a 6 s budget was not honoured"

echo "== plugins on the host's nuisance models (ABI 1.1)"
cat > "$work/aipw.lua" <<'LUA'
return {
  seed = 3,
  data = { generator = "synthetic", rows = 3000 },
  budget = { trials = 4 },
  nuisance = { propensity = "auto", outcome = { "ridge", "lasso" }, seconds = 2 },
  estimators = { nx_aipw = {}, diff_in_means = {} },
}
LUA
"$tt" run "$work/aipw.lua" --plugin-path "$build/tests/nuisance_plugins" --out "$work/run_aipw" \
  --quiet > /dev/null || fail "the run with nuisance plugins failed"
"$check" "$work/run_aipw" nuisance

echo "== the winner: cate.csv, average effect, model.ttm and tautune predict"
# A string column (one-hot), gaps in a numeric one (imputed), an id column and
# a common cause: everything the preprocessing and nuisance models carry.
awk 'BEGIN { srand(11); print "cust,grp,x1,x2,w1,arm,y";
  for (i = 1; i <= 1500; i++) { x1 = rand() * 2 - 1; x2 = rand(); w1 = rand() - 0.5;
    g = rand() < 0.3 ? "north" : (rand() < 0.5 ? "south" : "east");
    t = rand() < 1 / (1 + exp(-(x1 + w1))); x2s = (i % 17 == 0) ? "" : sprintf("%.6f", x2);
    printf "c%04d,%s,%.6f,%s,%.6f,%s,%.6f\n", i, g, x1, x2s, w1, t ? "treat" : "ctrl",
      x1 + w1 + (g == "north") + t * (1 + x1) + rand() } }' > "$work/obs.csv"
cat > "$work/obs.lua" <<'LUA'
return {
  seed = 5,
  data = { path = "obs.csv", outcome = "y", treatment = "arm", control = "ctrl",
           x = { "x1", "x2", "grp" }, w = { "w1" }, id = "cust" },
  budget = { trials = 10 },
  intervals = { resamples = 12 },
  estimators = { x_learner = {}, dr_linear = {}, t_learner = {} },
}
LUA
"$tt" run "$work/obs.lua" --out "$work/run_obs" --quiet > /dev/null || fail "the observational run failed"
[ -s "$work/run_obs/model.ttm" ] || fail "no model.ttm"
# New rows need no outcome or treatment columns.
cut -d, -f1-5 "$work/obs.csv" > "$work/obs_new.csv"
"$tt" predict "$work/run_obs/model.ttm" --data "$work/obs_new.csv" --out "$work/obs_pred.csv" \
  || fail "tautune predict failed"
"$check" "$work/run_obs" winner "$work/obs_pred.csv"
head -n 1 "$work/obs_pred.csv" | grep -q '^row,cust,tau_treat,lo_treat,hi_treat$' \
  || fail "predict header: $(head -n 1 "$work/obs_pred.csv")"
set +e
"$tt" predict "$work/run_obs/model.ttm" --data "$work/rct.csv" > /dev/null 2> "$work/pred.err"; code=$?
"$tt" predict "$work/obs.csv" --data "$work/obs.csv" > /dev/null 2> "$work/pred2.err"; code2=$?
set -e
[ $code -eq 3 ] || fail "predict on rows without the model's columns: exit $code, expected 3"
grep -q "grp" "$work/pred.err" || fail "predict does not name the missing column: $(cat "$work/pred.err")"
# A CSV as the model cannot be told from a damaged model (issue 20, item 7): exit 1.
[ $code2 -eq 1 ] || fail "predict with a CSV as the model: exit $code2, expected 1"
grep -q "damaged model file (or not a model at all" "$work/pred2.err" ||
  fail "no clear message for a non-model: $(cat "$work/pred2.err")"

echo "== a causal forest winner: its out-of-bag average effect (ABI 1.4), in the report too"
cat > "$work/forest.lua" <<'LUA'
return {
  seed = 5,
  data = { path = "obs.csv", outcome = "y", treatment = "arm", control = "ctrl",
           x = { "x1", "x2", "grp" }, w = { "w1" }, id = "cust" },
  budget = { trials = 2 },
  estimators = { causal_forest = { trees = 100 } },
}
LUA
"$tt" run "$work/forest.lua" --out "$work/run_forest" --quiet > /dev/null \
  || fail "the causal forest run failed"
"$tt" predict "$work/run_forest/model.ttm" --data "$work/obs_new.csv" --out "$work/forest_pred.csv" \
  || fail "tautune predict of the causal forest failed"
"$check" "$work/run_forest" winner_oob "$work/forest_pred.csv"
grep -q '^\*\*Out-of-bag average effect\*\* (training rows): ' "$work/run_forest/summary.md" \
  || fail "summary.md has no out-of-bag average line"
grep -q '<p id="average-effect-oob">Over the training rows, out of bag' "$work/run_forest/report.html" \
  || fail "report.html has no out-of-bag average line"

echo "== errors come with exit codes"
cat > "$work/typo.lua" <<'LUA'
return { data = { generator = "synthetic" }, estimators = { t_lerner = {} } }
LUA
set +e
"$tt" run "$work/typo.lua" --out "$work/typo" 2> "$work/typo.err"; code=$?
set -e
[ $code -eq 4 ] || fail "unknown plugin: exit $code, expected 4"
grep -q "did you mean 't_learner'" "$work/typo.err" || fail "no suggestion for a misspelt plugin"
cat > "$work/badparam.lua" <<'LUA'
return {
  data = { generator = "synthetic" },
  estimators = {
    t_learner = { alpha = uniform(-1, 1) },
  },
}
LUA
set +e
"$tt" run "$work/badparam.lua" --out "$work/badparam" 2> "$work/badparam.err"; code=$?
set -e
[ $code -eq 2 ] || fail "out-of-range space: exit $code, expected 2"
grep -q "badparam.lua:4:" "$work/badparam.err" || fail "space error without file:line: $(cat "$work/badparam.err")"

echo "e2e: all checks passed"
