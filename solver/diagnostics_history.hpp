#pragma once
/// One row per accepted step (row 0 is the initial state): what /diagnostics in the output holds.
#include <cstddef>
#include <limits>
#include <vector>

namespace wgflow {

struct DiagnosticsRow {
  double time = 0.0;
  double dt = 0.0;           ///< step that led to this state (0 for the initial row)
  double mass = 0.0;         ///< Δx^d Σ q_i
  double energy = 0.0;       ///< discrete free energy E_D
  double dissipation = 0.0;  ///< realised rate (E_{n-1} − E_n)/dt_n, 0 for the initial row
  double min = 0.0;
  double max = 0.0;
  /// f-divergence runs only (NaN otherwise): Δx^d Σ |q − p| and, in 1D, W2(q/|q|, p/|p|).
  double l1_to_target = std::numeric_limits<double>::quiet_NaN();
  double w2_to_target = std::numeric_limits<double>::quiet_NaN();
  /// implicit-euler runs only (NaN otherwise): Krylov iterations of the step's linear solves (0 initially).
  double linear_iterations = std::numeric_limits<double>::quiet_NaN();
};

struct DiagnosticsHistory {
  std::vector<DiagnosticsRow> rows;
  void reserve(std::size_t n) { rows.reserve(n); }
  void push_back(const DiagnosticsRow& r) { rows.push_back(r); }
  std::size_t size() const { return rows.size(); }
  const DiagnosticsRow& back() const { return rows.back(); }
};

}  // namespace wgflow
