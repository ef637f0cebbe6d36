/// Upwind case: Newton on the implicit first-order upwind scheme (residual, analytic Jacobian, line search).
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "grids/boundary.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/upwind.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"
#include "solver/steppers/upwind_sweep.hpp"

namespace wgflow {

using namespace implicit_detail;

/// o = q^n + Δt L(q) (the conservative update at q) and R(q) = q − o, for q and ξ with ghosts.
template <int Dim>
auto ImplicitEuler<Dim>::Impl::residual(const Field<Dim>& qf, const Field<Dim>& xif, const Field<Dim>& qn, double dt,
                                       Field<Dim>& o, Vec& r) -> ResidualNorms {
  r.resize(unk.n);
  const double* q = qf.data();
  const double* xi = xif.data();
  const double* q0 = qn.data();
  double* op = o.data();
  double* rp = r.data();
  parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
    const std::ptrdiff_t u0 = first_unknown(L, row, begin);
    double sq = 0.0, inf = 0.0, fl = 0.0;
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      double rate = 0.0, size = 0.0;
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        rate += upwind_face_rate<1>(q, xi, c, s, inv_dx2[k], 0.0) -
                upwind_face_rate<1>(q, xi, c + s, s, inv_dx2[k], 0.0);
        // Rounding of u Δx = ξ_L − ξ_R is ε(|ξ_L| + |ξ_R|); it multiplies the upwind density.
        size += ((std::abs(xi[c - s]) + std::abs(xi[c])) * (q[c - s] + q[c]) +
                 (std::abs(xi[c]) + std::abs(xi[c + s])) * (q[c] + q[c + s])) *
                inv_dx2[k];
      }
      op[c] = flush_subnormal(q0[c] + dt * rate);
      const double res = q[c] - op[c];
      rp[u0 + (c - begin)] = res;
      sq += res * res;
      inf = std::max(inf, std::abs(res));
      fl = std::max(fl, std::abs(q[c]) + std::abs(q0[c]) + dt * size);
    }
    row_a[row] = sq;
    row_b[row] = inf;
    row_c[row] = fl;
  });
  ResidualNorms n;
  ChunkSums<1> sq;  // row partials added exactly: independent of the thread count, the same on every rank
  double maxima[2] = {0.0, 0.0};
  for (std::size_t i = 0; i < row_a.size(); ++i) {
    sq.add({row_a[i]});
    maxima[0] = std::max(maxima[0], row_b[i]);
    maxima[1] = std::max(maxima[1], row_c[i]);
  }
  sq.allreduce(grid.ranks);
  grid.ranks.max(maxima, 2);
  n.sq = sq.values()[0];
  n.inf = maxima[0];
  n.floor = maxima[1];
  if (!std::isfinite(n.sq)) n.inf = n.sq = std::numeric_limits<double>::infinity();
  n.floor *= 16.0 * eps;
  return n;
}


/// Jacobian I − Δt dL/dq of the first-order upwind scheme at (q, ξ), the upwind switch frozen.
/// Row by row, so it runs in parallel and deterministically: into the fixed pattern (Eigen), or with
/// multigrid row-scaled into hypre's stencil values (mg_stencil, mg_scale = 1/diagonal), where a
/// neighbour may be another rank's cell (its q and ξ are the exchanged ghosts).
template <int Dim>
void ImplicitEuler<Dim>::Impl::assemble_jacobian(const Field<Dim>& qf, const Field<Dim>& xif, double dt) {
  const double* q = qf.data();
  const double* xi = xif.data();
  double* jv = J.valuePtr();
  const Curvature cv = curv;
  // f-divergence energies: ∂ξ/∂q = r² f''(r)/(q + ε) depends on the cell's p, so it is tabulated per cell.
  const FDivergence<Dim>* divergence = energy.divergence();
  if (divergence != nullptr) {
    divergence->dxi_dq(qf, dxi);
    fill_ghosts(dxi, grid);  // a face across a periodic wrap or a rank border reads the neighbour's
  }
  const double* dxi_dq = divergence != nullptr ? dxi.data() : nullptr;
  auto d2U = [&](std::ptrdiff_t c) { return dxi_dq != nullptr ? dxi_dq[c] : cv.d2U(q[c]); };
  auto P_prime = [&](std::ptrdiff_t c) { return dxi_dq != nullptr ? q[c] * dxi_dq[c] : cv.P_prime(q[c]); };
  // dG/dq_L and dG/dq_R of G = (max(u,0) q_L + min(u,0) q_R)/Δx², u Δx = ξ_L − ξ_R, ξ = U'(q) + V.
  auto face = [&](std::ptrdiff_t Lc, std::ptrdiff_t Rc, double inv2, double& dL, double& dR) {
    const double u = xi[Lc] - xi[Rc];
    const double qL = q[Lc], qR = q[Rc];
    if (u > 0.0) {
      dL = u + P_prime(Lc);
      dR = -qL * d2U(Rc);
    } else if (u < 0.0) {
      dL = qR * d2U(Lc);
      dR = u - P_prime(Rc);
    } else {  // at the switch: the central average of the two branches
      const double qa = 0.5 * (qL + qR);
      dL = qa * d2U(Lc);
      dR = -qa * d2U(Rc);
    }
    dL *= inv2;
    dR *= inv2;
  };
  if (mg) {
    constexpr int own = 2 * Dim + 1;
    mg_scale.resize(unk.n);
    double* v = mg_stencil.data();
    double* scale = mg_scale.data();
    parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(L, row, begin);
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
        const auto u = static_cast<std::size_t>(u0 + (c - begin));
        const auto& nb = unk.nbr[u];
        double* e = v + u * own;
        double diag = 1.0;
        for (int k = 0; k < Dim; ++k) {
          const std::ptrdiff_t s = L.stride[k];
          double dL, dR;
          e[1 + 2 * k] = e[2 + 2 * k] = 0.0;  // a wall
          if (nb[static_cast<std::size_t>(2 * k)] != -1) {  // low face (in this box, wrapped or remote)
            face(c - s, c, inv_dx2[k], dL, dR);
            e[1 + 2 * k] = -(dt * dL);
            diag -= dt * dR;
          }
          if (nb[static_cast<std::size_t>(2 * k + 1)] != -1) {
            face(c, c + s, inv_dx2[k], dL, dR);
            diag += dt * dL;
            e[2 + 2 * k] = dt * dR;
          }
        }
        const double l = 1.0 / diag;  // row scaling: unit diagonal
        scale[u] = l;
        e[0] = 1.0;
        for (int j = 1; j < own; ++j) e[j] *= l;
      }
    });
    return;
  }
  parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
    const std::ptrdiff_t u0 = first_unknown(L, row, begin);
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      const auto u = static_cast<std::size_t>(u0 + (c - begin));
      const auto& sl = unk.slot[u];
      const auto& nb = unk.nbr[u];
      for (int j = 0; j < Unknowns<Dim>::slots; ++j)
        if (sl[static_cast<std::size_t>(j)] >= 0) jv[sl[static_cast<std::size_t>(j)]] = 0.0;
      double diag = 1.0;
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        double dL, dR;
        if (nb[static_cast<std::size_t>(2 * k)] >= 0) {  // low face: rate += G(q_low, q_c)
          face(c - s, c, inv_dx2[k], dL, dR);
          jv[sl[static_cast<std::size_t>(1 + 2 * k)]] -= dt * dL;
          diag -= dt * dR;
        }
        if (nb[static_cast<std::size_t>(2 * k + 1)] >= 0) {  // high face: rate −= G(q_c, q_high)
          face(c, c + s, inv_dx2[k], dL, dR);
          diag += dt * dL;
          jv[sl[static_cast<std::size_t>(2 + 2 * k)]] += dt * dR;
        }
      }
      jv[sl[0]] += diag;
    }
  });
}

/// Newton direction J δ = −R. multigrid: newton_direction_multigrid; eigen: BiCGSTAB (Jacobi or ILUT)
/// to the linear tolerance, a sparse LU if that fails.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::newton_direction(double forcing, int& lin_iterations) {
  const Vec rhs = -R;
  if (mg) return newton_direction_multigrid(rhs, forcing, lin_iterations);
  bool ok;
  if (incomplete) {
    if (!newton_pattern_ready) {
      // compute(), not analyzePattern() + factorize(): Eigen 3.4's IterativeSolverBase::analyzePattern
      // reads the ILUT preconditioner's info() before any factorisation has set it (UBSan: invalid
      // enum load). Later steps reuse the pattern.
      bicg_ilut.compute(J);
      newton_pattern_ready = true;
    } else {
      bicg_ilut.factorize(J);
    }
    bicg_ilut.setTolerance(opt.linear_tolerance);
    delta = bicg_ilut.solve(rhs);
    lin_iterations += static_cast<int>(bicg_ilut.iterations());
    ok = bicg_ilut.info() == Eigen::Success;
  } else {
    bicg_diag.compute(J);
    bicg_diag.setTolerance(opt.linear_tolerance);
    delta = bicg_diag.solve(rhs);
    lin_iterations += static_cast<int>(bicg_diag.iterations());
    ok = bicg_diag.info() == Eigen::Success;
  }
  if (ok && delta.allFinite()) return true;
  // J is a nonsingular M-matrix (off-diagonals ≤ 0, column sums 1), so LU cannot break down.
  ++stats.direct_solves;
  lu.compute(SpMatC(J));
  if (lu.info() != Eigen::Success) return false;
  delta = lu.solve(rhs);
  return delta.allFinite();
}

/// J δ = rhs by hypre on the row-scaled diag(J)⁻¹J (unit diagonal; J is an M-matrix with column sums 1)
/// to ‖rhs − Jδ‖ ≤ forcing·‖rhs‖ in the row-scaled norm. BiCGSTAB + PFMG first, capped at
/// pfmg_iterations: it takes ~5 iterations on these Jacobians but can stall where the upwind transport
/// dominates (1D and 3D with vacuum at 100x the explicit limit: relative residual 1 after 500
/// iterations). Then BiCGSTAB + SMG (line/plane smoothing), warm-started, up to max_linear_iterations;
/// it converged on every system of the implicit tests. 1D goes straight to SMG, whose line smoother is
/// an exact tridiagonal solve there. A miss fails the attempt: the step is retried with a smaller Δt.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::newton_direction_multigrid(const Vec& rhs, double forcing, int& lin_iterations) {
  using MG = StructMultigrid<Dim>;
  constexpr int pfmg_iterations = 40;
  mg_loaded = MgMatrix::none;  // mg holds J now, not an SG matrix
  const Vec b = mg_scale.cwiseProduct(rhs);  // mg_scale, mg_stencil: assemble_jacobian
  bool use_guess = false;
  if (Dim > 1) {
    mg->set_stencil(mg_stencil.data(), MG::Method::bicgstab, MG::Cycle::pfmg);
    const auto res = mg->solve(b, delta, false, forcing, std::min(pfmg_iterations, opt.max_linear_iterations));
    lin_iterations += res.iterations;
    if (res.converged) return true;
    ++stats.smg_fallbacks;
    // Every rank the same choice: δ's finiteness is local, so it goes through a max over ranks.
    use_guess = res.relative_residual < 1.0 && grid.ranks.max(delta.allFinite() ? 0.0 : 1.0) == 0.0;
    mg->use(MG::Method::bicgstab, MG::Cycle::smg);
  } else {
    mg->set_stencil(mg_stencil.data(), MG::Method::bicgstab, MG::Cycle::smg);
  }
  const auto res = mg->solve(b, delta, use_guess, forcing, opt.max_linear_iterations);
  lin_iterations += res.iterations;
  if (!res.converged) ++stats.failed_solves;
  return res.converged;
}

/// Largest λ ≤ 1 with q + λδ ≥ 0, after holding at 0 the cells at 0 that δ would push below.
template <int Dim>
double ImplicitEuler<Dim>::Impl::bound_step(const Field<Dim>& qf) {
  const double* q = qf.data();
  double* d = delta.data();
  parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
    const std::ptrdiff_t u0 = first_unknown(L, row, begin);
    double lam = 1.0;
    for (int i = 0; i < count; ++i) {
      double& di = d[u0 + i];
      const double qi = q[begin + i];
      if (di < 0.0) {
        if (qi <= 0.0)
          di = 0.0;
        else
          lam = std::min(lam, qi / -di);
      }
    }
    row_a[row] = lam;
  });
  double lam = 1.0;
  for (double v : row_a) lam = std::min(lam, v);
  return grid.ranks.min(lam);  // the whole grid's bound: every rank takes the same λ
}

/// trial = q + λδ on the interior (≥ 0: a cell that λ brings exactly to the bound may land a rounding
/// error below it and is set to 0), ghosts and ξ filled.
template <int Dim>
void ImplicitEuler<Dim>::Impl::make_trial(const Field<Dim>& qf, double lambda) {
  const double* q = qf.data();
  const double* d = delta.data();
  double* t = q_trial.data();
  parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
    const std::ptrdiff_t u0 = first_unknown(L, row, begin);
    for (int i = 0; i < count; ++i) t[begin + i] = std::max(0.0, q[begin + i] + lambda * d[u0 + i]);
  });
  fill_ghosts(q_trial, grid);
  variation(q_trial, xi_trial);
}

/// One Newton update of q_star along δ that keeps it ≥ 0. First the step is cut to the boundary
/// (largest λ ≤ 1 with q + λδ ≥ 0, cells at 0 that δ would push below held at 0) and halved until
/// Armijo holds; if that λ is tiny (a cell at ~0 that δ wants far below 0 stalls it), the projected
/// arc max(q + λδ, 0) from λ = 1 is searched instead. False if neither decreases ‖R‖₂.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::line_search(const Field<Dim>& qn, double dt, ResidualNorms& res) {
  const double norm = std::sqrt(res.sq);
  auto try_lambda = [&](double lambda) {
    make_trial(q_star, lambda);
    const ResidualNorms trial = residual(q_trial, xi_trial, qn, dt, out_trial, R_trial);
    if (std::sqrt(trial.sq) <= (1.0 - 1e-4 * lambda) * norm) {  // Armijo on ‖R‖₂
      res = trial;
      return true;
    }
    ++stats.line_search_cuts;
    return false;
  };
  const double lambda_max = bound_step(q_star);
  if (lambda_max < 1.0) ++stats.bound_limited_steps;
  if (lambda_max >= 1e-3)
    for (double lambda = lambda_max; lambda >= 1e-3 * lambda_max; lambda *= 0.5)
      if (try_lambda(lambda)) return true;
  ++stats.projected_steps;  // make_trial projects: q + λδ below 0 is held at 0
  for (double lambda = 1.0; lambda >= 1e-9; lambda *= 0.5)
    if (try_lambda(lambda)) return true;
  return false;
}

/// One step of the upwind case: Newton from q^n, conservative update, the upwind sweep's fluxes if it is < 0.
template <int Dim>
bool ImplicitEuler<Dim>::Impl::attempt_newton(const Field<Dim>& qn, double dt, int& newton_iterations,
                                            int& lin_iterations) {
  // The iterate lives in q_star (with ξ in xi_it) and starts at q^n.
  std::copy(qn.data(), qn.data() + L.padded_size, q_star.data());
  variation(q_star, xi_it);
  double q_max = 0.0;
  for (std::ptrdiff_t c : unk.cell) q_max = std::max(q_max, qn[c]);
  q_max = grid.ranks.max(q_max);
  curv.q_floor = 1e-10 * q_max;
  ResidualNorms res = residual(q_star, xi_it, qn, dt, out, R);
  const double initial_inf = res.inf;
  const double target = opt.newton_tolerance * initial_inf;
  for (int it = 0;; ++it) {
    if (!std::isfinite(res.inf)) return false;
    if (res.inf <= std::max(target, res.floor)) {
      if (!opt.conservative_update) {
        out.swap(q_star);
        return check_sign(out, grid.ranks) == SignCheck::nonnegative;
      }
      // out = q^n + ΔtL(q*) = q* − R(q*) is < 0 where R exceeds a tiny q*. Then apply the fluxes
      // of the frozen-velocity solution instead: also conservative, and ≥ 0.
      const SignCheck sign = check_sign(out, grid.ranks);
      if (sign != SignCheck::negative) return sign == SignCheck::nonnegative;
      // q̂ of (I − Δt L_u) q̂ = qⁿ, u frozen at ξ(q*): ≥ 0, on any number of ranks (upwind_sweep.cpp).
      ++stats.positivity_retries;
      const UpwindSweepResult sweep = upwind_sweep(grid, unk, xi_it, qn, dt, inv_dx2.data(), q_trial);
      stats.sweep_rounds += sweep.rounds;
      if (!sweep.ok) {
        ++stats.failed_sweeps;
        return false;
      }
      residual(q_trial, xi_it, qn, dt, out, R_trial);  // fluxes of q̂ with the velocities of q*
      if (check_sign(out, grid.ranks) == SignCheck::nonnegative) return true;
      ++stats.negative_states;
      return false;
    }
    if (it >= opt.max_newton_iterations) return false;
    assemble_jacobian(q_star, xi_it, dt);
    // Inexact Newton (multigrid path): solve J δ = −R only to η = ‖R‖∞/‖R(q^n)‖∞ relative (in
    // [linear_tolerance, 1e-3]); the new residual is then O(η‖R‖ + ‖R‖²), the same quadratic rate
    // for about half the Krylov iterations of η = 1e-10. The guarantees do not depend on η: Newton
    // still stops at the same ‖R‖∞ and the state is the conservative update.
    const double forcing = std::clamp(res.inf / initial_inf, opt.linear_tolerance, 1e-3);
    if (!newton_direction(forcing, lin_iterations)) return false;
    if (!line_search(qn, dt, res)) return false;
    q_star.swap(q_trial);
    xi_it.swap(xi_trial);
    out.swap(out_trial);
    R.swap(R_trial);
    ++newton_iterations;
  }
}

template bool ImplicitEuler<1>::Impl::attempt_newton(const Field<1>&, double, int&, int&);
template bool ImplicitEuler<2>::Impl::attempt_newton(const Field<2>&, double, int&, int&);
template bool ImplicitEuler<3>::Impl::attempt_newton(const Field<3>&, double, int&, int&);

}  // namespace wgflow
