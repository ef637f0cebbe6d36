#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the default test suites
# (labels unit, physics, convergence, io, cli, mpi, paraview) of the MPI build (./build, the default:
# runs under mpirun on 1-4 ranks), then build the serial build (./build-serial, -DWGFLOW_WITH_MPI=OFF:
# no MPI, no hypre, serial HDF5) and run its suites too (ParaView's checks once, in the MPI build).
# Extra arguments go to both ctest runs, e.g. -L unit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --with-paraview  # the paraview test opens the output in ParaView
./scripts/build.sh
BUILD_DIR=build-serial ./scripts/build.sh -DWGFLOW_WITH_MPI=OFF -DWGFLOW_WITH_BENCHMARKS=OFF
# Tests run two OpenMP threads each; passive waiting keeps oversubscribed runs from spinning.
export OMP_WAIT_POLICY=passive
ctest --test-dir build --output-on-failure -j 2 "$@"
echo "serial build (-DWGFLOW_WITH_MPI=OFF):"
ctest --test-dir build-serial --output-on-failure -j 2 -LE paraview "$@"
