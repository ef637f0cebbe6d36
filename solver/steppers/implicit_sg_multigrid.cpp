/// SG case through hypre on any number of ranks: the stencil of I − ΔtA, the right-hand side and the
/// residual check are built from the SG face coefficients and fields whose ghosts the halo exchange
/// fills, never from the Eigen matrix (whose rows would miss neighbours on other ranks), so one code
/// path serves 1 and P ranks. Norms go through the reduction layer (grids/chunk_sums.hpp): every rank
/// gets the same bits and takes the same decision (accept, retry, fall back).
#include <array>
#include <cmath>

#include "grids/boundary.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

using namespace implicit_detail;

namespace {

template <int Dim>
struct FaceCoefficients {
  std::array<const double*, Dim> cp, cm;
  explicit FaceCoefficients(const SgOperator<Dim>& sg) {
    for (int k = 0; k < Dim; ++k) {
      cp[k] = sg.c_plus(k).data();
      cm[k] = sg.c_minus(k).data();
    }
  }
};

/// ‖x‖₂ of a vector in unknown order over all ranks: each reduction chunk (an x-row; a 1D segment)
/// summed in order, chunks added exactly, so the same bits on every rank.
template <int Dim>
std::array<double, 2> global_norms(const UniformGrid<Dim>& grid, const FieldLayout<Dim>& L, const double* x,
                                   const double* y) {
  const auto sums = reduce_chunks<ChunkSums<2>>(grid, L, [&](std::size_t c, std::ptrdiff_t begin, int count,
                                                             ChunkSums<2>& acc) {
    const std::ptrdiff_t u0 = first_unknown(L, c, begin);
    double sx = 0.0, sy = 0.0;
    for (std::ptrdiff_t u = u0; u < u0 + count; ++u) {
      sx += x[u] * x[u];
      if (y != nullptr) sy += y[u] * y[u];
    }
    acc.add({sx, sy});
  });
  const auto v = sums.values();
  return {std::sqrt(v[0]), std::sqrt(v[1])};
}

}  // namespace

/// mg_diag = diag(I − ΔtA) = 1 + Δt·Σ(outflow coefficients of the cell's faces; 0 at walls), and
/// mg_g = mg_diag^{-1/2} with its ghosts (the neighbours' values, on this rank or another).
template <int Dim>
void ImplicitEuler<Dim>::Impl::sg_multigrid_set_dt(double dt) {
  if (dt == mg_dt) return;
  mg_dt = dt;
  mg_loaded = MgMatrix::none;
  const FaceCoefficients<Dim> f(*sg);
  double* diag = mg_diag.data();
  double* g = mg_g.data();
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      double out = 0.0;  // the order of setup_linear's assembly: the same bits as the Eigen matrix
      for (int k = 0; k < Dim; ++k) {
        out += f.cm[k][c];
        out += f.cp[k][c + L.stride[k]];
      }
      diag[c] = 1.0 + dt * out;
      g[c] = 1.0 / std::sqrt(diag[c]);
    }
  });
  fill_ghosts(mg_g, grid);
}

template <int Dim>
double ImplicitEuler<Dim>::Impl::sg_multigrid_rhs(const Field<Dim>& qn, double dt, Vec& rhs) {
  rhs.resize(unk.n);
  const FaceCoefficients<Dim> f(*sg);
  const double* q = qn.data();
  double* b = rhs.data();
  parallel_for_rows(L, [&](std::size_t r, std::ptrdiff_t begin, int count) {
    const std::ptrdiff_t u0 = first_unknown(L, r, begin);
    for (int i = 0; i < count; ++i) {
      const std::ptrdiff_t c = begin + i;
      double rate = 0.0;
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        rate += sg_face_rate(f.cp[k][c], f.cm[k][c], q[c - s], q[c]) -
                sg_face_rate(f.cp[k][c + s], f.cm[k][c + s], q[c], q[c + s]);
      }
      b[u0 + i] = dt * rate;
    }
  });
  return global_norms(grid, L, b, nullptr)[0];
}

template <int Dim>
std::array<double, 2> ImplicitEuler<Dim>::Impl::sg_multigrid_residual(const Vec& rhs, double rhs_norm, const Vec& d,
                                                                       double dt) {
  unk.scatter(d, mg_d);
  fill_ghosts(mg_d, grid);
  const FaceCoefficients<Dim> f(*sg);
  const double* x = mg_d.data();
  const double* diag = mg_diag.data();
  const double* b = rhs.data();
  Vec res(unk.n), mag(unk.n);  // residual, |M||d|: once per solve, next to a multigrid solve's cost
  double* rp = res.data();
  double* mp = mag.data();
  parallel_for_rows(L, [&](std::size_t r, std::ptrdiff_t begin, int count) {
    const std::ptrdiff_t u0 = first_unknown(L, r, begin);
    for (int i = 0; i < count; ++i) {
      const std::ptrdiff_t c = begin + i;
      double off = 0.0, off_abs = 0.0;  // (ΔtA − diag part) d: inflows from the neighbours
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        off += f.cp[k][c] * x[c - s] + f.cm[k][c + s] * x[c + s];
        off_abs += f.cp[k][c] * std::abs(x[c - s]) + f.cm[k][c + s] * std::abs(x[c + s]);
      }
      rp[u0 + i] = b[u0 + i] - (diag[c] * x[c] - dt * off);
      mp[u0 + i] = diag[c] * std::abs(x[c]) + dt * off_abs;
    }
  });
  const auto norms = global_norms(grid, L, rp, mp);
  return {norms[0], 64.0 * eps * (rhs_norm + norms[1])};
}

/// (I − ΔtA) d = rhs by multigrid: CG on Ŝ = G S G, S = H(I − ΔtA)H⁻¹ the Slotboom-symmetrised matrix,
/// G = diag(S)^{-1/2} (unit diagonal: whatever V does, the multigrid sees entries in [−1, 1]),
/// Ŝ z = G H rhs, d = H⁻¹G z; if V/D spans too much for H, or the unscaled residual misses,
/// BiCGSTAB on the row-scaled diag(M)⁻¹M (warm-started from the CG result).
template <int Dim>
bool ImplicitEuler<Dim>::Impl::solve_linear_multigrid(const Vec& rhs, double rhs_norm, double dt, Vec& d,
                                                      int& iterations) {
  sg_multigrid_set_dt(dt);
  constexpr int own = 2 * Dim + 1;
  const FaceCoefficients<Dim> f(*sg);
  const double* diag = mg_diag.data();
  const double* g = mg_g.data();
  double* v = mg_stencil.data();
  const auto n = static_cast<std::size_t>(unk.n);
  if (scaled) {
    if (mg_loaded != MgMatrix::symmetric) {
      // Off-diagonal of S: −Δt√(c⁺c⁻) of the face (0 at a wall), scaled by G on both sides.
      parallel_for_rows(L, [&](std::size_t r, std::ptrdiff_t begin, int count) {
        const std::ptrdiff_t u0 = first_unknown(L, r, begin);
        for (int i = 0; i < count; ++i) {
          const std::ptrdiff_t c = begin + i;
          double* e = v + static_cast<std::size_t>(u0 + i) * own;
          e[0] = 1.0;
          for (int k = 0; k < Dim; ++k) {
            const std::ptrdiff_t s = L.stride[k];
            e[1 + 2 * k] = g[c] * (-dt * std::sqrt(f.cp[k][c] * f.cm[k][c])) * g[c - s];
            e[2 + 2 * k] = g[c] * (-dt * std::sqrt(f.cp[k][c + s] * f.cm[k][c + s])) * g[c + s];
          }
        }
      });
      mg->set_stencil(v, StructMultigrid<Dim>::Method::cg);
      mg_loaded = MgMatrix::symmetric;
    }
    Vec b(unk.n), z;
    for (std::size_t u = 0; u < n; ++u) {
      const std::ptrdiff_t c = unk.cell[u];
      b[static_cast<Eigen::Index>(u)] = g[c] * (h[static_cast<Eigen::Index>(u)] * rhs[static_cast<Eigen::Index>(u)]);
    }
    const auto res = mg->solve(b, z, false, opt.linear_tolerance, opt.max_linear_iterations);
    iterations += res.iterations;
    if (!res.converged) {
      ++stats.failed_solves;
      return false;
    }
    d.resize(unk.n);
    for (std::size_t u = 0; u < n; ++u) {
      const auto i = static_cast<Eigen::Index>(u);
      d[i] = h_inv[i] * (g[unk.cell[u]] * z[i]);
    }
    // The scaled residual converged; the unscaled one must too (they differ by the range of e^{V/(2D)}).
    const auto r = sg_multigrid_residual(rhs, rhs_norm, d, dt);
    if (r[0] <= std::max(1e3 * opt.linear_tolerance * rhs_norm, r[1])) return true;
    ++stats.krylov_fallbacks;
  }
  if (mg_loaded != MgMatrix::general) {
    parallel_for_rows(L, [&](std::size_t r, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(L, r, begin);
      for (int i = 0; i < count; ++i) {
        const std::ptrdiff_t c = begin + i;
        const double l = 1.0 / diag[c];
        double* e = v + static_cast<std::size_t>(u0 + i) * own;
        e[0] = 1.0;
        for (int k = 0; k < Dim; ++k) {
          e[1 + 2 * k] = l * (-dt * f.cp[k][c]);
          e[2 + 2 * k] = l * (-dt * f.cm[k][c + L.stride[k]]);
        }
      }
    });
    mg->set_stencil(v, StructMultigrid<Dim>::Method::bicgstab);
    mg_loaded = MgMatrix::general;
  }
  Vec b(unk.n);
  for (std::size_t u = 0; u < n; ++u)
    b[static_cast<Eigen::Index>(u)] = rhs[static_cast<Eigen::Index>(u)] / diag[unk.cell[u]];
  const auto res = mg->solve(b, d, d.size() == unk.n, opt.linear_tolerance, opt.max_linear_iterations);
  iterations += res.iterations;
  if (!res.converged) ++stats.failed_solves;
  return res.converged;
}

#define WGFLOW_SG_MULTIGRID(D)                                                                             \
  template void ImplicitEuler<D>::Impl::sg_multigrid_set_dt(double);                                       \
  template double ImplicitEuler<D>::Impl::sg_multigrid_rhs(const Field<D>&, double, Vec&);                 \
  template std::array<double, 2> ImplicitEuler<D>::Impl::sg_multigrid_residual(const Vec&, double,          \
                                                                               const Vec&, double);        \
  template bool ImplicitEuler<D>::Impl::solve_linear_multigrid(const Vec&, double, double, Vec&, int&);
WGFLOW_SG_MULTIGRID(1)
WGFLOW_SG_MULTIGRID(2)
WGFLOW_SG_MULTIGRID(3)
#undef WGFLOW_SG_MULTIGRID

}  // namespace wgflow
