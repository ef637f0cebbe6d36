#!/usr/bin/python3
"""ParaView 5.11 reads wgflow's XDMF sidecar exactly as the HDF5 file says.

    /usr/bin/python3 tests/paraview/check_paraview.py build/cli/wgflow [--keep DIR]

Runs wgflow for a 1D, a 2D and a 3D heat problem whose Gaussian sits off centre with a different
offset on each axis (so a swapped axis changes the numbers), then opens each PATH.xmf with each of
ParaView's three XDMF readers (XDMFReader, Xdmf3ReaderS, Xdmf3ReaderT) and checks against the .h5
(read with h5py in a child process, so ParaView's HDF5 and h5py's HDF5 never share a process):
TimestepValues, cell count, bounds, the density range and every cell value per snapshot, a
ProbeLocation at an off-centre point, and the mass/energy field data. Then it pins the z, y, x
order of origin, spacing and counts on a non-cubic grid (check_noncubic), reads a run while it
is still writing (check_live), and finds the particles of 1D, 2D and 3D runs with --particles (and of
the 2D one packed) as points at every time, exactly where /steps/NNNNNN/particles puts them (check_particles). The 2D run packed into
one file (wgflow pack) is checked like the runs. Prints `paraview: N passed, M failed` last; exits 1 on any failure.
`check_paraview.py --existing A.xmf B.xmf ...` checks outputs written elsewhere (tests/mpi: on several ranks).

Needs Debian's paraview + python3-paraview (scripts/install-deps.sh --with-paraview); no display.
"""
import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.abspath(__file__)
READERS = ("XDMFReader", "Xdmf3ReaderS", "Xdmf3ReaderT")
# Gaussian centres per axis (x, y, z) and the probe point: off centre, different on every axis.
CENTRE = (0.6, -0.9, 0.35)
PROBE = (0.9, -0.55, 0.2)
CASES = {1: 16, 2: 10, 3: 8}  # dim -> cells per axis


# ---------------------------------------------------------------- HDF5 side (child process, h5py)

def dump_h5(h5_path, npz_path):
    """Writes what the .h5 says into an .npz: grid attrs (z, y, x order) and every snapshot."""
    import h5py
    import numpy as np
    out = {}
    with h5py.File(h5_path, "r") as f:
        g = f["grid"].attrs
        out["dim"] = np.int64(g["dim"])
        for key in ("shape", "lower", "upper", "spacing"):
            out[key] = np.asarray(g[key])
        names = sorted(f["steps"].keys())
        times, mass, energy, dens = [], [], [], []
        for name in names:
            group = f["steps"][name]
            dset = group["density"]

            def attr(key):
                if key in dset.attrs:
                    return float(dset.attrs[key])
                return float(group.attrs[key]) if key in group.attrs else float("nan")

            times.append(attr("time"))
            mass.append(attr("mass"))
            energy.append(attr("energy"))
            dens.append(dset[...])
        out["names"] = np.array(names)
        out["times"] = np.array(times)
        out["mass"] = np.array(mass)
        out["energy"] = np.array(energy)
        out["density"] = np.stack(dens) if dens else np.zeros((0,))
    np.savez(npz_path, **out)


def dump_particles(h5_path, npz_path):
    """Every snapshot's /particles (N x dim) and time into an .npz (child process, h5py)."""
    import h5py
    import numpy as np
    with h5py.File(h5_path, "r") as f:
        names = sorted(f["steps"].keys())
        np.savez(npz_path, times=np.array([float(f["steps"][k]["density"].attrs["time"]) for k in names]),
                 particles=np.stack([f["steps"][k]["particles"][...] for k in names]))


def write_noncubic_h5(h5_path):
    """A (z, y, x) = (2, 3, 4) dataset whose value is its flat index, for check_noncubic."""
    import h5py
    import numpy as np
    with h5py.File(h5_path, "w") as f:
        f["density"] = np.arange(24, dtype=np.float64).reshape(2, 3, 4)


def read_h5(h5_path, workdir):
    """The .h5 as numpy arrays, read by a child process (h5py) so HDF5 libraries never mix."""
    import numpy as np
    npz = os.path.join(workdir, os.path.basename(h5_path) + ".truth.npz")
    subprocess.run([sys.executable, HERE, "--dump-h5", h5_path, npz], check=True, timeout=60)
    with np.load(npz) as z:
        return {k: z[k] for k in z.files}


# ---------------------------------------------------------------- bookkeeping

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def close(self, seconds):
        print(f"paraview: checks took {seconds:.1f} s")
        print(f"paraview: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def close(a, b, rel=1e-14):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def run_wgflow(wgflow, h5, dim, n, t_end=0.02, snapshots=3, background=False):
    """Runs (or starts) the off-centre Gaussian heat problem into `h5`."""
    centre = ",".join(str(c) for c in CENTRE[:dim])
    cmd = [wgflow, "run", "--case", "heat", "--dim", str(dim), "--n", str(n), "--domain=-2,2",
           "--initial", "gaussian", "--gaussian-center", centre, "--gaussian-width", "0.6",
           "--t-end", str(t_end), "--snapshots", str(snapshots), "--threads", "1", "--quiet",
           "--overwrite", "--out", h5]
    env = dict(os.environ)
    env.pop("HDF5_USE_FILE_LOCKING", None)  # the writer must lock, as it does for users
    if background:
        return subprocess.Popen(cmd, env=env)
    subprocess.run(cmd, env=env, check=True, timeout=60)


# ---------------------------------------------------------------- ParaView side

def open_reader(pv, kind, xmf):
    # Absolute path: ParaView 5.11's Xdmf3 readers resolve "run.h5" against a bare "run.xmf"
    # as "run.xmfrun.h5" and abort the process (a "./run.xmf" or absolute path is fine).
    xmf = os.path.abspath(xmf)
    if kind == "XDMFReader":
        return pv.XDMFReader(FileNames=[xmf])
    return getattr(pv, kind)(FileName=[xmf])


def timesteps(reader):
    reader.UpdatePipelineInformation()
    ts = reader.TimestepValues
    if ts is None:
        return []
    if isinstance(ts, (int, float)):
        return [float(ts)]
    return [float(t) for t in ts]


def output_at(reader, t):
    reader.UpdatePipeline(t)
    return reader.GetClientSideObject().GetOutputDataObject(0)


def cell_index(point, truth):
    """(z, y, x)-ordered index, over the grid's real axes only, of the cell containing `point` (x, y, z)."""
    dim = int(truth["dim"])
    idx = []
    for k in range(dim):  # k = x, y, z
        slot = dim - 1 - k
        lo, dx, n = truth["lower"][slot], truth["spacing"][slot], truth["shape"][slot]
        i = int((point[k] - lo) // dx)
        assert 0 <= i < n, "probe point outside the grid"
        idx.append(i)
    return tuple(reversed(idx))


def probe_point(truth):
    """PROBE moved to 0.3 dx off its cell's centre, so it is never on a face; dummy axes at 0.5."""
    dim = int(truth["dim"])
    p = [0.5, 0.5, 0.5]
    for k in range(dim):
        slot = dim - 1 - k
        lo, dx = truth["lower"][slot], truth["spacing"][slot]
        i = int((PROBE[k] - lo) // dx)
        p[k] = lo + (i + 0.8) * dx
    return p


def check_file(pv, checks, kind, dim, xmf, truth):
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy
    tag = f"{dim}D {kind}"
    reader = open_reader(pv, kind, xmf)
    ts = timesteps(reader)
    want_t = [float(t) for t in truth["times"]]
    checks.check(len(ts) == len(want_t) and all(close(a, b) for a, b in zip(ts, want_t)),
                 f"{tag}: TimestepValues", f"ParaView {ts}, HDF5 {want_t}")
    if len(ts) != len(want_t):
        pv.Delete(reader)
        return

    shape_zyx = [int(s) for s in truth["shape"]]
    ncells = int(np.prod(shape_zyx))
    want_bounds = []
    for k in range(3):  # x, y, z
        slot = dim - 1 - k
        want_bounds += ([float(truth["lower"][slot]), float(truth["upper"][slot])] if k < dim
                        else [0.0, 1.0])  # the one-cell-thick dummy axis of 1D and 2D
    p = probe_point(truth)
    idx = cell_index(p, truth)
    xmf_text = open(xmf).read()
    probe = pv.ProbeLocation(Input=reader, ProbeType="Fixed Radius Point Source")
    probe.ProbeType.Center = p

    for k, t in enumerate(ts):
        q = truth["density"][k]
        data = output_at(reader, t)
        checks.check(data is not None and data.IsA("vtkImageData"), f"{tag} t={t:g}: image data",
                     data.GetClassName() if data is not None else "no output")
        if data is None:
            continue
        checks.check(data.GetNumberOfCells() == ncells, f"{tag} t={t:g}: cell count",
                     f"ParaView {data.GetNumberOfCells()}, grid {shape_zyx} = {ncells}")
        bounds = list(data.GetBounds())
        checks.check(all(close(a, b, 1e-12) for a, b in zip(bounds, want_bounds)),
                     f"{tag} t={t:g}: bounds", f"ParaView {bounds}, domain {want_bounds}")

        arr = data.GetCellData().GetArray("density")
        if not checks.check(arr is not None and arr.GetNumberOfTuples() == ncells,
                            f"{tag} t={t:g}: cell array 'density' with one value per cell"):
            continue
        rng = reader.CellData["density"].GetRange()  # what the GUI's colour map uses
        checks.check(rng[0] == q.min() and rng[1] == q.max(), f"{tag} t={t:g}: density range",
                     f"ParaView {rng}, HDF5 ({q.min()!r}, {q.max()!r})")
        values = vtk_to_numpy(arr)
        same = np.array_equal(values, q.reshape(-1))  # VTK cell order is x fastest, as the dataset
        checks.check(same, f"{tag} t={t:g}: every cell value equals the HDF5 dataset",
                     "" if same else f"first difference at flat index {int(np.argmax(values != q.reshape(-1)))}")

        # The probe proves axis order independently of array layout: the cell holding `p` must
        # give q[z, y, x], and the field must differ under every axis swap (else it proves nothing).
        pv_value = None
        probe.UpdatePipeline(t)
        pd = probe.GetClientSideObject().GetOutputDataObject(0).GetPointData()
        if pd.GetArray("density") is not None:
            pv_value = pd.GetArray("density").GetValue(0)
        want = float(q[idx])
        checks.check(pv_value == want, f"{tag} t={t:g}: ProbeLocation at ({', '.join(f'{c:.4g}' for c in p)})",
                     f"ParaView {pv_value!r}, HDF5 cell {idx} (z,y,x) {want!r}")
        swapped = [float(q[tuple(idx[i] for i in perm)]) for perm in itertools.permutations(range(dim))
                   if list(perm) != list(range(dim))]
        checks.check(all(abs(s - want) > 1e-9 * q.max() for s in swapped),
                     f"{tag} t={t:g}: test field is asymmetric at the probe", f"{want} vs {swapped}")

        fd = data.GetFieldData()
        for name in ("mass", "energy"):
            if f'Attribute Name="{name}"' not in xmf_text:
                continue
            a = fd.GetArray(name)
            got = a.GetValue(0) if a is not None else None
            checks.check(got is not None and close(got, float(truth[name][k])),
                         f"{tag} t={t:g}: field data {name}", f"ParaView {got!r}, HDF5 {truth[name][k]!r}")
    pv.Delete(probe)
    pv.Delete(reader)


NONCUBIC_XMF = """<?xml version="1.0" ?>
<!DOCTYPE Xdmf SYSTEM "Xdmf.dtd" []>
<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">
  <Domain>
    <Grid Name="wgflow" GridType="Collection" CollectionType="Temporal">
      <Grid Name="snapshot_000000" GridType="Uniform">
        <Time Value="0"/>
        <Topology TopologyType="3DCoRectMesh" Dimensions="3 4 5"/>
        <Geometry GeometryType="ORIGIN_DXDYDZ">
          <DataItem Name="Origin" Dimensions="3" NumberType="Float" Precision="8" Format="XML">300 20 1</DataItem>
          <DataItem Name="Spacing" Dimensions="3" NumberType="Float" Precision="8" Format="XML">0.5 0.25 0.125</DataItem>
        </Geometry>
        <Attribute Name="density" AttributeType="Scalar" Center="Cell">
          <DataItem Dimensions="2 3 4" NumberType="Float" Precision="8" Format="HDF">noncubic.h5:/density</DataItem>
        </Attribute>
      </Grid>
    </Grid>
  </Domain>
</Xdmf>
"""


def check_noncubic(pv, checks, workdir):
    """wgflow's CLI only makes cubic boxes, so the runs above cannot tell a z,y,x from an x,y,z
    listing of origin, spacing and counts. This pins ParaView's reading of the layout io/xdmf.cpp
    writes (and tests/io/test_xdmf.cpp checks as text) on a 4x3x2 grid with different origin and
    spacing per axis: x from 1 by 0.125, y from 20 by 0.25, z from 300 by 0.5; q = flat index."""
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy
    h5 = os.path.join(workdir, "noncubic.h5")
    subprocess.run([sys.executable, HERE, "--write-noncubic", h5], check=True, timeout=60)
    xmf = os.path.join(workdir, "noncubic.xmf")
    with open(xmf, "w") as f:
        f.write(NONCUBIC_XMF)
    for kind in READERS:
        reader = open_reader(pv, kind, xmf)
        data = output_at(reader, 0.0)
        tag = f"non-cubic 4x3x2 {kind}"
        bounds = list(data.GetBounds()) if data is not None else None
        checks.check(bounds == [1.0, 1.5, 20.0, 20.75, 300.0, 301.0], f"{tag}: bounds", f"{bounds}")
        arr = data.GetCellData().GetArray("density") if data is not None else None
        checks.check(arr is not None and np.array_equal(vtk_to_numpy(arr), np.arange(24.0)),
                     f"{tag}: cell values in x-fastest order")
        probe = pv.ProbeLocation(Input=reader, ProbeType="Fixed Radius Point Source")
        for ix, iy, iz in ((2, 1, 0), (0, 2, 1), (3, 0, 1)):
            probe.ProbeType.Center = [1 + 0.125 * (ix + 0.5), 20 + 0.25 * (iy + 0.5), 300 + 0.5 * (iz + 0.5)]
            probe.UpdatePipeline(0.0)
            got = probe.GetClientSideObject().GetOutputDataObject(0).GetPointData().GetArray("density")
            got = got.GetValue(0) if got is not None else None
            checks.check(got == iz * 12 + iy * 4 + ix, f"{tag}: probe in cell x={ix} y={iy} z={iz}",
                         f"ParaView {got}, expected {iz * 12 + iy * 4 + ix}")
        pv.Delete(probe)
        pv.Delete(reader)


def xmf_snapshots(xmf):
    try:
        return len(re.findall(r"<Time ", open(xmf).read()))
    except FileNotFoundError:
        return 0


def check_live(pv, checks, wgflow, workdir):
    """ParaView opens a 2D run that is still writing and reloads it again and again as it grows,
    without any coordination with the writer, and the run finishes.

    Format 1 appended to one HDF5 file: ParaView 5.11's Xdmf3 reader aborted the whole process when
    it opened the file while the writer held HDF5's lock, so this check had to take a shared lock.
    Format 2 writes each snapshot once to a file of its own and renames the sidecar into place, so
    the reader can never meet a file being written.
    """
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy
    snapshots = 20
    h5 = os.path.join(workdir, "live.h5")
    proc = run_wgflow(wgflow, h5, 2, 96, t_end=5, snapshots=snapshots, background=True)
    xmf = os.path.join(workdir, "live.xmf")
    seen = []  # (time, values) read mid-run
    seen_ts = []
    reader = None
    try:
        reads = 0
        while proc.poll() is None:
            need = max(2, len(seen_ts) + 1)
            end = time.monotonic() + 30
            while xmf_snapshots(xmf) < need and proc.poll() is None and time.monotonic() < end:
                time.sleep(0.002)
            if proc.poll() is not None:
                break
            if reader is None:
                reader = open_reader(pv, "Xdmf3ReaderS", xmf)
            else:
                pv.ReloadFiles(reader)
            seen_ts = timesteps(reader)
            t = seen_ts[-1]
            data = output_at(reader, t)
            arr = data.GetCellData().GetArray("density") if data is not None else None
            if checks.check(arr is not None, f"live: read {reads + 1} at t={t:g} has density"):
                seen.append((t, vtk_to_numpy(arr).copy()))
            reads += 1
        checks.check(reads >= 3, "live: ParaView read the run at least 3 times while it was writing",
                     f"{reads} reads")
        print(f"live: ParaView read the run {reads} times while it wrote {snapshots + 1} snapshots", flush=True)
        rc = proc.wait(timeout=120)
        checks.check(rc == 0, "live: the run finishes with exit code 0 after the mid-run reads", f"rc {rc}")
        truth = read_h5(h5, workdir)
        pv.ReloadFiles(reader)
        final_ts = timesteps(reader)
        want_t = [float(x) for x in truth["times"]]
        checks.check(len(final_ts) == snapshots + 1 and all(close(a, b) for a, b in zip(final_ts, want_t)),
                     "live: after Reload Files ParaView shows every snapshot", f"{final_ts} vs {want_t}")
        for t, values in seen:
            k = int(np.argmin([abs(x - t) for x in want_t]))
            checks.check(close(want_t[k], t) and np.array_equal(values, truth["density"][k].reshape(-1)),
                         f"live: mid-run read at t={t:g} equals the final file's snapshot {k}")
    finally:
        if reader is not None:
            pv.Delete(reader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def point_leaves(data):
    """The leaves of a composite output that are point sets (the particles), not the density's grid."""
    from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet
    leaves = []
    if data.IsA("vtkCompositeDataSet"):
        it = data.NewIterator()
        it.InitTraversal()
        while not it.IsDoneWithTraversal():
            leaves.append(it.GetCurrentDataObject())
            it.GoToNextItem()
    else:
        leaves.append(data)
    return [d for d in leaves if d is not None and (d.IsA("vtkUnstructuredGrid") or d.IsA("vtkPolyData"))]


def check_particles(pv, checks, wgflow, workdir):
    """1D, 2D and 3D runs with particles, and the 2D one packed into one file: every reader shows them
    as points at each time, at their positions (1D: on the x axis, y = z = 0)."""
    import numpy as np
    n_particles = 37
    for dim in (1, 2, 3, "packed 2"):
        packed = dim == "packed 2"
        dim = 2 if packed else dim
        h5 = os.path.join(workdir, f"particles{dim}d.h5")
        centre = ",".join(str(c) for c in CENTRE[:dim])
        if packed:
            h5_packed = os.path.join(workdir, "particles2d_packed.h5")
            subprocess.run([wgflow, "pack", h5, h5_packed, "--overwrite"], check=True, timeout=120)
            h5 = h5_packed
        else:
            subprocess.run([wgflow, "run", "--case", "heat", "--dim", str(dim), "--n", "8", "--domain=-2,2",
                            "--gaussian-center", centre, "--t-end", "0.05", "--snapshots", "2", "--threads", "1",
                            "--quiet", "--overwrite", "--particles", str(n_particles), "--out", h5],
                           check=True, timeout=120)
        npz = h5 + ".particles.npz"
        subprocess.run([sys.executable, HERE, "--dump-particles", h5, npz], check=True, timeout=60)
        with np.load(npz) as z:
            times, positions = z["times"], z["particles"]
        before = checks.failed
        for kind in READERS:
            reader = open_reader(pv, kind, h5[:-3] + ".xmf")
            for t, x in zip(times, positions):
                out = output_at(reader, t)
                leaves = point_leaves(out)
                if not checks.check(len(leaves) == 1, f"{kind} {dim}D t={t}: one point set beside the grid",
                                    f"{len(leaves)} found in {out.GetClassName()}"):
                    continue
                pts = leaves[0].GetPoints()
                got = np.array([pts.GetPoint(i) for i in range(pts.GetNumberOfPoints())])
                want = np.zeros((n_particles, 3))
                want[:, :dim] = x
                checks.check(got.shape == want.shape and np.array_equal(got, want),
                             f"{kind} {dim}D t={t}: the points are /particles", f"{got.shape} vs {want.shape}")
            pv.Delete(reader)
        print(f"paraview: {'packed ' if packed else ''}{dim}D particles {'ok' if checks.failed == before else 'FAILED'} with {', '.join(READERS)}",
              flush=True)


def check_existing(xmfs):
    """--existing A.xmf ...: outputs written elsewhere (e.g. on several MPI ranks, tests/mpi) open in
    each reader exactly as their .h5 says, like the runs of main()."""
    start = time.monotonic()
    checks = Checks()
    import paraview.simple as pv
    pv._DisableFirstRenderCameraReset()
    workdir = tempfile.mkdtemp(prefix="wgflow-paraview-")
    try:
        for xmf in xmfs:
            truth = read_h5(xmf[:-4] + ".h5", workdir)
            dim = int(truth["dim"])
            before = checks.failed
            for kind in READERS:
                check_file(pv, checks, kind, dim, xmf, truth)
            print(f"paraview: {xmf} ({dim}D, {len(truth['times'])} snapshots) "
                  f"{'ok' if checks.failed == before else 'FAILED'} with {', '.join(READERS)}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return checks.close(time.monotonic() - start)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--dump-h5":
        dump_h5(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--dump-particles":
        dump_particles(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--write-noncubic":
        write_noncubic_h5(sys.argv[2])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "--existing":
        return check_existing(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wgflow", help="path to the wgflow binary")
    ap.add_argument("--keep", metavar="DIR", help="write the runs into DIR and keep them")
    ap.add_argument("--no-live", action="store_true", help="skip the read-while-writing check")
    args = ap.parse_args()
    start = time.monotonic()
    checks = Checks()
    wgflow = os.path.abspath(args.wgflow)
    if not os.access(wgflow, os.X_OK):
        checks.check(False, "wgflow binary", f"{wgflow} is not executable; build first (./scripts/build.sh)")
        return checks.close(time.monotonic() - start)
    try:
        import paraview.simple as pv
        pv._DisableFirstRenderCameraReset()
    except Exception as e:  # noqa: BLE001 - any import failure means "not installed properly"
        checks.check(False, "import paraview.simple",
                     f"{type(e).__name__}: {e}; ParaView 5.11's Python is needed: run "
                     "scripts/install-deps.sh --with-paraview (Debian: paraview python3-paraview)")
        return checks.close(time.monotonic() - start)
    print(f"paraview: ParaView {pv.GetParaViewVersion().major}.{pv.GetParaViewVersion().minor} from {os.path.dirname(pv.__file__)}", flush=True)

    workdir = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="wgflow-paraview-")
    os.makedirs(workdir, exist_ok=True)
    try:
        for dim, n in CASES.items():
            h5 = os.path.join(workdir, f"run{dim}d.h5")
            run_wgflow(wgflow, h5, dim, n)
            xmf = h5[:-3] + ".xmf"
            truth = read_h5(h5, workdir)
            before = checks.failed
            for kind in READERS:
                check_file(pv, checks, kind, dim, xmf, truth)
            print(f"paraview: {dim}D ({n}^{dim} cells, {len(truth['times'])} snapshots) "
                  f"{'ok' if checks.failed == before else 'FAILED'} with {', '.join(READERS)}", flush=True)
        # The 2D run as one self-contained file (wgflow pack): its sidecar points into it.
        packed = os.path.join(workdir, "packed2d.h5")
        r = subprocess.run([wgflow, "pack", os.path.join(workdir, "run2d.h5"), packed, "--overwrite"],
                           capture_output=True, text=True, timeout=120)
        if checks.check(r.returncode == 0, "wgflow pack", r.stderr.strip()):
            truth = read_h5(packed, workdir)
            before = checks.failed
            for kind in READERS:
                check_file(pv, checks, kind, 2, packed[:-3] + ".xmf", truth)
            print(f"paraview: packed 2D {'ok' if checks.failed == before else 'FAILED'} with {', '.join(READERS)}",
                  flush=True)
        before = checks.failed
        check_noncubic(pv, checks, workdir)
        print(f"paraview: non-cubic z,y,x layout {'ok' if checks.failed == before else 'FAILED'}", flush=True)
        check_particles(pv, checks, wgflow, workdir)
        if not args.no_live:
            check_live(pv, checks, wgflow, workdir)
    except Exception as e:  # a crash in the checker is a failure with its reason, not a traceback only
        import traceback
        traceback.print_exc()
        checks.check(False, "checker", f"{type(e).__name__}: {e}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return checks.close(time.monotonic() - start)


if __name__ == "__main__":
    sys.exit(main())
