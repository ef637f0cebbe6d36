#pragma once
#include "solver/layer_guard.hpp"
/// What the simulation loop needs of a time stepper: advance by one accepted step, up to t_stop.
#include <limits>
#include <string>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

template <int Dim>
class ParticleCloud;
class RowObserver;

struct StepReport {
  double dt = 0.0;
  bool reached_stop = false;  ///< the step landed exactly on t_stop
  int rejected = 0;           ///< attempts rejected before this step was accepted
  /// Krylov iterations of the accepted step's linear solves; NaN for steppers without any.
  double linear_iterations = std::numeric_limits<double>::quiet_NaN();
};

template <int Dim>
class TimeStepper {
 public:
  virtual ~TimeStepper() = default;
  virtual std::string name() const = 0;
  /// Whether step() reports linear iterations (the /diagnostics/linear_iterations column).
  virtual bool solves_linear_systems() const { return false; }
  /// Advances q by one accepted step no longer than t_stop − t.
  virtual StepReport step(Field<Dim>& q, double t, double t_stop) = 0;

  /// Step-control state carried from one step to the next (an adaptive stepper's next proposal),
  /// saved with snapshots and checkpoints so that a restart repeats the same steps. Empty for
  /// steppers whose step depends only on the state.
  virtual std::vector<double> carried_state() const { return {}; }
  /// Why the step can collapse, for the message that stops a run whose step became too small.
  virtual std::string step_limit_reason() const {
    return "the explicit step limit (positivity/parabolic bound) is too strict for this problem";
  }
  virtual void restore_carried_state(const std::vector<double>& /*state*/) {}

  /// Particles to move with every accepted step (solver/particles.hpp), or nullptr for none. Returns
  /// false if this stepper cannot move particles.
  virtual bool set_particles(ParticleCloud<Dim>* /*particles*/) { return false; }

  /// Fused diagnostics (solver/row_observer.hpp): the observer gets the rows of every accepted step's
  /// new state as the step writes them. Returns false, keeping nothing, if this stepper cannot.
  virtual bool set_row_observer(RowObserver* /*observer*/) { return false; }
};

}  // namespace wgflow
