#include "grids/boundary.hpp"

#include "grids/parallel_for.hpp"

namespace wgflow {

namespace {

/// Fills the ghosts of one pencil along `axis` that starts at interior cell index `first`.
void fill_pencil(double* q, std::ptrdiff_t first, std::ptrdiff_t s, int n, Boundary bc) {
  constexpr int G = FieldLayout<1>::ghosts;
  for (int g = 1; g <= G; ++g) {
    // Low ghost -g and high ghost n-1+g.
    const int low_src = bc == Boundary::periodic ? n - g : g - 1;
    const int high_src = bc == Boundary::periodic ? g - 1 : n - g;
    q[first - g * s] = q[first + low_src * s];
    q[first + (n - 1 + g) * s] = q[first + high_src * s];
  }
}

}  // namespace

template <int Dim>
void fill_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid) {
  const auto& L = f.layout();
  double* q = f.data();
  for (int axis = 0; axis < Dim; ++axis) {
    // Pencils along `axis` are indexed by the interior cells of the other axes.
    int other[2] = {0, 0};
    int n_other[2] = {1, 1};
    int m = 0;
    for (int k = 0; k < Dim; ++k)
      if (k != axis) {
        other[m] = k;
        n_other[m] = L.shape[k];
        ++m;
      }
    const std::ptrdiff_t pencils = static_cast<std::ptrdiff_t>(n_other[0]) * n_other[1];
#pragma omp parallel for schedule(static) if (L.num_cells() >= parallel_min_cells)
    for (std::ptrdiff_t p = 0; p < pencils; ++p) {
      std::ptrdiff_t first = L.offset;
      if (m > 0) first += (p % n_other[0]) * L.stride[other[0]];
      if (m > 1) first += (p / n_other[0]) * L.stride[other[1]];
      fill_pencil(q, first, L.stride[axis], L.shape[axis], grid.boundary[axis]);
    }
  }
}

template void fill_ghosts<1>(Field<1>&, const UniformGrid<1>&);
template void fill_ghosts<2>(Field<2>&, const UniformGrid<2>&);
template void fill_ghosts<3>(Field<3>&, const UniformGrid<3>&);

}  // namespace wgflow
