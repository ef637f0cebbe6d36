#pragma once
/// The initial density every kernel benchmark steps (wgflow_bench, wgflow_bench_mpi): a Gaussian plus
/// a floor for the SG kernels, a compactly supported bump with vacuum around it for the porous
/// medium, sampled at the global cell centres of `grid` (a rank's box or the whole grid).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "grids/cell_loop.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"

namespace wgflow {

template <int Dim>
Field<Dim> bench_initial_state(const UniformGrid<Dim>& grid, bool porous) {
  Field<Dim> q(FieldLayout<Dim>(grid.shape));
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double r2 = 0.0;
    for (int a = 0; a < Dim; ++a) r2 += (x[a] - 0.1 * (a + 1)) * (x[a] - 0.1 * (a + 1));
    q[idx] = porous ? std::max(0.0, 1.0 - r2 / 0.36) : std::exp(-r2 / 2.0) + 0.01;
  });
  return q;
}

}  // namespace wgflow
