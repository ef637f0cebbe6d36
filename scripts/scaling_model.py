#!/usr/bin/python3
"""Weak-scaling model of docs/scaling.md: predicts the efficiency of P = 64..4096 ranks, each with the box
measured here on one rank (2D 2048^2, 3D 256^3), from the measured rows of docs/scaling.csv
(scripts/bench_mpi.py) and assumed cluster numbers (network latency, bandwidth, file system):

  t_step(P) = t_compute + E * t_exchange + A * ceil(log2 P) * latency + t_write(P) / S
  t_compute   = the 1x1 time per step (measured)
  E           = halo exchanges per step (measured: the WGFLOW_PROFILE_HALO count on 2 ranks)
  t_exchange  = faces * t_pack + latency + faces * face_bytes / bandwidth
                (faces = 2 in 2D, where only y is split; 4 in 3D, y and z split; t_pack = the measured
                back-to-back exchange of one face on 2 ranks minus the measured message time of that
                size between the two ranks: packing and unpacking, which a network does not change)
  A           = allreduces per step (assumed: one per stage for the step limit, plus the run's
                diagnostics and stop check), each a tree of ceil(log2 P) latencies
  t_write(P)  = P * box_bytes / fs_bandwidth, one collective snapshot every S steps
  efficiency  = t_compute / t_step(P)

usage: scripts/scaling_model.py [docs/scaling.csv] [--latency S] [--bandwidth B/S] [--fs-bandwidth B/S]
                                [--snapshot-every S] [--allreduces A]
"""
import argparse
import math
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    steps, messages, allreduce, exchange = {}, {}, None, {}
    for line in open(path):
        r = line.strip().split(",")
        if r[0] == "step":
            steps.setdefault((r[3], int(r[4]), int(r[1]), int(r[2])), []).append({
                "n": int(r[5]), "per_step": float(r[7]), "share": float(r[9]), "share_min": float(r[10]),
                "exchanges": float(r[11])})
        elif r[0] == "pingpong":
            messages[int(r[1])] = float(r[2])
        elif r[0] == "allreduce":
            allreduce = float(r[2])
        elif r[0] == "exchange":
            exchange[int(r[1])] = float(r[3])
    for key, repeats in steps.items():  # the repeat with the median time per step, as bench_mpi.py
        steps[key] = sorted(repeats, key=lambda row: row["per_step"])[len(repeats) // 2]
    return steps, messages, allreduce, exchange


def message_time(messages, size):
    """The measured exchange time of `size` bytes, interpolated linearly between measured sizes."""
    sizes = sorted(messages)
    for a, b in zip(sizes, sizes[1:]):
        if a <= size <= b:
            return messages[a] + (messages[b] - messages[a]) * (size - a) / (b - a)
    return messages[sizes[-1]] * size / sizes[-1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("csv", nargs="?", default=os.path.join(ROOT, "docs", "scaling.csv"))
    p.add_argument("--latency", type=float, default=1.5e-6, help="network latency, s (assumed; default 1.5 us)")
    p.add_argument("--bandwidth", type=float, default=12.5e9, help="injection bandwidth per rank, B/s (default 12.5e9)")
    p.add_argument("--fs-bandwidth", type=float, default=50e9, help="file system aggregate, B/s (default 50e9)")
    p.add_argument("--snapshot-every", type=int, default=100, help="steps per snapshot (default 100)")
    p.add_argument("--allreduces", type=int, default=5, help="allreduces per step (default 5)")
    opt = p.parse_args()
    steps, messages, allreduce, exchange = read(opt.csv)
    lat, bw = messages[min(messages)], max(messages) / messages[max(messages)]
    print("measured here: message latency %.2f us (8 B each way), bandwidth %.2f GB/s (%d B each way), "
          "allreduce of one double on 2 ranks %.2f us" % (1e6 * lat, 1e-9 * bw, max(messages), 1e6 * allreduce))
    print("assumed: latency %.1f us, bandwidth %.1f GB/s per rank, file system %.0f GB/s, a snapshot every %d "
          "steps, %d allreduces per step\n" % (1e6 * opt.latency, 1e-9 * opt.bandwidth, 1e-9 * opt.fs_bandwidth,
                                                opt.snapshot_every, opt.allreduces))
    ranks = [64, 256, 1024, 4096]
    print("| case (box per rank) | t_compute | exchanges/step | t_pack per face | t_exchange | "
          + " | ".join("P = %d" % r for r in ranks) + " | P = %d, no output |" % ranks[-1])
    print("|---|---|---|---|---|" + "---|" * (len(ranks) + 1))
    for (kernel, dim, r, t), row in sorted(steps.items()):
        if (r, t) != (2, 1) or (kernel, dim, 1, 1) not in steps:
            continue
        one = steps[(kernel, dim, 1, 1)]
        n = one["n"]
        cells = n ** dim
        face_bytes = 2 * n ** (dim - 1) * 8  # two ghost layers of the x-extent times one other axis
        faces = 2 if dim == 2 else 4
        e = row["exchanges"]
        pack = max(0.0, exchange[dim] - message_time(messages, face_bytes))  # one face, back to back
        t_exchange = faces * pack + opt.latency + faces * face_bytes / opt.bandwidth
        t_c = one["per_step"]

        def efficiency(P, output=True):
            t = t_c + e * t_exchange + opt.allreduces * math.ceil(math.log2(P)) * opt.latency
            if output:
                t += P * cells * 8 / opt.fs_bandwidth / opt.snapshot_every
            return t_c / t

        print("| %s %dD %d^%d | %.1f ms | %.0f | %.0f us | %.0f us | %s | %.1f %% |" % (
            kernel, dim, n, dim, 1e3 * t_c, e, 1e6 * pack, 1e6 * t_exchange,
            " | ".join("%.1f %%" % (100 * efficiency(P)) for P in ranks), 100 * efficiency(ranks[-1], False)))


if __name__ == "__main__":
    main()
