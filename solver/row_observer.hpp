#pragma once
#include "solver/layer_guard.hpp"
/// A pass over the rows a stage writes, run while each row is still in L1 (issue 14: the diagnostics
/// of a step come out of its last stage instead of a separate sweep over the new state). The stepper
/// brackets the stage with begin_pass/end_pass; the operator calls row_written once for every interior
/// x-row of `out`, right after writing it, on the thread that wrote it. An observer must give the
/// same result for any thread count and any order of the rows (solver/diagnostics.cpp: exact sums).
#include <cstddef>

namespace wgflow {

class RowObserver {
 public:
  /// Before the stage; `threads` ≥ the threads that may call row_written (omp_get_max_threads()).
  virtual void begin_pass(int threads) = 0;
  /// The interior cells [begin, begin + count) of out hold their final values of this stage.
  virtual void row_written(const double* out, std::ptrdiff_t begin, int count) = 0;
  /// After the stage, which wrote the array `out`.
  virtual void end_pass(const double* out) = 0;

 protected:
  ~RowObserver() = default;
};

}  // namespace wgflow
