#include "solver/fused_diagnostics.hpp"

#include <omp.h>

#include <algorithm>

namespace wgflow {

FusedDiagnostics::FusedDiagnostics(const InternalEnergySpec& internal, const double* V, std::size_t cells)
    : m_internal(internal), m_V(V), m_cells(cells), m_simd(simd_level()) {}

void FusedDiagnostics::begin_pass(int threads) {
  const auto n = static_cast<std::size_t>(std::max(1, threads));
  if (m_threads.size() < n) m_threads.resize(n);  // allocates on the first pass only
  for (PerThread& t : m_threads) {
    t.acc = ChunkSumsMinMax<2>{};
    t.cells = 0;
  }
  m_written = nullptr;
}

void FusedDiagnostics::row_written(const double* out, std::ptrdiff_t begin, int count) {
  // The row kernel and the accumulation of Diagnostics::measure's chunk lambda, operation for operation.
  const auto thread = static_cast<std::size_t>(omp_get_thread_num());
  if (thread >= m_threads.size()) return;  // a team larger than announced: the cell count tells end_pass
  const DiagnosticsRowTotals t = diagnostics_row(m_simd, m_internal, out + begin, m_V != nullptr ? m_V + begin : nullptr, nullptr, count);
  PerThread& mine = m_threads[thread];
  mine.acc.sums.add({t.mass, t.energy});
  mine.acc.min = std::min(mine.acc.min, t.min);
  mine.acc.max = std::max(mine.acc.max, t.max);
  mine.cells += static_cast<std::size_t>(count);
}

void FusedDiagnostics::end_pass(const double* out) {
  m_total = ChunkSumsMinMax<2>{};
  std::size_t cells = 0;
  for (const PerThread& t : m_threads) {
    m_total.merge(t.acc);  // exact and order-free, as reduce_chunks' merge
    cells += t.cells;
  }
  m_written = cells == m_cells ? out : nullptr;  // an operator that skipped a row leaves the separate pass
}

bool FusedDiagnostics::take(const double* q, ChunkSumsMinMax<2>& totals) {
  if (m_written == nullptr || m_written != q) return false;
  totals = m_total;
  m_written = nullptr;
  return true;
}

}  // namespace wgflow
