#!/usr/bin/env bash
# Installs missing packages, builds tautune and runs the quickstart search on
# the built-in synthetic data set, printing the leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"
./build/tautune run configs/quickstart.lua "$@"
