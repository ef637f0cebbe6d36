#include "solver/target_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "grids/chunk_sums.hpp"
#include "solver/w2_line.hpp"

namespace wgflow {

template <int Dim>
TargetDiagnostics<Dim>::TargetDiagnostics(const FDivergence<Dim>& divergence)
    : m_div(divergence) {
  if constexpr (Dim == 1) {  // the target's CDF levels of the whole line, on every rank, once
    const UniformGrid<1>& g = divergence.grid();
    const FieldLayout<1>& L = divergence.target().layout();
    const std::vector<double> line = g.ranks.all_gather(divergence.target().data() + L.offset, L.shape[0]);
    const int n = g.global_shape(0);
    m_target_levels_ok = cdf_levels(line.data(), 0, n, n, Communicator(), m_cdf_p);
  }
}

template <int Dim>
void TargetDiagnostics<Dim>::measure(const Field<Dim>& q, DiagnosticsRow& row) {
  const double* qp = q.data();
  const double* p = m_div.target().data();
  const bool upwind_energy = !m_div.through_potential();
  // Fixed chunks, exact sum of their partials: independent of threads and of the split over ranks.
  const auto sums = reduce_chunks<ChunkSums<2>>(m_div.grid(), q.layout(), [&](std::size_t, std::ptrdiff_t begin, int count, ChunkSums<2>& acc) {
    double l1 = 0.0;
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) l1 += std::abs(qp[c] - p[c]);
    acc.add({l1, upwind_energy ? m_div.row_energy(qp, begin, count) : 0.0});
  }).values();
  const double l1 = sums[0], energy = sums[1];
  const double volume = m_div.grid().cell_volume();
  row.l1_to_target = l1 * volume;
  if (upwind_energy) row.energy += energy * volume;
  // W2 in 1D compares cumulative distributions (solver/w2_line.hpp): q's levels from an exact prefix
  // over ranks, each rank integrating its own q-cells' range, the pieces summed exactly over ranks.
  if constexpr (Dim == 1) {
    const FieldLayout<1>& L = q.layout();
    const UniformGrid<1>& g = m_div.grid();
    const int n = g.global_shape(0);
    const bool q_ok = cdf_levels(qp + L.offset, g.offset[0], L.shape[0], n, g.ranks, m_cdf_q);  // collective
    if (q_ok && m_target_levels_ok) {
      ExactSum w2sq;
      add_w2_pieces(m_cdf_q, g.offset[0], L.shape[0], m_cdf_p, n, g.lower[0], g.dx(0), w2sq);
      w2sq.normalise();
      g.ranks.sum(w2sq.words(), ExactSum::num_words);
      row.w2_to_target = std::sqrt(w2sq.value());
    } else {
      row.w2_to_target = std::numeric_limits<double>::quiet_NaN();
    }
  }
}

template class TargetDiagnostics<1>;
template class TargetDiagnostics<2>;
template class TargetDiagnostics<3>;

}  // namespace wgflow
