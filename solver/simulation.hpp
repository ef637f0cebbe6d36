#pragma once
#include "solver/layer_guard.hpp"
/// The run loop: step up to the next output time, measure, tell the trackers. Output, progress and
/// checks hang off the loop as trackers, so the loop itself stays a dozen lines.
#include <csignal>
#include <cstddef>
#include <limits>
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
  /// After every accepted step (history.back() is its row, or with --diagnostics-every > 1 the newest
  /// row kept).
  virtual void on_step(const Field<Dim>& /*q*/, const DiagnosticsHistory& /*history*/, long /*step*/) {}
  /// At each output time, including t = 0 (index 0) and t_end (index snapshots).
  virtual void on_snapshot(const Field<Dim>& /*q*/, const DiagnosticsHistory& /*history*/, long /*step*/,
                           int /*index*/) {}
  /// When the run stops early on request at time t; `next_snapshot` is the index of the first snapshot
  /// not written. (history.back() is the newest row kept, which is not this state's with
  /// --diagnostics-every > 1.)
  virtual void on_interrupt(const Field<Dim>& /*q*/, const DiagnosticsHistory& /*history*/, long /*step*/,
                            double /*t*/, int /*next_snapshot*/) {}
  /// The first diagnostics row this tracker may still read from the history (rows before it can
  /// leave memory); the default: none but the newest.
  virtual std::size_t rows_needed_from() const { return std::numeric_limits<std::size_t>::max(); }
};

/// Where a run stands: a fresh run starts at the default; a restarted one where its checkpoint was.
struct RunState {
  double t = 0.0;
  long step = 0;
  int next_snapshot = 0;  ///< 0: the initial state has not been measured or written yet
};

/// Thrown when the state stops being finite; the message names step, time and cell.
class NonFiniteState : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunSummary {
  bool interrupted = false;  ///< stopped early because the stop flag was raised
  long steps = 0;            ///< steps taken by this call
  long rejected = 0;
  double wall_seconds = 0.0;
  double relative_mass_drift = 0.0;  ///< max over the run of |M(t) − M(0)|/M(0)
  double final_energy = 0.0;
  double min_q = 0.0;                ///< minimum over the run
  double final_time = 0.0;
  long energy_increases = 0;         ///< steps whose energy exceeded the previous step's (every step, kept row or not)
};

/// Stops a run that crawls: one whose step would need more than 1e10 further steps to reach t_end,
/// judged only on sustained behaviour, so that no run is refused on a projection it later disproves
/// (steps often grow by orders of magnitude after a stiff start). Looked at after 2^16, 2^17, ...
/// steps; refuses when the projection holds and the step has not grown since the previous look.
class CrawlGuard {
 public:
  static constexpr double k_max_remaining_steps = 1e10;
  static constexpr long k_first_look = 1L << 16;
  /// True if, at a look (step 2^16, 2^17, ...), the step would need more than 1e10 further steps and
  /// has not grown since the previous look.
  bool crawling(long step, double t, double t_end, const StepReport& report);
  double dt_at_last_look() const { return m_dt_at_last_look; }

 private:
  long m_next_look = k_first_look;
  double m_dt_at_last_look = 0.0;
};

template <int Dim>
class Simulation {
 public:
  Simulation(const FreeEnergy<Dim>& energy, TimeStepper<Dim>& stepper);
  ~Simulation() { m_stepper.set_row_observer(nullptr); }  // the stepper may outlive the fused diagnostics
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  /// Advances q from `state` to t_end, with snapshots at t_end·k/snapshots, k = 0..snapshots.
  /// A restarted run passes the state and the history (rows up to state.step) of its checkpoint.
  RunSummary run(Field<Dim>& q, double t_end, int snapshots, RunState& state,
                 const std::vector<Tracker<Dim>*>& trackers);

  /// The rows of the steps already taken (a restart continues them). Only a window stays in memory:
  /// rows every tracker is done with are dropped once the window exceeds k_history_window rows.
  static constexpr std::size_t k_history_window = 4096;
  void set_history(DiagnosticsHistory history) { m_history = std::move(history); }
  const DiagnosticsHistory& history() const { return m_history; }

  /// Keep a diagnostics row every `every` steps and at every snapshot (1: every step). Every step is
  /// still measured: non-finite states, energy increases and the mass drift are checked on each.
  void set_diagnostics_every(long every) { m_every = every; }

  /// A flag (set by a signal handler) checked after every step; when raised, the run stops cleanly.
  void set_stop_flag(const volatile std::sig_atomic_t* flag) { m_stop_flag = flag; }

 private:
  void forget_rows_done_with(const std::vector<Tracker<Dim>*>& trackers);

  TimeStepper<Dim>& m_stepper;
  Diagnostics<Dim> m_diagnostics;
  DiagnosticsHistory m_history;
  CrawlGuard m_crawl_guard;
  Communicator m_ranks;  ///< the grid's ranks: a stop request is honoured by all of them at the same step
  long m_every = 1;
  const volatile std::sig_atomic_t* m_stop_flag = nullptr;
};

}  // namespace wgflow
