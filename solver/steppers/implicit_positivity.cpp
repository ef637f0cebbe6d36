/// Positivity repair of the conservative update: sign check, SG flux limiting (LDLᵀ as last resort), (the frozen-velocity upwind sweep: upwind_sweep.cpp).
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <queue>
#include <utility>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

namespace implicit_detail {

template <int Dim>
SignCheck check_sign(const Field<Dim>& f, const Communicator& ranks) {
  const double* p = f.data();
  // 2: not finite, 1: negative, 0: fine; max over rows (and ranks) is exact and order-free.
  const double flag = ranks.max(parallel_max_rows(f.layout(), [&](std::ptrdiff_t begin, int count) {
    double worst = 0.0;
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      if (!std::isfinite(p[c])) return 2.0;
      if (p[c] < 0.0) worst = 1.0;
    }
    return worst;
  }));
  return flag >= 2.0 ? SignCheck::not_finite : flag >= 1.0 ? SignCheck::negative : SignCheck::nonnegative;
}

template SignCheck check_sign(const Field<1>&, const Communicator&);
template SignCheck check_sign(const Field<2>&, const Communicator&);
template SignCheck check_sign(const Field<3>&, const Communicator&);

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

using implicit_detail::eps;
using implicit_detail::flush_subnormal;

template <int Dim>
std::array<double, 2 * Dim> ImplicitEuler<Dim>::Impl::sg_face_rates(std::ptrdiff_t c) const {
  const double* q = q_star.data();
  std::array<double, 2 * Dim> g{};
  for (int k = 0; k < Dim; ++k) {
    const std::ptrdiff_t s = L.stride[k];
    const double* cp = sg->c_plus(k).data();
    const double* cm = sg->c_minus(k).data();
    g[static_cast<std::size_t>(2 * k)] = sg_face_rate(cp[c], cm[c], q[c - s], q[c]);
    g[static_cast<std::size_t>(2 * k + 1)] = sg_face_rate(cp[c + s], cm[c + s], q[c], q[c + s]);
  }
  return g;
}

/// The conservative update out = qⁿ + Δt·div F(q_star) is < 0 somewhere (a far tail whose exact values
/// are tiny next to the solver's residual). Each cell u gets a factor β_u ∈ [0, 1] that scales all its
/// outflows (faces whose SG flux leaves u); a face carries β of its donor cell, the same number in both
/// of its cells, so the update stays in flux form and Σ out = Σ qⁿ to round-off.
///
/// Cells are limited in order of decreasing Slotboom potential log q* + V/D: an SG flux is
/// k (u_L − u_R) with k > 0 and u = q e^{V/D} (detailed balance), so it runs from higher to lower
/// potential and a cell's inflows are final when it is reached. A cell with out < 0 gets
/// β = (qⁿ + Δt·inflow)/(Δt·outflow) < 1, i.e. out ≈ 0; its receivers lose inflow and are re-checked
/// (queued when < 0 themselves). If rounding (or an order upset by ties) leaves a limited cell < 0
/// again, its β becomes 0: then out = qⁿ + Δt·Σ(inflows ≥ 0) is a sum of non-negative terms, ≥ 0 in
/// floating point whatever the other factors are. Each cell is limited at most twice, so this ends,
/// with every cell ≥ 0. Only cells reached from a negative one are touched: cost O(K log K) for K of
/// them, no factorisation. Cells never limited keep their out bit for bit; with no negative cell
/// nothing changes (the Gibbs state stays the exact fixed point). Serial: bitwise thread-independent.
template <int Dim>
double ImplicitEuler<Dim>::Impl::limit_sg_fluxes(const Field<Dim>& qn_field, double dt) {
  const double* q = q_star.data();  // ghosts filled by sg_conservative_update
  const double* q0 = qn_field.data();
  double* op = out.data();
  const double* V = sg->drift_potential().data();
  const double inv_D = 1.0 / energy.internal().D;
  const auto n = static_cast<std::size_t>(unk.n);
  limiter.assign(n, 1.0);
  limit_visits.assign(n, 0);
  auto rates = [&](std::size_t u) { return sg_face_rates(unk.cell[u]); };
  // β of the donor of face j of u (a wall has no donor: its rate is 0 anyway).
  auto donor_factor = [&](std::size_t u, int j, double g) {
    const bool from_low_side = g > 0.0;
    const bool u_gives = (j % 2 == 0) ? !from_low_side : from_low_side;
    if (u_gives) return limiter[u];
    const int w = unk.nbr[u][static_cast<std::size_t>(j)];
    return w >= 0 ? limiter[static_cast<std::size_t>(w)] : 1.0;
  };
  // out of u with the current factors; with all β = 1 the same operations as sg_conservative_update.
  auto update = [&](std::size_t u) {
    const auto g = rates(u);
    double rate = 0.0;
    for (int k = 0; k < Dim; ++k) {
      const auto lo = static_cast<std::size_t>(2 * k), hi = lo + 1;
      rate += donor_factor(u, int(lo), g[lo]) * g[lo] - donor_factor(u, int(hi), g[hi]) * g[hi];
    }
    return flush_subnormal(q0[unk.cell[u]] + dt * rate);
  };
  auto potential = [&](std::size_t u) {
    const std::ptrdiff_t c = unk.cell[u];
    return std::log(std::max(q[c], std::numeric_limits<double>::min())) + V[c] * inv_D;
  };
  std::priority_queue<std::pair<double, int>> queue;  // highest potential first; ties: higher index
  for (std::size_t u = 0; u < n; ++u)
    if (op[unk.cell[u]] < 0.0) queue.emplace(potential(u), static_cast<int>(u));
  double moved = 0.0;
  while (!queue.empty()) {
    const auto u = static_cast<std::size_t>(queue.top().second);
    queue.pop();
    const std::ptrdiff_t c = unk.cell[u];
    if (!(op[c] < 0.0)) continue;  // queued twice, or fixed meanwhile
    const double before = op[c];
    const auto g = rates(u);
    double in = 0.0, give = 0.0;
    for (int j = 0; j < 2 * Dim; ++j) {
      const double gj = (j % 2 == 0) ? g[static_cast<std::size_t>(j)] : -g[static_cast<std::size_t>(j)];  // > 0: into u
      if (gj > 0.0)
        in += donor_factor(u, j, g[static_cast<std::size_t>(j)]) * gj;
      else
        give -= gj;
    }
    if (limit_visits[u] == 0 && give > 0.0) {
      const double available = q0[c] + dt * in;
      // A hair below the balance, so that the rounding of the update (≤ (2·Dim + 1) terms of size
      // ≤ available) leaves out ≥ 0 rather than −ε·available, which would cost the cell its outflow.
      constexpr double shave = 1.0 - 16.0 * (2 * Dim + 1) * eps;
      limiter[u] = std::min(limiter[u], shave * std::max(available, 0.0) / (dt * give));
    } else {
      limiter[u] = 0.0;
    }
    ++limit_visits[u];
    ++stats.limited_cells;
    op[c] = update(u);
    if (op[c] < 0.0) {  // rounding: give nothing
      limiter[u] = 0.0;
      ++limit_visits[u];
      op[c] = update(u);
    }
    moved += std::abs(op[c] - before);
    // The receivers lost inflow.
    for (int j = 0; j < 2 * Dim; ++j) {
      const double gj = g[static_cast<std::size_t>(j)];
      const bool u_gives = (j % 2 == 0) ? gj < 0.0 : gj > 0.0;
      const int w = unk.nbr[u][static_cast<std::size_t>(j)];
      if (!u_gives || w < 0 || static_cast<std::size_t>(w) == u) continue;
      const std::ptrdiff_t cw = unk.cell[static_cast<std::size_t>(w)];
      const double was = op[cw];
      op[cw] = update(static_cast<std::size_t>(w));
      moved += std::abs(op[cw] - was);
      if (op[cw] < 0.0) queue.emplace(potential(static_cast<std::size_t>(w)), w);
    }
  }
  return moved;
}

template bool ImplicitEuler<1>::Impl::solve_linear_direct(const Vec&, Vec&);
template bool ImplicitEuler<2>::Impl::solve_linear_direct(const Vec&, Vec&);
template bool ImplicitEuler<3>::Impl::solve_linear_direct(const Vec&, Vec&);
template std::array<double, 2> ImplicitEuler<1>::Impl::sg_face_rates(std::ptrdiff_t) const;
template std::array<double, 4> ImplicitEuler<2>::Impl::sg_face_rates(std::ptrdiff_t) const;
template std::array<double, 6> ImplicitEuler<3>::Impl::sg_face_rates(std::ptrdiff_t) const;
template double ImplicitEuler<1>::Impl::limit_sg_fluxes(const Field<1>&, double);
template double ImplicitEuler<2>::Impl::limit_sg_fluxes(const Field<2>&, double);
template double ImplicitEuler<3>::Impl::limit_sg_fluxes(const Field<3>&, double);

}  // namespace wgflow
