#include "solver/upwind_operator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include <omp.h>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/upwind.hpp"
#include "solver/mac_velocity.hpp"

namespace wgflow {

namespace {

// ξ sources. Each returns bitwise the value FreeEnergy::variation() stores, U'(q_c) + V_c
// (V_c = +0.0 when there is no potential, hence the explicit + 0.0).
struct XiStored {
  const double* xi;
  double operator()(std::ptrdiff_t c) const { return xi[c]; }
};
template <bool WithV>
struct XiLinear {  // porous medium m = 2: U' = (D m/(m−1)) q
  const double* q;
  const double* V;
  double coef;
  double operator()(std::ptrdiff_t c) const { return coef * q[c] + (WithV ? V[c] : 0.0); }
};
template <bool WithV>
struct XiSquare {  // porous medium m = 3: U' = (D m/(m−1)) q²
  const double* q;
  const double* V;
  double coef;
  double operator()(std::ptrdiff_t c) const { return coef * (q[c] * q[c]) + (WithV ? V[c] : 0.0); }
};
struct XiZero {  // no internal energy: ξ = V
  const double* V;
  double operator()(std::ptrdiff_t c) const { return 0.0 + V[c]; }
};

/// Cells per chunk of a row in the stage kernel: the per-chunk buffers live on the stack.
constexpr int chunk = 256;

/// The y- or z-face part of a cell's rate: rate += (F_{lo} − F_{hi}) along the axis of stride s.
/// Valid: the low face and σ of this cell come from the carry (computed by the previous row as its high
/// face); otherwise they are computed here. The high face and σ of the high neighbour go to the carry.
template <int Order, bool Valid, class Xi>
inline void axis_rate(const double* __restrict q, std::ptrdiff_t c, std::ptrdiff_t s, double x_c, double inv,
                      double theta, const Xi& xi, double& F, double& S, double& rate) {
  double qE_c = q[c], qW_hi = q[c + s];
  double F_lo;
  if constexpr (Valid) {
    if constexpr (Order == 2) qE_c += 0.5 * S;
    F_lo = F;
  } else {
    double qE_lo = q[c - s], qW_c = q[c];
    if constexpr (Order == 2) {
      const double s_lo = limited_slope(q, c - s, s, theta);
      const double s_c = limited_slope(q, c, s, theta);
      qE_lo += 0.5 * s_lo;
      qW_c -= 0.5 * s_c;
      qE_c += 0.5 * s_c;
    }
    F_lo = upwind_flux_rate(xi(c - s), x_c, qE_lo, qW_c, inv);
  }
  if constexpr (Order == 2) {
    const double s_hi = limited_slope(q, c + s, s, theta);
    qW_hi -= 0.5 * s_hi;
    S = s_hi;
  }
  const double F_hi = upwind_flux_rate(x_c, xi(c + s), qE_c, qW_hi, inv);
  rate += F_lo - F_hi;
  F = F_hi;
}

/// Faces along y and z that one thread carries from a row to the next row it processes.
struct RowCarry {
  std::array<double*, 2> F{};      ///< per carried axis (y, z): the flux of the high face of the row
  std::array<double*, 2> sigma{};  ///< σ of the high neighbour cell along that axis
  std::array<bool, 2> valid{};     ///< the buffers hold this row's low faces (the previous row's high)
};

/// y, z faces and the update of one chunk, in one loop (all streams in flight together).
template <int Dim, int Order, bool ValidY, bool ValidZ, class Xi>
inline void chunk_tail(const double* __restrict q, const double* __restrict q0, double* __restrict o, std::ptrdiff_t c0,
                       int m, const std::array<std::ptrdiff_t, Dim>& stride, const std::array<double, Dim>& inv_dx2,
                       double theta, double dt, [[maybe_unused]] double a, double b, const Xi& xi, const double* __restrict xr,
                       const double* __restrict fx, double* __restrict Fy, double* __restrict Sy,
                       double* __restrict Fz, double* __restrict Sz) {
  const std::ptrdiff_t sy = Dim > 1 ? stride[Dim > 1 ? 1 : 0] : 0, sz = Dim > 2 ? stride[Dim > 2 ? 2 : 0] : 0;
  const double iy = Dim > 1 ? inv_dx2[Dim > 1 ? 1 : 0] : 0.0, iz = Dim > 2 ? inv_dx2[Dim > 2 ? 2 : 0] : 0.0;
  // stage_update's b == 1 test once per chunk: per cell it keeps the loop from vectorising (the
  // increment could trap, so it is not if-converted; see sg_row).
  auto loop = [&](auto increment) {
#pragma omp simd
    for (int t = 0; t < m; ++t) {
      const std::ptrdiff_t c = c0 + 1 + t;
      double rate = fx[t] - fx[t + 1];  // −div F = Σ_k (F_{i−½} − F_{i+½})/Δx_k
      if constexpr (Dim > 1) axis_rate<Order, ValidY>(q, c, sy, xr[t + 1], iy, theta, xi, Fy[t], Sy[t], rate);
      if constexpr (Dim > 2) axis_rate<Order, ValidZ>(q, c, sz, xr[t + 1], iz, theta, xi, Fz[t], Sz[t], rate);
      const double x = q[c] + dt * rate;
      o[c] = decltype(increment)::value ? stage_increment(q0[c], x, b) : x;  // stage_update(q0[c], x, b)
    }
  };
  if (b == 1.0)
    loop(std::false_type{});
  else
    loop(std::true_type{});
}

/// One row of the fused stage. x-faces: ξ and the reconstructed q^E, q^W of each cell are formed once
/// into chunk buffers and each face flux once from them. y- and z-faces: the high face of the row is
/// computed and handed to the next row through `carry`, where it is the low face; a row whose low face
/// was not computed by this thread (first row of a thread, a wall) computes it. Every face value is a
/// function of that face's operands only, so the two cells of a face (in the same or another chunk,
/// row or thread) see bitwise the same flux, and carrying changes no result.
template <int Dim, int Order, class Xi>
void stage_row(const double* __restrict q, const double* __restrict q0, double* __restrict o, std::ptrdiff_t begin,
               int count, std::array<std::ptrdiff_t, Dim> stride, std::array<double, Dim> inv_dx2,
               double theta, double dt, double a, double b, Xi xi, RowCarry carry) {
  alignas(64) double xr[chunk + 2], qe[chunk + 2], qw[chunk + 2], fx[chunk + 1];
  alignas(64) double scratch[4][chunk];  // where the high faces go without a carry
  for (int i0 = 0; i0 < count; i0 += chunk) {
    const int m = std::min(chunk, count - i0);
    const std::ptrdiff_t c0 = begin + i0 - 1;  // the cell at buffer index 0
#pragma omp simd
    for (int t = 0; t < m + 2; ++t) {
      const std::ptrdiff_t c = c0 + t;
      xr[t] = xi(c);
      if constexpr (Order == 2) {
        const double sigma = limited_slope(q, c, 1, theta);
        qe[t] = q[c] + 0.5 * sigma;
        qw[t] = q[c] - 0.5 * sigma;
      } else {
        qe[t] = q[c];
        qw[t] = q[c];
      }
    }
    const double inv_x = inv_dx2[0];
#pragma omp simd
    for (int f = 0; f <= m; ++f) fx[f] = upwind_flux_rate(xr[f], xr[f + 1], qe[f], qw[f + 1], inv_x);
    double* Fy = carry.F[0] != nullptr ? carry.F[0] + i0 : scratch[0];
    double* Sy = carry.F[0] != nullptr ? carry.sigma[0] + i0 : scratch[1];
    double* Fz = carry.F[1] != nullptr ? carry.F[1] + i0 : scratch[2];
    double* Sz = carry.F[1] != nullptr ? carry.sigma[1] + i0 : scratch[3];
    const bool vy = carry.F[0] != nullptr && carry.valid[0];
    const bool vz = carry.F[1] != nullptr && carry.valid[1];
#define WGFLOW_TAIL(VY, VZ) \
  chunk_tail<Dim, Order, VY, VZ>(q, q0, o, c0, m, stride, inv_dx2, theta, dt, a, b, xi, xr, fx, Fy, Sy, Fz, Sz)
    if (vy && vz)
      WGFLOW_TAIL(true, true);
    else if (vy)
      WGFLOW_TAIL(true, false);
    else if (vz)
      WGFLOW_TAIL(false, true);
    else
      WGFLOW_TAIL(false, false);
#undef WGFLOW_TAIL
  }
}

template <int Dim, int Order, class Xi>
void stage_row_best(SimdLevel simd, const double* q, const double* q0, double* o, std::ptrdiff_t begin, int count,
                    std::array<std::ptrdiff_t, Dim> stride, std::array<double, Dim> inv_dx2, double theta, double dt,
                    double a, double b, Xi xi, RowCarry carry) {
  run_simd(simd, [](auto&&... x) { stage_row<Dim, Order, Xi>(x...); }, q, q0, o, begin, count, stride, inv_dx2, theta,
           dt, a, b, xi, carry);
}

// The v4d helpers are internal and always inlined, so the psABI note on passing 32-byte vectors
// without AVX does not concern any interface.
#pragma GCC diagnostic ignored "-Wpsabi"

/// Four doubles (GCC/Clang vector extension): two SSE2 or one AVX2 register (an eight-lane version, one
/// AVX-512 register, ran the AVX2 build 3–4× slower). Each lane performs the scalar code's IEEE
/// operations, so lane results are bitwise the scalar ones.
using v4d = double __attribute__((vector_size(32)));
using v4i = long long __attribute__((vector_size(32)));
inline v4d load4(const double* p) {
  v4d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline v4d max4(v4d acc, v4d v) { return acc < v ? v : acc; }  // std::max(acc, v) in every lane
inline v4d abs4(v4d v) { return reinterpret_cast<v4d>(reinterpret_cast<v4i>(v) & 0x7fffffffffffffffLL); }

/// ξ of four consecutive cells from a ξ source (the same arithmetic as its scalar call).
inline v4d xi4(const XiStored& x, std::ptrdiff_t c) { return load4(x.xi + c); }
template <bool WithV>
v4d xi4(const XiLinear<WithV>& x, std::ptrdiff_t c) {
  if constexpr (WithV) return x.coef * load4(x.q + c) + load4(x.V + c);
  return x.coef * load4(x.q + c) + 0.0;
}
template <bool WithV>
v4d xi4(const XiSquare<WithV>& x, std::ptrdiff_t c) {
  const v4d q = load4(x.q + c);
  if constexpr (WithV) return x.coef * (q * q) + load4(x.V + c);
  return x.coef * (q * q) + 0.0;
}
inline v4d xi4(const XiZero& x, std::ptrdiff_t c) { return 0.0 + load4(x.V + c); }

/// Largest |u| = |ξ_c − ξ_{c−s}|/Δx over the low faces of a row's cells, per axis, and max q.
/// The low faces of the interior cells are all the faces (walls carry u = 0, periodic face n ≡ 0).
/// Max is exact and std::max skips NaN the same way in every lane, so lanes change no result; the
/// lanes keep max |Δξ| and multiply by 1/Δx once at the end, which gives the same number as the
/// maximum of the products (rounding x·(1/Δx) is monotone in x).
template <int Dim, class Xi>
void speed_row(const double* __restrict q, std::ptrdiff_t begin, int count, const std::array<std::ptrdiff_t, Dim>& stride,
               const std::array<double, Dim>& inv_dx, const Xi& xi, std::array<double, Dim + 1>& acc) {
  std::array<v4d, Dim + 1> m;  // per axis max |Δξ| ≥ 0 (NaN skipped), then max q from acc
  for (int k = 0; k < Dim; ++k) m[static_cast<std::size_t>(k)] = v4d{};
  m[Dim] = v4d{} + acc[Dim];
  const std::ptrdiff_t end = begin + count;
  std::ptrdiff_t c = begin;
  for (; c + 4 <= end; c += 4) {
    const v4d x_c = xi4(xi, c);
    m[Dim] = max4(m[Dim], load4(q + c));
    for (int k = 0; k < Dim; ++k) m[k] = max4(m[k], abs4(x_c - xi4(xi, c - stride[k])));
  }
  for (int l = 0; l < 4; ++l) acc[Dim] = std::max(acc[Dim], m[Dim][l]);
  for (int k = 0; k < Dim; ++k)
    for (int l = 0; l < 4; ++l) acc[static_cast<std::size_t>(k)] = std::max(acc[static_cast<std::size_t>(k)], m[k][l] * inv_dx[k]);
  for (; c < end; ++c) {
    const double x_c = xi(c);
    acc[Dim] = std::max(acc[Dim], q[c]);
    for (int k = 0; k < Dim; ++k) acc[k] = std::max(acc[k], std::abs(x_c - xi(c - stride[k])) * inv_dx[k]);
  }
}

template <int Dim, class Xi>
void speed_row_best(SimdLevel simd, const double* q, std::ptrdiff_t begin, int count,
                    const std::array<std::ptrdiff_t, Dim>& stride, const std::array<double, Dim>& inv_dx, const Xi& xi,
                    std::array<double, Dim + 1>& acc) {
  run_simd(simd, [](auto&&... x) { speed_row<Dim, Xi>(x...); }, q, begin, count, stride, inv_dx, xi, acc);
}

}  // namespace

template <int Dim>
UpwindOperator<Dim>::UpwindOperator(const FreeEnergy<Dim>& energy, const FluxSpec& flux)
    : m_energy(energy), m_flux(flux), m_grid(energy.grid()) {
  const InternalEnergySpec& U = energy.internal();
  if (U.kind == InternalEnergySpec::Kind::porous_medium && (U.m == 2.0 || U.m == 3.0)) {
    m_xi_mode = U.m == 2.0 ? XiMode::linear : XiMode::square;
    m_xi_coef = U.D * U.m / (U.m - 1.0);  // as PorousMedium::dU groups it
  } else if (U.kind == InternalEnergySpec::Kind::none) {
    m_xi_mode = XiMode::zero;
  } else {
    m_xi_mode = XiMode::stored;
  }
  if (energy.has_interaction()) m_xi_mode = XiMode::stored;  // ξ holds W*q: computed once per stage
  if (energy.divergence() != nullptr) m_xi_mode = XiMode::stored;  // ξ = f(r) − r f'(r): a pow/log per cell
  m_with_V = false;
  const Field<Dim>& V = energy.V();
  const double* v = V.data();
  for (std::size_t i = 0; i < V.layout().padded_size; ++i)
    if (!(v[i] == 0.0 && !std::signbit(v[i]))) m_with_V = true;
  if (m_xi_mode == XiMode::zero) m_with_V = true;
  if (m_xi_mode == XiMode::stored) m_xi = Field<Dim>(FieldLayout<Dim>(m_grid.shape));
  // Carry buffers for the team size known now (set-up, not the time loop): a row and, in 3D, a plane
  // of faces per carried axis and thread.
  if (Dim > 1) {
    const auto nx = static_cast<std::size_t>(m_grid.shape[0]);
    const auto ny = static_cast<std::size_t>(m_grid.shape[Dim > 1 ? 1 : 0]);
    m_carry.resize(static_cast<std::size_t>(std::max(1, omp_get_max_threads())));
    for (ThreadCarry& tc : m_carry) tc.size_for(nx, ny);
  }
}

/// Calls fn(xi) with the ξ source of state `in` (prepared, or being prepared when ξ is not stored).
template <int Dim>
template <class Fn>
decltype(auto) UpwindOperator<Dim>::with_xi(const Field<Dim>& in, Fn&& fn) const {
  const double* q = in.data();
  const double* V = m_energy.V().data();
  switch (m_xi_mode) {
    case XiMode::linear:
      return m_with_V ? fn(XiLinear<true>{q, V, m_xi_coef}) : fn(XiLinear<false>{q, V, m_xi_coef});
    case XiMode::square:
      return m_with_V ? fn(XiSquare<true>{q, V, m_xi_coef}) : fn(XiSquare<false>{q, V, m_xi_coef});
    case XiMode::zero: return fn(XiZero{V});
    case XiMode::stored: break;
  }
  return fn(XiStored{m_xi.data()});
}

template <int Dim>
double UpwindOperator<Dim>::prepare(Field<Dim>& in) {
  fill_ghosts(in, m_grid);
  double max_diffusivity = 0.0;
  if (m_xi_mode == XiMode::stored) max_diffusivity = m_energy.variation(in, m_xi);  // ξ with ghosts

  // One read-only pass: per axis the largest face speed a_k = max |u| on k-faces, and max q.
  const auto& L = in.layout();
  std::array<std::ptrdiff_t, Dim> stride{};
  std::array<double, Dim> inv_dx{};
  for (int k = 0; k < Dim; ++k) {
    stride[k] = L.stride[k];
    inv_dx[k] = 1.0 / m_grid.dx(k);
  }
  const double* q = in.data();
  const SimdLevel simd = simd_level_for(SimdLevel::avx2);  // stage by stage: AVX-512 0.85–0.92× in 2D
  std::array<double, Dim + 2> maxima{};  // a_k per axis, max q, and (ξ stored) the largest P'
  const std::array<double, Dim + 1> local = with_xi(in, [&](const auto& xi) {
    return parallel_max_rows_n<Dim, Dim + 1>(L, [&](std::ptrdiff_t begin, int count, std::array<double, Dim + 1>& acc) {
      speed_row_best<Dim>(simd, q, begin, count, stride, inv_dx, xi, acc);
    });
  });
  std::copy(local.begin(), local.end(), maxima.begin());
  maxima[Dim + 1] = max_diffusivity;
  m_grid.ranks.max(maxima.data(), Dim + 2);  // over every rank (exact): the whole grid's maxima
  return limit_from_maxima(maxima, in);
}

template <int Dim>
double UpwindOperator<Dim>::limit_from_maxima(const std::array<double, Dim + 2>& maxima, const Field<Dim>& in) const {
  std::array<double, Dim> inv_dx{};
  for (int k = 0; k < Dim; ++k) inv_dx[k] = 1.0 / m_grid.dx(k);
  double max_diffusivity = maxima[Dim + 1];
  if (m_xi_mode != XiMode::stored)
    max_diffusivity = with_internal_energy(m_energy.internal(), [&](auto U) { return U.P_prime(maxima[Dim]); });

  // Positivity (CCH 2015, Thm 2.2, per axis summed): Δt Σ_k 2 a_k/Δx_k ≤ 1.
  double hyperbolic_rate = 0.0;
  for (int k = 0; k < Dim; ++k) hyperbolic_rate += 2.0 * maxima[k] * inv_dx[k];
  // Parabolic limit (numerics.md "Explicit time step"): Δt Σ_k 2 max P'(q)/Δx_k² ≤ 1.
  double parabolic_rate = 0.0;
  for (int k = 0; k < Dim; ++k) parabolic_rate += 2.0 * max_diffusivity / (m_grid.dx(k) * m_grid.dx(k));

  // A network's risk: Δt G ≤ 1 (NetworkKernel::step_rate), its time scale where face speeds vanish.
  const double interaction_rate = m_energy.has_interaction() ? m_energy.interaction()->step_rate(in) : 0.0;
  const double rate = std::max({hyperbolic_rate, parabolic_rate, interaction_rate});
  return rate > 0.0 ? 1.0 / rate : std::numeric_limits<double>::infinity();
}

template <int Dim>
void UpwindOperator<Dim>::euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                                      const Field<Dim>& base, double b) const {
  const auto& L = in.layout();
  const double* q = in.data();
  const double* q0 = base.data();
  double* o = out.data();
  std::array<std::ptrdiff_t, Dim> stride{};
  std::array<double, Dim> inv_dx2{};
  for (int k = 0; k < Dim; ++k) {
    stride[k] = L.stride[k];
    inv_dx2[k] = 1.0 / (m_grid.dx(k) * m_grid.dx(k));
  }
  const double theta = m_flux.theta;
  const bool second_order = m_flux.order == 2;
  const SimdLevel simd = simd_level_for(SimdLevel::avx2);  // stage by stage: AVX-512 0.85–0.92× in 2D
  for (ThreadCarry& tc : m_carry) {  // nothing is carried into a new stage
    tc.last_row = -2;
    std::fill(tc.z_tag.begin(), tc.z_tag.end(), -1);
  }
  const int nx = L.shape[0];
  const int ny = Dim > 1 ? L.shape[Dim > 1 ? 1 : 0] : 1;
  with_xi(in, [&](const auto& xi) {
    parallel_for_rows(L, [&](std::size_t row, std::ptrdiff_t begin, int count) {
      RowCarry carry;
      const auto r = static_cast<std::ptrdiff_t>(row);
      const auto tid = static_cast<std::size_t>(omp_get_thread_num());
      if (Dim > 1 && tid < m_carry.size()) {  // a team larger than at construction computes every face
        ThreadCarry& tc = m_carry[tid];
        const std::ptrdiff_t j = r % ny;
        carry.F[0] = tc.f_y.data();
        carry.sigma[0] = tc.s_y.data();
        carry.valid[0] = tc.last_row == r - 1 && j > 0;
        tc.last_row = r;
        if (Dim > 2) {
          carry.F[1] = tc.f_z.data() + j * nx;
          carry.sigma[1] = tc.s_z.data() + j * nx;
          carry.valid[1] = r >= ny && tc.z_tag[static_cast<std::size_t>(j)] == r - ny;
          tc.z_tag[static_cast<std::size_t>(j)] = r;
        }
      }
      if (second_order)
        stage_row_best<Dim, 2>(simd, q, q0, o, begin, count, stride, inv_dx2, theta, dt, a, b, xi, carry);
      else
        stage_row_best<Dim, 1>(simd, q, q0, o, begin, count, stride, inv_dx2, theta, dt, a, b, xi, carry);
      if (m_row_observer != nullptr) m_row_observer->row_written(o, begin, count);  // fused diagnostics, row in L1
    });
    return 0;
  });
}

namespace {

/// The ξ source of the state q, of the same kind as xi (ξ = V alone does not depend on q; a stored ξ
/// is never blocked).
template <class Xi>
Xi xi_of_state(Xi xi, const double* q) {
  if constexpr (std::is_same_v<Xi, XiStored> || std::is_same_v<Xi, XiZero>)
    (void)q;
  else
    xi.q = q;
  return xi;
}

}  // namespace

template <int Dim>
bool UpwindOperator<Dim>::enable_blocked_stages(int stages, bool stage_arrays) {
  if (!stage_arrays || Dim < 2 || m_xi_mode == XiMode::stored || m_energy.has_interaction()) return false;
  if (!RowGhostFiller<Dim>(FieldLayout<Dim>(m_grid.shape), m_grid).fused()) return false;
  m_wavefront = WavefrontSchedule<Dim>(m_grid, stages, m_flux.order == 2 ? 2 : 1);
  if (!m_wavefront.available(1)) return false;
  m_blocked_stages = stages;
  // Carries per thread and stage (each stage runs its own sequence of rows on a thread), sized for
  // every thread count a run may set later.
  const auto slots = static_cast<std::size_t>(std::max(omp_get_max_threads(), omp_get_num_procs()) * stages);
  const auto nx = static_cast<std::size_t>(m_grid.shape[0]);
  const auto ny = static_cast<std::size_t>(m_grid.shape[Dim > 1 ? 1 : 0]);
  m_blocked_carry.resize(slots);
  for (ThreadCarry& tc : m_blocked_carry) tc.size_for(nx, ny);
  m_blocked_maxima.assign(slots, std::array<double, Dim + 1>{});
  return true;
}

template <int Dim>
bool UpwindOperator<Dim>::run_blocked_stages(BlockedStages<Dim>& step) {
  const int S = step.stages;
  if (S != m_blocked_stages || static_cast<std::size_t>(omp_get_max_threads() * S) > m_blocked_carry.size() ||
      !m_wavefront.available(omp_get_max_threads()))
    return false;
  for (ThreadCarry& tc : m_blocked_carry) {  // nothing is carried into a new step
    tc.last_row = -2;
    std::fill(tc.z_tag.begin(), tc.z_tag.end(), -1);
  }
  for (auto& m : m_blocked_maxima) m.fill(0.0);
  const FieldLayout<Dim> L(m_grid.shape);
  std::array<std::ptrdiff_t, Dim> stride{};
  std::array<double, Dim> inv_dx2{}, inv_dx{};
  for (int k = 0; k < Dim; ++k) {
    stride[k] = L.stride[k];
    inv_dx2[k] = 1.0 / (m_grid.dx(k) * m_grid.dx(k));  // as euler_stage
    inv_dx[k] = 1.0 / m_grid.dx(k);                     // as prepare
  }
  const double theta = m_flux.theta, dt = step.dt;
  const bool second_order = m_flux.order == 2;
  const SimdLevel simd = simd_level();  // blocked: AVX-512 1.06–1.14× in 2D, 3D even
  const int nx = L.shape[0], ny = L.shape[Dim > 1 ? 1 : 0], rows = Dim == 3 ? ny : 1;
  const double* q0 = step.base->data();
  const RowGhostFiller<Dim> fill_row_ghosts(L, m_grid);  // what prepare()'s fill_ghosts gives each stage
  with_xi(*step.base, [&](const auto& xi_base) {
    using Xi = std::decay_t<decltype(xi_base)>;
    std::array<Xi, 3> xi{xi_base, xi_base, xi_base};
    for (int j = 0; j < S; ++j) xi[static_cast<std::size_t>(j)] = xi_of_state(xi_base, step.in[static_cast<std::size_t>(j)]->data());
    m_wavefront.run([&](int s, int k, const WavefrontPlace&) {
      const auto u = static_cast<std::size_t>(s);
      const std::size_t slot = static_cast<std::size_t>(omp_get_thread_num()) * static_cast<std::size_t>(S) + u;
      const double* q = step.in[u]->data();
      double* o = step.out[u]->data();
      RowObserver* const observer = s == S - 1 ? step.observer : nullptr;
      ThreadCarry& tc = m_blocked_carry[slot];
      for (int j = 0; j < rows; ++j) {
        const std::ptrdiff_t r = Dim == 3 ? static_cast<std::ptrdiff_t>(k) * ny + j : k;  // parallel_for_rows' row
        const std::ptrdiff_t begin = L.offset + static_cast<std::ptrdiff_t>(k) * L.stride[Dim - 1] +
                                     (Dim == 3 ? static_cast<std::ptrdiff_t>(j) * L.stride[Dim > 1 ? 1 : 0] : 0);
        // The limit of this stage's input (prepare's speed pass), from rows this stage reads anyway.
        if (s > 0) speed_row_best<Dim>(simd, q, begin, nx, stride, inv_dx, xi[u], m_blocked_maxima[slot]);
        RowCarry carry;  // as euler_stage, per stage
        carry.F[0] = tc.f_y.data();
        carry.sigma[0] = tc.s_y.data();
        carry.valid[0] = tc.last_row == r - 1 && r % ny > 0;
        tc.last_row = r;
        if (Dim > 2) {
          const std::ptrdiff_t jj = r % ny;
          carry.F[1] = tc.f_z.data() + jj * nx;
          carry.sigma[1] = tc.s_z.data() + jj * nx;
          carry.valid[1] = r >= ny && tc.z_tag[static_cast<std::size_t>(jj)] == r - ny;
          tc.z_tag[static_cast<std::size_t>(jj)] = r;
        }
        const double b = step.b[u];
        if (second_order)
          stage_row_best<Dim, 2>(simd, q, q0, o, begin, nx, stride, inv_dx2, theta, dt, 1.0 - b, b, xi[u], carry);
        else
          stage_row_best<Dim, 1>(simd, q, q0, o, begin, nx, stride, inv_dx2, theta, dt, 1.0 - b, b, xi[u], carry);
        if (observer != nullptr) observer->row_written(o, begin, nx);
        fill_row_ghosts(o, begin, nx);
      }
    });
    return 0;
  });
  for (int j = 1; j < S; ++j) {
    std::array<double, Dim + 2> maxima{};
    for (std::size_t slot = static_cast<std::size_t>(j); slot < m_blocked_maxima.size(); slot += static_cast<std::size_t>(S))
      for (int k = 0; k <= Dim; ++k) maxima[k] = std::max(maxima[k], m_blocked_maxima[slot][k]);  // exact, order-free
    m_grid.ranks.max(maxima.data(), Dim + 2);
    step.limit[static_cast<std::size_t>(j)] = limit_from_maxima(maxima, *step.in[static_cast<std::size_t>(j)]);
  }
  return true;
}

template <int Dim>
void UpwindOperator<Dim>::particle_velocities(const Field<Dim>& in, const double* x, double* v, std::size_t n,
                                              std::array<Field<Dim>, Dim>& faces) const {
  with_face_velocity(in, [&](const auto& face_velocity) {
    mac_velocities<Dim>(m_grid, in.layout(), x, v, n, faces, face_velocity);
  });
}

template <int Dim>
void UpwindOperator<Dim>::particle_faces(const Field<Dim>& in, std::array<Field<Dim>, Dim>& faces) const {
  with_face_velocity(in, [&](const auto& face_velocity) {
    fill_face_velocities<Dim>(m_grid, in.layout(), faces, face_velocity);
  });
}

template <int Dim>
template <class Fn>
void UpwindOperator<Dim>::with_face_velocity(const Field<Dim>& in, Fn&& fn) const {
  const auto& L = in.layout();
  std::array<double, Dim> inv_dx{};
  for (int k = 0; k < Dim; ++k) inv_dx[k] = 1.0 / m_grid.dx(k);
  with_xi(in, [&](const auto& xi) {
    fn([&](int k, std::ptrdiff_t R) {
      const double v = -(xi(R) - xi(R - L.stride[k])) * inv_dx[k];  // the face speed of upwind_flux_rate
      return std::isfinite(v) ? v : 0.0;
    });
    return 0;
  });
}

template class UpwindOperator<1>;
template class UpwindOperator<2>;
template class UpwindOperator<3>;

}  // namespace wgflow
