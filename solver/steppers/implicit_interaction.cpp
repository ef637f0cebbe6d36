/// Implicit Euler with an interaction term (numerics.md "Implicit time step": interaction at the
/// average, Bailo–Carrillo–Hu 2020): the fully implicit scheme (upwind, or SG for U = D q log q) with
///   ξ^{n+1} = U'(q^{n+1}) + V + W*((qⁿ + q^{n+1})/2),
/// for which E_D(q^{n+1}) ≤ E_D(qⁿ) for symmetric W and convex U at any Δt (the interaction energy's
/// change is exactly ⟨W*(qⁿ + q^{n+1})/2, q^{n+1} − qⁿ⟩, and both fluxes dissipate ξ). The dense W* part
/// is lagged: an outer fixed point q^{k+1} = solve(Φ = W*((qⁿ + q^k)/2)) around the sparse solve of the
/// local part (Newton for the upwind scheme; for SG the linear solve with the matrix of V + Φ),
/// until ‖q^{k+1} − q^k‖∞ ≤ 1e-12 ‖q^{k+1}‖∞. Every inner solve ends in the conservative update (mass
/// to round-off) and its positivity checks; an outer loop that does not converge rejects the attempt,
/// and the step control retries with a smaller Δt.
#include <algorithm>
#include <cmath>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

namespace {
constexpr int max_outer_iterations = 60;
constexpr double outer_tolerance = 1e-12;
}  // namespace

template <int Dim>
bool ImplicitEuler<Dim>::Impl::attempt_interaction(const Field<Dim>& qn, double dt, int& newton_iterations,
                                                   int& lin_iterations) {
  const InteractionTerm<Dim>& W = *energy.interaction();
  std::copy(qn.data(), qn.data() + L.padded_size, q_prev.data());
  const double* q0 = qn.data();
  double* qp = q_prev.data();
  for (int outer = 0; outer < max_outer_iterations; ++outer) {
    // Φ = W*((qⁿ + q^k)/2); q_prev holds the average only while it is convolved.
    std::copy(qp, qp + L.padded_size, out.data());  // keep q^k (out is overwritten by the solve anyway)
    parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) qp[c] = 0.5 * (q0[c] + qp[c]);
    });
    const Field<Dim>& phi = W.convolve(q_prev);
    std::copy(phi.data(), phi.data() + L.padded_size, phi_lag.data());
    std::copy(out.data(), out.data() + L.padded_size, qp);
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
    // out = q^{k+1}: the change since q^k decides convergence.
    const double* o = out.data();
    double change = 0.0, size = 0.0;
    for (std::ptrdiff_t c : unk.cell) {
      change = std::max(change, std::abs(o[c] - qp[c]));
      size = std::max(size, std::abs(o[c]));
    }
    std::copy(o, o + L.padded_size, qp);
    if (change <= outer_tolerance * size) return true;
  }
  return false;
}

template bool ImplicitEuler<1>::Impl::attempt_interaction(const Field<1>&, double, int&, int&);
template bool ImplicitEuler<2>::Impl::attempt_interaction(const Field<2>&, double, int&, int&);
template bool ImplicitEuler<3>::Impl::attempt_interaction(const Field<3>&, double, int&, int&);

}  // namespace wgflow
