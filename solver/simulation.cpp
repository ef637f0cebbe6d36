#include "solver/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace wgflow {

template <int Dim>
Simulation<Dim>::Simulation(const FreeEnergy<Dim>& energy, TimeStepper<Dim>& stepper)
    : m_stepper(stepper), m_diagnostics(energy), m_ranks(energy.grid().ranks) {
  m_diagnostics.fuse_into(stepper);  // each step's row from its last stage where that is possible
}

template <int Dim>
void Simulation<Dim>::forget_rows_done_with(const std::vector<Tracker<Dim>*>& trackers) {
  if (m_history.rows.size() <= k_history_window) return;
  std::size_t needed = m_history.size();
  for (const Tracker<Dim>* tr : trackers) needed = std::min(needed, tr->rows_needed_from());
  m_history.forget_before(needed);
}

template <int Dim>
RunSummary Simulation<Dim>::run(Field<Dim>& q, double t_end, int snapshots, RunState& state,
                                const std::vector<Tracker<Dim>*>& trackers) {
  const auto start = std::chrono::steady_clock::now();
  RunSummary summary;
  DiagnosticsRow previous;  // the row of the state before each step (kept in the history or not)
  if (state.next_snapshot == 0) {
    DiagnosticsRow first = m_diagnostics.measure(q, state.t, 0.0, nullptr);
    if (m_stepper.solves_linear_systems()) first.linear_iterations = 0.0;
    m_history.push_back(first);
    for (Tracker<Dim>* tr : trackers) tr->on_snapshot(q, m_history, state.step, 0);
    state.next_snapshot = 1;
    previous = m_history.back();
  } else {
    // A restart: measuring the state again gives the bits it had (the measure is deterministic),
    // whether or not its row was kept.
    previous = m_diagnostics.measure(q, state.t, 0.0, nullptr);
  }
  const double mass0 = m_history.front().mass;
  summary.min_q = previous.min;

  for (int& k = state.next_snapshot; k <= snapshots; ++k) {
    const double t_next = t_end * k / snapshots;
    while (state.t < t_next) {
      // A signal may reach the ranks of a decomposed run at different steps: they stop when any has it.
      const bool stop = m_ranks.max(m_stop_flag != nullptr && *m_stop_flag != 0 ? 1.0 : 0.0) > 0.0;
      if (stop) {
        for (Tracker<Dim>* tr : trackers) tr->on_interrupt(q, m_history, state.step, state.t, k);
        summary.interrupted = true;
        break;
      }
      const StepReport report = m_stepper.step(q, state.t, t_next);
      const double t_new = report.reached_stop ? t_next : state.t + report.dt;
      if (!(t_new > state.t)) {
        std::ostringstream msg;
        msg << "the time step fell to " << report.dt << " at step " << state.step + 1 << ", t = " << state.t
            << ": too small to advance the time any more; " << m_stepper.step_limit_reason()
            << ": check the potential and the data";
        throw std::runtime_error(msg.str());
      }
      if (m_crawl_guard.crawling(state.step + 1, state.t, t_end, report)) {
        std::ostringstream msg;
        msg << "the time step is " << report.dt << " at step " << state.step + 1 << ", t = " << state.t
            << ", no larger than " << m_crawl_guard.dt_at_last_look() << " at step " << (state.step + 1) / 2
            << ": reaching t-end = " << t_end << " would take more than 1e10 steps; " << m_stepper.step_limit_reason()
            << ": check the potential and the data";
        throw std::runtime_error(msg.str());
      }
      state.t = t_new;
      ++state.step;
      ++summary.steps;
      summary.rejected += report.rejected;
      DiagnosticsRow row = m_diagnostics.measure(q, state.t, report.dt, &previous);
      row.linear_iterations = report.linear_iterations;
      if (!std::isfinite(row.mass) || !std::isfinite(row.energy) || !std::isfinite(row.max)) {
        std::ostringstream msg;
        msg << "the density became non-finite at step " << state.step << ", t = " << state.t << ": "
            << m_diagnostics.locate_bad_value(q) << "; stopping (the last good snapshot is kept)";
        throw NonFiniteState(msg.str());
      }
      summary.energy_increases += row.energy > previous.energy;
      previous = row;
      if (report.reached_stop || state.step % m_every == 0) m_history.push_back(row);
      summary.min_q = std::min(summary.min_q, row.min);
      summary.relative_mass_drift =
          std::max(summary.relative_mass_drift, std::abs(row.mass - mass0) / (mass0 > 0.0 ? mass0 : 1.0));
      for (Tracker<Dim>* tr : trackers) tr->on_step(q, m_history, state.step);
      forget_rows_done_with(trackers);
    }
    if (summary.interrupted) break;
    for (Tracker<Dim>* tr : trackers) tr->on_snapshot(q, m_history, state.step, k);
  }
  summary.final_time = state.t;
  summary.final_energy = previous.energy;
  summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

bool CrawlGuard::crawling(long step, double t, double t_end, const StepReport& report) {
  if (step < m_next_look) return false;
  const bool hopeless = !report.reached_stop && (t_end - t) > k_max_remaining_steps * report.dt;
  if (hopeless && m_dt_at_last_look > 0.0 && report.dt <= m_dt_at_last_look) return true;
  m_dt_at_last_look = report.dt;
  m_next_look *= 2;
  return false;
}

template class Simulation<1>;
template class Simulation<2>;
template class Simulation<3>;

}  // namespace wgflow
