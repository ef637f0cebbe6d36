/// det_log, the vectorisable logarithm of the diagnostics pass, against a long double reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

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

}
