/// SG case: SG matrix assembly, Slotboom-symmetrised CG solve (BiCGSTAB fallback), SG conservative update.
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCore>
#include <algorithm>
#include <array>
#include <cmath>

#include "grids/boundary.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

using namespace implicit_detail;

/// A = the SG matrix (L(q) = A q), W and the Slotboom scaling h, once: none of them depends on Δt.
template <int Dim>
void ImplicitEuler<Dim>::Impl::setup_linear() {
  mg_dt = -1.0;  // the multigrid stencil belongs to the previous coefficients
  if (!decomposed) assemble_sg_matrix();  // a decomposed grid's rows would miss other ranks' cells
  // c⁺ e^{−V_L/D} = c⁻ e^{−V_R/D} (detailed balance of SG), so with h = e^{V/(2D)} the matrix H A H⁻¹
  // has the symmetric off-diagonals √(c⁺c⁻). Centre the exponent to halve its range; beyond ±300
  // (factors 1e±130) the scaled residual says little about the unscaled one: use BiCGSTAB instead.
  // The range is the whole grid's (max-allreduce, exact): every rank scales alike.
  const double D = energy.internal().D;
  const Field<Dim>& V = sg->drift_potential();  // V, or V + W*((qⁿ + q^k)/2) with an interaction
  double v_min = V[unk.cell[0]], v_max = v_min;
  for (std::ptrdiff_t c : unk.cell) {
    v_min = std::min(v_min, V[c]);
    v_max = std::max(v_max, V[c]);
  }
  double extremes[2] = {-v_min, v_max};
  grid.ranks.max(extremes, 2);
  v_min = -extremes[0];
  v_max = extremes[1];
  const double v_mid = 0.5 * (v_min + v_max);
  scaled = (v_max - v_min) / (4.0 * D) <= 300.0;
  if (scaled) {
    h.resize(unk.n);
    h_inv.resize(unk.n);
    for (Eigen::Index u = 0; u < unk.n; ++u) {
      const double z = (V[unk.cell[static_cast<std::size_t>(u)]] - v_mid) / (2.0 * D);
      h[u] = std::exp(z);
      h_inv[u] = std::exp(-z);
    }
  }
}

/// A (L(q) = A q) and W over the unknowns' pattern: the Eigen solvers and the direct repair (one rank).
template <int Dim>
void ImplicitEuler<Dim>::Impl::assemble_sg_matrix() {
  A = unk.pattern;
  W = Vec::Zero(A.nonZeros());
  double* a = A.valuePtr();
  double* w = W.data();
  std::array<const double*, Dim> cp, cm;
  for (int k = 0; k < Dim; ++k) {
    cp[k] = sg->c_plus(k).data();
    cm[k] = sg->c_minus(k).data();
  }
  // Row u: the low face of its cell (coefficients at c) adds J_low/Δx = c⁺ q_low − c⁻ q_u, the
  // high face (coefficients at c + s) subtracts c⁺ q_u − c⁻ q_high. Serial: assembled once.
  for (Eigen::Index u = 0; u < unk.n; ++u) {
    const std::ptrdiff_t c = unk.cell[static_cast<std::size_t>(u)];
    const auto& sl = unk.slot[static_cast<std::size_t>(u)];
    const auto& nb = unk.nbr[static_cast<std::size_t>(u)];
    for (int k = 0; k < Dim; ++k) {
      const std::ptrdiff_t s = L.stride[k];
      if (nb[static_cast<std::size_t>(2 * k)] >= 0) {
        const int p = sl[static_cast<std::size_t>(1 + 2 * k)];
        a[sl[0]] -= cm[k][c];
        a[p] += cp[k][c];
        w[p] += std::sqrt(cp[k][c] * cm[k][c]);
      }
      if (nb[static_cast<std::size_t>(2 * k + 1)] >= 0) {
        const int p = sl[static_cast<std::size_t>(2 + 2 * k)];
        a[sl[0]] -= cp[k][c + s];
        a[p] += cm[k][c + s];
        w[p] += std::sqrt(cp[k][c + s] * cm[k][c + s]);
      }
    }
  }
  M = A;
  S = A;
}

/// M = I − ΔtA, S = H M H⁻¹ and the CG preconditioner, when Δt changes.
template <int Dim>
void ImplicitEuler<Dim>::Impl::set_linear_dt(double dt) {
  if (dt == matrix_dt || decomposed) return;
  matrix_dt = dt;
  const double* a = A.valuePtr();
  double* m = M.valuePtr();
  double* sv = S.valuePtr();
  const double* w = W.data();
  const auto nnz = A.nonZeros();
  for (Eigen::Index p = 0; p < nnz; ++p) {
    m[p] = -dt * a[p];
    sv[p] = -dt * w[p];
  }
  for (Eigen::Index u = 0; u < unk.n; ++u) {
    const int d = unk.slot[static_cast<std::size_t>(u)][0];
    m[d] += 1.0;
    sv[d] = m[d];  // a similarity transform keeps the diagonal
  }
  if (scaled && !mg) {
    if (incomplete)
      cg_ic.compute(S);
    else
      cg_diag.compute(S);
  }
  bicg_linear_ready = false;
  direct_ready = false;
}

/// Solves the increment form (I − ΔtA) δ = ΔtA q^n; q_star = q^n + δ. False if the Krylov solver failed.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::solve_linear_krylov(const Vec& qn, const Vec& rhs, Vec& qs, int& iterations) {
  const double rhs_norm = rhs.norm();
  if (!(rhs_norm > 0.0)) {  // already stationary (or empty): δ = 0
    qs = qn;
    return std::isfinite(rhs_norm);
  }
  Vec d;
  bool ok = false;
  if (scaled) {
    const Vec b = h.cwiseProduct(rhs);
    Vec y;
    if (incomplete) {
      cg_ic.setTolerance(opt.linear_tolerance);
      y = cg_ic.solve(b);
      iterations += static_cast<int>(cg_ic.iterations()) + 1;  // Eigen's CG counts one short
      ok = cg_ic.info() == Eigen::Success;
    } else {
      cg_diag.setTolerance(opt.linear_tolerance);
      y = cg_diag.solve(b);
      iterations += static_cast<int>(cg_diag.iterations()) + 1;
      ok = cg_diag.info() == Eigen::Success;
    }
    d = h_inv.cwiseProduct(y);
    // The tolerance held in the scaled norm; check the unscaled residual too (they differ by the
    // range of e^{V/(2D)}), allowing for the round-off floor of the residual itself.
    if (ok) {
      const double r = (rhs - M * d).norm();
      const double floor = 64.0 * eps * (rhs_norm + (M.cwiseAbs() * d.cwiseAbs()).norm());
      ok = r <= std::max(1e3 * opt.linear_tolerance * rhs_norm, floor);
      if (!ok) ++stats.krylov_fallbacks;
    }
  }
  if (!ok) {
    if (!bicg_linear_ready) {
      bicg_linear.compute(M);
      bicg_linear_ready = true;
    }
    bicg_linear.setTolerance(opt.linear_tolerance);
    if (d.size() == unk.n && d.allFinite())
      d = bicg_linear.solveWithGuess(rhs, d);
    else
      d = bicg_linear.solve(rhs);
    iterations += static_cast<int>(bicg_linear.iterations());
    ok = bicg_linear.info() == Eigen::Success && d.allFinite();
  }
  if (!ok) return false;
  qs = qn + d;
  return true;
}

/// out = q^n + Δt·(−div J(q_star)) with SG face fluxes: each face flux is the same number in both
/// of its cells, so Σ out = Σ q^n up to round-off whatever q_star is.
template <int Dim>
void ImplicitEuler<Dim>::Impl::sg_conservative_update(const Field<Dim>& qn, Field<Dim>& qs, double dt,
                                                    Field<Dim>& o) {
  fill_ghosts(qs, grid);
  const double* q = qs.data();
  const double* q0 = qn.data();
  double* op = o.data();
  std::array<const double*, Dim> cp, cm;
  for (int k = 0; k < Dim; ++k) {
    cp[k] = sg->c_plus(k).data();
    cm[k] = sg->c_minus(k).data();
  }
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      double rate = 0.0;
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        rate += sg_face_rate(cp[k][c], cm[k][c], q[c - s], q[c]) -
                sg_face_rate(cp[k][c + s], cm[k][c + s], q[c], q[c + s]);
      }
      op[c] = flush_subnormal(q0[c] + dt * rate);
    }
  });
}

/// One step of the linear case: Krylov (else direct) solve, conservative update, positivity repair if it is < 0.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::attempt_linear(const Field<Dim>& qn_field, double dt, int& lin_iterations) {
  Vec qn, qs;
  unk.gather(qn_field, qn);
  bool ok = false;
  if (mg) {  // any number of ranks; a failed solve rejects the attempt
    Vec rhs, d;
    const double rhs_norm = sg_multigrid_rhs(qn_field, dt, rhs);
    if (!(rhs_norm > 0.0)) {  // already stationary (or empty): δ = 0
      qs = qn;
      ok = std::isfinite(rhs_norm);
    } else if (solve_linear_multigrid(rhs, rhs_norm, dt, d, lin_iterations)) {
      qs = qn + d;
      ok = true;
    }
  } else {
    set_linear_dt(dt);
    const Vec rhs = dt * (A * qn);
    ok = solve_linear_krylov(qn, rhs, qs, lin_iterations);
    if (!ok) ok = solve_linear_direct(qn, qs);
  }
  if (!ok) return false;
  for (int pass = 0;; ++pass) {
    unk.scatter(qs, q_star);
    if (opt.conservative_update) {
      sg_conservative_update(qn_field, q_star, dt, out);
    } else {
      out.swap(q_star);
    }
    const SignCheck sign = check_sign(out, grid.ranks);  // every rank takes the same decision
    if (sign == SignCheck::nonnegative) return true;
    if (sign == SignCheck::not_finite) return false;
    if (pass > 0) {
      ++stats.negative_states;
      return false;
    }
    if (decomposed) {
      // The flux limiting in rounds of the halo exchange (implicit_positivity_ranks.cpp); the direct
      // re-solve needs the whole matrix, so a repair that moves too much (or cannot finish) rejects
      // the attempt and the step is retried smaller.
      ++stats.positivity_retries;
      if (opt.conservative_update) {
        ChunkSums<1> mass_sum;  // Σ|qⁿ| over all ranks, exact
        mass_sum.add({qn.lpNorm<1>()});
        mass_sum.allreduce(grid.ranks);
        const double mass = mass_sum.values()[0];
        const double moved = limit_sg_fluxes_decomposed(qn_field, dt);
        if (moved >= 0.0 && moved <= opt.repair_tolerance * mass) {
          stats.max_repair_change = std::max(stats.max_repair_change, mass > 0.0 ? moved / mass : 0.0);
          if (check_sign(out, grid.ranks) == SignCheck::nonnegative) return true;
          ++stats.negative_states;
          return false;
        }
        if (moved >= 0.0) ++stats.repairs_too_large;
      }
      ++stats.decomposed_rejections;
      return false;
    }
    // The Krylov iterate's residual made some cell negative (typically where the exact solution is
    // tiny next to the residual). Limit the offending outflows (local, ≥ 0 by construction); if that
    // moves more than the solve's accuracy allows, re-solve directly (small grids) or reject.
    ++stats.positivity_retries;
    if (opt.conservative_update) {
      const double mass = qn.lpNorm<1>();
      const double moved = limit_sg_fluxes(qn_field, dt);
      if (moved <= opt.repair_tolerance * mass) {
        stats.max_repair_change = std::max(stats.max_repair_change, mass > 0.0 ? moved / mass : 0.0);
        if (check_sign(out) == SignCheck::nonnegative) return true;
        ++stats.negative_states;  // cannot happen: every limited cell ends ≥ 0 (limit_sg_fluxes)
        return false;
      }
      ++stats.repairs_too_large;
    }
    if (unk.n > opt.direct_repair_max_unknowns) return false;  // retried with a smaller step
    set_linear_dt(dt);  // M and S of this Δt (the multigrid path has not needed them so far)
    if (!solve_linear_direct(qn, qs)) return false;
  }
}

template void ImplicitEuler<1>::Impl::setup_linear();
template void ImplicitEuler<2>::Impl::setup_linear();
template void ImplicitEuler<3>::Impl::setup_linear();
template bool ImplicitEuler<1>::Impl::attempt_linear(const Field<1>&, double, int&);
template bool ImplicitEuler<2>::Impl::attempt_linear(const Field<2>&, double, int&);
template bool ImplicitEuler<3>::Impl::attempt_linear(const Field<3>&, double, int&);

}  // namespace wgflow
