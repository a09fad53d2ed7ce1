#!/usr/bin/env bash
# Builds tautune in build/ and runs the whole test suite (unit tests, plugin
# fixtures, the end-to-end install-and-run test). TT_WERROR=ON turns warnings
# into errors; TT_SANITIZE=ON builds with ASan/UBSan into build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
[ "${TT_SANITIZE:-OFF}" = ON ] && build=build-asan
cmake -S . -B "$build" -DTT_WERROR="${TT_WERROR:-OFF}" -DTT_SANITIZE="${TT_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build" && ctest --output-on-failure -j"$(nproc)"
