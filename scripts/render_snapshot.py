"""Renders the last snapshot of a wgflow run with ParaView, the way a user would see it.

    xvfb-run -a pvpython scripts/render_snapshot.py RUN.xmf OUT.png [--snapshot K] [--size 1000x800]

1D: density against x (cell values as steps); 2D: the density coloured on the plane, seen from +z;
3D: three orthogonal slices through the cell of maximum density, in an outline of the box.
Colour bar and the time in the title. Needs ParaView 5.11 (scripts/install-deps.sh --with-paraview);
ParaView renders through X, so run it under xvfb-run on a machine without a display.
"""
import argparse
import ctypes
import os
import sys


def hold_x_connection():
    """Keeps one X connection open for the whole run. ParaView first opens a display to probe OpenGL
    and closes it; an X server whose last client leaves resets itself (Xvfb does, unless started
    with -noreset), and ParaView's next connection, made during that reset, is dropped: "bad X
    server connection ... Aborting" in about a third of `xvfb-run -a pvpython` runs."""
    if not os.environ.get("DISPLAY"):
        return None
    try:
        xlib = ctypes.CDLL("libX11.so.6")
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        return xlib.XOpenDisplay(None)
    except OSError:
        return None


_X_CONNECTION = hold_x_connection()  # before paraview.simple is imported

from paraview.simple import (ColorBy, CreateView, GetColorTransferFunction, GetDisplayProperties, GetScalarBar,
                             Outline, ProgrammableFilter, Render, SaveScreenshot, Show, Slice, Text,
                             Xdmf3ReaderS, _DisableFirstRenderCameraReset)
from vtkmodules.util.numpy_support import vtk_to_numpy


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("xmf", help="the run's XDMF sidecar, PATH.xmf")
    ap.add_argument("png", help="the picture to write")
    ap.add_argument("--snapshot", type=int, default=-1, help="snapshot index (default: the last)")
    ap.add_argument("--size", default="1000x800", help="picture size WxH in pixels (1000x800)")
    return ap.parse_args()


def main():
    args = parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    # ParaView 5.11's Xdmf3 reader resolves the .h5 wrongly against a bare "run.xmf" (and aborts).
    xmf = os.path.abspath(args.xmf)
    if not os.path.isfile(xmf):
        sys.exit(f"render_snapshot: no such file {args.xmf}")
    _DisableFirstRenderCameraReset()
    reader = Xdmf3ReaderS(FileName=[xmf])
    reader.UpdatePipelineInformation()
    times = reader.TimestepValues
    times = [float(times)] if isinstance(times, (int, float)) else [float(t) for t in times]
    if not times:
        sys.exit(f"render_snapshot: {args.xmf} has no snapshots yet")
    index = args.snapshot if args.snapshot >= 0 else len(times) + args.snapshot
    if not 0 <= index < len(times):
        sys.exit(f"render_snapshot: snapshot {args.snapshot} out of range (the file has {len(times)})")
    t = times[index]
    reader.UpdatePipeline(t)
    data = reader.GetClientSideObject().GetOutputDataObject(0)
    extent = data.GetExtent()
    cells = [extent[2 * k + 1] - extent[2 * k] for k in range(3)]
    dim = 1 if cells[1] == 1 and cells[2] == 1 else 2 if cells[2] == 1 else 3  # 1-cell axes are dummies
    bounds = data.GetBounds()
    density = vtk_to_numpy(data.GetCellData().GetArray("density"))
    title = (f"{os.path.basename(args.xmf)}: density at t = {t:.6g}  "
             f"(snapshot {index} of 0..{len(times) - 1}, {'x'.join(str(c) for c in cells[:dim])} cells)")

    if dim == 1:
        view = CreateView("XYChartView")
        view.ViewSize = [width, height]
        view.ChartTitle = title
        view.LeftAxisTitle = "density q"
        view.BottomAxisTitle = "x"
        view.ShowLegend = 0
        # Cell values drawn as steps: each cell's value held across the cell (two points per cell).
        steps = ProgrammableFilter(Input=reader)
        steps.OutputDataSetType = "vtkTable"
        steps.Script = (
            "import numpy as np\n"
            "from vtkmodules.numpy_interface import dataset_adapter as dsa\n"
            "from vtkmodules.util.numpy_support import vtk_to_numpy\n"
            "d = self.GetInputDataObject(0, 0)\n"
            "q = vtk_to_numpy(d.GetCellData().GetArray('density'))\n"
            "x0, dx = d.GetOrigin()[0], d.GetSpacing()[0]\n"
            "xs = x0 + dx * np.arange(q.size + 1)\n"
            "out = dsa.WrapDataObject(self.GetTableOutput())\n"
            "out.RowData.append(np.repeat(xs, 2)[1:-1], 'x')\n"
            "out.RowData.append(np.repeat(q, 2), 'density')\n")
        display = Show(steps, view, "XYChartRepresentation")
        display.UseIndexForXAxis = 0
        display.XArrayName = "x"
        display.SeriesVisibility = ["density"]
        display.SeriesColor = ["density", "0.12", "0.35", "0.7"]
        display.SeriesLineThickness = ["density", "2"]
        view.ViewTime = t
        Render(view)
        SaveScreenshot(args.png, view, ImageResolution=[width, height])
        print(f"render_snapshot: wrote {args.png} (1D line plot, t = {t:.6g})")
        return 0

    view = CreateView("RenderView")
    view.ViewSize = [width, height]
    view.ViewTime = t
    view.OrientationAxesVisibility = 1
    view.Background = [1, 1, 1]
    try:  # 5.11 keeps a palette background unless told to use the view's own
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    lut = GetColorTransferFunction("density")
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.RescaleTransferFunction(float(density.min()), float(density.max()))

    if dim == 2:
        shown = [reader]
        display = Show(reader, view)
        display.Representation = "Surface"
        ColorBy(display, ("CELLS", "density"))
        view.CameraParallelProjection = 1
        view.CameraPosition = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, 10.0]
        view.CameraFocalPoint = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, 0.5]
        view.CameraViewUp = [0, 1, 0]
        view.ResetCamera()
        view.CameraParallelScale = 0.62 * max(bounds[1] - bounds[0], bounds[3] - bounds[2])
        view.OrientationAxesVisibility = 0
        grid = view.AxesGrid
        grid.Visibility = 1
        grid.XTitle, grid.YTitle = "x", "y"
        grid.ShowEdges = 0
        for axis in ("X", "Y", "Z"):
            setattr(grid, f"{axis}TitleColor", [0, 0, 0])
            setattr(grid, f"{axis}LabelColor", [0, 0, 0])
        grid.AxesToLabel = 3  # min-x and min-y faces only
    else:
        # Three orthogonal slices through the centre of the cell holding the maximum.
        k = int(density.argmax())
        ix, iy, iz = k % cells[0], (k // cells[0]) % cells[1], k // (cells[0] * cells[1])
        origin, spacing = data.GetOrigin(), data.GetSpacing()
        centre = [origin[a] + (i + 0.5) * spacing[a] for a, i in enumerate((ix, iy, iz))]
        shown = []
        for normal in ([1, 0, 0], [0, 1, 0], [0, 0, 1]):
            s = Slice(Input=reader)
            s.SliceType = "Plane"
            s.SliceType.Origin = centre
            s.SliceType.Normal = normal
            d = Show(s, view)
            ColorBy(d, ("CELLS", "density"))
            shown.append(s)
        outline = Outline(Input=reader)
        od = Show(outline, view)
        od.AmbientColor = od.DiffuseColor = [0.2, 0.2, 0.2]
        view.CameraPosition = [bounds[1] + 1.6 * (bounds[1] - bounds[0]),
                               bounds[2] - 1.3 * (bounds[3] - bounds[2]),
                               bounds[5] + 1.1 * (bounds[5] - bounds[4])]
        view.CameraFocalPoint = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2,
                                 (bounds[4] + bounds[5]) / 2]
        view.CameraViewUp = [0, 0, 1]
        view.ResetCamera()
        title += f"\nslices through ({centre[0]:.3g}, {centre[1]:.3g}, {centre[2]:.3g}), the maximum"

    bar_owner = GetDisplayProperties(shown[0], view)
    bar_owner.SetScalarBarVisibility(view, True)
    bar = GetScalarBar(lut, view)
    bar.Title = "density"
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0, 0, 0]
    bar.RangeLabelFormat = "%-#.3g"
    text = Text(Text=title)
    td = Show(text, view)
    td.WindowLocation = "Upper Center"
    td.Color = [0, 0, 0]
    td.FontSize = 16
    Render(view)
    SaveScreenshot(args.png, view, ImageResolution=[width, height])
    print(f"render_snapshot: wrote {args.png} ({dim}D, t = {t:.6g})")
    return 0


if __name__ == "__main__":
    # No sys.exit(0) on success: under pvpython, SystemExit tears Python down before ParaView's
    # render windows and Xlib reports GLXBadContext, turning a good run into exit code 1.
    if main() != 0:
        sys.exit(1)
