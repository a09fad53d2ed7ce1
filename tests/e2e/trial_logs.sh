#!/usr/bin/env bash
# End-to-end: a trial's log (issue 18, item 3), with the `logs` fixture
# plugin (tests/fixtures/log_plugin.c):
# - its host->log warnings and what it prints with printf, puts, write(1)
#   and on stderr are in trials.jsonl's "log", in order, and none of it on
#   tautune's stdout (only the leaderboard is there);
# - a flood of 200 lines keeps the last 50 and says 150 were dropped; 30
#   lines of 1,000 bytes keep 16 (16 KiB);
# - a trial that crashes (SIGSEGV) or hangs until its timeout (SIGKILL)
#   keeps the lines it printed before, in its record and under its failure
#   on the terminal (stderr);
# - --verbose shows every trial's whole log on stderr, ok trials included;
# - --resume of a folder whose trials.jsonl has logs (and of one whose
#   lines have none, as older runs wrote) goes on from it.
#   trial_logs.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
plugins=$build/tests/log_plugins_v1
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE NAME COMMAND...: NAME.out/NAME.err, and the exit code CODE.
expect() {
  local want=$1 name=$2 code
  shift 2
  set +e
  "$@" > "$name.out" 2> "$name.err"
  code=$?
  set -e
  [ "$code" -eq "$want" ] || fail "$name: exit $code, expected $want; stderr: $(cat "$name.err")"
}

# config NAME TRIALS MODE: NAME.lua, the logs plugin in MODE (a Lua
# expression) with diff_in_means beside it, so a run has a winner whatever
# the plugin does; random search, so every mode of a choice() comes up.
config() {
  cat > "$1.lua" <<LUA
return {
  seed = 7,
  data = { generator = "synthetic", rows = 300 },
  validation = 0.3,
  budget = { trials = $2, trial_seconds = 2 },
  search = { searcher = "random", ensemble = false },
  estimators = { logs = { mode = $3, shift = uniform(0, 1) }, diff_in_means = {} },
}
LUA
}

# field RUN ID EXPR: a Python expression over trial ID's record t of RUN.
field() {
  python3 - "$1/trials.jsonl" "$2" "$3" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["id"] == int(sys.argv[2]):
        print(eval(sys.argv[3]))
PY
}

# The plugin's output (its "logs: " lines, its host->log lines, its wide
# lines) anywhere on stdout.
clean_stdout() {
  ! grep -q "logs: \|\[logs\]\|wide [0-9][0-9] w" "$1" || fail "plugin output on stdout: $(cat "$1")"
}

echo "== chatty: warnings, printf, puts, write(1), stderr in trials.jsonl, not on stdout"
config chatty 2 '"chatty"'
expect 0 chatty "$tt" run chatty.lua --plugin-path "$plugins" --out chatty --ci
clean_stdout chatty.out
grep -q "Leaderboard" chatty.out || fail "no leaderboard: $(cat chatty.out)"
# Trial 2 is the logs plugin's default point (diff_in_means, first by name, is
# trial 1): one holdout, one fit.
want='["warning: [logs] chatty warning 1 of 2", "warning: [logs] chatty warning 2 of 2", "info: [logs] fitting 210 rows", "logs: printf line", "logs: puts line", "logs: write(1) line", "logs: stderr line"]'
got=$(field chatty 2 'json.dumps(t["log"])')
[ "$got" = "$want" ] || fail "chatty log: $got"
[ "$(field chatty 1 '"log" in t')" = "False" ] || fail "diff_in_means has a log"
# ok trials print nothing of their log without --verbose.
! grep -q "chatty warning" chatty.err || fail "an ok trial's log without --verbose: $(cat chatty.err)"
echo "ok: every line in the record, in order; stdout clean"

echo "== flood and wide: 50 lines, 16 KiB"
config bounds 6 'choice({ "flood", "wide" })'
expect 0 bounds "$tt" run bounds.lua --plugin-path "$plugins" --out bounds --ci
clean_stdout bounds.out
python3 - bounds/trials.jsonl <<'PY' || fail "bounds"
import json, sys
seen = set()
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["estimator"] != "logs":
        continue
    log, mode = t["log"], t["params"]["mode"]
    seen.add(mode)
    if mode == "flood":
        assert log[0] == "[150 earlier lines dropped]" and t["log_dropped"] == 150, log[:2]
        assert log[1:] == ["logs: flood line %d" % i for i in range(151, 201)], log[1:3]
    else:
        assert log[0] == "[14 earlier lines dropped]" and t["log_dropped"] == 14, log[0]
        assert [l[:7] for l in log[1:]] == ["wide %02d" % i for i in range(15, 31)], log[1][:8]
        assert all(len(l) == 1000 for l in log[1:])
        assert sum(len(l) for l in log[1:]) <= 16384
assert seen == {"flood", "wide"}, seen
PY
echo "ok: bounded at 50 lines / 16 KiB, with the count of lines dropped"

echo "== crash and hang: the last lines in the record and under the failure"
config fail 4 'choice({ "crash", "hang" })'
expect 0 fail "$tt" run fail.lua --plugin-path "$plugins" --out fail --ci
clean_stdout fail.out
python3 - fail/trials.jsonl <<'PY' || fail "crash/hang records"
import json, sys
seen = set()
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["estimator"] != "logs":
        continue
    mode = t["params"]["mode"]
    seen.add(mode)
    if mode == "crash":
        assert t["status"] == "failed", t["status"]
        # A sanitizer build adds its report of the crash after these.
        assert t["log"][:7] == ["logs: step %d" % i for i in range(1, 6)] + [
            "warning: [logs] about to crash", "logs: last words before the crash"], t["log"]
    else:
        assert t["status"] == "timeout", t["status"]
        assert t["log"] == ["logs: hanging now",
                            "warning: [logs] spinning without polling should_stop"], t["log"]
assert seen == {"crash", "hang"}, seen
PY
grep -A4 "(logs) failed: worker" fail.err | grep -q "  | logs: last words before the crash" \
  || grep -q "Sanitizer\|runtime error" fail/trials.jsonl \
  || fail "crash's lines not under its failure: $(cat fail.err)"
grep -A2 "(logs) timeout: killed after the per-trial timeout" fail.err \
  | grep -q "  | warning: \[logs\] spinning without polling should_stop" \
  || fail "hang's lines not under its timeout: $(cat fail.err)"
echo "ok: a crashed and a killed trial keep their last lines"

echo "== a failure shows its last 3 lines; --verbose shows all, ok trials too"
cat > many.lua <<'LUA'
return {
  seed = 7,
  data = { generator = "synthetic", rows = 300 },
  validation = 0.3,
  budget = { trials = 2 },
  search = { ensemble = false },
  estimators = { logs = { mode = "flood" }, diff_in_means = {} },
}
LUA
expect 0 quiet_ok "$tt" run many.lua --plugin-path "$plugins" --out many --ci
! grep -q "flood line" quiet_ok.err || fail "an ok trial's log without --verbose"
expect 0 verbose "$tt" run many.lua --plugin-path "$plugins" --out many_v --ci --verbose
clean_stdout verbose.out
grep -q "trial 2 (logs) ok, its log:" verbose.err || fail "--verbose: $(head -20 verbose.err)"
grep -q "  | \[150 earlier lines dropped\]" verbose.err || fail "--verbose: no dropped count"
[ "$(grep -c '  | logs: flood line' verbose.err)" -eq 50 ] || fail "--verbose: not the 50 lines"
expect 0 verbose_short "$tt" run many.lua --plugin-path "$plugins" --out many_s --ci -v
grep -q "trial 2 (logs) ok, its log:" verbose_short.err || fail "-v is not --verbose"
expect 2 both "$tt" run many.lua --plugin-path "$plugins" --out many_b --quiet --verbose
grep -q "give one of them" both.err || fail "--quiet --verbose: $(cat both.err)"
# A failure without --verbose: its last 3 lines and where the rest are;
# with it, all 7.
config crash_only 1 '"crash"'
sed -i 's/, diff_in_means = {}//' crash_only.lua
expect 5 crash_only "$tt" run crash_only.lua --plugin-path "$plugins" --out crash_only --ci
grep -A4 "trial 1 (logs) failed: worker" crash_only.err > shown.txt || fail "$(cat crash_only.err)"
printf '%s\n' "  | (4 earlier lines in trials.jsonl's log; --verbose shows them)" \
  "  | logs: step 5" "  | warning: [logs] about to crash" \
  "  | logs: last words before the crash" > want.txt
# A sanitizer build's report of the crash makes the last lines its own.
if grep -q "Sanitizer\|runtime error" crash_only/trials.jsonl; then
  echo "note: sanitizer build: the last lines shown are its report"
else
  tail -n 4 shown.txt | cmp -s - want.txt || fail "a failure's last lines: $(cat shown.txt)"
fi
# The terminal's error line does not repeat them as "; stderr: a|b|c"; the
# record's error keeps that tail as before (results.json has no log).
! grep -q "stderr: " crash_only.err || fail "the lines twice: $(cat crash_only.err)"
grep -q '"error":"worker [^"]*; stderr: ' crash_only/trials.jsonl \
  || fail "the record's error lost its stderr tail: $(cat crash_only/trials.jsonl)"
expect 5 crash_verbose "$tt" run crash_only.lua --plugin-path "$plugins" --out crash_v --ci -v
[ "$(grep -c '  | logs: step' crash_verbose.err)" -eq 5 ] || fail "$(cat crash_verbose.err)"
echo "ok: --verbose, -v; failures show their last lines"

echo "== --resume of a trials.jsonl with logs, and of one without"
config resume 2 'choice({ "chatty", "crash" })'
expect 0 first "$tt" run resume.lua --plugin-path "$plugins" --out res --ci
[ "$(wc -l < res/trials.jsonl)" -eq 2 ] || fail "first part: $(wc -l < res/trials.jsonl) trials"
grep -q '"log":\[' res/trials.jsonl || fail "no log in the first part"
cp -r res res_old
# The same lines as a tautune before logs wrote them.
python3 - res_old/trials.jsonl <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[1], "w") as f:
    for t in lines:
        t.pop("log", None)
        t.pop("log_dropped", None)
        f.write(json.dumps(t) + "\n")
PY
for d in res res_old; do
  expect 0 "resume_$d" "$tt" run resume.lua --plugin-path "$plugins" --resume "$d" --trials 5 --ci
  [ "$(wc -l < "$d/trials.jsonl")" -eq 5 ] || fail "$d: $(wc -l < "$d/trials.jsonl") trials after --resume"
  python3 -c "
import json, sys
ids = [json.loads(l)['id'] for l in open('$d/trials.jsonl')]
assert ids == sorted(set(ids)) and len(ids) == 5, ids
" || fail "$d: ids after --resume"
done
echo "ok: --resume reads files with and without logs"
echo "trial_logs: all checks passed"
