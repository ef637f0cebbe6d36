#pragma once
/// Uniform Cartesian grid in 1, 2 or 3 dimensions: cell counts, box, spacing and boundary kinds.
/// Axis 0 is x (fastest in memory), axis 1 is y, axis 2 is z.
#include <array>
#include <cstddef>
#include <string>

namespace wgflow {

/// Boundary condition of one axis: no-flux walls at both ends, or periodic wrap-around.
enum class Boundary { no_flux, periodic };

std::string to_string(Boundary b);
/// Parses "no-flux" or "periodic"; throws std::invalid_argument naming the bad value.
Boundary parse_boundary(const std::string& text);

template <int Dim>
struct UniformGrid {
  static_assert(Dim >= 1 && Dim <= 3, "wgflow grids are 1D, 2D or 3D");
  static constexpr int dim = Dim;

  std::array<int, Dim> shape{};       ///< cells per axis
  std::array<double, Dim> lower{};    ///< low corner of the box
  std::array<double, Dim> upper{};    ///< high corner of the box
  std::array<Boundary, Dim> boundary{};

  double dx(int axis) const { return (upper[axis] - lower[axis]) / shape[axis]; }
  /// x_k of the centre of cell i along axis k.
  double centre(int axis, int i) const { return lower[axis] + (i + 0.5) * dx(axis); }
  double cell_volume() const {
    double v = 1.0;
    for (int k = 0; k < Dim; ++k) v *= dx(k);
    return v;
  }
  std::size_t num_cells() const {
    std::size_t n = 1;
    for (int k = 0; k < Dim; ++k) n *= static_cast<std::size_t>(shape[k]);
    return n;
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
