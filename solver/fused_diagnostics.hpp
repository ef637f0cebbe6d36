#pragma once
#include "solver/layer_guard.hpp"
/// The diagnostics totals (Σ q, Σ E_D density, min, max) taken from the rows of a step's last stage
/// as it writes them, while each row is in L1, instead of a separate sweep over the new state
/// (issue 14 item 1). Each row goes through the same row kernel as Diagnostics::measure's chunks (a
/// chunk is an x-row in 2D/3D) into a per-thread accumulator; the accumulators are added exactly, so
/// the totals are bitwise those of the separate pass for any thread count and any order of the rows.
#include <cstddef>
#include <vector>

#include "grids/chunk_sums.hpp"
#include "solver/diagnostics_kernel.hpp"
#include "solver/row_observer.hpp"

namespace wgflow {

class FusedDiagnostics final : public RowObserver {
 public:
  /// Rows of a field with `cells` interior cells; V is the potential sampled on the same layout
  /// (nullptr: V ≡ +0.0, as diagnostics_row).
  FusedDiagnostics(const InternalEnergySpec& internal, const double* V, std::size_t cells);

  void begin_pass(int threads) override;
  void row_written(const double* out, std::ptrdiff_t begin, int count) override;
  void end_pass(const double* out) override;

  /// The totals of the last pass if it wrote the array q and saw every cell once; each pass is taken
  /// at most once. False: measure q by the separate pass.
  bool take(const double* q, ChunkSumsMinMax<2>& totals);

 private:
  struct alignas(64) PerThread {  // a cache line apart: threads add rows into their own
    ChunkSumsMinMax<2> acc;
    std::size_t cells = 0;
  };
  const InternalEnergySpec& m_internal;
  const double* m_V;
  std::size_t m_cells;
  SimdLevel m_simd;
  std::vector<PerThread> m_threads;
  ChunkSumsMinMax<2> m_total;
  const double* m_written = nullptr;  ///< the array of the last complete pass, until taken
};

}  // namespace wgflow
