#!/usr/bin/python3
"""Runs cases/f-divergence-mixture.ini once per divergence and plots them on one figure.

    /usr/bin/python3 scripts/plot_divergences.py [--wgflow build/cli/wgflow] [--t-end 20]
                                                 [--png docs/f-divergence-mixture.png] [--keep DIR]

Each run transports the same 2D Gaussian toward the same three-bump mixture p; the figure shows, per f,
the divergence D_f (the run's free-energy column, E_eps for the upwind divergences) and the relative L1
distance |q - p|_1/|p|_1 against t, on log scales. The runs go to a temporary directory (or --keep DIR).
Needs h5py, numpy and matplotlib (Debian's, with /usr/bin/python3).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import h5py  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIVERGENCES = ["kl", "reverse-kl", "chi2", "hellinger", "jensen-shannon", "alpha:0.5", "alpha:2"]


def run(wgflow, divergence, t_end, out):
    cmd = [wgflow, "run", "--config", os.path.join(ROOT, "cases", "f-divergence-mixture.ini"),
           "--divergence", divergence, "--t-end", str(t_end), "--snapshots", "1", "--out", out,
           "--overwrite", "--quiet"]
    start = time.monotonic()
    subprocess.run(cmd, check=True)
    with h5py.File(out, "r") as f:
        d = f["diagnostics"]
        t, energy = d["time"][:], d["energy"][:]
        l1 = d["l1_to_target"][:] / d["mass"][0]
    return t, energy, l1, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wgflow", default=os.path.join(ROOT, "build", "cli", "wgflow"))
    ap.add_argument("--t-end", type=float, default=20.0)
    ap.add_argument("--png", default=os.path.join(ROOT, "docs", "f-divergence-mixture.png"))
    ap.add_argument("--keep", help="directory for the runs' outputs (default: a temporary one)")
    args = ap.parse_args()
    if not os.access(args.wgflow, os.X_OK):
        sys.exit(f"plot_divergences.py: no wgflow binary at {args.wgflow} (build it or pass --wgflow)")

    workdir = args.keep or tempfile.mkdtemp(prefix="wgflow_divergences_")
    os.makedirs(workdir, exist_ok=True)
    fig, (ax_d, ax_l1) = plt.subplots(1, 2, figsize=(11, 4.2))
    print(f"{'divergence':16s} {'D_f(t=0)':>10s} {'D_f(t_end)':>11s} {'rel. L1(t_end)':>15s} {'wall s':>7s}")
    for divergence in DIVERGENCES:
        out = os.path.join(workdir, divergence.replace(":", "_") + ".h5")
        t, energy, l1, wall = run(args.wgflow, divergence, args.t_end, out)
        print(f"{divergence:16s} {energy[0]:10.4g} {energy[-1]:11.4g} {l1[-1]:15.4g} {wall:7.2f}")
        positive = energy > 0  # a converged KL sits at round-off, possibly just below 0
        ax_d.semilogy(t[positive], energy[positive], label=divergence)
        ax_l1.semilogy(t, l1, label=divergence)
    ax_d.set_xlabel("t")
    ax_d.set_ylabel(r"$D_f(p\,\|\,q(t))$")
    ax_d.set_title("divergence (free energy of the run)")
    ax_l1.set_xlabel("t")
    ax_l1.set_ylabel(r"$\|q - p\|_1 / \|p\|_1$")
    ax_l1.set_title("relative L1 distance to the target")
    for ax in (ax_d, ax_l1):
        ax.grid(True, which="both", alpha=0.3)
    ax_l1.legend(fontsize=8)
    fig.suptitle("2D Gaussian to a three-bump mixture (cases/f-divergence-mixture.ini, 64² cells)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
    fig.savefig(args.png, dpi=90)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
