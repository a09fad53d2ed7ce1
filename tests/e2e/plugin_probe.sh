#!/usr/bin/env bash
# End-to-end: a plugin that aborts, crashes or hangs while being loaded (in a
# constructor or its entry function; tests/fixtures/loading_plugin.c) is
# probed in a child, reported and skipped. `plugins` still lists the rest and
# exits 0; `check` of a config that does not use it passes with one warning,
# one that does fails with exit 4 and the cause; what a plugin prints while
# loading stays off stdout; predict names the cause when the model's plugin
# is refused; the probe's verdicts are cached, re-probed when
# the file changes, and a damaged cache is ignored.
#   plugin_probe.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
fixtures=$build/tests/loading_plugins
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH TAUTUNE_PROBE_CACHE TAUTUNE_PROBE_DEBUG
# The cache of this test only; the hang fixture costs 1 s, not 5.
export XDG_CACHE_HOME=$work/cache TAUTUNE_PROBE_TIMEOUT=1
cache=$XDG_CACHE_HOME/tautune/probe-cache
fail() { echo "FAIL: $*" >&2; exit 1; }
: "$src"

# expect CODE NAME COMMAND...: run COMMAND, keep its stdout/stderr in
# NAME.out/NAME.err, and fail unless it exits with CODE.
expect() {
  local want=$1 name=$2 code
  shift 2
  set +e
  "$@" > "$name.out" 2> "$name.err"
  code=$?
  set -e
  [ "$code" -eq "$want" ] || fail "$name: exit $code, expected $want; stderr: $(cat "$name.err")"
}

# config NAME ESTIMATOR: NAME.lua using that one estimator.
config() {
  cat > "$1.lua" <<LUA
return {
  seed = 5,
  data = { generator = "synthetic", rows = 400 },
  budget = { trials = 2 },
  estimators = { $2 = {} },
}
LUA
}

# A sanitizer build catches the SEGV itself (UBSan's null store, or ASan's
# handler), says why on stderr and exits 1.
declare -A cause=(
  [ld_entry_abort]='aborted \(SIGABRT\) in its entry function; stderr: loading plugin: entry gives up'
  [ld_ctor_abort]='aborted \(SIGABRT\) while loading; stderr: loading plugin: constructor gives up'
  [ld_entry_segv]='(crashed \(SIGSEGV: Segmentation fault\) in its entry function|exited with code 1 in its entry function; stderr: .*)'
  [ld_entry_hang]='timed out after 1 s in its entry function'
)

for bad in ld_entry_abort ld_ctor_abort ld_entry_segv ld_entry_hang; do
  echo "== $bad next to a good plugin"
  dir=$work/$bad
  mkdir -p "$dir"
  cp "$fixtures/ld_good.so" "$fixtures/$bad.so" "$dir/"

  expect 0 "plugins_$bad" "$tt" plugins --plugin-path "$dir"
  grep -q '^ld_good 0 ' "plugins_$bad.out" || fail "ld_good not listed: $(cat "plugins_$bad.out")"
  grep -q '^diff_in_means ' "plugins_$bad.out" || fail "built-ins not listed"
  grep -q '^rejected: 1 file on the plugin path, not loaded$' "plugins_$bad.out" \
    || fail "no rejected section: $(cat "plugins_$bad.out")"
  grep -A1 -x "$dir/$bad.so" "plugins_$bad.out" | grep -Eq "^    ${cause[$bad]}$" \
    || fail "$bad: cause not listed: $(cat "plugins_$bad.out")"
  [ ! -s "plugins_$bad.err" ] || fail "plugins wrote on stderr: $(cat "plugins_$bad.err")"

  expect 4 "plugins_name_$bad" "$tt" plugins "$bad" --plugin-path "$dir"
  grep -Eq "plugin '$bad' cannot be used: $dir/$bad.so: rejected: ${cause[$bad]}" \
    "plugins_name_$bad.err" || fail "plugins $bad: $(cat "plugins_name_$bad.err")"

  config "uses_good_$bad" ld_good
  expect 0 "check_good_$bad" "$tt" check "uses_good_$bad.lua" --plugin-path "$dir"
  [ "$(grep -c 'rejected' "check_good_$bad.err")" -eq 1 ] \
    || fail "not one warning: $(cat "check_good_$bad.err")"
  grep -Eq "^tautune: warning: $dir/$bad.so: rejected: ${cause[$bad]}$" "check_good_$bad.err" \
    || fail "warning: $(cat "check_good_$bad.err")"
  grep -q '^check       ok' "check_good_$bad.out" || fail "check did not pass"

  config "uses_$bad" "$bad"
  expect 4 "check_bad_$bad" "$tt" check "uses_$bad.lua" --plugin-path "$dir"
  grep -Eq "^tautune: uses_$bad.lua:5: estimators.$bad: plugin '$bad' cannot be used: $dir/$bad.so: rejected: ${cause[$bad]}$" \
    "check_bad_$bad.err" || fail "check error: $(cat "check_bad_$bad.err")"
  # The error replaces the warning: the cause is said once.
  [ "$(grep -c 'rejected' "check_bad_$bad.err")" -eq 1 ] \
    || fail "cause said twice: $(cat "check_bad_$bad.err")"
done

echo "== run fails the same way as check"
expect 4 run_bad "$tt" run uses_ld_entry_abort.lua --plugin-path "$work/ld_entry_abort" --out run_bad
grep -q "plugin 'ld_entry_abort' cannot be used: .*aborted (SIGABRT) in its entry function" \
  run_bad.err || fail "run: $(cat run_bad.err)"
[ ! -e run_bad ] || fail "run made a folder"

echo "== predict: the model's plugin file is refused now"
mkdir -p model_dir
cp "$build/tests/refit_plugins/rf_good.so" model_dir/
config model rf_good
expect 0 model_run "$tt" run model.lua --out model_run --plugin-path model_dir --quiet
"$tt" gen synthetic --rows 50 --seed 1 --out new.csv
expect 0 predict_ok "$tt" predict model_run/model.ttm --data new.csv --plugin-path model_dir
cat "$fixtures/ld_entry_abort.so" > model_dir/rf_good.so
expect 4 predict_bad "$tt" predict model_run/model.ttm --data new.csv --plugin-path model_dir
# The model recorded the file's folder (absolute), which predict reads first.
grep -q "the model needs plugin 'rf_good' (loaded from $(pwd -P)/model_dir/rf_good.so when the model was made), which cannot be used: $(pwd -P)/model_dir/rf_good.so: rejected: aborted (SIGABRT) in its entry function" \
  predict_bad.err || fail "predict: $(cat predict_bad.err)"
[ ! -s predict_bad.out ] || fail "predict wrote effects"

echo "== a plugin printing on stdout while loading does not reach stdout"
mkdir -p stdout_dir
cp "$fixtures/ld_ctor_stdout.so" stdout_dir/
expect 0 plugins_stdout "$tt" plugins --plugin-path stdout_dir
grep -q '^ld_ctor_stdout 0 ' plugins_stdout.out || fail "ld_ctor_stdout not listed"
! grep -q 'hello' plugins_stdout.out || fail "plugin output on stdout: $(grep hello plugins_stdout.out)"
grep -q 'ld_ctor_stdout: hello from the constructor' plugins_stdout.err \
  || fail "the constructor's line was lost rather than sent to stderr"
grep -q 'ld_ctor_stdout: hello from the entry' plugins_stdout.err \
  || fail "the entry's line was lost rather than sent to stderr"
config uses_stdout ld_ctor_stdout
expect 0 check_stdout "$tt" check uses_stdout.lua --plugin-path stdout_dir
! grep -q 'hello' check_stdout.out || fail "plugin output in check's report"

echo "== the cache: used, followed, and ignored when damaged"
export TAUTUNE_PROBE_DEBUG=1
probe_line() { grep '^tautune: plugin probe: ' "$1.err" | head -1; }
dir=$work/ld_entry_abort
expect 0 warm "$tt" plugins --plugin-path "$dir"
probe_line warm | grep -q ', 0 probed; cache .* (loaded)$' || fail "warm cache probed: $(probe_line warm)"
grep -A1 -x "$dir/ld_entry_abort.so" warm.out | grep -q 'aborted (SIGABRT) in its entry function' \
  || fail "cached verdict lost its cause: $(cat warm.out)"
grep -q "\"path\":.*\"$dir/ld_entry_abort.so\"" "$cache" || fail "no entry in $cache"

touch -d '2030-01-01' "$dir/ld_good.so"
expect 0 touched "$tt" plugins --plugin-path "$dir"
probe_line touched | grep -q ', 1 probed; .*(loaded, written)$' || fail "touch: $(probe_line touched)"
# Rewritten in place: the good file now aborts, and a cached "ok" must not say otherwise.
cat "$fixtures/ld_entry_abort.so" > "$dir/ld_good.so"
expect 0 rewritten "$tt" plugins --plugin-path "$dir"
probe_line rewritten | grep -q ', 1 probed; ' || fail "rewrite: $(probe_line rewritten)"
grep -A1 -x "$dir/ld_good.so" rewritten.out | grep -q 'aborted (SIGABRT) in its entry function' \
  || fail "rewritten file not re-probed: $(cat rewritten.out)"
cp "$fixtures/ld_good.so" "$dir/ld_good.so"

printf '{"format": "tautune-probe-cache", "version": 1, "files": [' > "$cache"
expect 0 corrupt "$tt" plugins --plugin-path "$dir"
probe_line corrupt | grep -q ', 0 from the cache, .*(ignored, written)$' \
  || fail "corrupt cache: $(probe_line corrupt)"
grep -q '^tautune: plugin probe: cache ignored: not JSON$' corrupt.err || fail "$(cat corrupt.err)"
grep -q '^ld_good 0 ' corrupt.out || fail "ld_good not listed after a corrupt cache"

TAUTUNE_PROBE_CACHE=0 expect 0 nocache "$tt" plugins --plugin-path "$dir"
probe_line nocache | grep -q '; cache off$' || fail "TAUTUNE_PROBE_CACHE=0: $(probe_line nocache)"

# A cache folder that cannot be made: no cache, no complaint without the debug line.
unset TAUTUNE_PROBE_DEBUG
XDG_CACHE_HOME=/proc/tt_no_such_dir expect 0 unwritable "$tt" plugins --plugin-path "$dir"
grep -q '^ld_good 0 ' unwritable.out || fail "ld_good not listed without a cache"
[ ! -s unwritable.err ] || fail "unwritable cache is not silent: $(cat unwritable.err)"
echo "plugin_probe: ok"
