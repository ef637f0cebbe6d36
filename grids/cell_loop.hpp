#pragma once
/// Serial visits of every interior cell with its centre, for set-up work (sampling V, initial data).
/// Hot loops use parallel_for_rows instead.
#include <array>
#include <cstddef>

#include "grids/field.hpp"

namespace wgflow {

/// Calls fn(idx, cell, x) for every interior cell: idx its linear index in a FieldLayout of this
/// grid, cell its integer index and x its centre (both in x, y, z order).
template <int Dim, class Fn>
void for_each_cell(const UniformGrid<Dim>& grid, Fn&& fn) {
  const FieldLayout<Dim> L(grid.shape);
  std::array<int, 3> n{1, 1, 1};
  for (int k = 0; k < Dim; ++k) n[static_cast<std::size_t>(k)] = grid.shape[k];
  std::array<double, Dim> x{};
  std::array<int, Dim> c{};
  for (int k2 = 0; k2 < n[2]; ++k2)
    for (int k1 = 0; k1 < n[1]; ++k1)
      for (int k0 = 0; k0 < n[0]; ++k0) {
        const int ijk[3] = {k0, k1, k2};
        for (int k = 0; k < Dim; ++k) {
          c[k] = ijk[k];
          x[k] = grid.centre(k, ijk[k]);
        }
        fn(L.index(c), c, x);
      }
}

}  // namespace wgflow
