/// Positivity repair of the conservative update: sign check, LDLᵀ direct solve (SG), frozen-velocity upwind sweep.
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

namespace implicit_detail {

template <int Dim>
SignCheck check_sign(const Field<Dim>& f) {
  const double* p = f.data();
  // 2: not finite, 1: negative, 0: fine; max over rows is exact and order-free.
  const double flag = parallel_max_rows(f.layout(), [&](std::ptrdiff_t begin, int count) {
    double worst = 0.0;
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      if (!std::isfinite(p[c])) return 2.0;
      if (p[c] < 0.0) worst = 1.0;
    }
    return worst;
  });
  return flag >= 2.0 ? SignCheck::not_finite : flag >= 1.0 ? SignCheck::negative : SignCheck::nonnegative;
}

template SignCheck check_sign(const Field<1>&);
template SignCheck check_sign(const Field<2>&);
template SignCheck check_sign(const Field<3>&);

}  // namespace implicit_detail

/// Solves (I − ΔtA) q = q^n directly. With the Slotboom scaling this is LDLᵀ of the Stieltjes matrix S
/// (any symmetric ordering keeps L's off-diagonals ≤ 0), so y = S⁻¹(H q^n) is computed from sums of
/// terms of one sign and is ≥ 0 in floating point; q = H⁻¹ y.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::solve_linear_direct(const Vec& qn, Vec& qs) {
  ++stats.direct_solves;
  if (!direct_ready) {
    if (scaled) {
      ldlt.compute(SpMatC(S));
      if (ldlt.info() != Eigen::Success) return false;
    } else {
      lu.compute(SpMatC(M));
      if (lu.info() != Eigen::Success) return false;
    }
    direct_ready = true;
  }
  if (scaled)
    qs = h_inv.cwiseProduct(ldlt.solve(h.cwiseProduct(qn)));
  else
    qs = lu.solve(qn);
  return qs.allFinite();
}

/// q_trial = the solution of (I − Δt L_u) q̂ = q^n with the upwind velocities u of ξ_it frozen, and
/// ghosts. Flow runs from high to low ξ, so in order of decreasing ξ every cell's inflow comes from
/// cells already done: one sweep of substitution, each q̂ a quotient of sums of non-negative terms,
/// hence ≥ 0 in floating point. q̂ = q* − (I − Δt L_u)⁻¹ R(q*) differs from the Newton iterate q*
/// by the residual only.
template <int Dim>
void ImplicitEuler<Dim>::Impl::upwind_sweep(const Field<Dim>& qn, double dt) {
  const double* xi = xi_it.data();
  std::vector<std::pair<double, int>> order(static_cast<std::size_t>(unk.n));
  for (int u = 0; u < unk.n; ++u) order[static_cast<std::size_t>(u)] = {xi[unk.cell[static_cast<std::size_t>(u)]], u};
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  Vec qh = Vec::Zero(unk.n);
  for (const auto& entry : order) {
    const auto u = static_cast<std::size_t>(entry.second);
    const std::ptrdiff_t c = unk.cell[u];
    double in = 0.0, out_rate = 0.0;
    for (int k = 0; k < Dim; ++k) {
      const std::ptrdiff_t s = L.stride[k];
      const int lo = unk.nbr[u][static_cast<std::size_t>(2 * k)];
      const int hi = unk.nbr[u][static_cast<std::size_t>(2 * k + 1)];
      if (lo >= 0) {
        const double ud = xi[c - s] - xi[c];
        if (ud > 0.0) in += ud * qh[lo] * inv_dx2[k];
        else if (ud < 0.0) out_rate -= ud * inv_dx2[k];
      }
      if (hi >= 0) {
        const double ud = xi[c] - xi[c + s];
        if (ud > 0.0) out_rate += ud * inv_dx2[k];
        else if (ud < 0.0) in -= ud * qh[hi] * inv_dx2[k];
      }
    }
    qh[static_cast<Eigen::Index>(u)] = (qn[c] + dt * in) / (1.0 + dt * out_rate);
  }
  unk.scatter(qh, q_trial);
  fill_ghosts(q_trial, grid);
}

template bool ImplicitEuler<1>::Impl::solve_linear_direct(const Vec&, Vec&);
template bool ImplicitEuler<2>::Impl::solve_linear_direct(const Vec&, Vec&);
template bool ImplicitEuler<3>::Impl::solve_linear_direct(const Vec&, Vec&);
template void ImplicitEuler<1>::Impl::upwind_sweep(const Field<1>&, double);
template void ImplicitEuler<2>::Impl::upwind_sweep(const Field<2>&, double);
template void ImplicitEuler<3>::Impl::upwind_sweep(const Field<3>&, double);

}  // namespace wgflow
