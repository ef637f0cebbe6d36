#pragma once
#include "solver/layer_guard.hpp"
/// Explicit strong-stability-preserving Runge–Kutta steppers (forward Euler, SSP-RK2, SSP-RK3 of
/// Shu & Osher 1988) written as convex combinations of forward-Euler stages. Each stage is positive
/// only if Δt respects the limit of *that stage's* state, so every stage is checked; a violated stage
/// rejects the step, which is retried from the old state with Δt = cfl × the stage's limit.
#include <array>
#include <string>

#include "solver/spatial_operator.hpp"
#include "solver/steppers/time_stepper.hpp"

namespace wgflow {

enum class ExplicitScheme { euler, ssp_rk2, ssp_rk3 };

/// Parses "euler", "ssp-rk2" or "ssp-rk3"; throws naming --stepper and the allowed values.
ExplicitScheme parse_explicit_scheme(const std::string& text);
std::string to_string(ExplicitScheme scheme);

template <int Dim>
class ExplicitRk final : public TimeStepper<Dim> {
 public:
  ExplicitRk(SpatialOperator<Dim>& op, ExplicitScheme scheme, double cfl, const FieldLayout<Dim>& layout);

  /// Advances q by one accepted step no longer than t_stop − t. Δt depends only on q and t_stop − t,
  /// so a run restarted from a saved state repeats the same steps.
  StepReport step(Field<Dim>& q, double t, double t_stop) override;
  std::string name() const override { return to_string(m_scheme); }

  /// Advances q by exactly dt without step control (tests that compare runs step by step).
  void step_fixed(Field<Dim>& q, double dt);

  int stages() const { return m_num_stages; }

  /// Temporal blocking (issue 14, item 5; grids/wavefront.hpp): all stages of a step in one traversal
  /// when the operator can (SG without interaction, upwind with ξ recomputed from q; 2D/3D, one rank,
  /// two stage buffers, no particles). On by default, off with WGFLOW_TEMPORAL_BLOCKING=0 in the
  /// environment; results are bitwise the same either way. Returns whether it is now on.
  bool set_temporal_blocking(bool on);
  bool temporal_blocking() const { return m_blocked; }
  /// Stage sequences (accepted or rejected attempts) that ran blocked: tests check it is not skipped.
  long blocked_runs() const { return m_blocked_runs; }

  /// Particles advance with the same stages and Δt (ParticleCloud::stage).
  bool set_particles(ParticleCloud<Dim>* particles) override {
    m_particles = particles;
    return true;
  }

  /// The last stage of each step hands its rows to the observer, if the operator's stages can.
  bool set_row_observer(RowObserver* observer) override;

 private:
  /// Runs all stages from q (already prepared); returns false, with the violated stage's limit, if a
  /// stage state needs a smaller step. On success the new state is in m_buffer[result()].
  bool run_stages(Field<Dim>& q, double dt, bool check_limits, double& violated_limit);
  /// run_stages through the operator's blocked traversal; false in `ran` when it could not run.
  bool run_blocked(Field<Dim>& q, double dt, bool check_limits, double& violated_limit, bool& ran);

  struct Stage {
    double a, b;  ///< out = a·qⁿ + b·(in + Δt L(in))
  };
  SpatialOperator<Dim>& m_op;
  ExplicitScheme m_scheme;
  double m_cfl;
  int m_num_stages;
  std::array<Stage, 3> m_stages{};
  /// Buffer that stage j writes (j = 0 … stages − 1) and, for j ≥ 1, reads: stages after the first
  /// run in place in m_buffer[0] when the operator allows it (qⁿ stays untouched for base and for a
  /// retry), else they alternate between two buffers.
  std::size_t out_buffer(int j) const { return m_in_place ? 0 : static_cast<std::size_t>(j % 2); }
  std::size_t result() const { return out_buffer(m_num_stages - 1); }
  bool m_in_place = false;
  bool m_blocked = false;  ///< temporal blocking (set_temporal_blocking)
  long m_blocked_runs = 0;
  std::array<Field<Dim>, 2> m_buffer;
  ParticleCloud<Dim>* m_particles = nullptr;  ///< [1] stays empty with in-place stages (one array less)
  RowObserver* m_row_observer = nullptr;      ///< fused diagnostics of the last stage, or none
};

}  // namespace wgflow
