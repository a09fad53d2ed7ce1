#!/usr/bin/env bash
# End-to-end: runs you can trust (issue 14).
#   trust.sh BUILD_DIR SOURCE_DIR WORK_DIR
# - same config, data, seed and job count => the same results.json (timing
#   fields aside), cate.csv and model.ttm, even with the CPU shared with busy
#   loops;
# - --resume reuses the nuisance models of the run it continues;
# - randomized data take the arm shares as propensity, and say so;
# - a budget the smallest plan cannot fit is refused (exit 2, no run folder);
# - a budgeted run ends within max(2 s, 3 %) of its budget;
# - SIGTERM while the config is read, while the data are read, in the
#   nuisance stage, in the search and in the winner's refit: exit 130 within
#   1 s, finished work kept.
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
same=$build/tests/same_results
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }
hogs=()
stop_hogs() { for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done; hogs=(); }
trap stop_hogs EXIT

cat > det.lua <<'LUA'
return {
  seed = 11,
  data = { generator = "synthetic", rows = 3000 },
  budget = { trials = 16 },
  search = { jobs = 2 },
  estimators = { dr = {}, dml_linear = {}, t_learner = {}, x_learner = {}, ipw = {} },
}
LUA

# --- determinism under load -------------------------------------------------
"$tt" run det.lua --ci --out quiet > /dev/null 2> quiet.err || fail "quiet run: $(cat quiet.err)"
for _ in 1 2; do (while :; do :; done) & hogs+=($!); done
"$tt" run det.lua --ci --out busy > /dev/null 2> busy.err || fail "busy run: $(cat busy.err)"
stop_hogs
"$same" quiet/results.json busy/results.json || fail "results.json differs under load"
cmp -s quiet/cate.csv busy/cate.csv || fail "cate.csv differs under load"
cmp -s quiet/model.ttm busy/model.ttm || fail "model.ttm differs under load"
# The models file equal too, but for each model's "diag" line (it ends with
# the seconds the selection took) and the checksum line (which covers them).
cmp -s <(grep -v '^diag \|^crc32 ' quiet/nuisance.ttn) <(grep -v '^diag \|^crc32 ' busy/nuisance.ttn) ||
  fail "nuisance models differ under load"
echo "ok: same results with and without two busy loops beside the run"

# --- resume reuses the nuisance models ---------------------------------------
"$tt" run det.lua --ci --trials 6 --out resumed > /dev/null 2> first.err || fail "first half: $(cat first.err)"
cp resumed/nuisance.ttn first.ttn
"$tt" run det.lua --ci --trials 16 --resume resumed > /dev/null 2> second.err ||
  fail "resume: $(cat second.err)"
grep -q "nuisance models: reused from" second.err || fail "resume fitted the nuisance models again: $(cat second.err)"
cmp -s first.ttn resumed/nuisance.ttn || fail "resume changed the nuisance models"
echo "ok: --resume reuses the saved nuisance models"

# --- the final fit on every row ----------------------------------------------
# The default hands on the winner fitted on every row: cate.csv's tau_* are
# that model's (predict reproduces them), oos_tau_* the selection-time
# effects. 3,000 rows are scored by 5-fold cross-validation (the default up
# to 5,000 rows), so every row has an out-of-fold effect.
grep -q '"final_fit":{"rows":"all","n":3000}' <(tr -d ' \n\t' < quiet/results.json) ||
  fail "final fit: results.json does not say rows all, n 3000"
grep -q '"validation":{"kind":"cross-validated","folds":5,' <(tr -d ' \n\t' < quiet/results.json) ||
  fail "cross-validated scoring is not the default at 3000 rows"
head -1 quiet/cate.csv | grep -q ',oos_tau_1$' || fail "final fit: no oos_tau_1 column"
awk -F, 'NR > 1 && $NF == "" { bad = 1 } END { exit bad }' quiet/cate.csv ||
  fail "5 folds: oos_tau_1 must be filled on every row"
# One holdout (validation = 0.3): oos_tau_* on the validation rows only, and
# final_fit = "train" keeps the old model and columns.
sed 's/budget = { trials = 16 },/budget = { trials = 16 }, validation = 0.3,/' det.lua > det_hold.lua
"$tt" run det_hold.lua --ci --out holdout > /dev/null 2> holdout.err || fail "holdout: $(cat holdout.err)"
awk -F, 'NR > 1 && (($3 == "validation") != ($NF != "")) { bad = 1 } END { exit bad }' \
  holdout/cate.csv || fail "final fit: oos_tau_1 must be filled exactly on the validation rows"
sed 's/budget = { trials = 16 },/budget = { trials = 16 }, final_fit = "train",/' det.lua > det_train.lua
"$tt" run det_train.lua --ci --out trainfit > /dev/null 2> trainfit.err || fail "final_fit train: $(cat trainfit.err)"
grep -q '"final_fit":{"rows":"train","n":2099}' <(tr -d ' \n\t' < trainfit/results.json) ||
  fail "final_fit train: results.json does not say rows train"
head -1 trainfit/cate.csv | grep -q oos_tau && fail "final_fit train: unexpected oos_tau column"
# Same selection either way; the validation rows' out-of-sample effects are
# the training-rows model's effects there.
cmp -s <(awk -F, 'NR > 1 && $3 == "validation" { print $NF }' holdout/cate.csv) \
       <(awk -F, 'NR > 1 && $3 == "validation" { print $4 }' trainfit/cate.csv) ||
  fail "final fit: oos_tau_1 differs from the training-rows model's effects"
# final_fit = "train" has no single training part to keep with folds.
sed 's/budget = { trials = 16 },/budget = { trials = 16 }, final_fit = "train", validation = { folds = 5 },/' \
  det.lua > det_conflict.lua
set +e; "$tt" run det_conflict.lua --ci --out conflict > /dev/null 2> conflict.err; code=$?; set -e
[ $code -eq 2 ] && grep -q 'final_fit = "train"' conflict.err ||
  fail "final_fit train with folds: exit $code, $(cat conflict.err)"
echo "ok: the final fit on every row, with out-of-sample effects beside it"

# --- randomized data ----------------------------------------------------------
cat > rct.lua <<'LUA'
return {
  seed = 2,
  data = { generator = "rct_linear", rows = 1500 },
  budget = { trials = 4 },
  estimators = { dr = {}, ipw = {} },
}
LUA
"$tt" gen rct_linear --rows 1500 --seed 2 --out rct.csv
cat > rct_csv.lua <<'LUA'
return {
  seed = 2,
  data = { path = "rct.csv", outcome = "y", treatment = "t", control = "0",
           x = { "x1", "x2" }, w = { "w1", "w2" }, randomized = true },
  budget = { trials = 4 },
  estimators = { dr = {}, ipw = {} },
}
LUA
"$tt" run rct_csv.lua --ci --out rct > /dev/null 2> rct.err || fail "randomized run: $(cat rct.err)"
grep -q '"learner":[[:space:]]*"arm_shares"' rct/results.json || fail "randomized: no arm-share propensity in results.json"
grep -q 'arm shares of the training rows (data.randomized)' rct/results.json ||
  fail "randomized: scoring propensity not named"
echo "ok: randomized data take the arm shares as propensity"

# --- a budget too small is refused before any work ----------------------------
set +e
"$tt" run det.lua --budget 0.5 --out small > small.out 2> small.err
code=$?
set -e
[ $code -eq 2 ] || fail "--budget 0.5: exit $code, expected 2; $(cat small.err)"
grep -q "cannot fit this run" small.err || fail "--budget 0.5: no estimate: $(cat small.err)"
grep -q -- "--budget" small.err || fail "--budget 0.5: no advice: $(cat small.err)"
[ ! -e small ] || fail "--budget 0.5 made a run folder"
echo "ok: a too-small budget is refused with its estimate"

# --- the whole run ends within max(2 s, 3 %) of its budget --------------------
cat > budget.lua <<'LUA'
return {
  seed = 5,
  data = { generator = "synthetic", rows = 3000 },
  budget = { seconds = 6 },
  estimators = { dr = {}, t_learner = {}, s_learner = {}, x_learner = {} },
}
LUA
t0=$(date +%s.%N)
"$tt" run budget.lua --ci --out budget > /dev/null 2> budget.err || fail "budget run: $(cat budget.err)"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a <= 6 + 2) }' ||
  fail "a 6 s budget took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
echo "ok: a 6 s budget ended after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"

# --- SIGTERM in every phase ---------------------------------------------------
# interrupt NAME READY_CMD CMD...: start CMD, wait until READY_CMD succeeds,
# send SIGTERM, and require exit 130 within 1 s.
interrupt() {
  local name=$1 ready=$2
  shift 2
  "$@" > "$name.out" 2> "$name.err" &
  local pid=$! waited=0
  until eval "$ready"; do
    sleep 0.05
    waited=$((waited + 1))
    kill -0 $pid 2>/dev/null || fail "$name: ended before it could be interrupted: $(cat "$name.err")"
    [ $waited -lt 1200 ] || { kill -9 $pid; fail "$name: never got ready"; }
  done
  local t0 t1 code
  t0=$(date +%s.%N)
  kill -TERM $pid
  set +e
  wait $pid
  code=$?
  set -e
  t1=$(date +%s.%N)
  [ $code -eq 130 ] || fail "$name: exit $code after SIGTERM, expected 130; $(cat "$name.err")"
  awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a <= 1.0) }' ||
    fail "$name: took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s to stop"
  echo "ok: SIGTERM $name: exit 130 after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
}

# The config: a named pipe nobody writes blocks the reader.
mkfifo config_fifo.lua
interrupt config "sleep 0.3; true" "$tt" run config_fifo.lua --ci --out never1
# The data: a data.path that is a named pipe used to block the reader too;
# it is now refused before it is opened (issue 20), so there is nothing to
# interrupt (e2e_hostile_configs checks the message).
mkfifo data_fifo.csv
cat > fifo.lua <<'LUA'
return {
  data = { path = "data_fifo.csv", outcome = "y", treatment = "t", control = "0", x = { "x1" } },
  estimators = { t_learner = {} },
}
LUA
set +e
timeout 10 "$tt" run fifo.lua --ci --out never2 > data.out 2> data.err
code=$?
set -e
[ $code -eq 2 ] && grep -q "FIFO" data.err || fail "data FIFO: exit $code; $(cat data.err)"
echo "ok: a data.path FIFO is refused at once"
# The nuisance stage: forests on 60,000 rows take far longer than the test.
cat > slow_nuisance.lua <<'LUA'
return {
  seed = 1,
  data = { generator = "synthetic", rows = 60000 },
  nuisance = { outcome = { "forest" }, propensity = { "forest" } },
  estimators = { dr = {} },
}
LUA
interrupt nuisance "grep -q 'nuisance models:' nuisance.err" "$tt" run slow_nuisance.lua --ci --out nu
[ -s nu/config.lua ] || fail "nuisance: the run folder lost its config"
grep -q '"status":[[:space:]]*"interrupted"' nu/results.json || fail "nuisance: results.json not interrupted"
# The search: stop after two finished trials; they must be kept.
cat > search.lua <<'LUA'
return {
  seed = 1,
  data = { generator = "synthetic", rows = 3000 },
  budget = { seconds = 120 },
  estimators = { t_learner = { model_learner = "forest", model_trees = 500 },
                 s_learner = { model_learner = "forest", model_trees = 500 } },
}
LUA
interrupt search "[ -f se/trials.jsonl ] && [ \$(wc -l < se/trials.jsonl) -ge 2 ]" \
  "$tt" run search.lua --ci --out se
grep -q '"status":[[:space:]]*"interrupted"' se/results.json || fail "search: results.json not interrupted"
[ "$(wc -l < se/trials.jsonl)" -ge 2 ] || fail "search: finished trials lost"
# The winner's refit: a forest T-learner's 30 bootstrap replicas take long.
cat > refit.lua <<'LUA'
return {
  seed = 1,
  data = { generator = "synthetic", rows = 4000 },
  budget = { trials = 1 },
  estimators = { t_learner = { model_learner = "forest", model_trees = 400 } },
}
LUA
interrupt refit "grep -q 'refitting the winner' refit.err" "$tt" run refit.lua --ci --out rf
grep -q '"status":[[:space:]]*"interrupted"' rf/results.json || fail "refit: results.json not interrupted"
[ "$(wc -l < rf/trials.jsonl)" -eq 1 ] || fail "refit: the finished trial was lost"
echo "trust: all checks passed"
