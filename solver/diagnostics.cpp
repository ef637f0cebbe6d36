#include "solver/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "grids/cell_loop.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/communicator.hpp"
#include "grids/parallel_for.hpp"
#include "solver/diagnostics_kernel.hpp"

namespace wgflow {

template <int Dim>
Diagnostics<Dim>::Diagnostics(const FreeEnergy<Dim>& energy)
    : m_energy(energy) {
  if (energy.divergence() != nullptr) m_target = std::make_unique<TargetDiagnostics<Dim>>(*energy.divergence());
  // No potential: V is an array of +0.0 that the row kernel would stream beside q on every step (8 of
  // a blocked SG heat step's 24 bytes per cell); nullptr gives the same bits without it. Per rank: a
  // rank whose V is zero and one whose V is not compute the same numbers either way.
  const Field<Dim>& V = energy.V();
  const bool zero = parallel_max_rows(V.layout(), [&](std::ptrdiff_t begin, int count) {  // rows in parallel: start-up
                      bool nonzero = false;
                      for (std::ptrdiff_t idx = begin; idx < begin + count; ++idx)
                        nonzero = nonzero || !(V[idx] == 0.0 && !std::signbit(V[idx]));
                      return nonzero ? 1.0 : 0.0;
                    }) == 0.0;
  m_V_rows = zero ? nullptr : V.data();
}

template <int Dim>
DiagnosticsRow Diagnostics<Dim>::measure(const Field<Dim>& q, double t, double dt, const DiagnosticsRow* previous) {
  const double* qp = q.data();
  const double* V = m_V_rows;
  // With an interaction, E_D gains ½ h^d Σ_i q_i Φ_i, Φ = W*q (numerics.md "Interaction W*q").
  const double* phi = m_energy.has_interaction() ? m_energy.interaction()->convolve(q).data() : nullptr;
  const InternalEnergySpec& internal = m_energy.internal();
  const SimdLevel simd = simd_level();
  // Each fixed chunk's totals by the row kernel, added exactly: the same bits for any thread count
  // and any split of the chunks over ranks (grids/chunk_sums.hpp; collective on a decomposed grid).
  // (FusedDiagnostics::row_written does the same per row while the last stage writes q.)
  ChunkSumsMinMax<2> totals;
  if (m_fused != nullptr && m_fused->take(qp, totals)) {
    ++m_fused_measures;
    totals.allreduce(m_energy.grid().ranks);  // this rank's rows (whole chunks: x is never split), as reduce_chunks
  } else {
    totals = reduce_chunks<ChunkSumsMinMax<2>>(
        m_energy.grid(), q.layout(), [&](std::size_t, std::ptrdiff_t begin, int count, ChunkSumsMinMax<2>& acc) {
          const DiagnosticsRowTotals t =
              diagnostics_row(simd, internal, qp + begin, V != nullptr ? V + begin : nullptr, phi != nullptr ? phi + begin : nullptr, count);
          acc.sums.add({t.mass, t.energy});
          acc.min = std::min(acc.min, t.min);
          acc.max = std::max(acc.max, t.max);
        });
  }
  const double volume = m_energy.grid().cell_volume();
  DiagnosticsRow out;
  out.time = t;
  out.dt = dt;
  const std::array<double, 2> sums = totals.sums.values();
  out.mass = sums[0];
  out.energy = sums[1];
  out.min = totals.min;
  out.max = totals.max;
  if (std::isnan(out.mass)) out.min = out.max = out.mass;  // min/max would hide a NaN
  out.mass *= volume;
  out.energy = out.energy * volume + m_energy.energy_constant();  // a network's: E_D + ½ mean y² = the risk
  if (m_target) m_target->measure(q, out);
  out.dissipation = previous != nullptr && dt > 0.0 ? (previous->energy - out.energy) / dt : 0.0;
  return out;
}

template <int Dim>
bool Diagnostics<Dim>::fuse_into(TimeStepper<Dim>& stepper) {
  // 1D chunks are ceil(n/64)-cell segments, not the stage's rows of row_block cells: not fused (1D
  // grids are small; the separate pass stays).
  if (Dim == 1 || m_energy.has_interaction() || m_target != nullptr) return false;
  auto fused = std::make_unique<FusedDiagnostics>(m_energy.internal(), m_V_rows, m_energy.V().layout().num_cells());
  if (!stepper.set_row_observer(fused.get())) return false;
  m_fused = std::move(fused);
  return true;
}

template <int Dim>
double Diagnostics<Dim>::energy(const Field<Dim>& q) {
  return measure(q, 0.0, 0.0, nullptr).energy;
}

template <int Dim>
std::string Diagnostics<Dim>::locate_bad_value(const Field<Dim>& q) const {
  const UniformGrid<Dim>& grid = m_energy.grid();
  auto cell_text = [&grid](const std::array<int, Dim>& cell, const std::array<double, Dim>& x) {
    std::ostringstream s;
    s << "cell (";
    for (int k = 0; k < Dim; ++k) s << (k ? ", " : "") << grid.offset[k] + cell[k];  // the global index
    s << ") at x = (";
    for (int k = 0; k < Dim; ++k) s << (k ? ", " : "") << x[k];
    s << ")";
    return s.str();
  };
  std::string where;
  for_each_cell(m_energy.grid(), [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>& x) {
    if (!where.empty() || (std::isfinite(q[idx]) && q[idx] >= 0.0)) return;
    std::ostringstream s;
    s << "q = " << q[idx] << " in " << cell_text(cell, x);
    where = s.str();
  });
  where = grid.ranks.first_message(where);  // a decomposed grid: the lowest rank's bad cell, everywhere
  if (!where.empty()) return where;
  // q is finite: the energy is not. Find the first cell whose energy density is not finite.
  const double* phi = m_energy.has_interaction() ? m_energy.interaction()->convolve(q).data() : nullptr;
  const double* V = m_energy.V().data();
  for_each_cell(m_energy.grid(), [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>& x) {
    if (!where.empty()) return;
    const DiagnosticsRowTotals one =
        diagnostics_row(SimdLevel::generic, m_energy.internal(), q.data() + idx, V + idx, phi != nullptr ? phi + idx : nullptr, 1);
    if (std::isfinite(one.energy)) return;
    std::ostringstream s;
    s << "the energy density is " << one.energy << " in " << cell_text(cell, x) << " (q = " << q[idx] << ", V = " << V[idx];
    if (phi != nullptr) s << ", W*q = " << phi[idx];
    s << ")";
    where = s.str();
  });
  where = grid.ranks.first_message(where);
  if (!where.empty()) return where;
  double largest = 0.0;
  std::string at;
  for_each_cell(m_energy.grid(), [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>& x) {
    if (q[idx] > largest || at.empty()) {
      largest = q[idx];
      at = cell_text(cell, x);
    }
  });
  std::ostringstream s;
  s << "every cell's energy is finite but their sum (or the divergence to the target) is not; the largest q = " << largest
    << " is in " << at;
  return s.str();
}

template class Diagnostics<1>;
template class Diagnostics<2>;
template class Diagnostics<3>;

}  // namespace wgflow
