#include "solver/steppers/implicit_euler.hpp"

#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/flux/upwind.hpp"
#include "solver/sg_operator.hpp"
#include "solver/upwind_operator.hpp"

namespace wgflow {

namespace {

using SpMatR = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;  // row-major: Eigen's SpMV runs on OpenMP
using SpMatC = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
using Vec = Eigen::VectorXd;

constexpr double eps = std::numeric_limits<double>::epsilon();

/// Index of the unknown of the first cell of row r (unknowns are numbered in dataset order, x fastest).
template <int Dim>
std::ptrdiff_t first_unknown(const FieldLayout<Dim>& L, std::size_t r, std::ptrdiff_t begin) {
  if constexpr (Dim == 1) return begin - L.offset;
  return static_cast<std::ptrdiff_t>(r) * L.shape[0];
}

/// The cells as unknowns: their neighbours across every face that exists (walls have none, periodic
/// axes wrap), a fixed sparsity pattern holding the diagonal and every neighbour, and the position of
/// each of those entries in the pattern's value array, so that rows can be filled in parallel.
template <int Dim>
struct Unknowns {
  static constexpr int slots = 2 * Dim + 1;  ///< 0: diagonal; 1 + 2k: low neighbour along k; 2 + 2k: high

  FieldLayout<Dim> layout;
  Eigen::Index n = 0;
  std::vector<std::ptrdiff_t> cell;               ///< unknown → padded index
  std::vector<std::array<int, 2 * Dim>> nbr;      ///< [2k] low, [2k + 1] high neighbour; −1 at a wall
  std::vector<std::array<int, slots>> slot;       ///< position in the pattern's values; −1: no entry
  SpMatR pattern;

  explicit Unknowns(const UniformGrid<Dim>& grid) : layout(grid.shape) {
    n = static_cast<Eigen::Index>(layout.num_cells());
    cell.resize(static_cast<std::size_t>(n));
    nbr.resize(static_cast<std::size_t>(n));
    std::array<int, Dim> ustride{};
    int s = 1;
    for (int k = 0; k < Dim; ++k) {
      ustride[k] = s;
      s *= grid.shape[k];
    }
    int u = 0;
    std::vector<Eigen::Triplet<double, int>> entries;
    for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& c, const std::array<double, Dim>&) {
      cell[static_cast<std::size_t>(u)] = idx;
      entries.emplace_back(u, u, 0.0);
      for (int k = 0; k < Dim; ++k) {
        const int nk = grid.shape[k];
        const bool periodic = grid.boundary[k] == Boundary::periodic;
        int lo = -1, hi = -1;
        if (c[k] > 0) lo = u - ustride[k];
        else if (periodic) lo = u + (nk - 1) * ustride[k];
        if (c[k] < nk - 1) hi = u + ustride[k];
        else if (periodic) hi = u - (nk - 1) * ustride[k];
        nbr[static_cast<std::size_t>(u)][static_cast<std::size_t>(2 * k)] = lo;
        nbr[static_cast<std::size_t>(u)][static_cast<std::size_t>(2 * k + 1)] = hi;
        if (lo >= 0) entries.emplace_back(u, lo, 0.0);
        if (hi >= 0) entries.emplace_back(u, hi, 0.0);
      }
      ++u;
    });
    pattern.resize(n, n);
    pattern.setFromTriplets(entries.begin(), entries.end());  // duplicates (periodic n ≤ 2) merge
    pattern.makeCompressed();
    slot.resize(static_cast<std::size_t>(n));
    const int* outer = pattern.outerIndexPtr();
    const int* inner = pattern.innerIndexPtr();
    auto find = [&](int row, int col) {
      for (int p = outer[row]; p < outer[row + 1]; ++p)
        if (inner[p] == col) return p;
      return -1;
    };
    for (int v = 0; v < n; ++v) {
      auto& sl = slot[static_cast<std::size_t>(v)];
      sl[0] = find(v, v);
      for (int j = 0; j < 2 * Dim; ++j) {
        const int w = nbr[static_cast<std::size_t>(v)][static_cast<std::size_t>(j)];
        sl[static_cast<std::size_t>(j + 1)] = w >= 0 ? find(v, w) : -1;
      }
    }
  }

  /// Interior values of f in unknown order.
  void gather(const Field<Dim>& f, Vec& x) const {
    x.resize(n);
    const double* fp = f.data();
    double* xp = x.data();
    parallel_for_rows(layout, [&](std::size_t r, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(layout, r, begin);
      for (int i = 0; i < count; ++i) xp[u0 + i] = fp[begin + i];
    });
  }
  /// Writes x into the interior of f (ghosts untouched).
  void scatter(const Vec& x, Field<Dim>& f) const {
    double* fp = f.data();
    const double* xp = x.data();
    parallel_for_rows(layout, [&](std::size_t r, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(layout, r, begin);
      for (int i = 0; i < count; ++i) fp[begin + i] = xp[u0 + i];
    });
  }
};

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

}  // namespace

template <int Dim>
struct ImplicitEuler<Dim>::Impl {
  const FreeEnergy<Dim>& energy;
  ImplicitOptions opt;
  UniformGrid<Dim> grid;
  Unknowns<Dim> unk;
  FieldLayout<Dim> L;
  bool linear;
  bool incomplete;  ///< incomplete factorisation preconditioners (else Jacobi)
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
  std::unique_ptr<UpwindOperator<Dim>> upwind;  ///< first order; only for the explicit limit
  Curvature curv{};
  Field<Dim> xi_it, q_trial, xi_trial, out_trial;
  Vec R, R_trial, delta;
  SpMatR J;
  Eigen::BiCGSTAB<SpMatR, Eigen::IncompleteLUT<double>> bicg_ilut;
  Eigen::BiCGSTAB<SpMatR, Eigen::DiagonalPreconditioner<double>> bicg_diag;
  bool newton_pattern_ready = false;

  Impl(const FreeEnergy<Dim>& e, const FluxSpec& flux, const ImplicitOptions& o)
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
    if (linear) {
      if (kind != InternalEnergySpec::Kind::entropy)
        throw std::invalid_argument("the Scharfetter-Gummel flux needs linear diffusion (U = D q log q)");
      sg = std::make_unique<SgOperator<Dim>>(e);
      setup_linear();
    } else {
      if (kind == InternalEnergySpec::Kind::entropy)
        throw std::invalid_argument(
            "implicit-euler: U = D q log q is solved with the Scharfetter-Gummel flux (its upwind xi is singular "
            "at vacuum)");
      FluxSpec first_order = flux;
      first_order.order = 1;
      upwind = std::make_unique<UpwindOperator<Dim>>(e, first_order);
      curv = Curvature{kind, e.internal().D, e.internal().m};
      xi_it = Field<Dim>(L);
      q_trial = Field<Dim>(L);
      xi_trial = Field<Dim>(L);
      out_trial = Field<Dim>(L);
      J = unk.pattern;
    }
  }

  // =====================================================================================
  // Linear case
  // =====================================================================================

  void setup_linear() {
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
    // c⁺ e^{−V_L/D} = c⁻ e^{−V_R/D} (detailed balance of SG), so with h = e^{V/(2D)} the matrix H A H⁻¹
    // has the symmetric off-diagonals √(c⁺c⁻). Centre the exponent to halve its range; beyond ±300
    // (factors 1e±130) the scaled residual says little about the unscaled one: use BiCGSTAB instead.
    const double D = energy.internal().D;
    const Field<Dim>& V = energy.V();
    double v_min = V[unk.cell[0]], v_max = v_min;
    for (std::ptrdiff_t c : unk.cell) {
      v_min = std::min(v_min, V[c]);
      v_max = std::max(v_max, V[c]);
    }
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
    M = A;
    S = A;
  }

  /// M = I − ΔtA, S = H M H⁻¹ and the CG preconditioner, when Δt changes.
  void set_linear_dt(double dt) {
    if (dt == matrix_dt) return;
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
    if (scaled) {
      if (incomplete)
        cg_ic.compute(S);
      else
        cg_diag.compute(S);
    }
    bicg_linear_ready = false;
    direct_ready = false;
  }

  /// Solves the increment form (I − ΔtA) δ = ΔtA q^n; q_star = q^n + δ. False if the Krylov solver failed.
  bool solve_linear_krylov(const Vec& qn, const Vec& rhs, Vec& qs, int& iterations) {
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

  /// Solves (I − ΔtA) q = q^n directly. With the Slotboom scaling this is LDLᵀ of the Stieltjes matrix S
  /// (any symmetric ordering keeps L's off-diagonals ≤ 0), so y = S⁻¹(H q^n) is computed from sums of
  /// terms of one sign and is ≥ 0 in floating point; q = H⁻¹ y.
  bool solve_linear_direct(const Vec& qn, Vec& qs) {
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

  /// out = q^n + Δt·(−div J(q_star)) with SG face fluxes: each face flux is the same number in both
  /// of its cells, so Σ out = Σ q^n up to round-off whatever q_star is.
  void sg_conservative_update(const Field<Dim>& qn, Field<Dim>& qs, double dt, Field<Dim>& o) {
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

  bool attempt_linear(const Field<Dim>& qn_field, double dt, int& lin_iterations) {
    set_linear_dt(dt);
    Vec qn, qs;
    unk.gather(qn_field, qn);
    const Vec rhs = dt * (A * qn);
    bool ok = solve_linear_krylov(qn, rhs, qs, lin_iterations);
    if (!ok) ok = solve_linear_direct(qn, qs);
    if (!ok) return false;
    for (int pass = 0;; ++pass) {
      unk.scatter(qs, q_star);
      if (opt.conservative_update) {
        sg_conservative_update(qn_field, q_star, dt, out);
      } else {
        out.swap(q_star);
      }
      const SignCheck sign = check_sign(out);
      if (sign == SignCheck::nonnegative) return true;
      if (sign == SignCheck::not_finite) return false;
      if (pass > 0) {
        ++stats.negative_states;
        return false;
      }
      // The Krylov iterate's residual made some cell negative (typically where the exact solution is
      // tiny next to the residual): redo the solve directly, which keeps every cell ≥ 0.
      ++stats.positivity_retries;
      if (!solve_linear_direct(qn, qs)) return false;
    }
  }

  // =====================================================================================
  // Nonlinear case: Newton on the fully implicit first-order upwind scheme
  // =====================================================================================

  struct ResidualNorms {
    double sq = 0.0;     ///< ‖R‖₂²
    double inf = 0.0;    ///< ‖R‖∞
    double floor = 0.0;  ///< round-off level of R: below it R cannot be reduced
  };

  /// o = q^n + Δt L(q) (the conservative update at q) and R(q) = q − o, for q and ξ with ghosts.
  ResidualNorms residual(const Field<Dim>& qf, const Field<Dim>& xif, const Field<Dim>& qn, double dt,
                         Field<Dim>& o, Vec& r) {
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
    for (std::size_t i = 0; i < row_a.size(); ++i) {  // row order: independent of the thread count
      n.sq += row_a[i];
      n.inf = std::max(n.inf, row_b[i]);
      n.floor = std::max(n.floor, row_c[i]);
    }
    if (!std::isfinite(n.sq)) n.inf = n.sq = std::numeric_limits<double>::infinity();
    n.floor *= 16.0 * eps;
    return n;
  }

  /// Jacobian I − Δt dL/dq of the first-order upwind scheme at (q, ξ), the upwind switch frozen.
  /// Row by row into the fixed pattern, so it runs in parallel and deterministically.
  void assemble_jacobian(const Field<Dim>& qf, const Field<Dim>& xif, double dt) {
    const double* q = qf.data();
    const double* xi = xif.data();
    double* jv = J.valuePtr();
    const Curvature cv = curv;
    // dG/dq_L and dG/dq_R of G = (max(u,0) q_L + min(u,0) q_R)/Δx², u Δx = ξ_L − ξ_R, ξ = U'(q) + V.
    auto face = [&](std::ptrdiff_t Lc, std::ptrdiff_t Rc, double inv2, double& dL, double& dR) {
      const double u = xi[Lc] - xi[Rc];
      const double qL = q[Lc], qR = q[Rc];
      if (u > 0.0) {
        dL = u + cv.P_prime(qL);
        dR = -qL * cv.d2U(qR);
      } else if (u < 0.0) {
        dL = qR * cv.d2U(qL);
        dR = u - cv.P_prime(qR);
      } else {  // at the switch: the central average of the two branches
        const double qa = 0.5 * (qL + qR);
        dL = qa * cv.d2U(qL);
        dR = -qa * cv.d2U(qR);
      }
      dL *= inv2;
      dR *= inv2;
    };
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

  /// Newton direction J δ = −R: BiCGSTAB (Jacobi or ILUT), a sparse LU if that fails.
  bool newton_direction(int& lin_iterations) {
    const Vec rhs = -R;
    bool ok;
    if (incomplete) {
      if (!newton_pattern_ready) {
        bicg_ilut.analyzePattern(J);
        newton_pattern_ready = true;
      }
      bicg_ilut.factorize(J);
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

  /// Largest λ ≤ 1 with q + λδ ≥ 0, after holding at 0 the cells at 0 that δ would push below.
  double bound_step(const Field<Dim>& qf) {
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
    return lam;
  }

  /// trial = q + λδ on the interior (≥ 0: a cell that λ brings exactly to the bound may land a rounding
  /// error below it and is set to 0), ghosts and ξ filled.
  void make_trial(const Field<Dim>& qf, double lambda) {
    const double* q = qf.data();
    const double* d = delta.data();
    double* t = q_trial.data();
    parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(L, row, begin);
      for (int i = 0; i < count; ++i) t[begin + i] = std::max(0.0, q[begin + i] + lambda * d[u0 + i]);
    });
    fill_ghosts(q_trial, grid);
    energy.variation(q_trial, xi_trial);
  }

  /// q_trial = the solution of (I − Δt L_u) q̂ = q^n with the upwind velocities u of ξ_it frozen, and
  /// ghosts. Flow runs from high to low ξ, so in order of decreasing ξ every cell's inflow comes from
  /// cells already done: one sweep of substitution, each q̂ a quotient of sums of non-negative terms,
  /// hence ≥ 0 in floating point. q̂ = q* − (I − Δt L_u)⁻¹ R(q*) differs from the Newton iterate q*
  /// by the residual only.
  void upwind_sweep(const Field<Dim>& qn, double dt) {
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

  /// One Newton update of q_star along δ that keeps it ≥ 0. First the step is cut to the boundary
  /// (largest λ ≤ 1 with q + λδ ≥ 0, cells at 0 that δ would push below held at 0) and halved until
  /// Armijo holds; if that λ is tiny (a cell at ~0 that δ wants far below 0 stalls it), the projected
  /// arc max(q + λδ, 0) from λ = 1 is searched instead. False if neither decreases ‖R‖₂.
  bool line_search(const Field<Dim>& qn, double dt, ResidualNorms& res) {
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

  bool attempt_newton(const Field<Dim>& qn, double dt, int& newton_iterations, int& lin_iterations) {
    // The iterate lives in q_star (with ξ in xi_it) and starts at q^n.
    std::copy(qn.data(), qn.data() + L.padded_size, q_star.data());
    energy.variation(q_star, xi_it);
    double q_max = 0.0;
    for (std::ptrdiff_t c : unk.cell) q_max = std::max(q_max, qn[c]);
    curv.q_floor = 1e-10 * q_max;
    ResidualNorms res = residual(q_star, xi_it, qn, dt, out, R);
    const double target = opt.newton_tolerance * res.inf;
    for (int it = 0;; ++it) {
      if (!std::isfinite(res.inf)) return false;
      if (res.inf <= std::max(target, res.floor)) {
        if (!opt.conservative_update) {
          out.swap(q_star);
          return check_sign(out) == SignCheck::nonnegative;
        }
        // out = q^n + ΔtL(q*) = q* − R(q*) is < 0 where R exceeds a tiny q*. Then apply the fluxes
        // of the frozen-velocity solution instead: also conservative, and ≥ 0.
        const SignCheck sign = check_sign(out);
        if (sign != SignCheck::negative) return sign == SignCheck::nonnegative;
        ++stats.positivity_retries;
        upwind_sweep(qn, dt);
        residual(q_trial, xi_it, qn, dt, out, R_trial);  // fluxes of q̂ with the velocities of q*
        if (check_sign(out) == SignCheck::nonnegative) return true;
        ++stats.negative_states;
        return false;
      }
      if (it >= opt.max_newton_iterations) return false;
      assemble_jacobian(q_star, xi_it, dt);
      if (!newton_direction(lin_iterations)) return false;
      if (!line_search(qn, dt, res)) return false;
      q_star.swap(q_trial);
      xi_it.swap(xi_trial);
      out.swap(out_trial);
      R.swap(R_trial);
      ++newton_iterations;
    }
  }

  bool attempt(Field<Dim>& q, double dt, int& newton_iterations, int& lin_iterations) {
    fill_ghosts(q, grid);
    if (linear) return attempt_linear(q, dt, lin_iterations);
    return attempt_newton(q, dt, newton_iterations, lin_iterations);
  }

  void record(int newton_iterations, int lin_iterations) {
    ++stats.steps;
    stats.newton_iterations += newton_iterations;
    stats.linear_iterations += lin_iterations;
    stats.last_newton_iterations = newton_iterations;
    stats.last_linear_iterations = lin_iterations;
    stats.max_newton_iterations = std::max(stats.max_newton_iterations, newton_iterations);
  }

  double explicit_limit(Field<Dim>& q) { return linear ? sg->dt_limit() : upwind->prepare(q); }
};

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
bool ImplicitEuler<Dim>::is_linear() const {
  return m->linear;
}

template <int Dim>
double ImplicitEuler<Dim>::explicit_limit(Field<Dim>& q) {
  return m->explicit_limit(q);
}

template <int Dim>
double ImplicitEuler<Dim>::proposed_dt() const {
  return std::min(m->dt_next, m->dt_cap);
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
bool ImplicitEuler<Dim>::step_fixed(Field<Dim>& q, double dt) {
  int newton = 0, lin = 0;
  if (!m->attempt(q, dt, newton, lin)) {
    ++m->stats.rejected;
    return false;
  }
  q.swap(m->out);
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
  }
  double proposal = std::min(s.dt_next, s.dt_cap);
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
      s.record(newton, lin);
      report.dt = dt;
      report.reached_stop = reached;
      const bool unclipped = dt == proposal;
      if (o.adaptive && unclipped && (s.linear || newton <= o.grow_max_iterations))
        s.dt_next = std::min(s.dt_cap, proposal * o.grow);
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
