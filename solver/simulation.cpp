#include "solver/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace wgflow {

template <int Dim>
Simulation<Dim>::Simulation(const FreeEnergy<Dim>& energy, TimeStepper<Dim>& stepper)
    : m_stepper(stepper), m_diagnostics(energy) {}

template <int Dim>
RunSummary Simulation<Dim>::run(Field<Dim>& q, double t_end, int snapshots, RunState& state,
                                const std::vector<Tracker<Dim>*>& trackers) {
  const auto start = std::chrono::steady_clock::now();
  RunSummary summary;
  if (state.next_snapshot == 0) {
    DiagnosticsRow first = m_diagnostics.measure(q, state.t, 0.0, nullptr);
    if (m_stepper.solves_linear_systems()) first.linear_iterations = 0.0;
    m_history.push_back(first);
    for (Tracker<Dim>* tr : trackers) tr->on_snapshot(q, m_history, state.step, 0);
    state.next_snapshot = 1;
  }
  const double mass0 = m_history.rows.front().mass;
  summary.min_q = m_history.back().min;

  for (int& k = state.next_snapshot; k <= snapshots; ++k) {
    const double t_next = t_end * k / snapshots;
    while (state.t < t_next) {
      if (m_stop_flag != nullptr && *m_stop_flag != 0) {
        for (Tracker<Dim>* tr : trackers) tr->on_interrupt(q, m_history, state.step, k);
        summary.interrupted = true;
        break;
      }
      const StepReport report = m_stepper.step(q, state.t, t_next);
      const double t_new = report.reached_stop ? t_next : state.t + report.dt;
      // A step this small would need more steps than any run can take: stop instead of crawling.
      constexpr double max_remaining_steps = 1e10;
      if (!(t_new > state.t) || (!report.reached_stop && (t_end - state.t) > max_remaining_steps * report.dt)) {
        std::ostringstream msg;
        msg << "the time step fell to " << report.dt << " at step " << state.step + 1 << ", t = " << state.t
            << ": reaching t-end = " << t_end << " would take more than 1e10 steps; the explicit step limit "
            << "(positivity/parabolic bound) is too strict for this problem: check the potential and the data";
        throw std::runtime_error(msg.str());
      }
      state.t = t_new;
      ++state.step;
      ++summary.steps;
      summary.rejected += report.rejected;
      DiagnosticsRow row = m_diagnostics.measure(q, state.t, report.dt, &m_history.back());
      row.linear_iterations = report.linear_iterations;
      if (!std::isfinite(row.mass) || !std::isfinite(row.energy) || !std::isfinite(row.max)) {
        std::ostringstream msg;
        msg << "the density became non-finite at step " << state.step << ", t = " << state.t << ": "
            << m_diagnostics.locate_bad_value(q) << "; stopping (the last good snapshot is kept)";
        throw NonFiniteState(msg.str());
      }
      m_history.push_back(row);
      summary.min_q = std::min(summary.min_q, row.min);
      summary.relative_mass_drift =
          std::max(summary.relative_mass_drift, std::abs(row.mass - mass0) / (mass0 > 0.0 ? mass0 : 1.0));
      for (Tracker<Dim>* tr : trackers) tr->on_step(q, m_history, state.step);
    }
    if (summary.interrupted) break;
    for (Tracker<Dim>* tr : trackers) tr->on_snapshot(q, m_history, state.step, k);
  }
  summary.final_time = state.t;
  summary.final_energy = m_history.back().energy;
  summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

template class Simulation<1>;
template class Simulation<2>;
template class Simulation<3>;

}  // namespace wgflow
