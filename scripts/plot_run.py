#!/usr/bin/python3
"""Plots a wgflow run from its HDF5 output into PNG files (h5py + matplotlib, no display needed).

    /usr/bin/python3 scripts/plot_run.py RUN.h5 OUTDIR [--panels 6] [--slices mid|max]

Writes into OUTDIR (created if missing):
  profiles.png     1D: the density q(x) at every snapshot, coloured by time
  snapshots.png    2D: q(x, y) at up to --panels snapshots (first and last included)
  slices.png       3D: the xy, xz and yz planes through the domain's middle (--slices mid) or through
                   the last snapshot's maximum (--slices max), at up to 4 snapshots
  diagnostics.png  relative mass drift (m - m0)/m0, free energy E and dissipation -dE/dt against t,
                   one point per accepted step, snapshot times marked
Works on a run that is still going (its files are renamed into place, never written in place).
"""
import argparse
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import h5py  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def open_h5(path, wait=5.0):
    """Opens the output read-only, retrying for a moment if a lock is held (outputs of format 1,
    written by older wgflow versions, were locked while a snapshot was appended)."""
    end = time.monotonic() + wait
    while True:
        try:
            return h5py.File(path, "r")
        except (OSError, BlockingIOError) as e:
            if "lock" not in str(e).lower() or time.monotonic() > end:
                raise
            time.sleep(0.05)


def load(path):
    with open_h5(path) as f:
        if f.attrs.get("format") not in ("wgflow", b"wgflow"):
            sys.exit(f"plot_run: {path} is not a wgflow output (root attribute format != 'wgflow')")
        g = f["grid"].attrs
        run = {
            "dim": int(g["dim"]),
            "shape": [int(v) for v in g["shape"]],  # z, y, x order
            "lower": [float(v) for v in g["lower"]],
            "upper": [float(v) for v in g["upper"]],
            "case": str(f.attrs.get("case", "")),
            "name": os.path.basename(path),
        }
        snaps = []
        for name in sorted(f["steps"].keys()):
            dset = f["steps"][name]["density"]
            t = dset.attrs["time"] if "time" in dset.attrs else f["steps"][name].attrs["time"]
            snaps.append((float(t), dset[...]))
        run["snapshots"] = snaps
        d = f["diagnostics"]
        run["diag"] = {k: d[k][...] for k in d.keys()}
    return run


def axis(run, k):
    """Cell centres and [lo, hi] of axis k (0 = x, 1 = y, 2 = z)."""
    slot = run["dim"] - 1 - k
    lo, hi, n = run["lower"][slot], run["upper"][slot], run["shape"][slot]
    dx = (hi - lo) / n
    return lo + dx * (np.arange(n) + 0.5), (lo, hi)


def pick(n, count):
    return sorted(set(int(round(v)) for v in np.linspace(0, n - 1, min(count, n))))


def title(run, what):
    return f"{run['name']} ({run['case']}, {run['dim']}D, {'x'.join(map(str, run['shape'][::-1]))} cells): {what}"


def plot_profiles(run, out):
    x, (lo, hi) = axis(run, 0)
    fig, ax = plt.subplots(figsize=(8, 5))
    times = [t for t, _ in run["snapshots"]]
    norm = plt.Normalize(min(times), max(times) if max(times) > min(times) else min(times) + 1)
    cmap = plt.get_cmap("viridis")
    for t, q in run["snapshots"]:
        ax.plot(x, q, drawstyle="steps-mid", color=cmap(norm(t)), lw=1.4)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="t")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("density q")
    ax.set_title(title(run, f"q(x) at {len(times)} snapshots"), fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def image(ax, fig, plane, hext, vext, hlabel, vlabel, label):
    im = ax.imshow(plane, origin="lower", extent=[*hext, *vext], cmap="viridis", aspect="equal",
                   interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.85)
    ax.set_xlabel(hlabel)
    ax.set_ylabel(vlabel)
    ax.set_title(label, fontsize=9)


def plot_snapshots_2d(run, out, panels):
    idx = pick(len(run["snapshots"]), panels)
    cols = min(3, len(idx))
    rows = (len(idx) + cols - 1) // cols
    _, xr = axis(run, 0)
    _, yr = axis(run, 1)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.0 * rows), squeeze=False)
    for a in axes.flat[len(idx):]:
        a.axis("off")
    for a, k in zip(axes.flat, idx):
        t, q = run["snapshots"][k]
        image(a, fig, q, xr, yr, "x", "y", f"snapshot {k}: t = {t:.4g}, max {q.max():.3g}")
    fig.suptitle(title(run, "density q(x, y), each panel its own colour scale"), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def plot_slices_3d(run, out, where):
    idx = pick(len(run["snapshots"]), 4)
    xc, xr = axis(run, 0)
    yc, yr = axis(run, 1)
    zc, zr = axis(run, 2)
    nz, ny, nx = run["shape"]
    if where == "max":
        kz, jy, ix = np.unravel_index(int(np.argmax(run["snapshots"][-1][1])), (nz, ny, nx))
    else:
        kz, jy, ix = nz // 2, ny // 2, nx // 2
    fig, axes = plt.subplots(len(idx), 3, figsize=(13.5, 3.9 * len(idx)), squeeze=False)
    for row, k in zip(axes, idx):
        t, q = run["snapshots"][k]
        image(row[0], fig, q[kz, :, :], xr, yr, "x", "y", f"t = {t:.4g}: plane z = {zc[kz]:.3g}")
        image(row[1], fig, q[:, jy, :], xr, zr, "x", "z", f"t = {t:.4g}: plane y = {yc[jy]:.3g}")
        image(row[2], fig, q[:, :, ix], yr, zr, "y", "z", f"t = {t:.4g}: plane x = {xc[ix]:.3g}")
    how = "the domain's middle" if where == "mid" else "the last snapshot's maximum"
    fig.suptitle(title(run, f"density on the planes through {how} (cell centres)"), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def plot_diagnostics(run, out):
    d = run["diag"]
    t = d["time"]
    fig, (am, ae, ad) = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    snap_t = [s for s, _ in run["snapshots"]]
    for a in (am, ae, ad):
        for s in snap_t:
            a.axvline(s, color="0.85", lw=0.8, zorder=0)
        a.grid(alpha=0.3)
    if len(t) == 0:
        fig.suptitle(title(run, "no diagnostics rows yet"), fontsize=10)
    else:
        m0 = d["mass"][0]
        drift = (d["mass"] - m0) / m0
        am.plot(t, drift, ".-", ms=2, lw=0.8)
        am.set_ylabel("(m - m0) / m0")
        am.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3), useOffset=False)
        fig.suptitle(title(run, f"mass drift (max |drift| {np.abs(drift).max():.2e}), energy, "
                                "dissipation"), fontsize=10)
        ae.plot(t, d["energy"], ".-", ms=2, lw=0.8, color="C1")
        ae.set_ylabel("free energy E")
        ae.ticklabel_format(axis="y", useOffset=False)
        rate = d["dissipation"][1:]  # row 0 (t = 0) has no step behind it
        if len(rate):
            ad.plot(t[1:], rate, ".-", ms=2, lw=0.8, color="C2")
            if np.all(rate > 0):
                ad.set_yscale("log")
        ad.set_ylabel("dissipation -dE/dt")
    ad.set_xlabel("t")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("h5", help="the run's HDF5 output")
    ap.add_argument("outdir", help="directory for the PNG files")
    ap.add_argument("--panels", type=int, default=6, help="2D: number of snapshots shown (6)")
    ap.add_argument("--slices", choices=("mid", "max"), default="mid",
                    help="3D: planes through the domain's middle or the last snapshot's maximum (mid)")
    args = ap.parse_args()
    if not os.path.isfile(args.h5):
        sys.exit(f"plot_run: no such file {args.h5}")
    run = load(args.h5)
    if not run["snapshots"]:
        sys.exit(f"plot_run: {args.h5} has no snapshots yet")
    os.makedirs(args.outdir, exist_ok=True)
    written = []
    if run["dim"] == 1:
        written.append(os.path.join(args.outdir, "profiles.png"))
        plot_profiles(run, written[-1])
    elif run["dim"] == 2:
        written.append(os.path.join(args.outdir, "snapshots.png"))
        plot_snapshots_2d(run, written[-1], args.panels)
    else:
        written.append(os.path.join(args.outdir, "slices.png"))
        plot_slices_3d(run, written[-1], args.slices)
    written.append(os.path.join(args.outdir, "diagnostics.png"))
    plot_diagnostics(run, written[-1])
    print("plot_run: wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
