#!/usr/bin/env bash
# Configures and builds wgflow (Release, warnings on) into ./build, or into $BUILD_DIR. Extra arguments
# go to cmake (e.g. BUILD_DIR=build-serial ./scripts/build.sh -DWGFLOW_WITH_MPI=OFF: the serial build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
log=$dir.log
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" > "$log" 2>&1 || { cat "$log"; exit 1; }
cmake --build "$dir" -j "$(nproc)" >> "$log" 2>&1 || { tail -n 60 "$log"; exit 1; }
echo "build ($dir): ok (log in $log)"
