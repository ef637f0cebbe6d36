#pragma once
/// Uniform Cartesian grid in 1, 2 or 3 dimensions: cell counts, box, spacing and boundary kinds.
/// Axis 0 is x (fastest in memory), axis 1 is y, axis 2 is z.
#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "grids/communicator.hpp"

namespace wgflow {

/// Boundary condition of one axis: no-flux walls at both ends, or periodic wrap-around.
enum class Boundary { no_flux, periodic };

std::string to_string(Boundary b);
/// Parses "no-flux" or "periodic"; throws std::invalid_argument naming the bad value.
Boundary parse_boundary(const std::string& text);

template <int Dim>
class HaloExchange;

/// What lies beyond one side of a rank's box when no other rank does: the axis' own boundary.
constexpr int own_boundary = -1;

/// The grid is the global box [lower, upper] of global_shape() cells; this rank holds the box of
/// `shape` cells starting at global index `offset` (grids/decomposition.hpp). The defaults are the
/// whole grid on one rank, so code that only sets `shape` gets exactly the undecomposed grid.
/// Kernels iterate over `shape` (the local cells); centres use the global index, so every quantity
/// sampled at cell centres is the same on any decomposition. grids/halo.hpp turns the boundary kinds
/// and neighbour_rank into the neighbour of each side.
template <int Dim>
struct UniformGrid {
  static_assert(Dim >= 1 && Dim <= 3, "wgflow grids are 1D, 2D or 3D");
  static constexpr int dim = Dim;

  std::array<int, Dim> shape{};       ///< cells per axis of this rank's box (the whole grid on one rank)
  std::array<double, Dim> lower{};    ///< low corner of the global box
  std::array<double, Dim> upper{};    ///< high corner of the global box
  std::array<Boundary, Dim> boundary{};  ///< the global box's boundary kind per axis

  std::array<int, Dim> global_cells{};  ///< cells per axis of the whole grid; 0: the same as shape
  std::array<int, Dim> offset{};        ///< global index of this box's first cell per axis
  std::array<int, Dim> parts{};         ///< boxes (ranks) along each axis; 0: one
  /// [axis][0 low, 1 high]: the rank whose box lies beyond that side, or own_boundary (a wall, or a
  /// periodic wrap onto this same box). A periodic wrap onto another rank's box names that rank.
  std::array<std::array<int, 2>, Dim> neighbour_rank = own_boundaries();
  /// The ranks that share the global grid: reductions over cells combine over them
  /// (grids/chunk_sums.hpp), dt limits take their min. Default: this rank alone.
  Communicator ranks;
  /// Fills the ghosts of sides that face another rank; fill_ghosts calls it (grids/boundary.hpp).
  /// nullptr: no side faces another rank. decompose() (grids/halo_exchange.hpp) sets both.
  std::shared_ptr<HaloExchange<Dim>> halo;

  int global_shape(int axis) const { return global_cells[axis] > 0 ? global_cells[axis] : shape[axis]; }
  int parts_along(int axis) const { return parts[axis] > 0 ? parts[axis] : 1; }
  bool decomposed() const {
    for (int k = 0; k < Dim; ++k)
      if (parts_along(k) > 1) return true;
    return false;
  }
  double dx(int axis) const { return (upper[axis] - lower[axis]) / global_shape(axis); }
  /// x_k of the centre of local cell i along axis k (global index offset + i).
  double centre(int axis, int i) const { return lower[axis] + (offset[axis] + i + 0.5) * dx(axis); }
  double cell_volume() const {
    double v = 1.0;
    for (int k = 0; k < Dim; ++k) v *= dx(k);
    return v;
  }
  /// Cells of this rank's box.
  std::size_t num_cells() const {
    std::size_t n = 1;
    for (int k = 0; k < Dim; ++k) n *= static_cast<std::size_t>(shape[k]);
    return n;
  }
  std::size_t num_global_cells() const {
    std::size_t n = 1;
    for (int k = 0; k < Dim; ++k) n *= static_cast<std::size_t>(global_shape(k));
    return n;
  }

 private:
  static std::array<std::array<int, 2>, Dim> own_boundaries() {
    std::array<std::array<int, 2>, Dim> r{};
    for (auto& side : r) side = {own_boundary, own_boundary};
    return r;
  }
};

/// A grid of `n` cells per axis on [a, b]^Dim with the same boundary kind on each axis.
template <int Dim>
UniformGrid<Dim> make_cube_grid(int n, double a, double b, Boundary bc) {
  UniformGrid<Dim> g;
  g.shape.fill(n);
  g.lower.fill(a);
  g.upper.fill(b);
  g.boundary.fill(bc);
  return g;
}

}  // namespace wgflow
