#pragma once
/// The run loop: step up to the next output time, measure, tell the trackers. Output, progress and
/// checks hang off the loop as trackers, so the loop itself stays a dozen lines.
#include <stdexcept>
#include <string>
#include <vector>

#include "solver/diagnostics.hpp"
#include "solver/steppers/time_stepper.hpp"

namespace wgflow {

/// Observer of a run; called by the loop, never owns the state.
template <int Dim>
class Tracker {
 public:
  virtual ~Tracker() = default;
  /// After every accepted step (history.back() is its row).
  virtual void on_step(const Field<Dim>& /*q*/, const DiagnosticsHistory& /*history*/, long /*step*/) {}
  /// At each output time, including t = 0 (index 0) and t_end (index snapshots).
  virtual void on_snapshot(const Field<Dim>& /*q*/, const DiagnosticsHistory& /*history*/, long /*step*/,
                           int /*index*/) {}
};

/// Thrown when the state stops being finite; the message names step, time and cell.
class NonFiniteState : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunSummary {
  long steps = 0;
  long rejected = 0;
  double wall_seconds = 0.0;
  double relative_mass_drift = 0.0;  ///< max over the run of |M(t) − M(0)|/M(0)
  double final_energy = 0.0;
  double min_q = 0.0;                ///< minimum over the run
  double final_time = 0.0;
};

template <int Dim>
class Simulation {
 public:
  Simulation(const FreeEnergy<Dim>& energy, TimeStepper<Dim>& stepper);

  /// Advances q from t = 0 to t_end, with snapshots at t_end·k/snapshots, k = 0..snapshots.
  RunSummary run(Field<Dim>& q, double t_end, int snapshots, const std::vector<Tracker<Dim>*>& trackers);

  const DiagnosticsHistory& history() const { return m_history; }

 private:
  TimeStepper<Dim>& m_stepper;
  Diagnostics<Dim> m_diagnostics;
  DiagnosticsHistory m_history;
};

}  // namespace wgflow
