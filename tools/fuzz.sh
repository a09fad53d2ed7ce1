#!/usr/bin/env bash
# Fuzzes the readers of untrusted input with libFuzzer (issue 20): the CSV
# reader, the config reader (sandbox included), the model-file reader and the
# trials.jsonl reader.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60, all four)
# Builds build-fuzz/ with Clang, ASan and UBSan (-DTT_FUZZ=ON), then runs each
# target for the given time from its seed corpus (copied to a work folder, so
# the repository only changes by hand): tests/fuzz/corpus/NAME plus the
# inputs the repository already holds (CSV: tests/fixtures/data and
# tests/hostile/csv; config: configs/ and tests/hostile), with a 10 s limit per input
# (a hang is a failure) and 2 GB of memory. A crash, hang or leak leaves its
# input in build-fuzz/artifacts/ and fails the script; reproduce it with
#   build-fuzz/tests/fuzz/fuzz_NAME build-fuzz/artifacts/crash-...
# and add it to tests/hostile/ (or the corpus) with the fix. CI runs 20 s per
# target; a nightly-style run of hours is `tools/fuzz.sh 3600`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv config model trials)
command -v clang > /dev/null || { echo "fuzz: clang is not installed (apt-get install clang)" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DTT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz -j"$(nproc)" > /dev/null
mkdir -p build-fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  work=build-fuzz/corpus-$t
  rm -rf "$work" && mkdir -p "$work"
  [ -d tests/fuzz/corpus/"$t" ] && cp tests/fuzz/corpus/"$t"/* "$work"/
  case $t in
    csv) cp tests/fixtures/data/*.csv tests/hostile/csv/*.csv "$work"/ ;;
    config) cp configs/*.lua tests/hostile/*.lua "$work"/ ;;
  esac
  echo "fuzz_$t: ${seconds}s from $(ls "$work" | wc -l) seed inputs"
  if ! ASAN_OPTIONS=detect_leaks=1 build-fuzz/tests/fuzz/fuzz_"$t" "$work" \
       -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix=build-fuzz/artifacts/"$t"- -print_final_stats=1 > build-fuzz/fuzz_"$t".log 2>&1; then
    echo "fuzz_$t: FAILED - see build-fuzz/fuzz_$t.log and build-fuzz/artifacts/"
    grep -m3 -E "ERROR|SUMMARY|Timeout|crash" build-fuzz/fuzz_"$t".log || true
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" build-fuzz/fuzz_"$t".log | tail -2 | tr '\n' ' '
    echo
  fi
done
exit $status
