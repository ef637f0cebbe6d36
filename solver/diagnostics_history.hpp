#pragma once
#include "solver/layer_guard.hpp"
/// One row per accepted step (row 0 is the initial state): what /diagnostics in the output holds.
#include <algorithm>
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

/// The rows of a run as a window: rows[0] is row `first` of the run; the rows before it have been
/// written to the output and dropped, so a run's memory does not grow with its number of steps. Row 0
/// (the initial state: the reference mass) is kept for the whole run. A history read from a file
/// holds every row (first == 0).
struct DiagnosticsHistory {
  std::size_t first = 0;              ///< index in the run of rows[0]
  std::vector<DiagnosticsRow> rows;   ///< rows first, first + 1, ...
  DiagnosticsRow initial;             ///< row 0, kept when the window moves on

  void reserve(std::size_t n) { rows.reserve(n); }
  void push_back(const DiagnosticsRow& r) {
    if (size() == 0) initial = r;
    rows.push_back(r);
  }
  /// Rows in the run so far (not only in the window).
  std::size_t size() const { return first + rows.size(); }
  /// Row 0 (a history filled row by row from a file has it in rows[0]).
  const DiagnosticsRow& front() const { return first == 0 && !rows.empty() ? rows.front() : initial; }
  const DiagnosticsRow& back() const { return rows.back(); }
  /// Row `index` of the run; it must still be in the window.
  const DiagnosticsRow& row(std::size_t index) const { return rows.at(index - first); }
  /// Drops the rows before `index` (never the last row): they are no longer needed in memory.
  void forget_before(std::size_t index) {
    if (rows.empty()) return;
    const std::size_t drop = std::min(index, size() - 1) > first ? std::min(index, size() - 1) - first : 0;
    rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(drop));
    first += drop;
  }
};

}  // namespace wgflow
