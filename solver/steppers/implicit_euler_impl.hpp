#pragma once
#include "solver/layer_guard.hpp"
/// Internal to implicit Euler: ImplicitEuler<Dim>::Impl, the solver state and routines of the implicit_*.cpp files.
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "grids/field.hpp"
#include "solver/linear/struct_multigrid.hpp"
#include "solver/sg_operator.hpp"
#include "solver/steppers/implicit_euler.hpp"
#include "solver/steppers/implicit_unknowns.hpp"
#include "solver/upwind_operator.hpp"

namespace wgflow {

namespace implicit_detail {

constexpr double eps = std::numeric_limits<double>::epsilon();

/// U'' and P' = q U'' of the internal energies the upwind path supports. U'' only enters the Jacobian's
/// cross terms q_other U''(q_self); for m < 2 it is singular at 0 and is evaluated at max(q, q_floor).
struct Curvature {
  InternalEnergySpec::Kind kind;
  double D, m;
  double q_floor = 0.0;
  double d2U(double q) const {
    if (kind != InternalEnergySpec::Kind::porous_medium) return 0.0;
    if (m == 2.0) return 2.0 * D;
    return D * m * std::pow(std::max(q, q_floor), m - 2.0);
  }
  double P_prime(double q) const {
    if (kind != InternalEnergySpec::Kind::porous_medium) return 0.0;
    return D * m * power(q, m - 1.0);
  }
};

/// Results below the normal range (|x| < 2.2e-308) are set to 0, as flush-to-zero hardware would.
/// Subnormals carry no relative precision: far down an exponential tail (e^{−V/D} with V/D in the
/// hundreds, or the tail of a solve from vacuum) the conservative update of a cell whose exact value
/// is a few subnormal ulps can round to −5e-324 whatever the solver does. Flushing moves the mass by
/// < N·2.2e-308, far below the round-off of Σ q; values of normal size are never touched.
inline double flush_subnormal(double x) { return std::abs(x) < std::numeric_limits<double>::min() ? 0.0 : x; }

/// Whether every interior value is ≥ 0 (−0 counts as 0), some is negative, or some is not finite.
enum class SignCheck { nonnegative, negative, not_finite };

/// Over every rank of `ranks` (one max-allreduce): all ranks take the same decision.
template <int Dim>
SignCheck check_sign(const Field<Dim>& f, const Communicator& ranks = Communicator());

}  // namespace implicit_detail

template <int Dim>
struct ImplicitEuler<Dim>::Impl {
  using SpMatR = implicit_detail::SpMatR;
  using SpMatC = implicit_detail::SpMatC;
  using Vec = implicit_detail::Vec;

  const FreeEnergy<Dim>& energy;
  ImplicitOptions opt;
  UniformGrid<Dim> grid;
  implicit_detail::Unknowns<Dim> unk;
  FieldLayout<Dim> L;
  bool linear;
  bool incomplete;  ///< incomplete factorisation preconditioners (else Jacobi)
  std::unique_ptr<StructMultigrid<Dim>> mg;  ///< hypre multigrid (linear_solver = multigrid), else Eigen
  enum class MgMatrix { none, symmetric, general };
  MgMatrix mg_loaded = MgMatrix::none;  ///< which of Ŝ (symmetric) or diag(M)⁻¹M (general) mg holds for mg_dt
  Vec mg_scale;                         ///< Newton: diag(J)⁻¹, the row scaling of mg_stencil
  ImplicitStats stats;
  double dt_next = 0.0;  ///< the step control's proposal
  double dt_cap = std::numeric_limits<double>::infinity();  ///< adaptive: min(dt_max, dt_max_factor × limit)
  std::array<double, Dim> inv_dx2{};
  std::vector<double> row_a, row_b, row_c;  ///< per-row partial results (ordered reductions)
  Field<Dim> q_star, out;                   ///< solver iterate, conservative update

  // ---- linear (SG) ----
  std::unique_ptr<SgOperator<Dim>> sg;
  SpMatR A;        ///< the SG matrix, L(q) = A q
  SpMatR M;        ///< I − ΔtA
  SpMatR S;        ///< H M H⁻¹, symmetric
  Vec W;           ///< per pattern entry: √(c⁺c⁻) of the face(s) it couples (0 on the diagonal)
  Vec h, h_inv;    ///< the Slotboom scaling e^{±(V − V_mid)/(2D)}
  bool scaled = false;
  double matrix_dt = -1.0;  ///< Δt of M, S and the factorisations below
  Eigen::ConjugateGradient<SpMatR, Eigen::Lower | Eigen::Upper, Eigen::IncompleteCholesky<double>> cg_ic;
  Eigen::ConjugateGradient<SpMatR, Eigen::Lower | Eigen::Upper, Eigen::DiagonalPreconditioner<double>> cg_diag;
  Eigen::BiCGSTAB<SpMatR, Eigen::DiagonalPreconditioner<double>> bicg_linear;  ///< unsymmetric fallback
  bool bicg_linear_ready = false;
  Eigen::SimplicialLDLT<SpMatC> ldlt;
  bool direct_ready = false;
  /// Fallback for M-matrices (I − ΔtA unscaled, Newton's J): diagonal pivots, i.e. a symmetric
  /// permutation, under which the factors of an M-matrix keep off-diagonals ≤ 0.
  Eigen::SparseLU<SpMatC> lu;

  // ---- nonlinear (upwind) ----
  std::unique_ptr<UpwindOperator<Dim>> upwind;  ///< first order; for the explicit limit and particles
  ParticleCloud<Dim>* particles = nullptr;
  /// Moves the particles (if any) along the velocity field of the accepted state q over dt.
  void move_particles(Field<Dim>& q, double dt);
  implicit_detail::Curvature curv{};
  Field<Dim> xi_it, q_trial, xi_trial, out_trial;
  Field<Dim> dxi;  ///< f-divergence energies: ∂ξ/∂q per cell at the Jacobian's state (else empty)
  Vec R, R_trial, delta;
  SpMatR J;
  Eigen::BiCGSTAB<SpMatR, Eigen::IncompleteLUT<double>> bicg_ilut;
  Eigen::BiCGSTAB<SpMatR, Eigen::DiagonalPreconditioner<double>> bicg_diag;
  bool newton_pattern_ready = false;

  // ---- implicit_euler.cpp: setup, one attempt at a step, bookkeeping ----
  Impl(const FreeEnergy<Dim>& e, const FluxSpec& flux, const ImplicitOptions& o);
  bool attempt(Field<Dim>& q, double dt, int& newton_iterations, int& lin_iterations);
  void record(int newton_iterations, int lin_iterations);
  /// max |a − b| / max |b| over the interior (order-free max-reductions).
  double relative_change(const Field<Dim>& a, const Field<Dim>& b) const;
  double explicit_limit(Field<Dim>& q);

  // ---- implicit_linear.cpp: the SG matrix and its solve ----
  void setup_linear();
  void assemble_sg_matrix();
  void set_linear_dt(double dt);
  bool solve_linear_krylov(const Vec& qn, const Vec& rhs, Vec& qs, int& iterations);
  // ---- implicit_sg_multigrid.cpp: the SG solve through hypre from the face coefficients, on any
  // number of ranks (no Eigen matrix: its rows would miss the neighbours on other ranks) ----
  bool decomposed = false;       ///< the grid is split over ranks (multigrid SG only)
  Field<Dim> mg_diag, mg_g, mg_d;  ///< diag(I − ΔtA), diag^{-1/2} (ghosts exchanged), the solve's δ
  std::vector<double> mg_stencil;  ///< (2·Dim + 1) values per unknown for StructMultigrid::set_stencil
  double mg_dt = -1.0;             ///< Δt of mg_diag and mg_g
  void sg_multigrid_set_dt(double dt);
  /// rhs = ΔtAqⁿ per unknown (qⁿ's ghosts filled); returns ‖rhs‖₂ over all ranks.
  double sg_multigrid_rhs(const Field<Dim>& qn, double dt, Vec& rhs);
  /// ‖rhs − (I − ΔtA)d‖₂ and its round-off floor 64ε(‖rhs‖₂ + ‖|I − ΔtA||d|‖₂), over all ranks.
  std::array<double, 2> sg_multigrid_residual(const Vec& rhs, double rhs_norm, const Vec& d, double dt);
  bool solve_linear_multigrid(const Vec& rhs, double rhs_norm, double dt, Vec& d, int& iterations);
  void sg_conservative_update(const Field<Dim>& qn, Field<Dim>& qs, double dt, Field<Dim>& o);
  bool attempt_linear(const Field<Dim>& qn_field, double dt, int& lin_iterations);

  // ---- implicit_newton.cpp: Newton on the fully implicit first-order upwind scheme ----
  struct ResidualNorms {
    double sq = 0.0;     ///< ‖R‖₂²
    double inf = 0.0;    ///< ‖R‖∞
    double floor = 0.0;  ///< round-off level of R: below it R cannot be reduced
  };
  ResidualNorms residual(const Field<Dim>& qf, const Field<Dim>& xif, const Field<Dim>& qn, double dt,
                         Field<Dim>& o, Vec& r);
  void assemble_jacobian(const Field<Dim>& qf, const Field<Dim>& xif, double dt);
  /// forcing: the relative tolerance of the multigrid solve (Eigen's solvers use linear_tolerance).
  bool newton_direction(double forcing, int& lin_iterations);
  bool newton_direction_multigrid(const Vec& rhs, double forcing, int& lin_iterations);
  double bound_step(const Field<Dim>& qf);
  void make_trial(const Field<Dim>& qf, double lambda);
  bool line_search(const Field<Dim>& qn, double dt, ResidualNorms& res);
  bool attempt_newton(const Field<Dim>& qn, double dt, int& newton_iterations, int& lin_iterations);

  // ---- implicit_interaction.cpp: W*q at (qⁿ + q^{n+1})/2 by an outer fixed point around Newton ----
  Field<Dim> phi_lag, q_prev;  ///< Φ = W*((qⁿ + q^k)/2) of the outer iteration, and its q^k
  /// ξ of the Newton iterate: U'(q) + V, plus the lagged Φ when there is an interaction.
  void variation(const Field<Dim>& qf, Field<Dim>& xif) const {
    if (energy.has_interaction())
      energy.variation(qf, phi_lag, xif);
    else
      energy.variation(qf, xif);
  }
  bool attempt_interaction(const Field<Dim>& qn, double dt, int& newton_iterations, int& lin_iterations);

  // ---- implicit_positivity.cpp: repairs whose conservative update is ≥ 0 ----
  bool solve_linear_direct(const Vec& qn, Vec& qs);
  /// SG: scales down the outflows of the cells where out < 0 (and of the cells downstream that this
  /// makes < 0) so that out = qⁿ + Δt·div(limited fluxes of q_star) ≥ 0; returns Σ |change of out|.
  double limit_sg_fluxes(const Field<Dim>& qn, double dt);
  /// The SG face rates of cell c from q_star, as sg_conservative_update computes them: [2k] its low
  /// face (> 0: into c), [2k + 1] its high face (> 0: out of c). Both limitings read faces through it.
  std::array<double, 2 * Dim> sg_face_rates(std::ptrdiff_t c) const;
  /// The same on a decomposed grid (implicit_positivity_ranks.cpp): β per cell in `beta`, rounds of the
  /// halo exchange; Σ|change of out| over all ranks, or −1 if it could not finish (reject).
  double limit_sg_fluxes_decomposed(const Field<Dim>& qn, double dt);
  Field<Dim> beta;                          ///< decomposed limiting: β per cell (ghosts: the neighbours')
  std::vector<double> limiter;              ///< per unknown: the factor of its outflows (1: not limited)
  std::vector<unsigned char> limit_visits;  ///< per unknown: times its outflows were limited
};

}  // namespace wgflow
