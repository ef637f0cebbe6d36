#!/usr/bin/env python3
"""Linear iterations per implicit solve as the grid is refined at a fixed Δt/Δx² (issue 13's target:
at most 1.5x more from 256² to 2048² and from 32³ to 256³), heat and Fokker-Planck with a double well,
through the real `wgflow run` command: two fixed steps of Δt = RATIO·Δx² on [-5,5]^d.

    /usr/bin/python3 benchmarks/multigrid_iterations.py build/cli/wgflow [--sizes2 256 512 1024 2048]
        [--sizes3 32 64 128] [--ratio 25] [--solver multigrid]

Prints one markdown row per run: case, grid, Δt, iterations per step, solve time (noisy on a shared machine).
"""
import argparse
import re
import subprocess
import tempfile
import os


def run(binary, case, dim, n, ratio, solver, threads, outdir):
    dx = 10.0 / n
    dt = ratio * dx * dx
    cmd = [binary, "run", "--case", case, "--dim", str(dim), "--n", str(n), "--domain=-5,5", "--t-end", repr(2 * dt),
           "--dt", repr(dt), "--snapshots", "1", "--stepper", "implicit-euler", "--linear-solver", solver,
           "--threads", str(threads), "--out", os.path.join(outdir, "run.h5"), "--overwrite"]
    if case == "fokker-planck":
        cmd += ["--potential", "double-well"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    its = float(re.search(r"([0-9.]+) \w+ linear iterations/step", out).group(1))
    secs = float(re.search(r" in ([0-9.e+-]+) s;", out).group(1))
    return dt, its, secs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("wgflow")
    p.add_argument("--sizes2", type=int, nargs="*", default=[256, 512, 1024, 2048])
    p.add_argument("--sizes3", type=int, nargs="*", default=[32, 64, 128])
    p.add_argument("--ratio", type=float, default=25.0, help="Δt/Δx² (D = 1: 100x the explicit limit Δx²/(4D))")
    p.add_argument("--solver", default="multigrid")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    print("| case | grid | Δt | iterations/step | solve time (s) |\n|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as outdir:
        for dim, sizes in ((2, a.sizes2), (3, a.sizes3)):
            for case in ("heat", "fokker-planck"):
                for n in sizes:
                    dt, its, secs = run(a.wgflow, case, dim, n, a.ratio, a.solver, a.threads, outdir)
                    print(f"| {case} | {n}^{dim} | {dt:.3g} | {its:.1f} | {secs:.3g} |", flush=True)


if __name__ == "__main__":
    main()
