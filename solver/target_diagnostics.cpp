#include "solver/target_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "grids/chunk_sums.hpp"

namespace wgflow {

namespace {

/// Normalised cumulative sums: cdf[0] = 0, cdf[i] = Σ_{j<i} v_j / Σ v (cdf[n] = 1 exactly).
/// Returns false if Σ v is not positive.
bool normalised_cdf(const double* v, int n, std::vector<double>& cdf) {
  cdf.resize(static_cast<std::size_t>(n) + 1);
  double total = 0.0;
  for (int i = 0; i < n; ++i) total += v[i];
  if (!(total > 0.0)) return false;
  double running = 0.0;
  cdf[0] = 0.0;
  for (int i = 0; i < n; ++i) {
    running += v[i];
    cdf[static_cast<std::size_t>(i) + 1] = running / total;
  }
  return true;
}

/// The quantile of cell i at level s ∈ [cdf_i, cdf_{i+1}]: the density is constant in the cell, so the
/// CDF is linear there and the quantile x = lower + Δx (i + (s − cdf_i)/(cdf_{i+1} − cdf_i)).
double quantile_in_cell(const std::vector<double>& cdf, int i, double s, double lower, double dx) {
  const auto u = static_cast<std::size_t>(i);
  const double t = std::clamp((s - cdf[u]) / (cdf[u + 1] - cdf[u]), 0.0, 1.0);
  return lower + dx * (i + t);
}

}  // namespace

double w2_distance_1d(const double* q, const double* p, int n, double lower, double dx, std::vector<double>& cdf_q,
                      std::vector<double>& cdf_p) {
  if (!normalised_cdf(q, n, cdf_q) || !normalised_cdf(p, n, cdf_p)) return std::numeric_limits<double>::quiet_NaN();
  // Both quantile functions are linear between consecutive breakpoints of the merged levels, so
  // ∫ (Q_q − Q_p)² over [s0, s1] = (s1 − s0)(a² + a b + b²)/3 with a, b the differences at the ends.
  double w2sq = 0.0, s = 0.0;
  int i = 0, j = 0;
  while (i < n && j < n) {
    const auto ui = static_cast<std::size_t>(i), uj = static_cast<std::size_t>(j);
    if (cdf_q[ui + 1] <= s) {  // cell i is used up (or holds no mass)
      ++i;
      continue;
    }
    if (cdf_p[uj + 1] <= s) {
      ++j;
      continue;
    }
    const double s1 = std::min(cdf_q[ui + 1], cdf_p[uj + 1]);
    const double a = quantile_in_cell(cdf_q, i, s, lower, dx) - quantile_in_cell(cdf_p, j, s, lower, dx);
    const double b = quantile_in_cell(cdf_q, i, s1, lower, dx) - quantile_in_cell(cdf_p, j, s1, lower, dx);
    w2sq += (s1 - s) * (a * a + a * b + b * b) / 3.0;
    s = s1;
  }
  return std::sqrt(w2sq);
}

template <int Dim>
TargetDiagnostics<Dim>::TargetDiagnostics(const FDivergence<Dim>& divergence)
    : m_div(divergence) {
  if (Dim == 1 && divergence.grid().decomposed())  // w2_distance_1d needs the whole line (see measure)
    throw std::logic_error("TargetDiagnostics: the 1D W2 distance of a decomposed grid is not implemented");
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
  // W2 in 1D compares cumulative distributions: a prefix sum over the whole line, inherently global
  // and sequential (under MPI it needs a scan over ranks, or the line gathered), left as it is.
  if constexpr (Dim == 1) {
    const FieldLayout<1>& L = q.layout();
    const UniformGrid<1>& g = m_div.grid();
    row.w2_to_target = w2_distance_1d(qp + L.offset, p + L.offset, L.shape[0], g.lower[0], g.dx(0), m_cdf_q, m_cdf_p);
  }
}

template class TargetDiagnostics<1>;
template class TargetDiagnostics<2>;
template class TargetDiagnostics<3>;

}  // namespace wgflow
