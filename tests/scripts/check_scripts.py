#!/usr/bin/python3
"""The user-facing scripts turn real wgflow outputs into real pictures.

    /usr/bin/python3 tests/scripts/check_scripts.py WGFLOW plot      # scripts/plot_run.py
    /usr/bin/python3 tests/scripts/check_scripts.py WGFLOW render    # scripts/render_snapshot.py (ParaView)
    /usr/bin/python3 tests/scripts/check_scripts.py WGFLOW network   # scripts/plot_network.py
    /usr/bin/python3 tests/scripts/check_scripts.py WGFLOW particles # scripts/plot_particles.py

Runs a short 1D, 2D and 3D heat problem with an off-centre Gaussian, then runs the script on each
output and checks every PNG it should write: PNG signature, the expected size, and that it is not
blank (a plot of the data has many distinct colours). The render check also asserts that the
2D picture changes with --snapshot (so it shows data, not only axes). Exits 1 on any failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = "/usr/bin/python3"
EXPECTED_PLOTS = {1: ["profiles.png", "diagnostics.png"], 2: ["snapshots.png", "diagnostics.png"],
                  3: ["slices.png", "diagnostics.png"]}
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if r.returncode != 0:
        print(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}{r.stderr}", flush=True)
    return r


def png_pixels(path):
    """(width, height, number of distinct RGB colours) of a PNG, read with matplotlib."""
    import matplotlib.image as mpimg
    import numpy as np
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
    img = mpimg.imread(path)
    rgb = (np.asarray(img)[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    return img.shape[1], img.shape[0], len(np.unique(rgb, axis=0))


def make_outputs(wgflow, work):
    outputs = {}
    for dim, n in ((1, 64), (2, 48), (3, 20)):
        out = os.path.join(work, f"heat{dim}d.h5")
        r = run([wgflow, "run", "--case", "heat", "--dim", str(dim), "--n", str(n), "--domain=-3,3",
                 "--gaussian-center", "0.7", "--t-end", "0.3", "--snapshots", "4", "--out", out, "--quiet"])
        if check(r.returncode == 0, f"wgflow writes the {dim}D output"):
            outputs[f"{dim}D"] = (dim, out)
    if "2D" in outputs:  # the same run as one self-contained file (wgflow pack) reads the same way
        packed = os.path.join(work, "packed2d.h5")
        r = run([wgflow, "pack", outputs["2D"][1], packed])
        if check(r.returncode == 0, "wgflow pack writes the packed 2D output"):
            outputs["2D packed"] = (2, packed)
    return outputs


def check_plots(outputs, work):
    for label, (dim, h5) in outputs.items():
        outdir = os.path.join(work, "plots " + label)
        r = run([PYTHON, os.path.join(ROOT, "scripts", "plot_run.py"), h5, outdir])
        check(r.returncode == 0, f"plot_run.py {label} exits 0")
        for name in EXPECTED_PLOTS[dim]:
            path = os.path.join(outdir, name)
            info = png_pixels(path) if os.path.exists(path) else None
            check(info is not None and info[0] >= 400 and info[1] >= 300 and info[2] >= 50,
                  f"plot_run.py {label} writes {name}, a picture with data ({info})")


def check_renders(outputs, work):
    xvfb, pvpython = shutil.which("xvfb-run"), shutil.which("pvpython")
    if not check(xvfb is not None and pvpython is not None,
                 "xvfb-run and pvpython are installed (scripts/install-deps.sh --with-paraview)"):
        return
    for label, (dim, h5) in outputs.items():
        xmf = h5[:-3] + ".xmf"
        pictures = {}
        for snapshot in ("0", "-1") if label == "2D" else ("-1",):  # pvpython starts in ~4 s: one pair is enough
            png = os.path.join(work, f"render {label}_{snapshot}.png")
            r = run([xvfb, "-a", pvpython, os.path.join(ROOT, "scripts", "render_snapshot.py"), xmf, png,
                     "--snapshot", snapshot, "--size", "640x480"])
            info = png_pixels(png) if r.returncode == 0 and os.path.exists(png) else None
            check(info is not None and info[:2] == (640, 480) and info[2] >= 50,
                  f"render_snapshot.py {label} snapshot {snapshot}: a 640x480 picture with data ({info})")
            if info is not None:
                with open(png, "rb") as f:
                    pictures[snapshot] = f.read()
        if len(pictures) == 2:
            check(pictures["0"] != pictures["-1"], f"render_snapshot.py {label}: first and last snapshot differ")


def check_network(wgflow, work):
    """A short 3D mean-field-network run (the plot reads w from the y axis there), then plot_network.py."""
    for dim, n in ((3, 12),):
        out = os.path.join(work, f"network{dim}d.h5")
        r = run([wgflow, "run", "--case", "mean-field-network", "--dim", str(dim), "--n", str(n), "--domain=-4,4",
                 "--gaussian-center", "0", "--gaussian-width", "1", "--t-end", "2", "--snapshots", "4",
                 "--out", out, "--quiet"])
        if not check(r.returncode == 0, f"wgflow writes the {dim}D network output"):
            continue
        png = os.path.join(work, f"network{dim}d.png")
        r = run([PYTHON, os.path.join(ROOT, "scripts", "plot_network.py"), out, png])
        check(r.returncode == 0, f"plot_network.py {dim}D exits 0")
        info = png_pixels(png) if os.path.exists(png) else None
        check(info is not None and info[0] >= 1000 and info[1] >= 300 and info[2] >= 50,
              f"plot_network.py {dim}D writes a picture with data ({info})")
    heat = os.path.join(work, "heat.h5")
    if run([wgflow, "run", "--n", "16", "--t-end", "0.01", "--out", heat, "--quiet"]).returncode == 0:
        r = run([PYTHON, os.path.join(ROOT, "scripts", "plot_network.py"), heat, os.path.join(work, "x.png")])
        check(r.returncode != 0 and "mean-field-network" in r.stderr, "plot_network.py refuses another case")


def check_particles(wgflow, work):
    """A 2D run with particles; plot_particles.py draws them over the density."""
    out = os.path.join(work, "particles2d.h5")
    r = run([wgflow, "run", "--case", "fokker-planck", "--dim", "2", "--n", "32", "--gaussian-center", "1.5",
             "--t-end", "0.5", "--snapshots", "4", "--particles", "800", "--out", out, "--quiet"])
    if not check(r.returncode == 0, "wgflow writes a 2D output with particles"):
        return
    png = os.path.join(work, "particles.png")
    r = run([PYTHON, os.path.join(ROOT, "scripts", "plot_particles.py"), out, png])
    check(r.returncode == 0, "plot_particles.py exits 0")
    info = png_pixels(png) if os.path.exists(png) else None
    check(info is not None and info[2] > 50, f"plot_particles.py writes a picture with data ({info})")


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "particles":
        work = tempfile.mkdtemp(prefix="wgflow_scripts_")
        try:
            check_particles(os.path.abspath(sys.argv[1]), work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"scripts (particles): {len(failures)} failed", flush=True)
        sys.exit(1 if failures else 0)
    if len(sys.argv) != 3 or sys.argv[2] not in ("plot", "render", "network"):
        sys.exit(__doc__)
    wgflow, what = os.path.abspath(sys.argv[1]), sys.argv[2]
    work = tempfile.mkdtemp(prefix="wgflow_scripts_")
    try:
        if what == "network":
            check_network(wgflow, work)
        else:
            outputs = make_outputs(wgflow, work)
            (check_plots if what == "plot" else check_renders)(outputs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"scripts ({what}): {len(failures)} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
