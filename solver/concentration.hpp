#pragma once
#include "solver/layer_guard.hpp"
/// Stops a run that concentrates its mass into one cell while its time step collapses (a blow-up,
/// e.g. supercritical Keller–Segel or a singular attractive kernel): past that point the grid cannot
/// resolve the solution and the run would crawl for hours. All three conditions must hold, so that a
/// legitimate run never trips it: one cell holds more than `k_cell_fraction` of the mass, it has done
/// so for the last `k_persist_steps` steps (a passing peak does not count), and the largest step of
/// the last `k_recent_steps` steps (so that one step clipped to land on an output time does not
/// count) is below `k_step_fall` times the largest step of the run so far.
#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>

#include "grids/cell_loop.hpp"
#include "solver/simulation.hpp"

namespace wgflow {

/// Thrown when a run concentrates: the message names time, step, cell and mass fraction.
class ConcentrationStop : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <int Dim>
class ConcentrationTracker final : public Tracker<Dim> {
 public:
  static constexpr double k_cell_fraction = 0.9;
  static constexpr double k_step_fall = 0.5;
  static constexpr std::size_t k_recent_steps = 16;
  static constexpr long k_persist_steps = 1000;

  explicit ConcentrationTracker(const UniformGrid<Dim>& grid) : m_grid(grid) {}

  void on_step(const Field<Dim>& q, const DiagnosticsHistory& history, long step) override {
    scan(history);
    const std::size_t n = history.size();
    const DiagnosticsRow& row = history.back();
    const double fraction = row.max * m_grid.cell_volume() / row.mass;
    if (n <= k_recent_steps || m_concentrated_steps < k_persist_steps) return;
    double recent = 0.0;
    for (std::size_t r = std::max(n - k_recent_steps, history.first); r < n; ++r) recent = std::max(recent, history.row(r).dt);
    if (!(recent < k_step_fall * m_dt_max)) return;
    throw ConcentrationStop(describe(q, row, step, fraction, recent));
  }

  /// Takes in the rows not seen yet; a restart calls it with the whole history read back, before the
  /// rows already in files leave memory, so that it stops where the uninterrupted run would.
  void scan(const DiagnosticsHistory& history) {
    // rows: 0 is the initial state, then one per kept step
    for (m_scanned = std::max(m_scanned, history.first); m_scanned < history.size(); ++m_scanned) {
      const DiagnosticsRow& r = history.row(m_scanned);
      if (m_scanned > 0) m_dt_max = std::max(m_dt_max, r.dt);
      m_concentrated_steps = r.max * m_grid.cell_volume() / r.mass > k_cell_fraction ? m_concentrated_steps + 1 : 0;
    }
  }
  /// The recent rows stay in memory.
  std::size_t rows_needed_from() const override { return m_scanned > k_recent_steps ? m_scanned - k_recent_steps : 0; }

 private:
  std::string describe(const Field<Dim>& q, const DiagnosticsRow& row, long step, double fraction, double recent) const {
    std::ptrdiff_t best = -1;
    std::array<int, Dim> best_cell{};
    std::array<double, Dim> best_x{};
    for_each_cell(m_grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>& x) {
      if (best < 0 || q[idx] > q[best]) {
        best = idx;
        best_cell = cell;
        best_x = x;
      }
    });
    std::ostringstream s;
    s.precision(6);
    s << "the mass concentrated in one cell: at t = " << row.time << " (step " << step << ") cell (";
    for (int k = 0; k < Dim; ++k) s << (k ? ", " : "") << m_grid.offset[k] + best_cell[static_cast<std::size_t>(k)];  // global index
    s << ") at x = (";
    for (int k = 0; k < Dim; ++k) s << (k ? ", " : "") << best_x[static_cast<std::size_t>(k)];
    s.precision(4);
    s << ") holds " << 100.0 * fraction << "% of the mass and the time step fell from " << m_dt_max << " to " << recent
      << "; stopping (a blow-up the grid cannot resolve; the snapshots so far are kept)";
    return s.str();
  }

  const UniformGrid<Dim>& m_grid;
  std::size_t m_scanned = 0;
  double m_dt_max = 0.0;
  long m_concentrated_steps = 0;  ///< consecutive steps with one cell above k_cell_fraction
};

}  // namespace wgflow
