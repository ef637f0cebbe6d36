#pragma once
/// A table-driven natural logarithm in plain IEEE double arithmetic (no division, no FMA), so that
/// loops calling it vectorise and give bitwise the same result in every build (baseline x86-64,
/// AVX2; -ffp-contract=off). The scheme is glibc's log (Szabolcs Nagy) with its one FMA replaced by
/// an exact product:
///   x = 2^k z, z in [0.6875, 1.375), cell i = 7 mantissa bits of z, invc = m_i/128 (m_i ≤ 8 bits),
///   r = z invc − 1 EXACTLY: the table (scripts/gen_log_table.py) keeps |r| < 2^-7 in every cell, so r
///   is a double (a multiple of 2^-60 below 2^-7), and it is computed as (zh invc − 1) + zl invc with
///   z = zh + zl, zh the top 45 bits of z: both products and the subtraction (Sterbenz) are exact and
///   the sum, being the double r, too.
///   log x = k ln2 + log(1/invc) + log1p(r), with k ln2_hi + logc_hi exact (both multiples of 2^-42),
///   hi = that + r and its rounding error by Fast2Sum (|w| ≥ |r| wherever w ≠ 0, checked by the
///   generator), and log1p(r) − r = r²(−1/2 + r/3 − … − r⁶/8), the Taylor series cut after r⁸
///   (|r|⁹/9 < 2^-66). Near 1 (x in [1 − 2^-8, 1 + 2^-7)) invc = 1 and logc = 0: log x = r + r² P(r)
///   with r = x − 1 exact. All other roundings are ≤ 2^-66 absolute against a result ≥ 2^-8 (ulp ≥
///   2^-61), or relative ≤ 2^-60 near 1: the result is within 0.5 ulp + O(2^-5) ulp of log x
///   (wgflow_bench_log measures the maximum against a long double reference).
#include <cstdint>
#include <cstring>

#include "benchmarks/table_log_data.hpp"

namespace wgflow {

/// log x for finite x > 0, subnormals included. Other inputs give an unspecified finite or
/// non-finite value (callers select them away) but never trap or read outside the table.
inline double table_log(double x) {
  namespace T = table_log_data;
  // Subnormals scaled by 2^52 with integer masks, as det_log does (a selected double stops GCC's
  // vectoriser); 52 is taken off the exponent below.
  std::uint64_t x_bits;
  std::memcpy(&x_bits, &x, sizeof x_bits);
  const std::uint64_t subnormal = (0 - ((x_bits - 0x0010000000000000ULL) >> 63));
  const std::uint64_t scale_bits = 0x3ff0000000000000ULL + (subnormal & (52ULL << 52));
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const double xs = x * scale;
  std::uint64_t bits;
  std::memcpy(&bits, &xs, sizeof bits);
  // u = bits − 0x3fe6… + 2^62 − 2^52·…: exponent field k + 1023 (no sign to carry: SSE2/AVX2 have no
  // 64-bit arithmetic shift), and bits 45–51 the cell of z.
  constexpr std::uint64_t offset_bits = 0x3fe6000000000000ULL;
  constexpr std::uint64_t one_bits = 0x3ff0000000000000ULL;
  const std::uint64_t u = bits + (one_bits - offset_bits);
  const std::uint64_t biased_k = u >> 52;
  const std::uint64_t i = (u >> 45) & 127;
  const std::uint64_t z_bits = bits - ((biased_k - 1023) << 52);  // wraps modulo 2^64 as intended
  const std::uint64_t zh_bits = z_bits & ~std::uint64_t{0xff};
  double z, zh;
  std::memcpy(&z, &z_bits, sizeof z);
  std::memcpy(&zh, &zh_bits, sizeof zh);
  // k as a double by the 2^52 trick (no int64 → double conversion in AVX2), as det_log.
  const std::uint64_t k_bits = 0x4330000000000000ULL | (biased_k + 1024 - (subnormal & 52));
  double k_plus;
  std::memcpy(&k_plus, &k_bits, sizeof k_plus);
  const double k = k_plus - (0x1p52 + 2047.0);

  const T::Entry& e = T::table[i];
  const double zl = z - zh;                               // exact: the low 8 bits
  const double r = (zh * e.invc - 1.0) + zl * e.invc;     // exact (see above)
  const double w = k * T::ln2_hi + e.logc_hi;             // exact
  const double hi = w + r;
  const double lo = ((w - hi) + r) + (k * T::ln2_lo + e.logc_lo);  // Fast2Sum error + the low parts
  const double r2 = r * r;
  // r²(−1/2 + r/3 − r²/4 + r³/5 − r⁴/6 + r⁵/7 − r⁶/8), in two halves for instruction-level parallelism.
  constexpr double c3 = 1.0 / 3.0, c5 = 1.0 / 5.0, c6 = -1.0 / 6.0, c7 = 1.0 / 7.0;
  const double p_lo = -0.5 + r * c3 + r2 * (-0.25 + r * c5);
  const double p_hi = c6 + r * c7 + r2 * -0.125;
  const double p = r2 * (p_lo + (r2 * r2) * p_hi);
  return hi + (lo + p);
}

}  // namespace wgflow
