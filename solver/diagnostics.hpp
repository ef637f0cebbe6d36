#pragma once
#include "solver/layer_guard.hpp"
/// Per-step diagnostics of a state: mass Δx^d Σ q, discrete free energy E_D, min and max of q, in one
/// parallel pass whose sums are bitwise independent of the thread count and of any split of the grid
/// (fixed chunks, exact sum of their partials: grids/chunk_sums.hpp).
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "solver/diagnostics_history.hpp"
#include "solver/diagnostics_kernel.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/fused_diagnostics.hpp"
#include "solver/steppers/time_stepper.hpp"
#include "solver/target_diagnostics.hpp"

namespace wgflow {

template <int Dim>
class Diagnostics {
 public:
  explicit Diagnostics(const FreeEnergy<Dim>& energy);

  /// The row for state q at time t reached by a step dt from the state of `previous`
  /// (nullptr for the initial state: dt and dissipation are then 0).
  DiagnosticsRow measure(const Field<Dim>& q, double t, double dt, const DiagnosticsRow* previous);

  /// Fused diagnostics: `stepper` hands this object the rows of each step's last stage as it writes
  /// them, and measure() of the state so produced uses their totals instead of sweeping it again (the
  /// same bits). Only where a reduction chunk is an x-row and the row needs nothing but q and V: 2D
  /// and 3D, no interaction (its W*q of the new state is not one the step computes), no target
  /// columns, one rank (the fused totals are not summed over ranks). Returns whether it is on.
  bool fuse_into(TimeStepper<Dim>& stepper);
  /// How many measure() calls took the fused totals (tests, benchmarks).
  long fused_measures() const { return m_fused_measures; }

  /// Discrete free energy alone.
  double energy(const Field<Dim>& q);

  /// Where a state went wrong, for the message that stops a run: "q = … in cell (i, j, k) at x = (…)"
  /// for the first non-finite or negative value, else the first cell whose energy density is not
  /// finite, else the cell of the largest q (the sum overflowed). Never empty. Collective on a
  /// decomposed grid (the first two searches report the lowest rank's cell on every rank).
  std::string locate_bad_value(const Field<Dim>& q) const;

 private:
  const FreeEnergy<Dim>& m_energy;
  std::unique_ptr<TargetDiagnostics<Dim>> m_target;  ///< f-divergence runs: divergence, L1, W2
  const double* m_V_rows = nullptr;                  ///< V for the row kernel, nullptr where V ≡ +0.0
  std::unique_ptr<FusedDiagnostics> m_fused;         ///< set by fuse_into
  long m_fused_measures = 0;
};

}  // namespace wgflow
