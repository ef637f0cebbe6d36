#!/usr/bin/env python3
"""Cost of a snapshot as a run accumulates them (issue 14: snapshots in O(1)).

Runs `wgflow run` on a small 2D heat problem with many snapshots, then reads each snapshot file's
modification time: the time between snapshot k-1000 and snapshot k is what those 1000 snapshots cost
(the steps between them are the same in every interval). Prints the cost per snapshot for each block of
1000 and the ratio of the last block to the first.

    /usr/bin/python3 scripts/bench_snapshots.py [--snapshots 10000] [--n 64] [--wgflow build/cli/wgflow]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=int, default=10000)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--wgflow", default=os.path.join(os.path.dirname(__file__), "..", "build", "cli", "wgflow"))
    parser.add_argument("--dir", default=None, help="where to write the output (default: a temporary directory)")
    args = parser.parse_args()
    work = args.dir or tempfile.mkdtemp(prefix="wgflow_bench_snapshots_")
    out = os.path.join(work, "snapshots.h5")
    # t_end such that every interval holds a few explicit steps of the 64^2 heat problem.
    t_end = 2e-4 * args.snapshots * (64.0 / args.n) ** 2
    command = [args.wgflow, "run", "--case", "heat", "--dim", "2", "--n", str(args.n), "--t-end", repr(t_end),
               "--snapshots", str(args.snapshots), "--threads", "1", "--quiet", "--overwrite", "--out", out]
    start = time.monotonic()
    subprocess.run(command, check=True)
    wall = time.monotonic() - start
    directory = out + ".d"
    stamps = [os.stat(os.path.join(directory, "%06d.h5" % k)).st_mtime_ns for k in range(args.snapshots + 1)]
    print("wgflow run: %d snapshots of a %d^2 heat run in %.1f s (%s)" % (args.snapshots, args.n, wall, " ".join(command)))
    print("snapshots        ms per snapshot")
    costs = []
    for first in range(0, args.snapshots, args.block):
        last = min(first + args.block, args.snapshots)
        cost = (stamps[last] - stamps[first]) / 1e6 / (last - first)
        costs.append(cost)
        print("%6d-%-6d   %8.3f" % (first + 1, last, cost))
    print("last block / first block: %.2f" % (costs[-1] / costs[0]))
    if args.dir is None:
        subprocess.run(["rm", "-rf", work], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
