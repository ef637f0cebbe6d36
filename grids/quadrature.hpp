#pragma once
/// Cell averages of a function by tensor Gauss–Legendre quadrature: exact solutions are compared
/// with the scheme's cell averages, not with point values (numerics.md "Exact solutions for tests").
#include <array>
#include <cmath>

#include "grids/cell_loop.hpp"

namespace wgflow {

/// Nodes (on [−1, 1]) and weights of the 4-point Gauss–Legendre rule: exact for degree ≤ 7.
inline constexpr std::array<double, 4> gauss4_nodes{-0.8611363115940526, -0.3399810435848563,
                                                    0.3399810435848563, 0.8611363115940526};
inline constexpr std::array<double, 4> gauss4_weights{0.3478548451374538, 0.6521451548625461,
                                                      0.6521451548625461, 0.3478548451374538};

/// (1/|cell|) ∫_cell f(x) dx by the 4^Dim-point Gauss rule, f taking a const double* (x, y, z).
template <int Dim, class Fn>
double cell_average(const UniformGrid<Dim>& grid, const std::array<int, Dim>& cell, Fn&& f) {
  double sum = 0.0;
  std::array<int, 3> node{0, 0, 0};
  const int n1 = Dim > 1 ? 4 : 1, n2 = Dim > 2 ? 4 : 1;
  for (node[2] = 0; node[2] < n2; ++node[2])
    for (node[1] = 0; node[1] < n1; ++node[1])
      for (node[0] = 0; node[0] < 4; ++node[0]) {
        double x[3] = {0, 0, 0};
        double w = 1.0;
        for (int k = 0; k < Dim; ++k) {
          const auto g = static_cast<std::size_t>(node[static_cast<std::size_t>(k)]);
          x[k] = grid.centre(k, cell[k]) + 0.5 * grid.dx(k) * gauss4_nodes[g];
          w *= 0.5 * gauss4_weights[g];
        }
        sum += w * f(static_cast<const double*>(x));
      }
  return sum;
}

/// The field of cell averages of f over the grid's interior (ghosts zero).
template <int Dim, class Fn>
Field<Dim> cell_averages(const UniformGrid<Dim>& grid, Fn&& f) {
  Field<Dim> out(FieldLayout<Dim>(grid.shape));
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
    out[idx] = cell_average<Dim>(grid, cell, f);
  });
  return out;
}

}  // namespace wgflow
