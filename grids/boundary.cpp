#include "grids/boundary.hpp"

#include "grids/halo.hpp"
#include "grids/halo_exchange.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

namespace {

constexpr int G = FieldLayout<1>::ghosts;

/// Fills the local-side ghosts of one pencil along an axis that starts at interior cell index
/// `first`: ghost −g from cell lo[g − 1] and ghost n − 1 + g from cell hi[g − 1] (Neighbours::
/// ghost_source; −1: a rank side, whose ghosts the exchange fills).
void fill_pencil(double* q, std::ptrdiff_t first, std::ptrdiff_t s, int n, const int* lo, const int* hi) {
  for (int g = 1; g <= G; ++g) {
    if (lo[g - 1] >= 0) q[first - g * s] = q[first + lo[g - 1] * s];
    if (hi[g - 1] >= 0) q[first + (n - 1 + g) * s] = q[first + hi[g - 1] * s];
  }
}

}  // namespace

template <int Dim>
void fill_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid) {
  if (grid.halo) grid.halo->exchange(f);  // the sides facing other ranks
  fill_own_ghosts(f, grid);               // disjoint from those: walls and own wraps
}

template <int Dim>
void exchange_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid) {
  if (grid.halo) grid.halo->exchange(f);
}

template <int Dim>
void fill_own_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid) {
  const auto& L = f.layout();
  double* q = f.data();
  const Neighbours<Dim> nb(grid);
  for (int axis = 0; axis < Dim; ++axis) {
    int lo[G], hi[G];
    for (int g = 1; g <= G; ++g) {
      lo[g - 1] = nb.ghost_source(axis, 0, g, L.shape[axis]);
      hi[g - 1] = nb.ghost_source(axis, 1, g, L.shape[axis]);
    }
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
    const auto fill = [&](std::ptrdiff_t p) {
      std::ptrdiff_t first = L.offset;
      if (m > 0) first += (p % n_other[0]) * L.stride[other[0]];
      if (m > 1) first += (p / n_other[0]) * L.stride[other[1]];
      fill_pencil(q, first, L.stride[axis], L.shape[axis], lo, hi);
    };
    if (!use_threads(L)) {  // no OpenMP region at all (see use_threads)
      for (std::ptrdiff_t p = 0; p < pencils; ++p) fill(p);
      continue;
    }
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t p = 0; p < pencils; ++p) fill(p);
  }
}

template <int Dim>
RowGhostFiller<Dim>::RowGhostFiller(const FieldLayout<Dim>& layout, const UniformGrid<Dim>& grid)
    : m_layout(layout) {
  const Neighbours<Dim> nb(grid);
  for (int k = 0; k < Dim; ++k)
    for (int side = 0; side < 2; ++side)
      for (int g = 1; g <= G; ++g) m_source[k][side][g - 1] = nb.ghost_source(k, side, g, layout.shape[k]);
  m_fused = Dim >= 2;
  for (int k = 0; k < Dim; ++k) m_fused = m_fused && layout.shape[k] >= 2;
}

template <int Dim>
void RowGhostFiller<Dim>::operator()(double* q, std::ptrdiff_t begin, int count) const {
  if constexpr (Dim >= 2) {
    const auto& L = m_layout;
    // The row's x-ghosts, as fill_ghosts' axis 0.
    fill_pencil(q, begin, 1, count, m_source[0][0].data(), m_source[0][1].data());
    // The row's index along y (and z); for each ghost row of those axes whose source it is, copy
    // its interior part (fill_ghosts fills axes ≥ 1 on pencils of interior cells only).
    std::ptrdiff_t rest = begin - L.offset;
    std::array<int, Dim> cell{};
    for (int k = Dim - 1; k >= 1; --k) {
      cell[k] = static_cast<int>(rest / L.stride[k]);
      rest -= cell[k] * L.stride[k];
    }
    for (int k = 1; k < Dim; ++k) {
      const int n = L.shape[k];
      for (int side = 0; side < 2; ++side)
        for (int g = 1; g <= G; ++g) {
          if (m_source[k][side][g - 1] != cell[k]) continue;  // −1 (a rank side) never matches
          const int ghost = side == 1 ? n - 1 + g : -g;
          double* dst = q + begin + static_cast<std::ptrdiff_t>(ghost - cell[k]) * L.stride[k];
          const double* src = q + begin;
          for (int i = 0; i < count; ++i) dst[i] = src[i];
        }
    }
  } else {
    (void)q;
    (void)begin;
    (void)count;
  }
}

template class RowGhostFiller<1>;
template class RowGhostFiller<2>;
template class RowGhostFiller<3>;

#define WGFLOW_INSTANTIATE(D)                                         \
  template void fill_ghosts<D>(Field<D>&, const UniformGrid<D>&);     \
  template void fill_own_ghosts<D>(Field<D>&, const UniformGrid<D>&); \
  template void exchange_ghosts<D>(Field<D>&, const UniformGrid<D>&);
WGFLOW_INSTANTIATE(1)
WGFLOW_INSTANTIATE(2)
WGFLOW_INSTANTIATE(3)
#undef WGFLOW_INSTANTIATE

}  // namespace wgflow
