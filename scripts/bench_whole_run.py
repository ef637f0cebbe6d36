#!/usr/bin/env python3
"""Whole-run step rate beside the kernel step rate (issue 14: "whole-run step rate >= 85 % of the
kernel step rate").

For each kernel of wgflow_bench (sg-heat, sg-fp, porous) and grid, this runs `wgflow run` on the
same problem the kernel benchmark steps (same box, initial density, flux, SSP-RK3, CFL 0.5), with
one snapshot and the per-step diagnostics on, and times it two ways: the run loop as the program's
summary reports it ("N steps ... in T s") and the whole process (start-up and output included). The
kernel rate comes from `wgflow_bench` on the same grid and thread count, run just before.

    /usr/bin/python3 scripts/bench_whole_run.py [--threads 2] [--cases sg-heat:2:2048,porous:3:256]
        [--steps 60] [--long-factor 4] [--rounds 1] [--md docs/whole_run.md] [--stepper euler]
        [--wgflow BIN --bench BIN]

Cells per second per step = cells x steps / seconds. A run loop also carries fixed costs (the first
and the last snapshot, the first diagnostics pass); so each case runs twice, with about --steps and
--long-factor times as many steps, and the per-step rate of the run loop is the difference,
cells x (S2 - S1) / (T2 - T1): what every further step of a run costs (diagnostics, trackers and loop
included), beside the fixed seconds the two runs imply. Numbers are only as quiet as the machine: the
load average is printed; run it on an idle machine.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WGFLOW = os.path.join(ROOT, "build", "cli", "wgflow")
BENCH = os.path.join(ROOT, "build", "benchmarks", "wgflow_bench")  # --wgflow / --bench: other builds
SUMMARY = re.compile(r": (\d+) steps \((\d+) rejected\) to t = \S+ in ([0-9.eE+-]+) s")


def problem(kernel, dim):
    """wgflow run options for the problem bench_kernels.cpp steps (initial_state, run_case)."""
    axes = "xyz"[:dim]
    r2 = "+".join(f"({a}-{0.1 * (k + 1):.1f})^2" for k, a in enumerate(axes))
    if kernel == "porous":
        return ["--case", "porous-medium", "--m", "2", "--domain=-1,1", "--order", "2",
                "--initial", f"max(0, 1-({r2})/0.36)"]
    opts = ["--domain=-4,4", "--initial", f"exp(-({r2})/2)+0.01"]
    if kernel == "sg-fp":
        return ["--case", "fokker-planck", "--potential", "quadratic", "--gamma", "1"] + opts
    return ["--case", "heat"] + opts


def run_wgflow(args, out_dir):
    out = os.path.join(out_dir, "run.h5")
    cmd = [WGFLOW, "run", "--overwrite", "--out", out] + args
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench_whole_run: {' '.join(cmd)} failed:\n{p.stderr}")
    m = SUMMARY.search(p.stdout + p.stderr)
    if not m:
        sys.exit(f"bench_whole_run: no run summary in the output of {' '.join(cmd)}")
    return int(m.group(1)), float(m.group(3)), wall


def kernel_rate(kernel, dim, n, threads, out_dir, stepper):
    js = os.path.join(out_dir, "bench.json")
    cmd = [BENCH, "--threads", str(threads), "--kernels", kernel, "--dims", str(dim),
           f"--sizes-{dim}d", str(n), "--repeats", "5", "--json", js,
           "--csv", os.path.join(out_dir, "bench.csv")]
    subprocess.run(cmd, check=True, capture_output=True)
    with open(js) as f:
        rows = [r for r in json.load(f)["results"] if r["threads"] == threads]
    # wgflow_bench steps SSP-RK3: other steppers take its mean stage rate over their stage count.
    stages = {"euler": 1, "ssp-rk2": 2, "ssp-rk3": 3}[stepper]
    return rows[0]["cells_per_s_stage_median"] / stages


def main():
    global WGFLOW, BENCH
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cases", default="sg-heat:2:2048,sg-fp:2:2048,porous:2:2048,"
                                       "sg-heat:3:256,sg-fp:3:256,porous:3:256")
    ap.add_argument("--steps", type=int, default=60, help="about this many steps per run")
    ap.add_argument("--long-factor", type=float, default=4.0,
                    help="the second run takes about this many times --steps (per-step rate from the difference)")
    ap.add_argument("--rounds", type=int, default=1, help="alternated rounds per case; the best rates are kept")
    ap.add_argument("--md", help="also write the table as Markdown to this file")
    ap.add_argument("--stepper", default="ssp-rk3", help="stepper of cases that name none (kernel:dim:n:stepper)")
    ap.add_argument("--wgflow", default=WGFLOW, help="the wgflow binary (default: this tree's build)")
    ap.add_argument("--bench", default=BENCH, help="the wgflow_bench binary (default: this tree's build)")
    a = ap.parse_args()
    WGFLOW, BENCH = a.wgflow, a.bench
    for exe in (WGFLOW, BENCH):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench_whole_run: {exe} missing: build first (scripts/build.sh)")
    print(f"bench_whole_run: load average {open('/proc/loadavg').read().split()[0]} (quiet is < 0.3)")
    lines = ["| kernel | grid | steps | kernel cells/s/step | run loop cells/s/step | loop / kernel "
             "| whole process cells/s/step | per-step rate (steps S1 → S2) | per step / kernel | fixed s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for case in a.cases.split(","):
            kernel, dim, n, *stepper = case.split(":")
            dim, n = int(dim), int(n)
            stepper = stepper[0] if stepper else a.stepper
            cells = n ** dim
            base = problem(kernel, dim) + ["--dim", str(dim), "--n", str(n), "--threads", str(a.threads),
                                           "--stepper", stepper, "--cfl", "0.5", "--snapshots", "1"]
            # Probe for dt (grow t-end until it takes >= 5 steps), then aim at --steps steps.
            t_probe = 1e-8
            while True:
                steps, _, _ = run_wgflow(base + ["--t-end", f"{t_probe:.6g}"], tmp)
                if steps >= 5:
                    break
                t_probe *= 10
            dt_probe = t_probe / steps
            # Rounds of (short run, long run, kernel), alternated; the best of each (a shared host only
            # ever slows a run down).
            krate = loop_rate = whole_rate = per_step = 0.0
            fixed = float("inf")
            for _ in range(a.rounds):
                steps, loop_s, wall = run_wgflow(base + ["--t-end", f"{dt_probe * a.steps:.6g}"], tmp)
                steps2, loop2_s, _ = run_wgflow(base + ["--t-end", f"{dt_probe * a.steps * a.long_factor:.6g}"], tmp)
                krate = max(krate, kernel_rate(kernel, dim, n, a.threads, tmp, stepper))
                loop_rate = max(loop_rate, cells * steps / loop_s)
                whole_rate = max(whole_rate, cells * steps / wall)
                step_s = (loop2_s - loop_s) / (steps2 - steps) if steps2 > steps else float("nan")
                if cells / step_s > per_step:
                    per_step = cells / step_s
                    fixed = loop_s - steps * step_s
            line = (f"| {kernel} {stepper} | {dim}D {n}^{dim} | {steps} | {krate:.3g} | {loop_rate:.3g} | "
                    f"{100 * loop_rate / krate:.0f} % | {whole_rate:.3g} | {per_step:.3g} ({steps} → {steps2}) | "
                    f"{100 * per_step / krate:.0f} % | {fixed:.2f} |")
            print(line, flush=True)
            lines.append(line)
    if a.md:
        with open(a.md, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
