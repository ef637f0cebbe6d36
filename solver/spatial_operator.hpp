#pragma once
#include "solver/layer_guard.hpp"
/// The semi-discrete right-hand side L(q) = −div J(q) of q_t = ∇·(q∇ξ), behind one virtual call per
/// stage. Explicit steppers use it as a fused forward-Euler stage, so L(q) is never stored:
///   out = a·base + b·(in + Δt·L(in))     (one SSP-RK stage, Shu–Osher form, a = 1 − b; see stage_update)
#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "grids/field.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/row_observer.hpp"

namespace wgflow {

/// One cell of a stage, a·base + b·x with x = in + Δt·L(in) and a = 1 − b (every Shu–Osher stage here),
/// written as the increment base + b·(x − base). The convex combination rounds each product and the
/// sum; near a steady state those roundings repeat with the same sign step after step (SSP-RK3 drifted
/// 1.2e-12 in mass over 280 000 steps, SSP-RK2 6e-13, forward Euler 3e-14). The increment rounds like
/// a forward-Euler update, and stays ≥ 0 whenever x, base ≥ 0: x − base ≥ −base, and rounding is
/// monotone. b = 1 (stage 1, forward Euler) returns x itself.
inline double stage_increment(double base, double x, double b) { return base + b * (x - base); }
inline double stage_update(double base, double x, double b) { return b == 1.0 ? x : stage_increment(base, x, b); }

enum class FluxKind { scharfetter_gummel, upwind };

struct FluxSpec {
  FluxKind kind = FluxKind::upwind;
  int order = 2;        ///< upwind only: 1 (cell averages) or 2 (minmod reconstruction)
  double theta = 2.0;   ///< minmod parameter θ ∈ [1, 2]; 2 keeps point values ≥ 0
};

/// All stages of an explicit step in one traversal (temporal blocking, grids/wavefront.hpp): stage j
/// computes out[j] = a·base + b[j]·(in[j] + Δt L(in[j])) with in[0] = base = qⁿ (prepared) and
/// in[j] = out[j − 1]; the arrays may alternate (out[j + 2] == out[j]). Bitwise the stage-by-stage step.
template <int Dim>
struct BlockedStages {
  int stages = 0;
  std::array<Field<Dim>*, 3> out{};
  std::array<const Field<Dim>*, 3> in{};
  const Field<Dim>* base = nullptr;
  double dt = 0.0;
  std::array<double, 3> b{};
  RowObserver* observer = nullptr;  ///< gets every row of the last stage (fused diagnostics), or none
  /// Written for j ≥ 1: what prepare_stage(in[j]) returns, the limit of stage j's state. The stepper
  /// checks them after the traversal (a posteriori) and retries exactly as when stage j would have
  /// been refused before it ran, so the accepted steps and their Δt are those of the unblocked step.
  std::array<double, 3> limit{};
};

template <int Dim>
class SpatialOperator {
 public:
  virtual ~SpatialOperator() = default;
  virtual std::string name() const = 0;

  /// Readies the state `in` for a stage (ghosts, ξ) and returns the largest forward-Euler step that
  /// keeps it non-negative: the positivity bound and, where there is diffusion, the parabolic bound.
  virtual double prepare(Field<Dim>& in) = 0;

  /// prepare() for a state that this operator's euler_stage has just written as `out` and nobody
  /// has changed since (the stages of an explicit step): operators whose stage already leaves `out`
  /// with its ghosts filled skip that pass here. Returns what prepare() returns.
  virtual double prepare_stage(Field<Dim>& in) { return prepare(in); }

  /// Whether euler_stage may be called with out and in the same field (base a different one), which
  /// lets an explicit stepper keep one stage buffer instead of two. Call during set-up: an operator
  /// may allocate its scratch here. Results are bitwise those of the out-of-place stage.
  virtual bool enable_in_place_stages() { return false; }

  /// out = a·base + b·(in + dt·L(in)) on the interior; `in` must have been prepared. Ghosts of `out`
  /// may be written too (never those of `in` or `base` when out is a different field). out == in
  /// only after enable_in_place_stages() returned true.
  virtual void euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                           const Field<Dim>& base, double b) const = 0;

  /// Temporal blocking, asked during set-up: whether run_blocked_stages can run `stages` stages (it
  /// may allocate its scratch here). stage_arrays: out[0 … stages − 2] are arrays the operator may
  /// use; false when every out[j] is the same array (a stepper with in-place stages), which only an
  /// operator that keeps intermediate stages elsewhere accepts. False for operators whose stages need
  /// a global pass between them (an interaction's convolution, a stored ξ) or a neighbour rank's states.
  virtual bool enable_blocked_stages(int /*stages*/, bool /*stage_arrays*/) { return false; }
  /// Runs all stages of `step` in one traversal and fills step.limit; returns false, writing nothing,
  /// when it cannot with the current thread count (bands too thin): the stepper then runs the stages
  /// one by one. Only after enable_blocked_stages(step.stages) returned true.
  virtual bool run_blocked_stages(BlockedStages<Dim>& /*step*/) { return false; }

  /// Fused diagnostics: while `observer` is set, euler_stage hands it every interior x-row of `out`
  /// right after writing it (solver/row_observer.hpp); nullptr stops that. Returns false, setting
  /// nothing, for an operator whose stages cannot.
  virtual bool set_row_observer(RowObserver* observer) { return observer == nullptr; }

  /// Particles (solver/particles.hpp): v (n × Dim) at the points x (n × Dim, periodic axes wrapped) of
  /// the MAC field of the face velocities that the flux of the prepared state `in` implies (0 on walls);
  /// `faces` is scratch for a full pass (solver/mac_velocity.hpp). Separate threaded loops, run only
  /// when there are particles: the stage kernels are untouched.
  virtual void particle_velocities(const Field<Dim>& /*in*/, const double* /*x*/, double* /*v*/, std::size_t /*n*/,
                                   std::array<Field<Dim>, Dim>& /*faces*/) const {
    throw std::logic_error(name() + ": no particle velocities");
  }
  /// The face velocities alone (the full pass of particle_velocities for many particles), for callers
  /// that gather them per particle in their own loop: faces[k] holds u on the low k-face of each cell.
  virtual void particle_faces(const Field<Dim>& /*in*/, std::array<Field<Dim>, Dim>& /*faces*/) const {
    throw std::logic_error(name() + ": no particle velocities");
  }
};

/// SG for linear diffusion (+ drift); upwind for everything else (numerics.md "Two fluxes").
FluxKind default_flux_for(const InternalEnergySpec& internal);

template <int Dim>
std::unique_ptr<SpatialOperator<Dim>> make_spatial_operator(const FreeEnergy<Dim>& energy, const FluxSpec& flux);

}  // namespace wgflow
