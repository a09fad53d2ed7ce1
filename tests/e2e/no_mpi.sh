#!/usr/bin/env bash
# End-to-end, in a build without MPI (TT_MPI=OFF or no Open MPI found):
# asking for a run over MPI is refused with a message, before anything runs.
#   no_mpi.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
tt=$build/tautune
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { # check WHAT EXPECTED-TEXT COMMAND...
  local what=$1 text=$2 rc=0
  shift 2
  "$@" > out.txt 2> err.txt || rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, not 2: $(cat err.txt)"
  grep -q -- "$text" err.txt || fail "$what: no clear message: $(cat err.txt)"
  [ ! -e runs ] || fail "$what: a run folder was made"
}
check "--mpi" "--mpi asks for a run over MPI, but this tautune was built without MPI" \
  "$tt" run "$src/configs/quickstart.lua" --mpi
check "--mpi-slots" "built without MPI" "$tt" run "$src/configs/quickstart.lua" --mpi-slots 2
# Started by mpirun with several ranks: every rank would otherwise run the
# whole search into the same folder.
check "under mpirun" "started by mpirun with several ranks, but this tautune was built without MPI" \
  env OMPI_COMM_WORLD_SIZE=4 OMPI_COMM_WORLD_RANK=1 "$tt" run "$src/configs/quickstart.lua"
echo "ok: without MPI, --mpi and mpirun are refused with a message (exit 2)"
