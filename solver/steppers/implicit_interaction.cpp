/// Implicit Euler with an interaction term (numerics.md "Implicit time step": interaction at the
/// average, Bailo–Carrillo–Hu 2020): the fully implicit scheme (upwind, or SG for U = D q log q) with
///   ξ^{n+1} = U'(q^{n+1}) + V + W*((qⁿ + q^{n+1})/2),
/// for which E_D(q^{n+1}) ≤ E_D(qⁿ) for symmetric W and convex U at any Δt (the interaction energy's
/// change is exactly ⟨W*(qⁿ + q^{n+1})/2, q^{n+1} − qⁿ⟩, and both fluxes dissipate ξ). The dense W* part
/// is lagged: an outer fixed point q^{k+1} = solve(Φ = W*((qⁿ + q^k)/2)) around the sparse solve of the
/// local part (Newton for the upwind scheme; for SG the linear solve with the matrix of V + Φ),
/// accelerated by Anderson mixing, until ‖q^{k+1} − q^k‖∞ ≤ 1e-12 ‖q^{k+1}‖∞. Every inner solve ends in
/// the conservative update (mass to round-off) and its positivity checks; an outer loop that does not
/// converge rejects the attempt, and the step control retries with a smaller Δt.
#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Dense>

#include "grids/boundary.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

namespace {
constexpr int max_outer_iterations = 60;
constexpr double outer_tolerance = 1e-12;
constexpr int anderson_depth = 5;  ///< previous iterates mixed in (Anderson acceleration)

/// Σ_u a_u b_u over this rank's unknowns in unknown order (serial: the same bits for any thread
/// count), into an exact accumulator that sums over ranks (one rank: the local sum itself).
void add_dot(const implicit_detail::Vec& a, const implicit_detail::Vec& b, ExactSum& sum) {
  double s = 0.0;
  for (Eigen::Index u = 0; u < a.size(); ++u) s += a[u] * b[u];
  sum.add(s);
}
}  // namespace

/// The fixed point x = G(x), G(x) = the solve with Φ = W*((qⁿ + x)/2), by Anderson acceleration
/// (Walker & Ni 2011, type II): x_{k+1} = G(x_k) − ΔG γ with γ minimising ‖f_k − ΔF γ‖₂, f = G(x) − x,
/// ΔF, ΔG the differences of the last anderson_depth iterations (normal equations, m ≤ 5, ordered sums).
/// x only sets Φ; the accepted state is always a solve's conservative, non-negative output G(x_k),
/// taken once ‖G(x_k) − x_k‖∞ ≤ 1e-12 ‖G(x_k)‖∞, so the step is the scheme at the average to that tolerance.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::attempt_interaction(const Field<Dim>& qn, double dt, int& newton_iterations,
                                                   int& lin_iterations) {
  const InteractionTerm<Dim>& W = *energy.interaction();
  Vec x, q0v, g, f, f_old, g_old;
  unk.gather(qn, q0v);
  x = q0v;
  std::vector<Vec> dF, dG;
  for (int outer = 0; outer < max_outer_iterations; ++outer) {
    unk.scatter(Vec(0.5 * (q0v + x)), q_prev);  // (qⁿ + x)/2
    const Field<Dim>& phi = W.convolve(q_prev);
    std::copy(phi.data(), phi.data() + L.padded_size, phi_lag.data());
    int inner = 0;
    if (linear) {  // SG: the matrix of the drift potential V + Φ, assembled anew
      sg->set_drift_potential(phi_lag);
      setup_linear();
      matrix_dt = -1.0;  // M, S and the factorisations belong to the previous matrix
      inner = 1;
      if (!attempt_linear(qn, dt, lin_iterations)) return false;
    } else if (!attempt_newton(qn, dt, inner, lin_iterations)) {
      return false;
    }
    newton_iterations += inner;  // all solver work of the step: the step control grows Δt only when it is small
    unk.gather(out, g);
    f = g - x;
    // Over every rank (max-allreduce, exact): all ranks stop, accept or go on alike.
    double norms[3] = {f.allFinite() ? 0.0 : 1.0, f.lpNorm<Eigen::Infinity>(), g.lpNorm<Eigen::Infinity>()};
    grid.ranks.max(norms, 3);
    if (norms[0] > 0.0) return false;
    if (norms[1] <= outer_tolerance * norms[2]) return true;  // out = G(x)
    if (outer > 0) {
      dF.push_back(f - f_old);
      dG.push_back(g - g_old);
      if (static_cast<int>(dF.size()) > anderson_depth) {
        dF.erase(dF.begin());
        dG.erase(dG.begin());
      }
    }
    f_old = f;
    g_old = g;
    x = g;
    const auto m = static_cast<Eigen::Index>(dF.size());
    if (m == 0) continue;
    // The normal equations' dots over all ranks in one allreduce: every rank gets the same γ.
    ChunkSumsVector dots(static_cast<std::size_t>(m + m * (m + 1) / 2));
    std::size_t at = 0;
    for (Eigen::Index i = 0; i < m; ++i) {
      add_dot(dF[static_cast<std::size_t>(i)], f, dots[at++]);
      for (Eigen::Index j = 0; j <= i; ++j) add_dot(dF[static_cast<std::size_t>(i)], dF[static_cast<std::size_t>(j)], dots[at++]);
    }
    dots.allreduce(grid.ranks);
    Eigen::MatrixXd A(m, m);
    Eigen::VectorXd b(m);
    at = 0;
    for (Eigen::Index i = 0; i < m; ++i) {
      b[i] = dots.value(at++);
      for (Eigen::Index j = 0; j <= i; ++j) A(i, j) = A(j, i) = dots.value(at++);
    }
    A.diagonal().array() += 1e-14 * A.diagonal().sum();  // keeps it definite when iterates repeat
    const Eigen::VectorXd gamma = A.ldlt().solve(b);
    if (!gamma.allFinite()) continue;  // plain fixed-point step
    for (Eigen::Index i = 0; i < m; ++i) x -= gamma[i] * dG[static_cast<std::size_t>(i)];
  }
  return false;
}

template bool ImplicitEuler<1>::Impl::attempt_interaction(const Field<1>&, double, int&, int&);
template bool ImplicitEuler<2>::Impl::attempt_interaction(const Field<2>&, double, int&, int&);
template bool ImplicitEuler<3>::Impl::attempt_interaction(const Field<3>&, double, int&, int&);

}  // namespace wgflow
