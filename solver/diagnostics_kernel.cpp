#include "solver/diagnostics_kernel.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "solver/energy/det_log.hpp"

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
    const std::uint64_t keep = 0 - static_cast<std::uint64_t>(static_cast<std::int64_t>(q_bits) > 0);  // q > 0 (or +NaN)
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

/// Four partial-sum lanes as one GCC vector: lane-wise IEEE operations, so the summation order
/// depends on count only, and either build (2 × SSE2 or 1 × AVX2 per operation) gives the same bits.
/// GCC does not vectorise four scalar accumulators itself (it will not reorder an FP reduction).
typedef double lanes4 __attribute__((vector_size(32)));

/// The row: energy terms of a chunk in one vectorised loop into a stack buffer, then lane sums.
template <class Ufn>
DiagnosticsRowTotals row_kernel(const double* __restrict q, const double* __restrict V,
                                const double* __restrict phi, int count, Ufn U) {
  lanes4 mass = {0.0, 0.0, 0.0, 0.0}, energy = mass;
  lanes4 lo = {q[0], q[0], q[0], q[0]}, hi = lo;
  double e[chunk];
  for (int c0 = 0; c0 < count; c0 += chunk) {
    const int n = std::min(chunk, count - c0);
    const double* qc = q + c0;
    const double* Vc = V + c0;
    if (phi != nullptr) {
      const double* pc = phi + c0;
#pragma omp simd
      for (int i = 0; i < n; ++i) e[i] = (U(qc[i]) + Vc[i] * qc[i]) + 0.5 * pc[i] * qc[i];  // E_D density, CCH 2015 eq. (2.11)
    } else {
#pragma omp simd
      for (int i = 0; i < n; ++i) e[i] = U(qc[i]) + Vc[i] * qc[i];
    }
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      lanes4 v, ev;  // unaligned loads (a vector-returning helper would trip -Wpsabi)
      std::memcpy(&v, qc + i, sizeof v);
      std::memcpy(&ev, e + i, sizeof ev);
      mass += v;
      energy += ev;
      lo = v < lo ? v : lo;  // std::min(lo, v) lane-wise: a NaN v leaves lo (the mass reports NaN)
      hi = hi < v ? v : hi;  // std::max(hi, v)
    }
    for (; i < n; ++i) {  // a chunk's tail goes to lane 0
      mass[0] += qc[i];
      energy[0] += e[i];
      lo[0] = std::min(lo[0], qc[i]);
      hi[0] = std::max(hi[0], qc[i]);
    }
  }
  DiagnosticsRowTotals t;
  t.mass = (mass[0] + mass[1]) + (mass[2] + mass[3]);
  t.energy = (energy[0] + energy[1]) + (energy[2] + energy[3]);
  t.min = std::min(std::min(lo[0], lo[1]), std::min(lo[2], lo[3]));
  t.max = std::max(std::max(hi[0], hi[1]), std::max(hi[2], hi[3]));
  return t;
}

#ifdef WGFLOW_SIMD_CLONES
/// The same row compiled for AVX2.
template <class Ufn>
[[WGFLOW_TARGET_AVX2]] DiagnosticsRowTotals row_kernel_avx2(const double* __restrict q, const double* __restrict V,
                                                            const double* __restrict phi, int count, Ufn U) {
  return row_kernel(q, V, phi, count, U);
}
#endif

template <class Ufn>
DiagnosticsRowTotals row_best(SimdLevel simd, const double* q, const double* V, const double* phi, int count, Ufn U) {
#ifdef WGFLOW_SIMD_CLONES
  if (simd == SimdLevel::avx2) return row_kernel_avx2(q, V, phi, count, U);
#endif
  (void)simd;
  return row_kernel(q, V, phi, count, U);
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
