#pragma once
#include "solver/layer_guard.hpp"
/// Implicit Euler, q^{n+1} = q^n + Δt L(q^{n+1}) (numerics.md "Implicit time step"), for steady states and
/// stiff runs where the explicit parabolic limit Δt ~ Δx²/D is the bottleneck.
///
///  - SG flux (U = D q log q + V): L = A q is linear, A the SG matrix (an M-matrix with zero column
///    sums). One sparse solve per step, in increment form (I − ΔtA) δ = ΔtA q^n, q* = q^n + δ, by CG on
///    the symmetrised (Slotboom) form S = H (I − ΔtA) H⁻¹, H = diag(e^{(V − V_mid)/(2D)}): its
///    off-diagonals are −Δt √(c⁺c⁻) per face, so S is assembled without exponentials and is exactly
///    symmetric; only the right-hand side and the result are scaled. If V/D spans too much for the
///    scaling, or the CG result misses the tolerance in the unscaled residual, BiCGSTAB on I − ΔtA
///    takes over (warm-started). With linear_solver = multigrid (the default in builds with hypre) the
///    same systems go to hypre's PFMG-preconditioned CG / BiCGSTAB instead (docs/linear_solvers.md),
///    and a solve that misses its tolerance rejects the attempt rather than falling back.
///  - Upwind flux (porous medium, or no internal energy): fully implicit first-order upwind scheme,
///    R(q) = q − q^n − Δt L(q) = 0, solved by Newton with the analytic Jacobian (upwind switch frozen at
///    the current iterate) and a backtracking line search that keeps every iterate ≥ 0. With
///    linear_solver = multigrid its Jacobian systems go to hypre's BiCGSTAB + PFMG (SMG fallback).
///
/// Whatever the solver tolerance, the accepted state is the conservative update
///     q^{n+1} = q^n + Δt·(−div J(q*))
/// with the face fluxes of the solver's final iterate q*: Σ q changes by round-off only. It equals
/// q* − (residual of q*), so it is accurate to the solver tolerance, but a cell whose exact value is
/// tiny next to that residual (a tail far from the data) can come out < 0. A step is accepted only if
/// the state is ≥ 0 in every cell; otherwise
///  - linear case: the face fluxes of q* are limited, cell by cell in order of decreasing Slotboom
///    potential (the direction SG fluxes flow in), so that no cell gives away more than it has plus what
///    it receives: the update stays in flux form (mass to round-off) and is ≥ 0 by construction. If
///    that moves more than repair_tolerance of the mass, the system is solved again by LDLᵀ of the
///    Stieltjes matrix S on small grids (its factors keep off-diagonals ≤ 0 under any symmetric
///    ordering, so the solution is ≥ 0 in floating point); on large grids the attempt is rejected;
///  - Newton: the fluxes applied are those of q̂, the solution of the implicit upwind system with the
///    velocities of q* frozen, computed by one substitution sweep in order of decreasing ξ (flow runs
///    from high to low ξ); q̂ ≥ 0 by construction and differs from q* by the residual only.
/// Nothing of normal size is clipped. The one exception is IEEE subnormals: updated values with
/// |q| < 2.2e-308 are set to 0 (flush-to-zero), because there the arithmetic has no relative precision
/// and a cell worth a few subnormal ulps can round to −5e-324 (seen with V/D ~ 10³). stats() counts
/// the repairs.
///
/// The Newton iterate (not the accepted state) is kept ≥ 0 by the line search: cells at q = 0 whose
/// direction points below 0 are held at 0 (active bound), the step is cut to the largest λ ≤ 1 with
/// q + λδ ≥ 0 and halved until ‖R‖₂ decreases (Armijo); if that λ is tiny (a cell at ~0 that δ drives
/// far below 0 would stall Newton), the projected arc max(q + λδ, 0) is searched from λ = 1 instead.
///
/// Determinism: matrices are assembled row by row into a fixed pattern, reductions are max-reductions or
/// ordered row sums, and Eigen's OpenMP sparse matrix–vector product computes each row on one thread,
/// so the results are bitwise independent of the number of threads.
#include <limits>
#include <memory>
#include <string>

#include "solver/energy/free_energy.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/time_stepper.hpp"

namespace wgflow {

struct ImplicitOptions {
  /// > 0: the step (fixed mode) or the first step (adaptive). ≤ 0: dt_factor × the explicit
  /// forward-Euler limit of the state at the first step.
  double dt = 0.0;
  double dt_factor = 10.0;
  /// Adaptive step control for steady-state runs: grow by `grow` (up to the cap) after a step whose
  /// Newton solve took at most grow_max_iterations iterations (every step, for the linear case);
  /// shrink by `shrink` and retry after a failure. Fixed mode retries a failed step with shrunken
  /// sub-steps too, but returns to dt afterwards.
  bool adaptive = false;
  double dt_max = std::numeric_limits<double>::infinity();
  /// Adaptive steps are capped at min(dt_max, dt_max_factor × the explicit limit of the first state):
  /// the conservative update rounds at ε·Δt·|face fluxes|, so a steady state is reached to a relative
  /// ~ε·Δt/Δt_explicit (1e4 → ~1e-12 measured). Fixed mode ignores both.
  double dt_max_factor = 1e4;
  /// ... except once the state has settled: after an accepted step that changed no cell by more than
  /// settle_tolerance × max q, the step grows past that cap (implicit Euler with Δt → ∞ is the
  /// steady-state solve; the rounding ε·Δt/Δt_explicit then acts on a state that no longer moves).
  /// dt_max still holds. 0 keeps the cap always.
  double settle_tolerance = 1e-6;
  double grow = 1.5;
  double shrink = 0.5;
  int grow_max_iterations = 5;
  int max_rejections = 30;
  /// Krylov tolerance: relative to the right-hand side (the increment ΔtAq^n, or −R for Newton).
  double linear_tolerance = 1e-10;
  /// Newton stops when ‖R‖∞ ≤ newton_tolerance·‖R(q^n)‖∞, or at the round-off floor of R.
  double newton_tolerance = 1e-10;
  int max_newton_iterations = 30;
  /// Krylov preconditioners. diagonal: Jacobi for CG and BiCGSTAB, so every operation is a parallel
  /// SpMV or vector update. incomplete: incomplete Cholesky for CG, ILUT for Newton's BiCGSTAB; fewer
  /// iterations but serial and, in Eigen, costly to set up: slower in 2D/3D in every case measured,
  /// while in 1D (tridiagonal: the factorisation is exact) it solves in one iteration.
  /// automatic: incomplete in 1D, diagonal in 2D/3D.
  enum class Preconditioner { automatic, diagonal, incomplete };
  Preconditioner preconditioner = Preconditioner::automatic;
  /// multigrid: hypre's PFMG-preconditioned CG (SG, on the Slotboom-symmetrised, diagonally scaled
  /// matrix) and BiCGSTAB (SG when V/D spans too much to symmetrise; Newton, with SMG where PFMG
  /// stalls, to an inexact-Newton tolerance), docs/linear_solvers.md;
  /// a solve that misses the tolerance within max_linear_iterations fails the attempt (the step is
  /// retried smaller). eigen: the Eigen Krylov solvers above with their direct fallbacks.
  /// Default: multigrid when the build has hypre (multigrid_available()).
  enum class LinearSolver { multigrid, eigen };
  LinearSolver linear_solver = default_linear_solver();
  int max_linear_iterations = 500;  ///< multigrid only (Eigen's solvers stop at 2n)
  /// SG positivity repair (flux limiting, docs/linear_solvers.md): accepted if it changes the state by
  /// at most repair_tolerance × Σ qⁿ in L1 (what a solve to that relative accuracy may leave anyway).
  double repair_tolerance = 1e-10;
  /// ... else the LDLᵀ re-solve, on grids of at most this many cells (its fill and time grow fast:
  /// 166 s and 6.8 GB at 2048²); on larger grids the attempt is rejected and the step retried smaller.
  long direct_repair_max_unknowns = 1L << 16;
  static LinearSolver default_linear_solver();
  /// Tests only: false accepts the solver's iterate q* itself, to show why the conservative update exists.
  bool conservative_update = true;
};

/// Counters of a stepper's life; "last_" entries describe the last accepted step.
struct ImplicitStats {
  long steps = 0;                 ///< accepted steps
  long rejected = 0;              ///< failed attempts (retried with a smaller step)
  long newton_iterations = 0;     ///< over accepted steps
  long linear_iterations = 0;     ///< Krylov iterations over accepted steps
  // The counters below include failed attempts.
  long line_search_cuts = 0;      ///< halvings of λ
  long bound_limited_steps = 0;   ///< Newton updates whose λ was limited by q + λδ ≥ 0
  long projected_steps = 0;       ///< Newton updates that fell back to the projected arc max(q + λδ, 0)
  long positivity_retries = 0;    ///< conservative updates that came out < 0 somewhere and were repaired
  long negative_states = 0;       ///< ... and were still < 0 after that (the attempt is rejected)
  long limited_cells = 0;         ///< SG: cells whose outflows the flux-limiting repair scaled down
  long repairs_too_large = 0;     ///< SG: flux-limiting repairs beyond repair_tolerance (direct or rejected)
  long decomposed_rejections = 0; ///< several ranks: conservative updates < 0 whose SG repair was too large or
                                  ///< could not finish: rejected (no direct re-solve)
  long sweep_rounds = 0;          ///< several ranks: halo-exchange rounds of the positivity repairs (sweep, limiting)
  long failed_sweeps = 0;         ///< ... sweeps that stopped short (attempt rejected; never seen)
  double max_repair_change = 0.0; ///< SG: largest accepted flux-limiting change, Σ|Δq| / Σ qⁿ
  long direct_solves = 0;         ///< solves by a sparse direct factorisation (cached while Δt is unchanged)
  long krylov_fallbacks = 0;      ///< linear case: CG result redone by BiCGSTAB (unscaled residual)
  long failed_solves = 0;         ///< multigrid: Krylov solves that missed the tolerance (attempt rejected)
  long smg_fallbacks = 0;         ///< multigrid Newton: BiCGSTAB + PFMG missed, redone with SMG
  int last_newton_iterations = 0;
  int last_linear_iterations = 0;
  int max_newton_iterations = 0;  ///< over accepted steps
  long uncapped_steps = 0;        ///< adaptive steps longer than the cap (settled state)
};

template <int Dim>
class ImplicitEuler final : public TimeStepper<Dim> {
 public:
  /// SG flux → linear solve; upwind flux → Newton on the first-order upwind scheme (flux.order is
  /// ignored: the implicit scheme is first order in space and time). The energy must outlive the stepper.
  /// Throws std::invalid_argument for the upwind flux with U = D q log q (ξ is singular at vacuum).
  ImplicitEuler(const FreeEnergy<Dim>& energy, const FluxSpec& flux, const ImplicitOptions& options = {});
  ~ImplicitEuler() override;
  ImplicitEuler(const ImplicitEuler&) = delete;
  ImplicitEuler& operator=(const ImplicitEuler&) = delete;

  std::string name() const override { return "implicit-euler"; }
  std::string step_limit_reason() const override {
    return "the implicit solver keeps rejecting larger steps (Newton or the linear solve fails to converge)";
  }
  bool solves_linear_systems() const override { return true; }
  /// The spatial scheme it solves: "scharfetter-gummel" or "upwind-1".
  std::string operator_name() const;
  /// The linear solver in use: "multigrid" or "eigen" (periodic axes of < 3 cells fall back to eigen).
  std::string linear_solver_name() const;
  bool is_linear() const;

  /// Advances q by one accepted step no longer than t_stop − t, landing exactly on t_stop (a step that
  /// would leave less than half a step is split into two equal ones). Throws std::runtime_error after
  /// max_rejections failed attempts.
  StepReport step(Field<Dim>& q, double t, double t_stop) override;

  /// Advances q by exactly dt; returns false (q unchanged) if the solve fails or would leave q < 0.
  bool step_fixed(Field<Dim>& q, double dt);

  /// The forward-Euler positivity/parabolic limit of the spatial operator at q (fills q's ghosts).
  double explicit_limit(Field<Dim>& q);
  /// The step the next call to step() will try first, before clipping to t_stop (0 until known).
  double proposed_dt() const;

  /// {next proposal, adaptive cap}: what a restart needs to repeat the same steps.
  std::vector<double> carried_state() const override;
  void restore_carried_state(const std::vector<double>& state) override;

  /// Particles move along the frozen velocity field of each accepted new state (backward Euler for
  /// positions, integrated exactly cell by cell: ParticleCloud::frozen_flow), the face velocities of the
  /// flux the step applied: SG with the step's drift potential (with an interaction V + W*((qⁿ + qⁿ⁺¹)/2)),
  /// upwind with ξ(qⁿ⁺¹).
  bool set_particles(ParticleCloud<Dim>* particles) override;

  const ImplicitStats& stats() const;
  int last_newton_iterations() const { return stats().last_newton_iterations; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace wgflow
