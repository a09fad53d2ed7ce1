#!/usr/bin/env bash
# End-to-end: configs written to hang or crash config evaluation (issue 20,
# item 5) end within seconds, with exit 2 and a message naming the file and
# line; a data.path that is not a regular file is refused before it is
# opened; Ctrl-C during evaluation exits 130 at once.
#   hostile_configs.sh BUILD_DIR SOURCE_DIR WORK_DIR
# Every command runs under `timeout`, so a regression fails instead of
# hanging. Prints how long each config took to be stopped.
set -euo pipefail
build=$1 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
unset TAUTUNE_PLUGIN_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }
# Wall-clock seconds a hostile config may take on a loaded machine; each
# takes well under one on an idle one.
max_seconds=15

# stopped NAME CODE MESSAGE: `tautune check NAME.lua` must exit with CODE
# within max_seconds, its stderr containing MESSAGE (a fixed string).
stopped() {
  local name=$1 want=$2 message=$3 code start took
  start=$(date +%s.%N)
  set +e
  timeout 60 "$tt" check "$name.lua" > "$name.out" 2> "$name.err"
  code=$?
  set -e
  took=$(echo "$(date +%s.%N) - $start" | bc)
  [ "$code" -ne 124 ] || fail "$name: still running after 60 s"
  [ "$code" -eq "$want" ] || fail "$name: exit $code, expected $want; stderr: $(cat "$name.err")"
  grep -qF -- "$message" "$name.err" || fail "$name: stderr lacks '$message': $(cat "$name.err")"
  (( $(echo "$took < $max_seconds" | bc) )) || fail "$name: took ${took}s"
  printf '%-22s %5.2fs  %s\n' "$name" "$took" "$(head -c 120 "$name.err")"
}

# pcall swallowing the memory error: the error comes back at every step.
cat > pcall_mem.lua <<'LUA'
while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end
LUA
stopped pcall_mem 2 "pcall_mem.lua:1: config uses more than 64 MiB of memory"

# Live data at the cap, then tiny allocations caught for ever: each used to
# cost a full garbage collection.
cat > pcall_near_cap.lua <<'LUA'
local keep = {}
pcall(function() for i = 1, 1e9 do keep[i] = i end end)
while true do pcall(function() local x = {} end) end
LUA
stopped pcall_near_cap 2 "pcall_near_cap.lua:3: config uses more than 64 MiB of memory"

# xpcall's handler used to run with hooks off once a limit was hit.
cat > xpcall_loop.lua <<'LUA'
while true do xpcall(function() while true do end end, function() while true do end end) end
LUA
stopped xpcall_loop 2 "xpcall_loop.lua:1: config ran more than 50000000 instructions"

# C work the count hook does not see: a 20 MB search a million times.
cat > find_20mb.lua <<'LUA'
local s = string.rep("a", 20e6) for i = 1, 1e6 do s:find("b") end
LUA
stopped find_20mb 2 "find_20mb.lua:1: config ran more than 50000000 instructions"

cat > concat_20mb.lua <<'LUA'
local s = string.rep("a", 20e6)
for i = 1, 1e7 do local t = s .. "x" end
LUA
stopped concat_20mb 2 "concat_20mb.lua:2: config ran more than 50000000 instructions"

# Backtracking pattern bombs.
cat > bomb_optional.lua <<'LUA'
return string.rep("a", 5000):find(string.rep("a?", 5000) .. string.rep("a", 5000))
LUA
stopped bomb_optional 2 "bomb_optional.lua:1: pattern too complex"

cat > bomb_optional_short.lua <<'LUA'
return string.rep("a", 5000):find(string.rep("a?", 150) .. string.rep("a", 150) .. "b")
LUA
stopped bomb_optional_short 2 "bomb_optional_short.lua:1: config ran more than 50000000 instructions"

cat > bomb_lazy.lua <<'LUA'
local caps = { ("a"):rep(1e5):match(("(.-)"):rep(30) .. "b") }
LUA
stopped bomb_lazy 2 "bomb_lazy.lua:1: config ran more than 50000000 instructions"

# The issue's own example matches at once (30 empty captures): it ends, and
# the config is then refused for what it returns.
cat > lazy_matches.lua <<'LUA'
return ("a"):rep(1e5):match(("(.-)"):rep(30))
LUA
stopped lazy_matches 2 "lazy_matches.lua: the config must end with"

# Recursion through C: Lua's C stack limit, with the line.
cat > deep_rec_gsub.lua <<'LUA'
local function f(s) return (s:gsub(".", f)) end
f("x")
LUA
stopped deep_rec_gsub 2 "deep_rec_gsub.lua:1: C stack overflow"

cat > huge_gsub.lua <<'LUA'
local s = ("x"):rep(1e6)
return s:gsub(".", ("%0"):rep(100))
LUA
stopped huge_gsub 2 "huge_gsub.lua:2: config ran more than 50000000 instructions"

cat > huge_rep.lua <<'LUA'
local t = {}
t[1] = string.rep("x", 1e12)
LUA
stopped huge_rep 2 "huge_rep.lua:2: config uses more than 64 MiB of memory (string.rep)"

# data.path that is not a regular file: refused before anything opens it
# (opening the FIFO would block until someone writes to it).
mkfifo data.fifo
mkdir data.dir
printf 'y,t,x\n1,0,2\n2,1,3\n' > data.csv
for target in data.fifo data.dir /dev/zero; do
  name=path_$(basename "$target" | tr . _)
  cat > "$name.lua" <<LUA
return {
  data = { path = "$target", outcome = "y", treatment = "t", control = 0, x = { "x" } },
  estimators = { diff_in_means = {} },
}
LUA
done
stopped path_data_fifo 2 "path_data_fifo.lua:2: data.path: data.fifo is a FIFO (named pipe), not a regular file"
stopped path_data_dir 2 "path_data_dir.lua:2: data.path: data.dir is a directory, not a regular file"
stopped path_zero 2 "path_zero.lua:2: data.path: /dev/zero is a character device, not a regular file"
sed 's/"data.fifo"/"data.csv"/' path_data_fifo.lua > path_ok.lua
set +e
timeout 60 "$tt" run path_ok.lua --data data.fifo > data_flag.out 2> data_flag.err
code=$?
set -e
[ "$code" -eq 2 ] || fail "run --data FIFO: exit $code, expected 2: $(cat data_flag.err)"
grep -qF -- "--data data.fifo is a FIFO (named pipe), not a regular file" data_flag.err ||
  fail "run --data FIFO: $(cat data_flag.err)"

# Ctrl-C while a config runs: exit 130 within a second, naming the line.
# Comparing two 8 MB strings is one instruction, so this loop would only be
# stopped by the 5 s CPU backstop.
cat > slow.lua <<'LUA'
local s, t = ("a"):rep(8e6), ("a"):rep(8e6)
while true do local same = s == t end
LUA
for cmd in check run; do
  set +e
  timeout 60 "$tt" "$cmd" slow.lua > "sigint_$cmd.out" 2> "sigint_$cmd.err" &
  pid=$!
  sleep 0.5
  start=$(date +%s.%N)
  kill -INT "$(pgrep -P "$pid" tautune || echo "$pid")"
  wait "$pid"
  code=$?
  set -e
  took=$(echo "$(date +%s.%N) - $start" | bc)
  [ "$code" -eq 130 ] || fail "$cmd: SIGINT gave exit $code: $(cat "sigint_$cmd.err")"
  grep -qF "slow.lua:2: interrupted" "sigint_$cmd.err" || fail "$cmd: $(cat "sigint_$cmd.err")"
  (( $(echo "$took < 2" | bc) )) || fail "$cmd: SIGINT took ${took}s"
  printf '%-22s %5.2fs  %s\n' "sigint_$cmd" "$took" "$(cat "sigint_$cmd.err")"
done
echo "hostile configs: ok"
