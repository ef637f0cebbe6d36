#!/usr/bin/python3
"""Plots a --case mean-field-network run: the training loss and the network's fit over time.

    /usr/bin/python3 scripts/plot_network.py RUN.h5 OUT.png [--panels 6]

One PNG with three panels:
  loss       the risk R = 1/2 mean_j (f(x_j) - y_j)^2 (the energy column; with --diffusion > 0 the
             energy also holds tau * int q log q, and the risk is recomputed from network_output)
             against the mean-field time t, log scale, snapshot times marked
  fit        the data (x_j, y_j) (root attributes data_x, data_y) and f_rho(x_j) (network_output) at
             up to --panels snapshots, coloured by time
  marginal   the density's marginal of w (the axis named w: x in 1D and 2D, y in 3D) at those snapshots
"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import h5py  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def snapshot_names(f):
    return sorted((k for k in f["steps"].keys() if k.isdigit()), key=int)


def pick(names, panels):
    if len(names) <= panels:
        return names
    idx = np.unique(np.linspace(0, len(names) - 1, panels).round().astype(int))
    return [names[i] for i in idx]


def w_marginal(density, grid):
    """Marginal of w: density in dataset order (z, y, x); w is x in 1D/2D, y in 3D (axes a, w, b)."""
    dim = int(grid.attrs["dim"])
    spacing = np.asarray(grid.attrs["spacing"], dtype=float)  # z, y, x
    lower = np.asarray(grid.attrs["lower"], dtype=float)
    shape = np.asarray(grid.attrs["shape"], dtype=int)
    axis = dim - 1 if dim < 3 else 1  # dataset axis of w
    other = tuple(a for a in range(dim) if a != axis)
    p = density.sum(axis=other) * np.prod([spacing[a] for a in other]) if other else density
    w = lower[axis] + (np.arange(shape[axis]) + 0.5) * spacing[axis]
    return w, p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("png")
    ap.add_argument("--panels", type=int, default=6)
    a = ap.parse_args()
    with h5py.File(a.run, "r") as f:
        if "data_x" not in f.attrs or f.attrs.get("case") != "mean-field-network":
            sys.exit(f"{a.run}: not a --case mean-field-network output (no data_x attribute)")
        x = np.asarray(f.attrs["data_x"])
        y = np.asarray(f.attrs["data_y"])
        t = f["diagnostics/time"][:]
        energy = f["diagnostics/energy"][:]
        names = pick(snapshot_names(f), a.panels)
        snaps = []
        for name in names:
            g = f["steps"][name]
            snaps.append((float(g["density"].attrs["time"]), g["network_output"][:], g["density"][:]))
        grid = f["grid"]
        marginals = [w_marginal(d, grid) for _, _, d in snaps]
        config = f.attrs["config"]
        if isinstance(config, bytes):
            config = config.decode()
    tau = 0.0
    for line in config.splitlines():
        if line.startswith("diffusion ="):
            tau = float(line.split("=", 1)[1])
    order = np.argsort(x)
    fig, (ax_loss, ax_fit, ax_w) = plt.subplots(1, 3, figsize=(15, 4.5))
    if tau == 0.0:
        ax_loss.semilogy(t, energy, "k-", lw=1.2, label="risk R (energy column)")
    else:
        ax_loss.plot(t, energy, "k-", lw=1.2, label=f"energy R + {tau:g} int q log q")
    snap_risk = [0.5 * np.mean((fx - y) ** 2) for _, fx, _ in snaps]
    ax_loss.plot([s[0] for s in snaps], snap_risk, "o", color="C3", label="risk at snapshots")
    ax_loss.set_xlabel("mean-field time t (= learning rate x steps)")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("training loss")
    ax_loss.legend()
    colours = plt.cm.viridis(np.linspace(0, 1, len(snaps)))
    ax_fit.plot(x[order], y[order], "ko", ms=3, label="data")
    for (ts, fx, _), c in zip(snaps, colours):
        ax_fit.plot(x[order], fx[order], "-", color=c, label=f"t = {ts:.3g}")
    ax_fit.set_xlabel("x")
    ax_fit.set_ylabel("f(x)")
    ax_fit.set_title("network output f_rho(x_j)")
    ax_fit.legend(fontsize=8)
    for (w, p), (ts, _, _), c in zip(marginals, snaps, colours):
        ax_w.plot(w, p, "-", color=c, label=f"t = {ts:.3g}")
    ax_w.set_xlabel("w")
    ax_w.set_ylabel("marginal density of w")
    ax_w.set_title("first-layer weights")
    ax_w.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.png, dpi=100)
    print(f"wrote {a.png}")


if __name__ == "__main__":
    main()
