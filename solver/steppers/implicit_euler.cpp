/// Implicit Euler: the public class, step control (proposal, growth, rejection) and setup of the solver state.
#include "solver/steppers/implicit_euler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/particles.hpp"
#include "solver/linear/mpi_session.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

ImplicitOptions::LinearSolver ImplicitOptions::default_linear_solver() {
  return multigrid_available() ? LinearSolver::multigrid : LinearSolver::eigen;
}

template <int Dim>
ImplicitEuler<Dim>::Impl::Impl(const FreeEnergy<Dim>& e, const FluxSpec& flux, const ImplicitOptions& o)
    : energy(e), opt(o), grid(e.grid()), unk(e.grid()), L(e.grid().shape),
      linear(flux.kind == FluxKind::scharfetter_gummel),
      incomplete(o.preconditioner == ImplicitOptions::Preconditioner::incomplete ||
                 (o.preconditioner == ImplicitOptions::Preconditioner::automatic && Dim == 1)) {
  for (int k = 0; k < Dim; ++k) inv_dx2[k] = 1.0 / (grid.dx(k) * grid.dx(k));
  const std::size_t rows = num_rows(L);
  row_a.resize(rows);
  row_b.resize(rows);
  row_c.resize(rows);
  q_star = Field<Dim>(L);
  out = Field<Dim>(L);
  const auto kind = e.internal().kind;
  lu.setPivotThreshold(0.0);
  decomposed = unk.decomposed;
  if (decomposed) {  // what runs on several ranks: everything through hypre (docs/linear_solvers.md)
    if (o.linear_solver != ImplicitOptions::LinearSolver::multigrid)
      throw std::invalid_argument("implicit-euler: the eigen linear solver runs on one rank only");
    if (!StructMultigrid<Dim>::supports(grid))
      throw std::invalid_argument("implicit-euler: a periodic axis needs at least 3 cells on several ranks");
  }
  if (o.linear_solver == ImplicitOptions::LinearSolver::multigrid) {
    if (!multigrid_available())
      throw std::invalid_argument("implicit-euler: this build has no multigrid solver (hypre); use the eigen solver");
    if (StructMultigrid<Dim>::supports(grid)) mg = std::make_unique<StructMultigrid<Dim>>(grid, unk);
  }
  if (linear) {
    if (kind != InternalEnergySpec::Kind::entropy)
      throw std::invalid_argument("the Scharfetter-Gummel flux needs linear diffusion (U = D q log q)");
    sg = std::make_unique<SgOperator<Dim>>(e);
    if (mg) {
      mg_diag = Field<Dim>(L);
      mg_g = Field<Dim>(L);
      mg_d = Field<Dim>(L);
      mg_stencil.resize(static_cast<std::size_t>(unk.n) * (2 * Dim + 1));
    }
    if (e.has_interaction()) {  // the matrix follows V + W*((qⁿ + q^k)/2): assembled in each attempt
      phi_lag = Field<Dim>(L);
      q_prev = Field<Dim>(L);
    } else {
      setup_linear();
    }
  } else {
    if (kind == InternalEnergySpec::Kind::entropy)
      throw std::invalid_argument(
          "implicit-euler: U = D q log q is solved with the Scharfetter-Gummel flux (its upwind xi is singular "
          "at vacuum)");
    FluxSpec first_order = flux;
    first_order.order = 1;
    upwind = std::make_unique<UpwindOperator<Dim>>(e, first_order);
    curv = implicit_detail::Curvature{kind, e.internal().D, e.internal().m};
    xi_it = Field<Dim>(L);
    if (e.divergence() != nullptr) dxi = Field<Dim>(L);  // ∂ξ/∂q depends on p_i, not on q alone
    q_trial = Field<Dim>(L);
    xi_trial = Field<Dim>(L);
    out_trial = Field<Dim>(L);
    J = unk.pattern;
    if (mg) mg_stencil.resize(static_cast<std::size_t>(unk.n) * (2 * Dim + 1));
    if (e.has_interaction()) {
      phi_lag = Field<Dim>(L);
      q_prev = Field<Dim>(L);
    }
  }
}

/// One attempt at a step of dt from q (ghosts filled here): true with the new state in out.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::attempt(Field<Dim>& q, double dt, int& newton_iterations, int& lin_iterations) {
  fill_ghosts(q, grid);
  if (energy.has_interaction()) return attempt_interaction(q, dt, newton_iterations, lin_iterations);
  if (linear) return attempt_linear(q, dt, lin_iterations);
  return attempt_newton(q, dt, newton_iterations, lin_iterations);
}

template <int Dim>
void ImplicitEuler<Dim>::Impl::record(int newton_iterations, int lin_iterations) {
  ++stats.steps;
  stats.newton_iterations += newton_iterations;
  stats.linear_iterations += lin_iterations;
  stats.last_newton_iterations = newton_iterations;
  stats.last_linear_iterations = lin_iterations;
  stats.max_newton_iterations = std::max(stats.max_newton_iterations, newton_iterations);
}

template <int Dim>
double ImplicitEuler<Dim>::Impl::relative_change(const Field<Dim>& a, const Field<Dim>& b) const {
  const double* ap = a.data();
  const double* bp = b.data();
  double m[2] = {parallel_max_rows(L, [&](std::ptrdiff_t begin, int count) {
                   double d = 0.0;
                   for (std::ptrdiff_t c = begin; c < begin + count; ++c) d = std::max(d, std::abs(ap[c] - bp[c]));
                   return d;
                 }),
                 parallel_max_rows(L, [&](std::ptrdiff_t begin, int count) {
                   double d = 0.0;
                   for (std::ptrdiff_t c = begin; c < begin + count; ++c) d = std::max(d, std::abs(bp[c]));
                   return d;
                 })};
  grid.ranks.max(m, 2);  // the whole grid's: every rank grows the step alike
  const double diff = m[0], scale = m[1];
  return scale > 0.0 ? diff / scale : 0.0;
}

template <int Dim>
double ImplicitEuler<Dim>::Impl::explicit_limit(Field<Dim>& q) {
  if (linear) return energy.has_interaction() ? sg->prepare(q) : sg->dt_limit();  // SG with W*q: of this q
  return upwind->prepare(q);
}

template <int Dim>
ImplicitEuler<Dim>::ImplicitEuler(const FreeEnergy<Dim>& energy, const FluxSpec& flux, const ImplicitOptions& options)
    : m(std::make_unique<Impl>(energy, flux, options)) {
  if (!(options.grow >= 1.0) || !(options.shrink > 0.0 && options.shrink < 1.0))
    throw std::invalid_argument("implicit-euler: needs grow >= 1 and 0 < shrink < 1");
}

template <int Dim>
ImplicitEuler<Dim>::~ImplicitEuler() = default;

template <int Dim>
std::string ImplicitEuler<Dim>::operator_name() const {
  return m->linear ? "scharfetter-gummel" : "upwind-1";
}

template <int Dim>
std::string ImplicitEuler<Dim>::linear_solver_name() const {
  return m->mg ? "multigrid" : "eigen";
}

template <int Dim>
bool ImplicitEuler<Dim>::is_linear() const {
  return m->linear;
}

template <int Dim>
double ImplicitEuler<Dim>::explicit_limit(Field<Dim>& q) {
  return m->explicit_limit(q);
}

template <int Dim>
double ImplicitEuler<Dim>::proposed_dt() const {
  return m->dt_next;  // the step control keeps it ≤ the cap unless the state has settled
}

template <int Dim>
std::vector<double> ImplicitEuler<Dim>::carried_state() const {
  return {m->dt_next, m->dt_cap};
}

template <int Dim>
void ImplicitEuler<Dim>::restore_carried_state(const std::vector<double>& state) {
  if (state.size() != 2) throw std::invalid_argument("implicit-euler: a restart needs its saved step control");
  m->dt_next = state[0];
  m->dt_cap = state[1];
}

template <int Dim>
const ImplicitStats& ImplicitEuler<Dim>::stats() const {
  return m->stats;
}

template <int Dim>
bool ImplicitEuler<Dim>::set_particles(ParticleCloud<Dim>* particles) {
  m->particles = particles;
  return true;
}

template <int Dim>
void ImplicitEuler<Dim>::Impl::move_particles(Field<Dim>& q, double dt) {
  if (particles == nullptr) return;
  fill_ghosts(q, grid);
  if (linear) {
    particles->frozen_flow(*sg, q, dt);  // sg holds the drift potential of the step just taken
  } else {
    upwind->prepare(q);  // ξ(qⁿ⁺¹)
    particles->frozen_flow(*upwind, q, dt);
  }
}

template <int Dim>
bool ImplicitEuler<Dim>::step_fixed(Field<Dim>& q, double dt) {
  int newton = 0, lin = 0;
  if (!m->attempt(q, dt, newton, lin)) {
    ++m->stats.rejected;
    return false;
  }
  q.swap(m->out);
  m->move_particles(q, dt);
  m->record(newton, lin);
  return true;
}

template <int Dim>
StepReport ImplicitEuler<Dim>::step(Field<Dim>& q, double t, double t_stop) {
  Impl& s = *m;
  const ImplicitOptions& o = s.opt;
  const double remaining = t_stop - t;
  if (!(s.dt_next > 0.0)) {
    fill_ghosts(q, s.grid);
    const double limit = s.explicit_limit(q);
    s.dt_next = o.dt > 0.0 ? o.dt : o.dt_factor * limit;
    s.dt_cap = std::min(o.dt_max, o.dt_max_factor * limit);
    if (!std::isfinite(s.dt_next)) s.dt_next = remaining;  // nothing moves: L = 0
    if (!o.adaptive) s.dt_cap = std::numeric_limits<double>::infinity();
    s.dt_next = std::min(s.dt_next, s.dt_cap);
  }
  double proposal = s.dt_next;
  StepReport report;
  for (;;) {
    double dt = proposal;
    bool reached = false;
    if (dt * (1.0 + 1e-10) >= remaining) {  // the slack absorbs t + k·dt rounding in fixed-step runs
      dt = remaining;
      reached = true;
    } else if (dt > 0.5 * remaining) {
      dt = 0.5 * remaining;  // two balanced steps rather than a step and a sliver
    }
    if (!(dt > 0.0) || !std::isfinite(dt)) {
      std::ostringstream msg;
      msg << "implicit-euler: time step collapsed to " << dt << " at t = " << t;
      throw std::runtime_error(msg.str());
    }
    int newton = 0, lin = 0;
    if (s.attempt(q, dt, newton, lin)) {
      q.swap(s.out);
      s.move_particles(q, dt);
      s.record(newton, lin);
      if (dt > s.dt_cap) ++s.stats.uncapped_steps;
      report.dt = dt;
      report.reached_stop = reached;
      report.linear_iterations = lin;
      const bool unclipped = dt == proposal;
      if (o.adaptive && unclipped && ((s.linear && !s.energy.has_interaction()) || newton <= o.grow_max_iterations)) {
        const bool settled = o.settle_tolerance > 0.0 && s.relative_change(q, s.out) <= o.settle_tolerance;
        s.dt_next = proposal * o.grow;
        if (!settled) s.dt_next = std::min(s.dt_cap, s.dt_next);
        s.dt_next = std::min(s.dt_next, o.dt_max);
      }
      return report;
    }
    ++s.stats.rejected;
    if (++report.rejected > o.max_rejections) {
      std::ostringstream msg;
      msg << "implicit-euler: step rejected " << o.max_rejections << " times at t = " << t << " (last dt " << dt
          << "): " << (s.linear ? "the linear solve failed" : "Newton did not converge");
      throw std::runtime_error(msg.str());
    }
    proposal = dt * o.shrink;
    if (o.adaptive) s.dt_next = proposal;
  }
}

template class ImplicitEuler<1>;
template class ImplicitEuler<2>;
template class ImplicitEuler<3>;

}  // namespace wgflow
