#pragma once
#include "io/layer_guard.hpp"
/// XDMF 3 sidecar for a wgflow HDF5 output, shaped for ParaView 5.11's XDMF3 reader: a Temporal
/// collection of uniform 3DCoRectMesh grids (1D and 2D become one-cell-thick slabs), one HDF5
/// dataset per snapshot, all coordinates listed in z, y, x order.
#include <array>
#include <string>
#include <vector>

#include "grids/grid.hpp"

namespace wgflow {

/// The grid as XDMF sees it: always three axes in z, y, x order; missing axes have 1 cell,
/// origin 0 and spacing 1.
struct XdmfGeometry {
  std::array<long, 3> cells_zyx{1, 1, 1};
  std::array<double, 3> origin_zyx{0.0, 0.0, 0.0};
  std::array<double, 3> spacing_zyx{1.0, 1.0, 1.0};
};

/// One time level: where its density lives and its grid-wide scalars.
struct XdmfSnapshot {
  std::string file;     ///< HDF5 file relative to the sidecar's directory, e.g. "run.h5.d/000003.h5"
  std::string dataset;  ///< absolute path inside that file, e.g. "/density"
  double time = 0.0;
  double mass = 0.0;
  double energy = 0.0;
  /// Particles of this snapshot as points: their dataset in `file` (N x particle_dim), or empty.
  /// 2D, 3D: /particles; 1D: the N x 2 particle_points (snapshot_writer.hpp says why).
  std::string particles_dataset;
  std::size_t particles = 0;
  int particle_dim = 0;  ///< columns of particles_dataset: 2 (XY) or 3 (XYZ)
};

template <int Dim>
XdmfGeometry xdmf_geometry(const UniformGrid<Dim>& grid);

/// Sidecar path of an output: "run.h5" -> "run.xmf", anything else gets ".xmf" appended.
std::string xdmf_path_for(const std::string& h5_path);

/// The XDMF document: the density as a Temporal collection "wgflow" and, when snapshots have particles,
/// a second Temporal collection "particles" of Polyvertex grids at the same times.
std::string xdmf_text(const XdmfGeometry& geometry, const std::vector<XdmfSnapshot>& snapshots);

/// Writes xdmf_text(...) to `xmf_path` atomically: write `xmf_path`.tmp, then rename over it.
void write_xdmf(const std::string& xmf_path, const XdmfGeometry& geometry,
                const std::vector<XdmfSnapshot>& snapshots);

/// True if `xmf_path` is a sidecar wgflow wrote (its temporal collection is named "wgflow").
bool is_wgflow_xdmf(const std::string& xmf_path);

/// Shortest decimal text that reads back as exactly `value` (C locale).
std::string format_double(double value);

}  // namespace wgflow
