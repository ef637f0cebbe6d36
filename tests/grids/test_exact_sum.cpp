/// ExactSum: correctly rounded, order- and partition-free sums (the reduction of issue 12).
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "grids/exact_sum.hpp"

using namespace wgflow;

namespace {

/// Correctly rounded sum by Shewchuk's partials with CPython's half-even fix-up (math.fsum): an
/// independent reference, valid while no partial overflows.
double fsum(const std::vector<double>& values) {
  std::vector<double> partials;
  for (double x : values) {
    std::size_t i = 0;
    for (double y : partials) {
      if (std::abs(x) < std::abs(y)) std::swap(x, y);
      const double hi = x + y;
      const double lo = y - (hi - x);
      if (lo != 0.0) partials[i++] = lo;
      x = hi;
    }
    partials.resize(i);
    partials.push_back(x);
  }
  std::size_t n = partials.size();
  if (n == 0) return 0.0;
  double hi = partials[--n], lo = 0.0;
  while (n > 0) {
    const double x = hi, y = partials[--n];
    hi = x + y;
    lo = y - (hi - x);
    if (lo != 0.0) break;
  }
  if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0))) {
    const double y = lo * 2.0, x = hi + y;
    if (y == x - hi) hi = x;
  }
  return hi;
}

double exact(const std::vector<double>& values) {
  ExactSum s;
  s.add(values.data(), values.size());
  return s.value();
}

__extension__ typedef unsigned __int128 uint128;  // GCC's, for an exact reference product

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Random doubles with exponents in [lo, hi] and random signs.
std::vector<double> random_values(std::mt19937_64& gen, int n, int lo, int hi) {
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(lo, hi);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = std::ldexp(mantissa(gen), exponent(gen)) * (gen() & 1 ? -1.0 : 1.0);
  return v;
}

struct Case {
  std::vector<double> values;
  double sum;
};

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("ExactSum matches sums of fractions computed by Python and a Shewchuk reference") {
    // Generated with Python's fractions.Fraction (exact) and float() (correctly rounded).
    const std::vector<Case> cases = {
  {{-0x1.1dcb16001b4b3p+814, 0x0.0000000000a0dp-1022, 0x1.988334b5e9efdp+309, -0x1.86cce78163dfep+360, 0x1.787aa594c52cep-477, 0x1.50a03c61dd475p+872, -0x1.fa99717f2d340p-157, 0x1.c6649e0e674e2p-2, -0x1.e1e38e4e0b310p+316, -0x1.d67af0c3e3e57p-714, 0x1.18a013525b37cp+462, -0x1.06ec132bf6ea4p-254, -0x1.50a03c61dd475p+872}, -0x1.1dcb16001b4b3p+814},
  {{-0x1.ef56c54c478a0p-947, 0x1.cd196b0c1d4e0p+972, 0x1.37f5b2989cfb4p+852, 0x1.e1d643573d7f8p+0, 0x0.000000000053cp-1022, 0x1.6437758d90640p-166, -0x1.81aff9a332bb1p-234, 0x1.740ac82f85a52p-110, -0x1.09ba03c1a5bd5p+690, 0x1.3f68ff644c6b8p-4, -0x1.cd196b0c1d4e0p+972, 0x1.56179de624637p+569, 0x1.d241ec8137a60p+505}, 0x1.37f5b2989cfb4p+852},
  {{-0x0.0001fafe7f9e8p-1022, 0x1.d290e0bcf62acp+319, -0x1.87bbff6b88d40p+986, 0x1.d937432320776p-385, -0x1.838c36c435478p+418, -0x1.e96aa8ff440cbp+899, 0x1.4760e3078f124p+249, 0x0.0000000000572p-1022, -0x1.e538b0512b130p-171, -0x1.eec505cb8193cp+326, 0x1.87bbff6b88d40p+986, 0x1.0df204a02412dp-1, 0x1.ff3ac122fae06p-596}, -0x1.e96aa8ff440cbp+899},
  {{0x1.77cfd8123dc72p+752, 0x1.e317dcfd5f852p-252, -0x1.290b32e3a4b86p+586, 0x1.8557a4c282541p-831, 0x1.2d476905f19e2p+639, 0x1.1b66213dc1520p+15, -0x1.1db4df78bb625p-960, -0x1.77cfd8123dc72p+752, 0x1.46b0402f17ed0p+352, 0x1.e34757372daf9p+68, -0x1.5dd8d5003c7dap-27, 0x1.499270046173cp-3, 0x0.0000000000922p-1022}, 0x1.2d476905f19e1p+639},
  {{0x0.0009f305e3f81p-1022, -0x0.000fb8aa721d8p-1022, -0x0.000c9addae982p-1022, 0x0.000d0125d09a4p-1022, 0x0.0002a52d700adp-1022, -0x0.0009f4ffe831bp-1022, 0x0.000dfef48ef11p-1022, -0x0.0000f2d010b11p-1022}, 0x0.00005cf599f5dp-1022},
  {{0x1.0000000000000p+0, 0x1.0000000000000p-53, 0x1.0000000000000p-106}, 0x1.0000000000001p+0},
  {{0x1.0000000000000p+0, 0x1.0000000000000p-53}, 0x1.0000000000000p+0},
  {{0x1.1ccf385ebc8a0p+1023, 0x1.1ccf385ebc8a0p+1023, -0x1.1ccf385ebc8a0p+1023, 0x1.0000000000000p+0, -0x1.0000000000000p+0, 0x0.0000000000001p-1022}, 0x1.1ccf385ebc8a0p+1023},
    };
    for (const Case& c : cases) {
      CHECK(same_bits(exact(c.values), c.sum));
      // The reference agrees with Python, except where its partials overflow (2·1.1e308 in the last case).
      const bool reference_overflows = !std::isfinite(fsum(c.values)) && std::isfinite(c.sum);
      if (!reference_overflows) CHECK(same_bits(fsum(c.values), c.sum));
    }
    std::mt19937_64 gen(3);
    for (int trial = 0; trial < 300; ++trial) {
      const int spread = trial % 3 == 0 ? 40 : trial % 3 == 1 ? 300 : 1000;
      std::vector<double> v = random_values(gen, 1 + trial, -spread, std::min(spread, 1000));
      if (trial % 5 == 0) v.push_back(-v[0]);  // cancellation of the first term
      const double r = fsum(v);
      CHECK(same_bits(exact(v), r));
    }
  }

  TEST_CASE("ExactSum gives the same bits for any order and any partition into combined accumulators") {
    std::mt19937_64 gen(11);
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> v = random_values(gen, 500, -1060, 1000);
      for (int i = 0; i < 20; ++i) v.push_back(std::ldexp(static_cast<double>(gen() % 1000), -1074));  // subnormals
      const double reference = exact(v);
      for (int shuffle = 0; shuffle < 5; ++shuffle) {
        std::shuffle(v.begin(), v.end(), gen);
        // A random partition into up to 7 "ranks", each summing its part, combined in a random order.
        const int parts = 1 + static_cast<int>(gen() % 7);
        std::vector<ExactSum> rank(static_cast<std::size_t>(parts));
        for (double x : v) rank[gen() % static_cast<std::size_t>(parts)].add(x);
        std::shuffle(rank.begin(), rank.end(), gen);
        ExactSum total;
        for (const ExactSum& r : rank) {
          ExactSum copy = r;
          if (gen() & 1) copy.normalise();  // normalised or not: the value is the same
          total.add(copy);
        }
        CHECK(same_bits(total.value(), reference));
        // Combining by plain elementwise addition of the words (what MPI_SUM on int64 does).
        ExactSum by_words;
        for (ExactSum& r : rank) {
          r.normalise();
          for (int w = 0; w < ExactSum::num_words; ++w) by_words.words()[w] += r.words()[w];
        }
        CHECK(same_bits(by_words.value(), reference));
      }
    }
  }

  TEST_CASE("ExactSum survives catastrophic cancellation and sums subnormals exactly") {
    CHECK(exact({1e300, 1.0, -1e300}) == 1.0);
    CHECK(exact({1.0, 1e300, 1e-300, -1e300, -1.0}) == 1e-300);
    CHECK(exact({0.1, 0.2, -0.3}) == fsum({0.1, 0.2, -0.3}));
    const double tiny = std::numeric_limits<double>::denorm_min();
    CHECK(exact({tiny, tiny, tiny}) == 3 * tiny);
    CHECK(exact({DBL_MIN, -tiny}) == std::nextafter(DBL_MIN, 0.0));
    CHECK(exact({1.0, tiny, -1.0}) == tiny);
    CHECK(exact({-2.5, 1.0}) == -1.5);
    CHECK(exact({}) == 0.0);
    CHECK(exact({0.0, -0.0}) == 0.0);
    CHECK(exact({3.0, -3.0}) == 0.0);
  }

  TEST_CASE("ExactSum overflows to infinity only when the exact sum does") {
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(exact({DBL_MAX, DBL_MAX}) == inf);
    CHECK(exact({-DBL_MAX, -DBL_MAX}) == -inf);
    CHECK(exact({DBL_MAX, DBL_MAX, -DBL_MAX}) == DBL_MAX);  // an IEEE sum in this order gives inf
    const double half_ulp = std::ldexp(1.0, 970);             // DBL_MAX + ½ ulp rounds (to even) to 2^1024
    CHECK(exact({DBL_MAX, half_ulp}) == inf);
    CHECK(exact({DBL_MAX, half_ulp, -std::ldexp(1.0, 900)}) == DBL_MAX);
  }

  TEST_CASE("ExactSum propagates NaN and infinities as an IEEE sum does") {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(std::isnan(exact({1.0, nan, 2.0})));
    CHECK(exact({1.0, inf, -1e308}) == inf);
    CHECK(exact({1.0, -inf}) == -inf);
    CHECK(std::isnan(exact({inf, 1.0, -inf})));
    ExactSum a, b;
    a.add(inf);
    b.add(-inf);
    a.add(b);
    CHECK(std::isnan(a.value()));
  }

  TEST_CASE("ExactSum defers carries over more than 2^30 additions") {
    // 2^30 + 7 copies of a value whose significand is all ones: every addition loads the limbs
    // with nearly 2^32, so the carries must be propagated once on the way; the exact total
    // n·m·2^e is rounded by the (correctly rounding) int128 → double conversion.
    const std::uint64_t m = (std::uint64_t{1} << 53) - 1;
    const int e = 31 - 1074 + 64;  // significand shifted by 31 within its limb
    const double x = std::ldexp(static_cast<double>(m), e);
    const std::int64_t n = (std::int64_t{1} << 30) + 7;
    ExactSum s;
    for (std::int64_t i = 0; i < n; ++i) s.add(x);
    const double expected = std::ldexp(static_cast<double>(static_cast<uint128>(m) * static_cast<uint128>(n)), e);
    CHECK(same_bits(s.value(), expected));
  }
}
