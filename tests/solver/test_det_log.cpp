/// det_log, the vectorisable logarithm of the diagnostics pass, against a long double reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "solver/energy/det_log.hpp"

using namespace wgflow;

namespace {

/// |det_log(x) − log x| in units of the ulp of the result, against a long double reference.
double log_error_ulps(double x) {
  const long double exact = std::log(static_cast<long double>(x));
  const double r = static_cast<double>(exact);
  if (r == 0.0) return det_log(x) == 0.0 ? 0.0 : 1e300;
  const double ulp = std::nextafter(std::abs(r), INFINITY) - std::abs(r);
  return static_cast<double>(std::abs(static_cast<long double>(det_log(x)) - exact) / ulp);
}

#if defined(__x86_64__) && defined(__GNUC__)
/// The same loop as the diagnostics kernel's, compiled for AVX2: the vectoriser must not change a bit.
[[gnu::target("avx2"), gnu::flatten]] void det_log_avx2(const double* x, double* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = det_log(x[i]);
}
/// And for AVX-512 (the diagnostics row kernel's third build).
[[gnu::target("avx512f,avx512dq,avx512vl,prefer-vector-width=512"), gnu::flatten]] void det_log_avx512(const double* x,
                                                                                                   double* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = det_log(x[i]);
}
#endif

void det_log_generic(const double* x, double* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = det_log(x[i]);
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("det_log is within one ulp of log over random doubles and subnormals and powers of two and values near 1") {
    double worst = 0.0;
    auto check = [&](double x) { worst = std::max(worst, log_error_ulps(x)); };
    std::mt19937_64 gen(7);
    for (int i = 0; i < 1000000; ++i) {  // uniform over the bit patterns of positive finite doubles
      const std::uint64_t b = gen() % 0x7ff0000000000000ULL;
      double x;
      std::memcpy(&x, &b, sizeof x);
      if (x > 0.0) check(x);
    }
    std::uniform_real_distribution<double> near_one(0.5, 2.0);
    for (int i = 0; i < 1000000; ++i) check(near_one(gen));
    for (int e = -1074; e <= 1023; ++e) check(std::ldexp(1.0, e));
    for (int i = -2000; i <= 2000; ++i) check(1.0 + i * 0x1p-52);
    check(std::numeric_limits<double>::denorm_min());
    check(std::numeric_limits<double>::max());
    check(std::nextafter(0x1p-1022, 0.0));  // largest subnormal
    MESSAGE("det_log worst error: ", worst, " ulp");
    CHECK(worst < 1.0);
    CHECK(det_log(1.0) == 0.0);
    CHECK(det_log(2.0) == std::log(2.0));
  }

  TEST_CASE("det_log gives the same bits in a baseline loop and an AVX2 loop and an AVX-512 loop") {
    std::vector<double> x;
    std::mt19937_64 gen(8);
    for (int i = 0; i < 200000; ++i) {
      const std::uint64_t b = gen() % 0x7ff0000000000000ULL;
      double v;
      std::memcpy(&v, &b, sizeof v);
      if (v > 0.0) x.push_back(v);
    }
    for (int e = -1074; e <= 1023; ++e) x.push_back(std::ldexp(1.0, e));
    for (int i = -500; i <= 500; ++i) x.push_back(1.0 + i * 0x1p-52);
    x.push_back(std::numeric_limits<double>::max());
    x.push_back(std::nextafter(0x1p-1022, 0.0));
    std::vector<double> generic(x.size()), scalar(x.size());
    det_log_generic(x.data(), generic.data(), static_cast<int>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) scalar[i] = det_log(x[i]);
    CHECK(std::memcmp(generic.data(), scalar.data(), x.size() * sizeof(double)) == 0);
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) {
      std::vector<double> avx2(x.size());
      det_log_avx2(x.data(), avx2.data(), static_cast<int>(x.size()));
      CHECK(std::memcmp(avx2.data(), generic.data(), x.size() * sizeof(double)) == 0);
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
      std::vector<double> avx512(x.size());
      det_log_avx512(x.data(), avx512.data(), static_cast<int>(x.size()));
      CHECK(std::memcmp(avx512.data(), generic.data(), x.size() * sizeof(double)) == 0);
    }
#endif
  }
}
