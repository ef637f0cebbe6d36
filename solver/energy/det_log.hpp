#pragma once
#include "solver/layer_guard.hpp"
/// A natural logarithm in plain IEEE double arithmetic, so that loops calling it vectorise and give
/// bitwise the same result in every build (baseline x86-64, AVX2; -ffp-contract=off): glibc's log is
/// a scalar call per cell and was 40 % of a heat run's instructions through the per-step diagnostics.
/// The method is fdlibm's e_log.c made branch-free: x = 2^k m with m in [√½, √2), f = m − 1,
/// s = f/(2+f), log m = 2 atanh s = f − f²/2 + s(f²/2 + R(s²)), R a degree-14 minimax polynomial,
/// plus k ln2 in two parts. Error < 1 ulp (tests/solver/test_det_log.cpp measures it against std::log).
#include <cstdint>
#include <cstring>

namespace wgflow {

/// fdlibm e_log.c's constants (shared with the AVX-512 entropy, solver/energy/entropy_avx512.hpp).
namespace det_log_constants {
constexpr double ln2_hi = 0x1.62e42feep-1;  // fdlibm 3fe62e42 fee00000: k·ln2_hi is exact
constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
constexpr double Lg1 = 0x1.5555555555593p-1, Lg2 = 0x1.999999997fa04p-2, Lg3 = 0x1.2492494229359p-2,
                 Lg4 = 0x1.c71c51d8e78afp-3, Lg5 = 0x1.7466496cb03dep-3, Lg6 = 0x1.39a09d078c69fp-3,
                 Lg7 = 0x1.2f112df3e5244p-3;
}  // namespace det_log_constants

/// log x for finite x > 0, subnormals included. Other inputs give an unspecified finite or
/// non-finite value (callers select them away) but never trap.
inline double det_log(double x) {
  // Subnormals are scaled by 2^52 into the normal range (exact) and 52 is taken off the exponent.
  // Both are done with integer arithmetic on a mask rather than by selecting between two
  // values: GCC splits a selected floating-point value into two paths, and then the loop does not
  // vectorise.
  std::uint64_t x_bits;
  std::memcpy(&x_bits, &x, sizeof x_bits);
  // Only shifts, adds and masks on 64-bit lanes: SSE2 and AVX2 have no unsigned 64-bit compare and
  // no 64-bit multiply, so a `<` or `*` here would be done one lane at a time.
  const std::uint64_t subnormal = (0 - ((x_bits - 0x0010000000000000ULL) >> 63));  // all ones if x < 2^-1022
  const std::uint64_t scale_bits = 0x3ff0000000000000ULL + (subnormal & (52ULL << 52));  // 1 or 2^52
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  const double xs = x * scale;
  std::uint64_t bits;
  std::memcpy(&bits, &xs, sizeof bits);
  // Shift by the bits of √½ so that the exponent field of u is k + 1023 with m = x/2^k in [√½, √2).
  constexpr std::uint64_t sqrt_half_bits = 0x3fe6a09e667f3bcdULL;
  constexpr std::uint64_t one_bits = 0x3ff0000000000000ULL;
  const std::uint64_t u = bits + (one_bits - sqrt_half_bits);
  const std::uint64_t biased_k = u >> 52;  // k + 1023, in [0, 2047]: no sign to carry
  const std::uint64_t m_bits = bits - ((biased_k - 1023) << 52);  // wraps modulo 2^64 as intended
  double m;
  std::memcpy(&m, &m_bits, sizeof m);
  // k as a double without an int64 → double conversion (none in AVX2): 2^52 + j is exact for
  // j = k + 2047 = biased_k + 1024 − 52·subnormal, which lies in [972, 3071].
  const std::uint64_t k_bits = 0x4330000000000000ULL | (biased_k + 1024 - (subnormal & 52));
  double k_plus;
  std::memcpy(&k_plus, &k_bits, sizeof k_plus);
  const double k = k_plus - (0x1p52 + 2047.0);

  using namespace det_log_constants;
  const double f = m - 1.0;  // exact (Sterbenz)
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  const double hfsq = 0.5 * f * f;
  return k * ln2_hi - ((hfsq - (s * (hfsq + R) + k * ln2_lo)) - f);
}

}  // namespace wgflow
