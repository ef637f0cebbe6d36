#include "solver/diagnostics_kernel.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "solver/energy/det_log.hpp"
#include "solver/energy/entropy_avx512.hpp"

namespace wgflow {
namespace {

// Per-cell U(q) as branch-free expressions the vectoriser accepts (std::log / std::pow would be a
// scalar call per cell). Each returns a faithful value of the same U as internal_energy.hpp.

/// U = D q log q, and 0 at q ≤ 0 (q log q → 0; negative values are reported through min instead).
struct EntropyU {
  double D;
  double operator()(double q) const {
    // Branch-free with integer masks, not `q > 0 ? … : …`: GCC splits selected floating-point
    // values into two paths and then the loop does not vectorise. The log of 1 stands in for q ≤ 0.
    std::uint64_t q_bits;
    std::memcpy(&q_bits, &q, sizeof q_bits);
    // All ones iff q > 0 (or +NaN): the sign bits of q and of q − 1 ulp are both clear only for
    // positive q (shifts and ors: SSE2 has no 64-bit compare).
    const std::uint64_t keep = 0 - (~((q_bits - 1) | q_bits) >> 63);
    const std::uint64_t arg_bits = (q_bits & keep) | (0x3ff0000000000000ULL & ~keep);
    double arg;
    std::memcpy(&arg, &arg_bits, sizeof arg);
    const double value = D * q * det_log(arg);
    std::uint64_t value_bits;
    std::memcpy(&value_bits, &value, sizeof value_bits);
    value_bits &= keep;  // +0.0 where q ≤ 0
    double out;
    std::memcpy(&out, &value_bits, sizeof out);
    return out;
  }
};

#ifdef WGFLOW_SIMD_CLONES
/// EntropyU's values eight cells at a time in AVX-512 registers (solver/energy/entropy_avx512.hpp:
/// bitwise EntropyU, ~25 % fewer operations): a chunk at once into a buffer, for the AVX-512 row only.
struct EntropyChunksAvx512 {
  double D;
  static constexpr bool fills_chunks = true;
  [[gnu::target("avx512f,avx512dq,avx512vl")]] void fill(const double* q, int n, double* u) const {
    entropy_densities_avx512(q, D, n, u);
  }
};
#endif

template <class Ufn, class = void>
struct FillsChunks : std::false_type {};
template <class Ufn>
struct FillsChunks<Ufn, std::void_t<decltype(Ufn::fills_chunks)>> : std::true_type {};

/// U(q) of a chunk's cell i: the buffer a chunk-filling U wrote, else U of the cell.
template <class Ufn>
inline double u_at(Ufn U, const double* __restrict qc, const double* __restrict u, int i) {
  if constexpr (FillsChunks<Ufn>::value)
    return u[i];
  else
    return U(qc[i]);
}

/// U = D q^m/(m−1) for m = 2 and 3, where 1/(m−1) is exact so the product equals the quotient.
template <int M>
struct PorousIntU {
  double D_over;  ///< D/(m−1)
  double operator()(double q) const {
    if constexpr (M == 2) return D_over * q * q;
    return D_over * q * (q * q);
  }
};

/// Any other internal energy: its own U (scalar pow for the porous medium with a general m).
template <class U>
struct GenericU {
  U u;
  double operator()(double q) const { return u.U(q); }
};

constexpr int chunk = 256;  ///< cells whose energy terms are buffered on the stack at a time

/// Four partial-sum lanes (lane j adds the cells i ≡ j mod 4 of a chunk in order) as two GCC 2-lane
/// vectors: lane-wise IEEE operations, so the summation order depends on count only and every build
/// gives the same bits. (GCC does not vectorise four scalar accumulators itself; a 4-lane vector type
/// is lowered badly in the SSE2 build, hence two halves there and one register in Lanes4Wide.)
typedef double lanes2 __attribute__((vector_size(16)));
typedef double lanes4 __attribute__((vector_size(32)));

/// Lanes 0, 1 in a, lanes 2, 3 in b: the SSE2 build.
struct Lanes4Pair {
  lanes2 a, b;
  static Lanes4Pair all(double v) { return {lanes2{v, v}, lanes2{v, v}}; }
  static Lanes4Pair load(const double* p) {
    Lanes4Pair x;  // unaligned loads
    std::memcpy(&x.a, p, sizeof x.a);
    std::memcpy(&x.b, p + 2, sizeof x.b);
    return x;
  }
  void add(const Lanes4Pair& x) {
    a += x.a;
    b += x.b;
  }
  void keep_min(const Lanes4Pair& x) {  // std::min(lo, x) lane-wise: a NaN x leaves lo (the mass reports NaN)
    a = x.a < a ? x.a : a;
    b = x.b < b ? x.b : b;
  }
  void keep_max(const Lanes4Pair& x) {  // std::max(hi, x)
    a = a < x.a ? x.a : a;
    b = b < x.b ? x.b : b;
  }
  double& lane0() { return a[0]; }
  double lane(int j) const { return j < 2 ? a[j] : b[j - 2]; }
};

/// The same four lanes in one 256-bit register: the AVX2 and AVX-512 builds (half the instructions).
struct Lanes4Wide {
  lanes4 v;
  static Lanes4Wide all(double x) { return {lanes4{x, x, x, x}}; }
  static Lanes4Wide load(const double* p) {
    Lanes4Wide x;
    std::memcpy(&x.v, p, sizeof x.v);
    return x;
  }
  void add(const Lanes4Wide& x) { v += x.v; }
  void keep_min(const Lanes4Wide& x) { v = x.v < v ? x.v : v; }
  void keep_max(const Lanes4Wide& x) { v = v < x.v ? x.v : v; }
  double& lane0() { return v[0]; }
  double lane(int j) const { return v[j]; }
};

template <class Lanes>
double lane_sum(const Lanes& x) {
  return (x.lane(0) + x.lane(1)) + (x.lane(2) + x.lane(3));
}

/// The row: energy terms of a chunk in one vectorised loop into a stack buffer, then lane sums.
template <class Lanes, class Ufn>
DiagnosticsRowTotals row_kernel(const double* __restrict q, const double* __restrict V,
                                const double* __restrict phi, int count, Ufn U) {
  Lanes mass = Lanes::all(0.0), energy = Lanes::all(0.0), lo = Lanes::all(q[0]), hi = Lanes::all(q[0]);
  double e[chunk];
  [[maybe_unused]] double u[FillsChunks<Ufn>::value ? chunk : 1];
  for (int c0 = 0; c0 < count; c0 += chunk) {
    const int n = std::min(chunk, count - c0);
    const double* qc = q + c0;
    const double* Vc = V != nullptr ? V + c0 : nullptr;
    if constexpr (FillsChunks<Ufn>::value) U.fill(qc, n, u);
    if (phi != nullptr && V != nullptr) {
      const double* pc = phi + c0;
#pragma omp simd
      for (int i = 0; i < n; ++i) e[i] = (u_at(U, qc, u, i) + Vc[i] * qc[i]) + 0.5 * pc[i] * qc[i];  // E_D density, CCH 2015 eq. (2.11)
    } else if (phi != nullptr) {
      const double* pc = phi + c0;
#pragma omp simd
      for (int i = 0; i < n; ++i) e[i] = (u_at(U, qc, u, i) + 0.0 * qc[i]) + 0.5 * pc[i] * qc[i];
    } else if (V != nullptr) {
#pragma omp simd
      for (int i = 0; i < n; ++i) e[i] = u_at(U, qc, u, i) + Vc[i] * qc[i];
    } else {  // V ≡ +0.0: 0.0·q is what the zero array gave, bit for bit (−0 for q < 0, NaN for ±∞)
#pragma omp simd
      for (int i = 0; i < n; ++i) e[i] = u_at(U, qc, u, i) + 0.0 * qc[i];
    }
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      const Lanes x = Lanes::load(qc + i);
      mass.add(x);
      energy.add(Lanes::load(e + i));
      lo.keep_min(x);
      hi.keep_max(x);
    }
    for (; i < n; ++i) {  // a chunk's tail goes to lane 0
      mass.lane0() += qc[i];
      energy.lane0() += e[i];
      lo.lane0() = std::min(lo.lane0(), qc[i]);
      hi.lane0() = std::max(hi.lane0(), qc[i]);
    }
  }
  DiagnosticsRowTotals t;
  t.mass = lane_sum(mass);
  t.energy = lane_sum(energy);
  t.min = std::min(std::min(lo.lane(0), lo.lane(1)), std::min(lo.lane(2), lo.lane(3)));
  t.max = std::max(std::max(hi.lane(0), hi.lane(1)), std::max(hi.lane(2), hi.lane(3)));
  return t;
}

#ifdef WGFLOW_SIMD_CLONES
/// The entropy row of the AVX-512 build, its q log q eight cells at a time (EntropyChunksAvx512).
[[WGFLOW_TARGET_AVX512]] DiagnosticsRowTotals entropy_row_avx512(const double* q, const double* V, const double* phi,
                                                                 int count, double D) {
  return row_kernel<Lanes4Wide>(q, V, phi, count, EntropyChunksAvx512{D});
}
#endif

/// The row in the build `simd` (every build: the same IEEE operations per cell, no FMA; the lane sums
/// stay four lanes also on 8-lane AVX-512, so the order of every sum is that of the other builds).
template <class Ufn>
DiagnosticsRowTotals row_best(SimdLevel simd, const double* q, const double* V, const double* phi, int count, Ufn U) {
#ifdef WGFLOW_SIMD_CLONES
  if constexpr (std::is_same_v<Ufn, EntropyU>)
    if (simd == SimdLevel::avx512) return entropy_row_avx512(q, V, phi, count, U.D);
#endif
  if (simd == SimdLevel::generic)
    return run_simd(simd, [](auto&&... a) { return row_kernel<Lanes4Pair>(a...); }, q, V, phi, count, U);
  return run_simd(simd, [](auto&&... a) { return row_kernel<Lanes4Wide>(a...); }, q, V, phi, count, U);
}

}  // namespace

DiagnosticsRowTotals diagnostics_row(SimdLevel simd, const InternalEnergySpec& internal, const double* q,
                                     const double* V, const double* phi, int count) {
  switch (internal.kind) {
    case InternalEnergySpec::Kind::entropy: return row_best(simd, q, V, phi, count, EntropyU{internal.D});
    case InternalEnergySpec::Kind::porous_medium:
      if (internal.m == 2.0) return row_best(simd, q, V, phi, count, PorousIntU<2>{internal.D});
      if (internal.m == 3.0) return row_best(simd, q, V, phi, count, PorousIntU<3>{internal.D * 0.5});
      return row_best(simd, q, V, phi, count, GenericU<PorousMedium>{PorousMedium{internal.D, internal.m}});
    case InternalEnergySpec::Kind::none: return row_best(simd, q, V, phi, count, GenericU<NoInternalEnergy>{});
  }
  return row_best(simd, q, V, phi, count, GenericU<NoInternalEnergy>{});
}

}  // namespace wgflow
