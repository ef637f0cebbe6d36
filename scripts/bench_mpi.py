#!/usr/bin/python3
"""The MPI sweep of scripts/bench.sh --mpi (docs/scaling.md): ranks x threads in {1x1, 1x2, 2x1} on
2D 2048^2 and 3D 256^3, SG heat and the upwind porous medium, SSP-RK3 steps of
build/benchmarks/wgflow_bench_mpi (the solver's steps on the decomposed grid, no output). Prints a
markdown table of cells/s per step, the halo exchange's share of a step (WGFLOW_PROFILE_HALO=1: the
slowest rank's exchange time over the step time) and the parallel efficiency against 1x1 (speedup / cores);
then the exchange of one message each way between two ranks and a one-double allreduce, the
numbers of the weak-scaling model. Raw rows go to docs/scaling.csv.

The sweep runs --repeat times (interleaved) and reports per case the repeat with the median time per
step; the CSV holds every repeat.

usage: scripts/bench_mpi.py [--quick] [--repeat N] [--min-time SECONDS] [--csv FILE]
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "benchmarks", "wgflow_bench_mpi")
CONFIGS = [(1, 1), (1, 2), (2, 1)]  # ranks, threads


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def mpirun(ranks, threads, args):
    command = ["mpirun", "-np", str(ranks)]
    if os.geteuid() == 0:
        command.append("--allow-run-as-root")
    # One rank with two threads must not be pinned to one core; P ranks of one thread are (mpirun's default).
    command += ["--bind-to", "none" if threads > 1 else "core"]
    for name, value in (("OMP_NUM_THREADS", str(threads)), ("OMP_PROC_BIND", "close"), ("OMP_PLACES", "cores"),
                        ("WGFLOW_PROFILE_HALO", "1")):
        command += ["-x", "%s=%s" % (name, value)]
    done = subprocess.run(command + [BENCH] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit("bench_mpi: %s failed (exit %d)\n%s" % (" ".join(command + [BENCH] + args), done.returncode,
                                                          done.stderr))
    return [line.split(",") for line in done.stdout.splitlines() if "," in line]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2D 512^2 and 3D 64^3, 0.3 s per case (a smoke run)")
    parser.add_argument("--min-time", type=float, default=1.5, help="timed seconds per case (default 1.5)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the sweep; the median is reported (default 3)")
    parser.add_argument("--csv", default=os.path.join(ROOT, "docs", "scaling.csv"))
    opt = parser.parse_args()
    if opt.repeat < 1:
        sys.exit("bench_mpi: --repeat: %d is not >= 1" % opt.repeat)
    if not os.path.exists(BENCH):
        sys.exit("bench_mpi: %s missing (an MPI build: cmake --build build --target wgflow_bench_mpi)" % BENCH)
    sizes = ["--n2", "512", "--n3", "64"] if opt.quick else ["--n2", "2048", "--n3", "256"]
    min_time = ["--min-time", str(0.3 if opt.quick else opt.min_time)]
    load_before = loadavg()
    runs = []  # every repeat of every configuration, interleaved so that a noisy minute hits all alike
    for _ in range(opt.repeat):
        for ranks, threads in CONFIGS:
            runs += [r for r in mpirun(ranks, threads, sizes + min_time) if r[0] == "step"]
    rows = []  # per case and configuration the repeat with the median time per step
    for key in dict.fromkeys(tuple(r[1:6]) for r in runs):
        same = sorted((r for r in runs if tuple(r[1:6]) == key), key=lambda r: float(r[7]))
        rows.append(same[len(same) // 2])
    messages = mpirun(2, 1, ["--pingpong"] + sizes)
    load_after = loadavg()

    with open(opt.csv, "w") as f:
        f.write("# load average before %s, after %s\n" % (load_before, load_after))
        f.write("kind,ranks,threads,kernel,dim,n,steps,s_per_step,cells_per_s,halo_share,halo_share_min,"
                "exchanges_per_step\n")
        for r in runs + messages:
            f.write(",".join(r) + "\n")

    print("load average before %s, after %s (quiet is < 0.3); median of %d repeats\n" %
          (load_before, load_after, opt.repeat))
    print("| case | ranks x threads | s/step | cells/s | halo share (slowest / fastest rank) | efficiency vs 1x1 |")
    print("|---|---|---|---|---|---|")
    base = {}
    for r in rows:
        _, ranks, threads, kernel, dim, n, _, per_step, rate, share, share_min, _ = r
        key = (kernel, dim, n)
        ranks, threads, per_step, rate = int(ranks), int(threads), float(per_step), float(rate)
        if ranks * threads == 1:
            base[key] = rate
        eff = rate / base[key] / (ranks * threads) if key in base else float("nan")
        halo = "%.1f %% / %.1f %%" % (100 * float(share), 100 * float(share_min)) if ranks > 1 else "-"
        print("| %s %sD %s^%s | %dx%d | %.4f | %.3g | %s | %.0f %% |" % (kernel, dim, n, dim, ranks, threads, per_step, rate,
                                                                     halo, 100 * eff))
    by = {(r[3], r[4], int(r[1]), int(r[2])): float(r[8]) for r in rows}
    print()
    for kernel, dim, n in sorted({(r[3], r[4], r[5]) for r in rows}):
        if (kernel, dim, 2, 1) in by and (kernel, dim, 1, 2) in by:
            ratio = by[(kernel, dim, 2, 1)] / by[(kernel, dim, 1, 2)]
            print("%s %sD: 2x1 / 1x2 = %.3f (target >= 0.90)" % (kernel, dim, ratio))
    print("\n| on 2 ranks | seconds |\n|---|---|")
    for r in messages:
        if r[0] == "pingpong":
            print("| one message of %s B each way | %.2f us |" % (r[1], 1e6 * float(r[2])))
        elif r[0] == "allreduce":
            print("| allreduce of one double | %.2f us |" % (1e6 * float(r[2])))
        else:
            print("| halo exchange of the %sD %s^%s grid, back to back (no waiting) | %.2f us |" %
                  (r[1], r[2], r[1], 1e6 * float(r[3])))


if __name__ == "__main__":
    main()
