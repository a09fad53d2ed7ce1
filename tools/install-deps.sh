#!/usr/bin/env bash
# Installs the Debian 12 packages tautune builds with, if any are missing.
#   --browser   also Chromium, for the test that renders report.html (CI)
#   --bench     also what the benchmarks' reference scripts import under
#               /usr/bin/python3 (CI runs every benchmark's quick form):
#               numpy, scikit-learn (forest, learners, ihdp) and xgboost
#               (learners' gbm rows). tautune never uses them at run time.
#               tests/bench/continuous and abtest fall back to numpy without
#               statsmodels, csv_load to numpy without pandas.
#   --fuzz      also clang, for the libFuzzer targets (tools/fuzz.sh)
#   --mpi       also Open MPI (mpirun and the headers), for the search over
#               MPI (docs/cluster.md); without it tautune builds without
#               --mpi and the MPI tests are not registered
set -euo pipefail
# valgrind: `tautune plugin-test` runs a plugin's fit/save/load cycle under it
# (e2e_plugin_test asserts the leak fixture's FAIL only where it is installed).
pkgs=(build-essential cmake pkg-config liblua5.4-dev libopenblas-dev liblapacke-dev
      libcjson-dev libcmocka-dev valgrind)
# Installed without their Recommends: scikit-learn's would add matplotlib,
# sympy, pytest and fonts (70 packages instead of 20) that no script imports.
lean=()
for arg in "$@"; do
  case $arg in
    --browser) pkgs+=(chromium) ;;
    --bench) pkgs+=(python3 python3-numpy); lean+=(python3-sklearn python3-xgboost) ;;
    --fuzz) pkgs+=(clang) ;;
    --mpi) pkgs+=(openmpi-bin libopenmpi-dev) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
missing=() missing_lean=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
for p in "${lean[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing_lean+=("$p")
done
if [ $((${#missing[@]} + ${#missing_lean[@]})) -gt 0 ]; then
  echo "installing: ${missing[*]} ${missing_lean[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
  fi
  if [ ${#missing_lean[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "${missing_lean[@]}"
  fi
fi
