#include "solver/diagnostics_kernel.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

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

/// Four partial-sum lanes held as two GCC 2-lane vectors: lane-wise IEEE operations, so the
/// summation order depends on count only and both builds give the same bits. (GCC does not vectorise
/// four scalar accumulators itself; a 4-lane vector type is lowered badly in the SSE2 build.)
typedef double lanes2 __attribute__((vector_size(16)));

/// Lanes 0, 1 in a, lanes 2, 3 in b.
struct Lanes4 {
  lanes2 a, b;
  void add(const double* p) {
    lanes2 x, y;  // unaligned loads
    std::memcpy(&x, p, sizeof x);
    std::memcpy(&y, p + 2, sizeof y);
    a += x;
    b += y;
  }
  double sum() const { return (a[0] + a[1]) + (b[0] + b[1]); }
};

/// The row: energy terms of a chunk in one vectorised loop into a stack buffer, then lane sums.
template <class Ufn>
DiagnosticsRowTotals row_kernel(const double* __restrict q, const double* __restrict V,
                                const double* __restrict phi, int count, Ufn U) {
  const lanes2 zero = {0.0, 0.0}, first = {q[0], q[0]};
  Lanes4 mass{zero, zero}, energy{zero, zero};
  lanes2 lo_a = first, lo_b = first, hi_a = first, hi_b = first;
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
      mass.add(qc + i);
      energy.add(e + i);
      lanes2 x, y;
      std::memcpy(&x, qc + i, sizeof x);
      std::memcpy(&y, qc + i + 2, sizeof y);
      lo_a = x < lo_a ? x : lo_a;  // std::min(lo, x) lane-wise: a NaN x leaves lo (the mass reports NaN)
      lo_b = y < lo_b ? y : lo_b;
      hi_a = hi_a < x ? x : hi_a;  // std::max(hi, x)
      hi_b = hi_b < y ? y : hi_b;
    }
    for (; i < n; ++i) {  // a chunk's tail goes to lane 0
      mass.a[0] += qc[i];
      energy.a[0] += e[i];
      lo_a[0] = std::min(lo_a[0], qc[i]);
      hi_a[0] = std::max(hi_a[0], qc[i]);
    }
  }
  DiagnosticsRowTotals t;
  t.mass = mass.sum();
  t.energy = energy.sum();
  t.min = std::min(std::min(lo_a[0], lo_a[1]), std::min(lo_b[0], lo_b[1]));
  t.max = std::max(std::max(hi_a[0], hi_a[1]), std::max(hi_b[0], hi_b[1]));
  return t;
}

/// The row in the build `simd` (every build: the same IEEE operations per cell, no FMA; the lane sums
/// stay in Lanes4 also on 8-lane AVX-512, so the order of every sum is that of the other builds).
template <class Ufn>
DiagnosticsRowTotals row_best(SimdLevel simd, const double* q, const double* V, const double* phi, int count, Ufn U) {
  return run_simd(simd, [](auto&&... a) { return row_kernel(a...); }, q, V, phi, count, U);
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
