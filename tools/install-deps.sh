#!/usr/bin/env bash
# Installs the Debian 12 packages tautune builds with, if any are missing.
#   --browser   also Chromium, for the test that renders report.html (CI)
#   --bench     also python3 and numpy, for the benchmarks' quick forms (CI;
#               tests/bench/continuous checks against numpy without statsmodels)
#   --fuzz      also clang, for the libFuzzer targets (tools/fuzz.sh)
set -euo pipefail
pkgs=(build-essential cmake pkg-config liblua5.4-dev libopenblas-dev liblapacke-dev
      libcjson-dev libcmocka-dev)
for arg in "$@"; do
  case $arg in
    --browser) pkgs+=(chromium) ;;
    --bench) pkgs+=(python3 python3-numpy) ;;   # the benchmark drivers
    --fuzz) pkgs+=(clang) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
