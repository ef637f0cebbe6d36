#pragma once
#include "solver/layer_guard.hpp"
/// Which rank's box holds a particle (issue 12): the rank whose box holds the cell in which the
/// particle stage looks its position up (periodic axes wrapped, the index clamped into the global
/// grid: the arithmetic of solver/particles.cpp fused_stage, on global indices). Owning by that rule
/// means every rank looks its particles up in its own cells, reading the same face velocities as
/// one rank would: results do not depend on the split.
#include <algorithm>
#include <array>

#include "grids/grid.hpp"
#include "grids/halo.hpp"

namespace wgflow {

/// Where a periodic coordinate lands in [lower, upper): x − k·(upper − lower) for the integer k that
/// puts it there (x itself when it is inside already; lower if rounding would give upper).
double wrap_periodic(double x, double lower, double upper);

template <int Dim>
class ParticleBoxes {
 public:
  explicit ParticleBoxes(const UniformGrid<Dim>& grid) {
    const Neighbours<Dim> nb(grid);
    for (int k = 0; k < Dim; ++k) {
      m_lower[k] = grid.lower[k];
      m_upper[k] = grid.upper[k];
      m_inv_dx[k] = 1.0 / grid.dx(k);
      m_n[k] = grid.global_shape(k);
      m_first[k] = grid.offset[k];
      m_end[k] = grid.offset[k] + grid.shape[k];
      m_periodic[k] = nb.periodic(k);
    }
  }

  /// The global cell index along axis k in which coordinate x is looked up.
  int global_cell(int k, double x) const {
    const double at = m_periodic[k] ? wrap_periodic(x, m_lower[k], m_upper[k]) : x;
    const double s = std::max((at - m_lower[k]) * m_inv_dx[k], 0.0);
    return std::min(static_cast<int>(s), m_n[k] - 1);
  }
  /// Along axis k: 0 if this box holds coordinate x, −1 if it lies nearer past the low side, +1 past
  /// the high side (around the wrap on a periodic axis).
  int side(int k, double x) const {
    const int i = global_cell(k, x);
    if (i >= m_first[k] && i < m_end[k]) return 0;
    if (!m_periodic[k]) return i < m_first[k] ? -1 : 1;
    const int n = m_n[k];
    const int below = ((m_first[k] - i) % n + n) % n;     // cells from i up to the box
    const int above = ((i - (m_end[k] - 1)) % n + n) % n;  // cells from the box up to i
    return below <= above ? -1 : 1;
  }
  bool holds(const double* x) const {
    for (int k = 0; k < Dim; ++k)
      if (side(k, x[k]) != 0) return false;
    return true;
  }

 private:
  std::array<double, Dim> m_lower{}, m_upper{}, m_inv_dx{};
  std::array<int, Dim> m_n{}, m_first{}, m_end{};
  std::array<bool, Dim> m_periodic{};
};

}  // namespace wgflow
