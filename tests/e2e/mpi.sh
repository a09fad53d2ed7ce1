#!/usr/bin/env bash
# End-to-end: the search over MPI (issue 22), several ranks on this machine.
#   mpi.sh BUILD_DIR SOURCE_DIR WORK_DIR MPIEXEC
# - mpirun -n 4 ... --mpi --jobs 4 gives exactly the trials of a local
#   --jobs 4 run (ids, points, statuses, every score, bit for bit; timings
#   aside), and so does -n 2 with --mpi-slots 4 (--jobs defaults to the 4
#   slots);
# - a plugin that segfaults under MPI costs its trials, never a rank;
# - a worker rank whose data differ from rank 0's is refused by name (exit 3);
# - kill -9 of a worker rank mid-trial loses only that trial, recorded as
#   failed with the cause, and the run completes (mpirun --enable-recovery);
# - Ctrl-C on mpirun keeps every finished trial, and --resume under mpirun
#   finishes the run.
set -euo pipefail
build=$1 src=$2 work=$3 mpiexec=$4
tt=$build/tautune
same=$build/tests/same_results
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }
# CI runs as root; mpirun refuses that unless told.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# This machine has fewer cores than ranks.
mpirun() { timeout 120 "$mpiexec" --oversubscribe "$@"; }

# trials.jsonl in id order without the fields that measure the machine.
results_of() {
  sed -E 's/"(seconds|fit_seconds|finished_seconds)":[^,]*,//g' "$1" | sort -t: -k2,2n
}

# The pid of MPI rank R's own process (not one of its trial children).
rank_pid() {
  local d p pp
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    { tr '\0' '\n' < "$d/environ" | grep -qx "OMPI_COMM_WORLD_RANK=$1"; } 2>/dev/null || continue
    pp=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')
    [ -n "$pp" ] || continue
    { tr '\0' '\n' < "/proc/$pp/environ" | grep -qx "OMPI_COMM_WORLD_RANK=$1"; } 2>/dev/null ||
      { echo "$p"; return; }
  done
}

cat > det.lua <<'LUA'
return {
  seed = 11,
  data = { generator = "synthetic", rows = 1500 },
  budget = { trials = 12 },
  estimators = { dr = {}, dml_linear = {}, t_learner = {}, x_learner = {}, ipw = {} },
}
LUA

# --- the same trials as --jobs 4 ----------------------------------------------
"$tt" run det.lua --ci --jobs 4 --out local > /dev/null 2> local.err || fail "local run: $(cat local.err)"
mpirun -n 4 "$tt" run det.lua --ci --mpi --jobs 4 --out mpi4 > mpi4.out 2> mpi4.err ||
  fail "mpirun -n 4: $(cat mpi4.err)"
grep -q "mpi: 3 of 3 worker ranks ready (3 trial slots)" mpi4.err || fail "3 worker ranks: $(cat mpi4.err)"
[ "$(wc -l < mpi4/trials.jsonl)" -eq 12 ] || fail "mpirun -n 4: $(wc -l < mpi4/trials.jsonl) trials, not 12"
cmp -s <(results_of local/trials.jsonl) <(results_of mpi4/trials.jsonl) ||
  fail "trials.jsonl of mpirun -n 4 --jobs 4 differs from --jobs 4: $(diff <(results_of local/trials.jsonl) <(results_of mpi4/trials.jsonl) | head -4)"
"$same" local/results.json mpi4/results.json || fail "results.json of mpirun -n 4 differs from --jobs 4"
cmp -s local/cate.csv mpi4/cate.csv || fail "cate.csv of mpirun -n 4 differs from --jobs 4"
# The workers adopted rank 0's nuisance models: only rank 0 fitted any.
[ "$(grep -c 'nuisance models fitted' mpi4.err)" -eq 1 ] || fail "nuisance models fitted more than once"
# Two ranks: mpirun binds each to a core, and the BLAS threads must still
# be a local run's (run_mpi.c) for the scores to agree in every bit.
mpirun -n 2 "$tt" run det.lua --ci --mpi --mpi-slots 4 --out slots > /dev/null 2> slots.err ||
  fail "mpirun -n 2 --mpi-slots 4: $(cat slots.err)"
grep -q "4 jobs" slots.err || fail "--jobs did not default to the 4 worker slots: $(cat slots.err)"
cmp -s <(results_of local/trials.jsonl) <(results_of slots/trials.jsonl) ||
  fail "trials of mpirun -n 2 --mpi-slots 4 differ from --jobs 4: $(diff <(results_of local/trials.jsonl) <(results_of slots/trials.jsonl) | head -4)"
echo "ok: mpirun -n 4 --jobs 4 and -n 2 --mpi-slots 4 give the trials of --jobs 4"

# --- a segfaulting plugin is one failed trial, never a rank --------------------
"$tt" gen synthetic --rows 800 --seed 1 --out a.csv
"$tt" gen synthetic --rows 800 --seed 2 --out b.csv
cat > crash.lua <<'LUA'
return {
  seed = 5,
  data = { path = "a.csv", outcome = "y", treatment = "t", control = 0,
           x = { "x1", "x2", "x3", "x4", "x5" }, w = { "w1", "w2" } },
  validation = 0.3,
  budget = { trials = 6 },
  search = { ensemble = false },
  estimators = { dml_linear = {}, chaos = { fault = 7, jitter = uniform(0, 1) } },
}
LUA
chaos=$build/tests/chaos
mpirun -n 3 "$tt" run crash.lua --ci --mpi --plugin-path "$chaos" --out crash > /dev/null 2> crash.err ||
  fail "segfaulting plugin: $(cat crash.err)"
n_chaos=$(grep -c '"estimator":"chaos"' crash/trials.jsonl || true)
# Under UBSan (TT_SANITIZE=ON) the null store is caught before the SIGSEGV:
# the child exits 1 with UBSan's message, still one failed trial.
n_segv=$(grep -cE '"status":"failed","error":"worker (died of signal 11|exited with code 1 without a result; stderr: [^"]*runtime error: store to null pointer)' crash/trials.jsonl || true)
[ "$n_chaos" -ge 1 ] && [ "$n_segv" -eq "$n_chaos" ] ||
  fail "segfault: $n_chaos chaos trials, $n_segv failed with signal 11: $(cat crash/trials.jsonl)"
[ "$(grep -c '"status":"ok"' crash/trials.jsonl)" -eq $((6 - n_chaos)) ] || fail "segfault: other trials not ok"
grep -q "6 trials (0 lost to 0 dead ranks)" crash.err || fail "segfault cost a rank: $(cat crash.err)"
echo "ok: a plugin's segfault under MPI is one failed trial ($n_segv of 6), no rank lost"

# --- different data on a worker rank: refused by name -------------------------
set +e
mpirun -n 1 "$tt" run crash.lua --ci --mpi --plugin-path "$chaos" --out mismatch : \
       -n 2 "$tt" run crash.lua --mpi --plugin-path "$chaos" --data b.csv > /dev/null 2> mismatch.err
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "data mismatch: exit $rc, not 3: $(cat mismatch.err)"
grep -q "mpi: worker rank [12]: its data differ from rank 0's (row hash [0-9a-f]*, rank 0's [0-9a-f]*): every rank must read the same data file" mismatch.err ||
  fail "data mismatch: no clear message: $(cat mismatch.err)"
[ ! -s mismatch/trials.jsonl ] || fail "data mismatch: trials ran"
echo "ok: a worker rank with other data is refused (exit 3, names the rank)"

# --- kill -9 of a worker rank mid-trial ---------------------------------------
cat > slow.lua <<'LUA'
return {
  seed = 3,
  data = { generator = "synthetic", rows = 600 },
  validation = 0.3,
  metric = "pehe",
  budget = { trials = 8 },
  search = { ensemble = false },
  estimators = { rf_slow = { shift = uniform(0, 1) }, dml_linear = {} },
}
LUA
slowdir=$build/tests/refit_plugins
mpirun --enable-recovery -n 4 "$tt" run slow.lua --ci --mpi --mpi-timeout 3 \
  --plugin-path "$slowdir" --out kill > kill.out 2> kill.err &
job=$!
victim="" child=""
for _ in $(seq 1 600); do
  [ -n "$victim" ] || victim=$(rank_pid 2)
  if [ -n "$victim" ]; then
    # rf_slow's fit sleeps 3 s: a trial child older than a second is mid-trial.
    child=$(pgrep -P "$victim" | head -1 || true)
    [ -n "$child" ] && [ "$(ps -o etimes= -p "$child" | tr -d ' ')" -ge 1 ] 2>/dev/null && break
  fi
  sleep 0.1
done
[ -n "$child" ] || { kill "$job" 2>/dev/null; fail "rank 2 never ran a trial"; }
kill -9 "$victim"
wait "$job" || fail "mpirun after kill -9 of rank 2: $(cat kill.err)"
[ "$(wc -l < kill/trials.jsonl)" -eq 8 ] || fail "kill -9: $(wc -l < kill/trials.jsonl) trials, not 8"
[ "$(grep -c '"status":"failed"' kill/trials.jsonl)" -eq 1 ] || fail "kill -9: not exactly one failed trial: $(cat kill/trials.jsonl)"
grep -q '"status":"failed","error":"worker rank 2 ([^)]*) stopped answering (no message for [0-9]* s)"' kill/trials.jsonl ||
  fail "kill -9: the lost trial does not say why: $(grep failed kill/trials.jsonl)"
grep -q '"status":[[:space:]]*"complete"' kill/results.json || fail "kill -9: the run did not complete"
[ -s kill/model.ttm ] || fail "kill -9: no model handed on"
grep -q "8 trials (1 lost to 1 dead rank)" kill.err || fail "kill -9: pool figures: $(tail -3 kill.err)"
echo "ok: kill -9 of worker rank 2 lost only its running trial; the run completed"

# --- Ctrl-C on mpirun, then --resume under mpirun -----------------------------
mpirun -n 4 "$tt" run slow.lua --ci --mpi --plugin-path "$slowdir" --out cc > /dev/null 2> cc.err &
job=$!
for _ in $(seq 1 600); do
  [ -s cc/trials.jsonl ] && [ "$(wc -l < cc/trials.jsonl)" -ge 3 ] && break
  sleep 0.1
done
# Ctrl-C reaches mpirun (the child of timeout, in the background subshell).
launcher=$(pgrep -P "$(pgrep -P "$job" -x timeout)")
[ -n "$launcher" ] || fail "Ctrl-C: no mpirun process found"
kill -INT "$launcher"
wait "$job" || true
grep -q '"status":[[:space:]]*"interrupted"' cc/results.json || fail "Ctrl-C: results.json does not say interrupted"
n_first=$(wc -l < cc/trials.jsonl)
[ "$n_first" -ge 3 ] && [ "$n_first" -lt 8 ] || fail "Ctrl-C: $n_first trials kept"
! grep -q '"status":"failed"' cc/trials.jsonl || fail "Ctrl-C: a trial killed by the stop was recorded: $(grep failed cc/trials.jsonl)"
cp cc/trials.jsonl first.jsonl
mpirun -n 4 "$tt" run slow.lua --ci --mpi --plugin-path "$slowdir" --resume cc > /dev/null 2> resume.err ||
  fail "--resume under mpirun: $(cat resume.err)"
grep -q "nuisance models: reused from" resume.err || fail "--resume fitted the nuisance models again"
[ "$(wc -l < cc/trials.jsonl)" -eq 8 ] || fail "--resume: $(wc -l < cc/trials.jsonl) trials, not 8"
cmp -s first.jsonl <(head -n "$n_first" cc/trials.jsonl) || fail "--resume changed the finished trials"
grep -q '"status":[[:space:]]*"complete"' cc/results.json || fail "--resume: the run did not complete"
echo "ok: Ctrl-C on mpirun kept $n_first finished trials; --resume under mpirun finished the run"

# --- one rank is not a run over MPI -------------------------------------------
set +e
mpirun -n 1 "$tt" run det.lua --mpi --out one > /dev/null 2> one.err
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "needs 2 or more ranks" one.err || fail "mpirun -n 1 --mpi: exit $rc: $(cat one.err)"
echo "ok: --mpi with one rank is refused with a message"
