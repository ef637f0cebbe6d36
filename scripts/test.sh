#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the default test suites
# (labels unit, physics, convergence, io, cli, paraview). Extra arguments go to ctest, e.g. -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --with-paraview  # the paraview test opens the output in ParaView
./scripts/build.sh
# Tests run two OpenMP threads each; passive waiting keeps oversubscribed runs from spinning.
export OMP_WAIT_POLICY=passive
ctest --test-dir build --output-on-failure -j 2 "$@"
