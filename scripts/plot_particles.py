#!/usr/bin/python3
"""Particles of a 2D wgflow run over its density, coloured by their initial position.

    /usr/bin/python3 scripts/plot_particles.py RUN.h5 OUT.png [--snapshots 0,5,10,20] [--max-points 5000]

RUN.h5 must be a 2D output written with --particles N. Each panel shows the density of one snapshot
(grey scale) and the particles (row i of /steps/NNNNNN/particles is the same particle in every
snapshot), coloured by the angle of their initial position around the initial mean, so that one can
see where each part of q_0 goes. Default snapshots: the first, two in between and the last.
Example (README "Particles"): the f-divergence (kl) flow from a Gaussian to three bumps:
    wgflow run --config cases/f-divergence-mixture.ini --t-end 4 --particles 20000 --out mix.h5
    /usr/bin/python3 scripts/plot_particles.py mix.h5 docs/particles-mixture.png
"""
import argparse
import sys

import h5py
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("png")
    ap.add_argument("--snapshots", default="", help="comma-separated snapshot indices (default: 4 spread out)")
    ap.add_argument("--max-points", type=int, default=5000, help="particles drawn (the first ones)")
    a = ap.parse_args()
    with h5py.File(a.run, "r") as f:
        grid = f["grid"]
        if int(grid.attrs["dim"]) != 2:
            sys.exit("plot_particles.py: needs a 2D output")
        lower, upper = grid.attrs["lower"], grid.attrs["upper"]  # z, y, x order: (y, x)
        names = sorted(f["steps"].keys())
        if "particles" not in f["steps"][names[0]]:
            sys.exit("plot_particles.py: the output has no particles (run with --particles N)")
        picks = [int(s) for s in a.snapshots.split(",")] if a.snapshots else \
            sorted(set(np.linspace(0, len(names) - 1, 4).round().astype(int).tolist()))
        x0 = f["steps"][names[0]]["particles"][: a.max_points]
        angle = np.arctan2(x0[:, 1] - x0[:, 1].mean(), x0[:, 0] - x0[:, 0].mean())
        fig, axes = plt.subplots(1, len(picks), figsize=(4.2 * len(picks), 4.4), squeeze=False)
        for ax, k in zip(axes[0], picks):
            step = f["steps"][names[k]]
            q = step["density"][...]
            x = step["particles"][: a.max_points]
            ax.imshow(q, origin="lower", extent=[lower[1], upper[1], lower[0], upper[0]], cmap="Greys")
            ax.scatter(x[:, 0], x[:, 1], c=angle, cmap="hsv", s=1.5, linewidths=0)
            ax.set_title(f"t = {float(step['density'].attrs['time']):.3g}")
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            ax.set_aspect("equal")
    fig.suptitle(f"{len(x0)} particles over the density, coloured by initial angle")
    fig.tight_layout()
    fig.savefig(a.png, dpi=90)
    print(f"wrote {a.png}")


if __name__ == "__main__":
    main()
