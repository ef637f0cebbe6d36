#include "solver/sg_operator.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/halo.hpp"
#include "grids/inplace_sweep.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/mac_velocity.hpp"

namespace wgflow {

template <int Dim>
SgOperator<Dim>::SgOperator(const FreeEnergy<Dim>& energy)
    : m_grid(energy.grid()), m_V(&energy.V()), m_V_external(energy.V()), m_interaction(energy.interaction()) {
  const double D = energy.internal().D;
  m_D = D;
  const Field<Dim>& V = *m_V;
  const FieldLayout<Dim> L(m_grid.shape);
  for (int k = 0; k < Dim; ++k) {
    m_D_dx2[k] = D / (m_grid.dx(k) * m_grid.dx(k));
    m_inv_dx2[k] = 1.0 / (m_grid.dx(k) * m_grid.dx(k));
  }
  if (m_interaction != nullptr) {  // the drift potential changes per stage: coefficients in prepare()
    m_constant = false;
    m_effective = Field<Dim>(L, 0.0);
    m_V = &m_effective;
    for (int k = 0; k < Dim; ++k) m_s[k] = Field<Dim>(L, 0.0);
    m_dt_limit = 0.0;
    return;
  }
  // Constant V (no potential): every Péclet number is 0 and the stage needs no per-face data. Decided
  // over all ranks (V's ghosts hold the neighbours' values), so every rank runs the same kernel.
  m_constant = m_grid.ranks.max(parallel_max_rows(L, [&](std::ptrdiff_t begin, int count) {  // rows in parallel: start-up
    bool varies = false;
    for (std::ptrdiff_t idx = begin; idx < begin + count; ++idx)
      for (int k = 0; k < Dim; ++k)
        varies = varies || V[idx] != V[idx - L.stride[k]] || V[idx] != V[idx + L.stride[k]];
    return varies ? 1.0 : 0.0;
  })) == 0.0;
  if (!m_constant) {
    for (int k = 0; k < Dim; ++k) m_s[k] = Field<Dim>(L, 0.0);
    build_coefficients();
    return;
  }
  // Forward Euler keeps q ≥ 0 iff Δt · (c⁺_{i+½} + c⁻_{i−½}, summed over axes) ≤ 1 in every cell:
  // the exact diagonal of the explicit update matrix (here D/Δx² per face that is not a wall).
  double max_diag = 0.0;
  const Neighbours<Dim> nb(m_grid);
  for_each_cell(m_grid, [&](std::ptrdiff_t, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
    double diag = 0.0;
    for (int k = 0; k < Dim; ++k) {
      if (!(nb.wall(k, 1) && cell[k] == m_grid.shape[k] - 1)) diag += m_D_dx2[k];  // c⁺ of the high face
      if (!(nb.wall(k, 0) && cell[k] == 0)) diag += m_D_dx2[k];                     // c⁻ of the low face
    }
    max_diag = std::max(max_diag, diag);
  });
  max_diag = m_grid.ranks.max(max_diag);  // the limit of the whole grid, on every rank
  m_dt_limit = max_diag > 0.0 ? 1.0 / max_diag : std::numeric_limits<double>::infinity();
}

namespace {

/// Interior coordinates of the cell at linear index idx.
template <int Dim>
std::array<int, Dim> cell_at(const FieldLayout<Dim>& L, std::ptrdiff_t idx) {
  std::array<int, Dim> cell{};
  std::ptrdiff_t rest = idx - L.offset;
  for (int k = Dim - 1; k >= 0; --k) {
    cell[k] = static_cast<int>(rest / L.stride[k]);
    rest -= cell[k] * L.stride[k];
  }
  return cell;
}

}  // namespace

template <int Dim>
void SgOperator<Dim>::build_coefficients() {
  const Field<Dim>& V = *m_V;
  const FieldLayout<Dim> L(m_grid.shape);
  const double D = m_D;
  std::array<double*, Dim> sk{};
  for (int k = 0; k < Dim; ++k) sk[k] = m_s[k].data();
  // s = D B(|Pe|)/Δx², Pe = (V_R − V_L)/D, of face i at cell i's index; face n of a periodic axis in the
  // first high ghost (also the face towards a rank beyond: the same formula on the exchanged V).
  // Each face is written by one cell; walls keep their zeros.
  const Neighbours<Dim> nb(m_grid);
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    std::array<int, Dim> cell = cell_at(L, begin);
    const int i0 = cell[0];
    for (std::ptrdiff_t idx = begin; idx < begin + count; ++idx) {
      cell[0] = i0 + static_cast<int>(idx - begin);
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        if (!(nb.wall(k, 0) && cell[k] == 0)) sk[k][idx] = m_D_dx2[k] * bernoulli(std::abs((V[idx] - V[idx - s]) / D));
        if (cell[k] == m_grid.shape[k] - 1 && !nb.wall(k, 1))
          sk[k][idx + s] = m_D_dx2[k] * bernoulli(std::abs((V[idx + s] - V[idx]) / D));
      }
    }
  });
  // Forward Euler keeps q ≥ 0 iff Δt · (c⁺_{i+½} + c⁻_{i−½}, summed over axes) ≤ 1 in every cell:
  // the exact diagonal of the explicit update matrix, with the coefficients the stage uses.
  const double max_diag = m_grid.ranks.max(parallel_max_rows(L, [&](std::ptrdiff_t begin, int count) {
    double row_max = 0.0;
    for (std::ptrdiff_t idx = begin; idx < begin + count; ++idx) {
      double diag = 0.0;
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        diag += sg_c_plus(sk[k][idx + s], (V[idx + s] - V[idx]) * m_inv_dx2[k]) +
                sg_c_minus(sk[k][idx], (V[idx] - V[idx - s]) * m_inv_dx2[k]);
      }
      row_max = std::max(row_max, diag);
    }
    return row_max;
  }));  // over every rank: the whole grid's limit
  m_dt_limit = max_diag > 0.0 ? 1.0 / max_diag : std::numeric_limits<double>::infinity();
}

template <int Dim>
void SgOperator<Dim>::materialise_coefficients() const {
  if (m_materialised) return;
  const FieldLayout<Dim> L(m_grid.shape);
  const Field<Dim>& V = *m_V;
  const Neighbours<Dim> nb(m_grid);
  for (int k = 0; k < Dim; ++k) {
    if (m_c_plus[k].layout().padded_size == 0) {  // once; later rebuilds overwrite every non-wall face
      m_c_plus[k] = Field<Dim>(L, 0.0);
      m_c_minus[k] = Field<Dim>(L, 0.0);
    }
    const std::ptrdiff_t s = L.stride[k];
    auto set_face = [&](std::ptrdiff_t R) {
      if (m_constant) {
        m_c_plus[k][R] = m_D_dx2[k];
        m_c_minus[k][R] = m_D_dx2[k];
      } else {
        const double d = (V[R] - V[R - s]) * m_inv_dx2[k];
        m_c_plus[k][R] = sg_c_plus(m_s[k][R], d);
        m_c_minus[k][R] = sg_c_minus(m_s[k][R], d);
      }
    };
    for_each_cell(m_grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
      const int i = cell[k];
      if (!(nb.wall(k, 0) && i == 0)) set_face(idx);
      if (i == m_grid.shape[k] - 1 && !nb.wall(k, 1)) set_face(idx + s);
    });
  }
  m_materialised = true;
}

template <int Dim>
double SgOperator<Dim>::prepare(Field<Dim>& in) {
  fill_ghosts(in, m_grid);
  if (m_interaction != nullptr) set_drift_potential(m_interaction->convolve(in));  // V + W*q of this state
  return interaction_limited(in);
}

template <int Dim>
double SgOperator<Dim>::prepare_stage(Field<Dim>& in) {
  // stage_kernel left the ghosts of `in` on walls and own wraps filled (row by row, by the in-place
  // sweep, or by fill_own_ghosts where that is not fused); those towards other ranks come now.
  exchange_ghosts(in, m_grid);
  if (m_interaction != nullptr) set_drift_potential(m_interaction->convolve(in));
  return interaction_limited(in);
}

template <int Dim>
double SgOperator<Dim>::interaction_limited(const Field<Dim>& in) const {
  if (m_interaction == nullptr) return m_dt_limit;
  const double rate = m_interaction->step_rate(in);  // a network's Δt G ≤ 1 (NetworkKernel::step_rate)
  return rate > 0.0 ? std::min(m_dt_limit, 1.0 / rate) : m_dt_limit;
}

template <int Dim>
void SgOperator<Dim>::set_drift_potential(const Field<Dim>& phi_field) {
  if (m_interaction == nullptr) throw std::logic_error("SgOperator: the drift potential is V without an interaction");
  const double* phi = phi_field.data();
  const double* V = m_V_external.data();
  double* e = m_effective.data();
  parallel_for_rows(m_effective.layout(), [&](std::size_t, std::ptrdiff_t begin, int count) {
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) e[c] = V[c] + phi[c];
  });
  fill_ghosts(m_effective, m_grid);
  build_coefficients();
  m_materialised = false;
}

template <int Dim>
void SgOperator<Dim>::euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                                  const Field<Dim>& base, double b) const {
  if (m_constant)
    stage_kernel<true>(out, in, dt, a, base, b);
  else
    stage_kernel<false>(out, in, dt, a, base, b);
}

namespace {

/// One row of the stage: out = a·base + b·(in + Δt Σ_k (J_{i−½} − J_{i+½})/Δx_k), the old values of
/// `in` coming through RowInputs (the array itself, or the copies of an in-place sweep). Both faces
/// of a cell are evaluated by the same inline expression from the same operands, so the two cells of
/// a face use bitwise the same flux; the loop is branch-free and vectorises. Everything it reads
/// besides the arrays is passed by value, so stores to `o` cannot make the compiler reload it.
template <int Dim, bool Constant, bool Increment>
void sg_row(RowInputs<Dim> in, const double* __restrict q0, const double* __restrict V,
            std::array<const double*, Dim> sk, double* __restrict o, std::ptrdiff_t begin, int count,
            std::array<std::ptrdiff_t, Dim> st, std::array<double, Dim> D_dx2, std::array<double, Dim> inv_dx2,
            double dt, double b) {  // a = 1 − b: stage_update, split on b == 1 by the caller
  const double* __restrict q = in.centre;  // q[i] is cell c = begin + i
  const std::array<const double*, Dim> lo = in.lo, hi = in.hi;
  if constexpr (Constant) {
#pragma omp simd
    for (int i = 0; i < count; ++i) {
      const std::ptrdiff_t c = begin + i;
      double rate = 0.0;  // −div J = Σ_k (J_{i−½} − J_{i+½})/Δx_k
#pragma GCC unroll 3
      for (int k = 0; k < Dim; ++k)
        rate += heat_face_rate(D_dx2[k], lo[k][i], q[i]) - heat_face_rate(D_dx2[k], q[i], hi[k][i]);
      const double x = q[i] + dt * rate;
      o[c] = Increment ? stage_increment(q0[c], x, b) : x;  // stage_update(q0[c], x, b)
    }
  } else if constexpr (Dim == 3) {  // each face from both of its cells: the chunked x-faces below
    // measured 0.75–0.99× this loop's rate in 3D (fewer instructions, but the row's loads, not its
    // arithmetic, bound the 3D stage; docs/benchmarks.md "AVX-512 row kernels")
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < count; ++i) {
      const std::ptrdiff_t c = begin + i;
      double rate = 0.0;
#pragma GCC unroll 3  // fully: a loop left inside the body stops the vectoriser (control flow)
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = st[k];
        const double d_lo = (V[c] - V[c - s]) * inv_dx2[k];
        const double d_hi = (V[c + s] - V[c]) * inv_dx2[k];
        const double s_lo = sk[k][c];
        const double s_hi = sk[k][c + s];
        rate += sg_face_rate(sg_c_plus(s_lo, d_lo), sg_c_minus(s_lo, d_lo), lo[k][i], q[i]) -
                sg_face_rate(sg_c_plus(s_hi, d_hi), sg_c_minus(s_hi, d_hi), q[i], hi[k][i]);
      }
      const double x = q[i] + dt * rate;
      o[c] = Increment ? stage_increment(q0[c], x, b) : x;  // stage_update(q0[c], x, b)
    }
  } else {
    // 1D, 2D: x-faces once per face, not once from each of their cells (a quarter of the face work in
    // 2D): fx[f] is the low face of cell i0 + f, the same expression on the same operands as the
    // y-faces below, so each cell's rate is bitwise what two evaluations gave.
    constexpr int chunk = 256;
    alignas(64) double fx[chunk + 1];
    for (int i0 = 0; i0 < count; i0 += chunk) {
      const int m = std::min(chunk, count - i0);
#pragma omp simd
      for (int f = 0; f <= m; ++f) {
        const std::ptrdiff_t c = begin + i0 + f;
        const double d = (V[c] - V[c - st[0]]) * inv_dx2[0];
        const double s = sk[0][c];
        fx[f] = sg_face_rate(sg_c_plus(s, d), sg_c_minus(s, d), q[i0 + f - 1], q[i0 + f]);  // lo[0] = q − 1
      }
#pragma omp simd
      for (int t = 0; t < m; ++t) {
        const int i = i0 + t;
        const std::ptrdiff_t c = begin + i;
        double rate = 0.0;
        rate += fx[t] - fx[t + 1];
#pragma GCC unroll 3  // fully: a loop left inside the body stops the vectoriser (control flow)
        for (int k = 1; k < Dim; ++k) {
          const std::ptrdiff_t s = st[k];
          const double d_lo = (V[c] - V[c - s]) * inv_dx2[k];
          const double d_hi = (V[c + s] - V[c]) * inv_dx2[k];
          const double s_lo = sk[k][c];
          const double s_hi = sk[k][c + s];
          rate += sg_face_rate(sg_c_plus(s_lo, d_lo), sg_c_minus(s_lo, d_lo), lo[k][i], q[i]) -
                  sg_face_rate(sg_c_plus(s_hi, d_hi), sg_c_minus(s_hi, d_hi), q[i], hi[k][i]);
        }
        const double x = q[i] + dt * rate;
        o[c] = Increment ? stage_increment(q0[c], x, b) : x;  // stage_update(q0[c], x, b)
      }
    }
  }
}

/// Row kernel for a build and stage: stage_update's test b == 1 (forward Euler, the first stage)
/// is taken once per row, not per cell, where it would stop the vectoriser (the increment could
/// trap, so GCC does not if-convert it, and the loop is too large to unswitch).
/// AVX2, not AVX-512, unless asked for (simd_level_for): the 512-bit build of the SG rows measured
/// 0.76–1.01× the AVX2 rate stage by stage and 0.83–1.07× in the blocked step (2 threads; 2D sg-heat
/// 1.01–1.07×, 3D 0.83–1.01×; docs/benchmarks.md "AVX-512 row kernels").
constexpr SimdLevel sg_widest_build = SimdLevel::avx2;

template <int Dim, bool Constant>
struct SgRowKernel {
  SimdLevel simd = SimdLevel::generic;
  bool increment = false;
  template <class... Args>
  void operator()(Args&&... args) const {
    if (increment)
      run_simd(simd, [](auto&&... a) { sg_row<Dim, Constant, true>(a...); }, args...);
    else
      run_simd(simd, [](auto&&... a) { sg_row<Dim, Constant, false>(a...); }, args...);
  }
};

template <int Dim, bool Constant>
SgRowKernel<Dim, Constant> sg_row_for(SimdLevel simd, double b) {
  return {simd, b != 1.0};
}

}  // namespace

template <int Dim>
bool SgOperator<Dim>::enable_in_place_stages() {
  return Dim == 3 && !m_constant && enable_in_place_stages_always();
}

template <int Dim>
bool SgOperator<Dim>::enable_in_place_stages_always() {
  if (!m_sweep.available())
    m_sweep = InPlaceSweep<Dim>(FieldLayout<Dim>(m_grid.shape), m_grid,
                                std::max(omp_get_max_threads(), omp_get_num_procs()));
  return m_sweep.available();
}

template <int Dim>
template <bool Constant>
void SgOperator<Dim>::stage_kernel(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                                   const Field<Dim>& base, double b) const {
  const auto& L = in.layout();
  const double* q = in.data();
  const double* q0 = base.data();
  const double* V = m_V->data();
  double* o = out.data();
  std::array<const double*, Dim> sk{};
  if constexpr (!Constant)
    for (int k = 0; k < Dim; ++k) sk[k] = m_s[k].data();
  std::array<std::ptrdiff_t, Dim> st{};
  for (int k = 0; k < Dim; ++k) st[k] = L.stride[k];
  const std::array<double, Dim> D_dx2 = m_D_dx2;
  const std::array<double, Dim> inv_dx2 = m_inv_dx2;
  (void)a;  // a = 1 − b (stage_update)
  const auto kernel = sg_row_for<Dim, Constant>(simd_level_for(sg_widest_build), b);
  RowObserver* const observer = m_row_observer;
  auto row = [&](const RowInputs<Dim>& rin, std::ptrdiff_t begin, int count) {
    kernel(rin, q0, V, sk, o, begin, count, st, D_dx2, inv_dx2, dt, b);
    if (observer != nullptr) observer->row_written(o, begin, count);  // fused diagnostics, row in L1
  };
  if (&out == &in) {  // over its input: old values from the sweep's copies; it refills the ghosts
    if (!m_sweep.available() || &base == &in)
      throw std::logic_error("SgOperator: an in-place stage needs enable_in_place_stages() and a separate base");
    m_sweep.run(o, row);
    return;
  }
  // The ghosts of `out` are filled row by row while the row is in L1, so that the next stage's
  // prepare_stage() needs no separate (in 3D strided, 12 % of a step) fill_ghosts pass.
  const RowGhostFiller<Dim> fill_row_ghosts(L, m_grid);
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    row(RowInputs<Dim>::of_array(q, L, begin), begin, count);
    fill_row_ghosts(o, begin, count);
  });
  if (!fill_row_ghosts.fused()) fill_own_ghosts(out, m_grid);  // rank sides: prepare_stage's exchange
}

template <int Dim>
bool SgOperator<Dim>::enable_blocked_stages(int stages, bool stage_arrays) {
  if (m_interaction != nullptr || !RowGhostFiller<Dim>(FieldLayout<Dim>(m_grid.shape), m_grid).fused()) return false;
  m_wavefront = WavefrontSchedule<Dim>(m_grid, stages, 1);
  if (!m_wavefront.available(1)) return false;
  m_stores = StageStores<Dim>(FieldLayout<Dim>(m_grid.shape), m_grid, m_wavefront,
                              std::max(omp_get_max_threads(), omp_get_num_procs()));
  // Without stage arrays (in-place stages: 3D with a potential, kept for issue 7's bound of stages + 3
  // arrays) the stores are added memory, one band per thread: at most 1/8 of an array (256³ on 2
  // threads: 24 of 256 planes, peak 6.12 arrays), else stage by stage (many threads on a thin grid).
  if (!stage_arrays && 8 * m_stores.slices() > m_grid.shape[Dim - 1]) {
    m_stores = StageStores<Dim>();
    return false;
  }
  return true;
}

template <int Dim>
bool SgOperator<Dim>::run_blocked_stages(BlockedStages<Dim>& step) {
  const int threads = omp_get_max_threads();
  if (!m_wavefront.available(threads) || !m_stores.fits(m_wavefront.team_size(threads))) return false;
  if (m_constant)
    blocked_kernel<true>(step);
  else
    blocked_kernel<false>(step);
  for (int j = 1; j < step.stages; ++j) step.limit[static_cast<std::size_t>(j)] = m_dt_limit;  // prepare_stage's
  return true;
}

/// The rows of stage_kernel, slice by slice in the wavefront's order, with the same kernel per row:
/// stage 0 reads qⁿ, later stages read the previous stage's slices from m_stores (their own slices
/// go there too), the last stage writes step.out[last], fills its ghosts row by row and feeds the
/// observer, as the unblocked last stage does.
template <int Dim>
template <bool Constant>
void SgOperator<Dim>::blocked_kernel(BlockedStages<Dim>& step) const {
  using Row = decltype(sg_row_for<Dim, Constant>(SimdLevel::generic, 1.0));
  const auto& L = step.base->layout();
  const double* q = step.base->data();  // qⁿ: stage 0's input and every stage's base
  const double* V = m_V->data();
  std::array<const double*, Dim> sk{};
  if constexpr (!Constant)
    for (int k = 0; k < Dim; ++k) sk[k] = m_s[k].data();
  std::array<std::ptrdiff_t, Dim> st{};
  for (int k = 0; k < Dim; ++k) st[k] = L.stride[k];
  const std::array<double, Dim> D_dx2 = m_D_dx2;
  const std::array<double, Dim> inv_dx2 = m_inv_dx2;
  const double dt = step.dt;
  const int S = step.stages;
  std::array<Row, 3> kernel{};
  for (int j = 0; j < S; ++j) kernel[static_cast<std::size_t>(j)] = sg_row_for<Dim, Constant>(simd_level_for(sg_widest_build), step.b[static_cast<std::size_t>(j)]);
  double* const out = step.out[static_cast<std::size_t>(S - 1)]->data();
  RowObserver* const observer = step.observer;
  const RowGhostFiller<Dim> fill_row_ghosts(L, m_grid);
  const int rows = Dim == 3 ? L.shape[Dim > 1 ? 1 : 0] : 1, nx = L.shape[0];
  StageStores<Dim>& stores = m_stores;
  m_wavefront.run([&](int s, int k, const WavefrontPlace& place) {
    const auto u = static_cast<std::size_t>(s);
    const bool last = s == S - 1;
    const int K = place.unwrapped;
    double* block = last ? nullptr : stores.block(s, K, place);
    double* o = last ? out : stores.out_base(block, k);
    const double* in_c = s > 0 ? stores.block(s - 1, K, place) : nullptr;
    const double* in_lo = s > 0 ? stores.block(s - 1, K - 1, place) : nullptr;
    const double* in_hi = s > 0 ? stores.block(s - 1, K + 1, place) : nullptr;
    for (int j = 0; j < rows; ++j) {
      const std::ptrdiff_t begin = L.offset + static_cast<std::ptrdiff_t>(k) * L.stride[Dim - 1] +
                                   (Dim == 3 ? static_cast<std::ptrdiff_t>(j) * L.stride[Dim > 1 ? 1 : 0] : 0);
      RowInputs<Dim> in;
      if (s == 0) {
        in = RowInputs<Dim>::of_array(q, L, begin);
      } else {
        in.centre = stores.row(in_c, j);
        in.lo[0] = in.centre - 1;
        in.hi[0] = in.centre + 1;
        if constexpr (Dim == 3) {
          in.lo[1] = stores.row(in_c, j - 1);
          in.hi[1] = stores.row(in_c, j + 1);
        }
        in.lo[Dim - 1] = stores.row(in_lo, j);
        in.hi[Dim - 1] = stores.row(in_hi, j);
      }
      kernel[u](in, q, V, sk, o, begin, nx, st, D_dx2, inv_dx2, dt, step.b[u]);
      if (last) {
        if (observer != nullptr) observer->row_written(out, begin, nx);
        fill_row_ghosts(out, begin, nx);
      }
    }
    if (!last) stores.fill_ghosts(block);
  });
}

/// The velocity the SG flux implies at a face. With ξ = D log q + V and the Slotboom variable
/// w = q e^{V/D}, the SG flux is exactly J = q_f · u with
///   u = −(ξ_R − ξ_L)/Δx,   q_f = logmean(w_L, w_R) / logmean(e^{V_L/D}, e^{V_R/D}),
/// logmean(a, b) = (a − b)/(log a − log b) (for V constant the logarithmic mean of q_L, q_R), a face
/// density between q_L and q_R for smooth data: the particle velocity is u, the same formula as the
/// upwind flux's. Where q_f is small next to the donor cell's q (a cell at or near 0: ξ = −∞ there and
/// u unbounded), v = J / max(q_f, q_donor/2) instead, which keeps Δt|v| ≤ 2Δx under the stage limit.
inline double sg_face_velocity(double J, double qL, double qR, double xi_jump, double dx) {
  if (J == 0.0) return 0.0;
  const double half_donor = 0.5 * (J > 0.0 ? qL : qR);
  if (qL > 0.0 && qR > 0.0) {
    const double u = -xi_jump / dx;
    const double q_face = J / u;
    if (q_face >= half_donor && std::isfinite(u)) return u;  // q_face > 0: u and J agree in sign
  }
  return J / half_donor;
}

template <int Dim>
void SgOperator<Dim>::particle_velocities(const Field<Dim>& in, const double* x, double* v, std::size_t n,
                                          std::array<Field<Dim>, Dim>& faces) const {
  with_face_velocity(in, [&](const auto& face_velocity) {
    mac_velocities<Dim>(m_grid, in.layout(), x, v, n, faces, face_velocity);
  });
}

template <int Dim>
void SgOperator<Dim>::particle_faces(const Field<Dim>& in, std::array<Field<Dim>, Dim>& faces) const {
  with_face_velocity(in, [&](const auto& face_velocity) {
    fill_face_velocities<Dim>(m_grid, in.layout(), faces, face_velocity);
  });
}

template <int Dim>
template <class Fn>
void SgOperator<Dim>::with_face_velocity(const Field<Dim>& in, Fn&& fn) const {
  const auto& L = in.layout();
  const double* q = in.data();
  const double* V = m_V->data();
  fn([&](int k, std::ptrdiff_t R) {
    const std::ptrdiff_t Lc = R - L.stride[k];
    const double dx = m_grid.dx(k);
    const double d = (V[R] - V[Lc]) * m_inv_dx2[k];
    const double s = m_constant ? m_D_dx2[k] : m_s[k][R];
    const double J = sg_face_rate(sg_c_plus(s, d), sg_c_minus(s, d), q[Lc], q[R]) * dx;
    const double xi_jump = m_D * std::log(q[R] / q[Lc]) + (V[R] - V[Lc]);
    return sg_face_velocity(J, q[Lc], q[R], xi_jump, dx);
  });
}

template class SgOperator<1>;
template class SgOperator<2>;
template class SgOperator<3>;

}  // namespace wgflow
