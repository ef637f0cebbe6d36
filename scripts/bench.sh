#!/usr/bin/env bash
# Runs the kernel benchmark sweep: SG (heat, Fokker–Planck) and upwind porous medium, SSP-RK3 steps on
# 1D/2D/3D grids from in-cache to out-of-cache sizes, for 1..P threads, next to a STREAM triad
# measured by the same program. Writes docs/benchmarks.{csv,json,png} and the result tables in
# docs/benchmarks.md. One to two minutes on 2 cores. Extra arguments go to wgflow_bench, e.g.
#   ./scripts/bench.sh --kernels porous --dims 2      (see ./build/benchmarks/wgflow_bench --help)
# Numbers are only as quiet as the machine: the load average is printed and recorded in the output.
#   ./scripts/bench.sh --mpi [--quick]   the MPI sweep instead: ranks x threads in {1x1, 1x2, 2x1}, halo
#                                        share, message costs (scripts/bench_mpi.py, docs/scaling.md)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/CMakeCache.txt ] || ./scripts/build.sh
if [ "${1:-}" = "--mpi" ]; then
  shift
  cmake --build build --target wgflow_bench_mpi -j "$(nproc)" > /dev/null
  exec /usr/bin/python3 scripts/bench_mpi.py "$@"
fi
cmake --build build --target wgflow_bench -j "$(nproc)" > /dev/null
echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) (quiet is < 0.3)"
export OMP_PROC_BIND=close OMP_PLACES=cores
git_id="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD 2>/dev/null || git_id="${git_id}-dirty"
./build/benchmarks/wgflow_bench --csv docs/benchmarks.csv --json docs/benchmarks.json --git "$git_id" "$@"
/usr/bin/python3 benchmarks/report.py docs/benchmarks.json --baseline docs/benchmarks-baseline.json \
  --png docs/benchmarks.png --md docs/benchmarks.md
