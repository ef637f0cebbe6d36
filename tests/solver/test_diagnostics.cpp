/// The vectorised diagnostics pass: its rows against a plain scalar reference (std::log, pow, one
/// sequential sum), and bitwise equality across builds (baseline / AVX2) and thread counts.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "solver/diagnostics_kernel.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// A row with the values a run meets: smooth positive data, exact zeros, subnormal tails, negatives.
std::vector<double> awkward_row(int n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 3.0);
  std::vector<double> q(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double v = u(gen);
    if (i % 7 == 3) v = 0.0;
    if (i % 11 == 5) v = 1e-310 * v;
    if (i % 13 == 6) v = -1e-12 * v;
    if (i % 17 == 8) v = 1.0;
    q[static_cast<std::size_t>(i)] = v;
  }
  return q;
}

/// The pass as it was written before vectorising: std::log / pow through U(q), one sequential sum.
DiagnosticsRowTotals scalar_reference(const InternalEnergySpec& spec, const double* q, const double* V, const double* phi,
                                      int n) {
  return with_internal_energy(spec, [&](auto U) {
    DiagnosticsRowTotals t{0.0, 0.0, q[0], q[0]};
    for (int c = 0; c < n; ++c) {
      t.mass += q[c];
      t.energy += U.U(q[c]) + V[c] * q[c];
      if (phi != nullptr) t.energy += 0.5 * phi[c] * q[c];
      t.min = std::min(t.min, q[c]);
      t.max = std::max(t.max, q[c]);
    }
    return t;
  });
}

const InternalEnergySpec no_internal{InternalEnergySpec::Kind::none, 1.0, 2.0};

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("diagnostics row equals the scalar std::log reference to 1e-14 and bitwise across builds") {
    const std::vector<InternalEnergySpec> specs = {entropy(1.0), entropy(0.37), porous(2.0, 0.5), porous(3.0, 2.0),
                                                   porous(2.5), no_internal};
    for (int n : {1, 3, 4, 255, 256, 257, 1024}) {
      const std::vector<double> q = awkward_row(n, static_cast<std::uint64_t>(n));
      const std::vector<double> V = awkward_row(n, 99);
      const std::vector<double> phi = awkward_row(n, 5);
      for (const InternalEnergySpec& spec : specs)
        for (const double* ph : {static_cast<const double*>(nullptr), phi.data()}) {
          const DiagnosticsRowTotals ref = scalar_reference(spec, q.data(), V.data(), ph, n);
          const DiagnosticsRowTotals gen = diagnostics_row(SimdLevel::generic, spec, q.data(), V.data(), ph, n);
          // Terms of either sign: relative to the sum of magnitudes (what round-off scales with).
          double scale = 0.0;
          with_internal_energy(spec, [&](auto U) {
            for (int c = 0; c < n; ++c)
              scale += std::abs(U.U(q[c])) + std::abs(V[c] * q[c]) + (ph ? std::abs(0.5 * ph[c] * q[c]) : 0.0);
            return 0;
          });
          if (std::isnan(ref.energy))  // pow of the negative cells (porous m = 2.5)
            CHECK(std::isnan(gen.energy));
          else
            CHECK(std::abs(gen.energy - ref.energy) <= 1e-14 * scale);
          CHECK(std::abs(gen.mass - ref.mass) <= 1e-14 * ref.mass);
          CHECK(gen.min == ref.min);
          CHECK(gen.max == ref.max);
          for (SimdLevel build : {SimdLevel::avx2, SimdLevel::avx512}) {
            if (build > cpu_simd_level()) continue;  // a build this CPU cannot run
            const DiagnosticsRowTotals avx = diagnostics_row(build, spec, q.data(), V.data(), ph, n);
            CHECK(same_bits(avx.mass, gen.mass));
            CHECK(same_bits(avx.energy, gen.energy));
            CHECK(same_bits(avx.min, gen.min));
            CHECK(same_bits(avx.max, gen.max));
          }
        }
    }
  }

  TEST_CASE("diagnostics row: V = nullptr gives the bits of an array of +0.0 in every build (non-finite q included)") {
    const std::vector<InternalEnergySpec> specs = {entropy(1.0), entropy(0.37), porous(2.0, 0.5), porous(3.0, 2.0),
                                                   porous(2.5), no_internal};
    for (int n : {1, 5, 255, 256, 1030}) {
      std::vector<double> q = awkward_row(n, static_cast<std::uint64_t>(n) + 7);
      if (n > 200) {  // what a failing run can hand the pass: ±∞ and NaN among the cells
        q[100] = std::numeric_limits<double>::infinity();
        q[150] = -std::numeric_limits<double>::infinity();
        q[170] = std::nan("");
      }
      const std::vector<double> zeros(static_cast<std::size_t>(n), 0.0);
      const std::vector<double> phi = awkward_row(n, 5);
      for (const InternalEnergySpec& spec : specs)
        for (const double* ph : {static_cast<const double*>(nullptr), phi.data()})
          for (SimdLevel simd : runnable_simd_levels()) {
            const DiagnosticsRowTotals with_array = diagnostics_row(simd, spec, q.data(), zeros.data(), ph, n);
            const DiagnosticsRowTotals without = diagnostics_row(simd, spec, q.data(), nullptr, ph, n);
            CHECK(same_bits(with_array.mass, without.mass));
            CHECK(same_bits(with_array.energy, without.energy));
            CHECK(same_bits(with_array.min, without.min));
            CHECK(same_bits(with_array.max, without.max));
          }
    }
  }

  TEST_CASE("diagnostics row: each cell's entropy density has the same bits in every build (AVX-512's getexp/getmant split)") {
    // One-cell rows: the energy is that cell's D q log q itself. Random bit patterns (every sign,
    // exponent and NaN), every binade with subnormals, ±1000 ulp around 1 and around the √2 split of
    // each binade, and ±0, ±∞, NaN, the extremes: each against the baseline build.
    std::mt19937_64 gen(2026);
    std::vector<double> values = {0.0, -0.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                  std::nan(""), -std::nan(""), std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::min(), std::numeric_limits<double>::max(), 1.0};
    auto from_bits = [](std::uint64_t b) {
      double v;
      std::memcpy(&v, &b, sizeof v);
      return v;
    };
    for (int i = 0; i < 40000; ++i) values.push_back(from_bits(gen()));
    for (int e = -1074; e <= 1023; ++e) values.push_back(std::ldexp(1.0 + static_cast<double>(gen() >> 12) * 0x1p-52, e));
    for (double centre : {1.0, 0x1.6a09e667f3bcdp0, 0x1.6a09e667f3bcdp-700, 0x1.6a09e667f3bcdp+300})
      for (int d = -1000; d <= 1000; ++d) {
        std::uint64_t b;
        std::memcpy(&b, &centre, sizeof b);
        values.push_back(from_bits(b + static_cast<std::uint64_t>(static_cast<std::int64_t>(d))));
      }
    long mismatches = 0;
    for (double D : {1.0, 0.37})
      for (SimdLevel simd : runnable_simd_levels())
        for (double v : values) {
          const double gen_e = diagnostics_row(SimdLevel::generic, entropy(D), &v, nullptr, nullptr, 1).energy;
          const double e = diagnostics_row(simd, entropy(D), &v, nullptr, nullptr, 1).energy;
          mismatches += std::isnan(gen_e) ? !std::isnan(e) : !same_bits(e, gen_e);
        }
    CHECK(mismatches == 0);
    // Whole rows of these values (the 8-lane body and the masked tail), finite positive ones only so
    // that no NaN or ∞ in the sum hides a mismatch.
    std::vector<double> finite;
    for (double v : values)
      if (std::isfinite(v) && v > 0.0 && v < 1e300) finite.push_back(v);
    for (int n : {7, 8, 9, 255, 1027}) {
      for (std::size_t start = 0; start + static_cast<std::size_t>(n) <= finite.size(); start += 9973) {
        const double* q = finite.data() + start;
        const DiagnosticsRowTotals ref = diagnostics_row(SimdLevel::generic, entropy(1.0), q, nullptr, nullptr, n);
        for (SimdLevel simd : runnable_simd_levels())
          CHECK(same_bits(diagnostics_row(simd, entropy(1.0), q, nullptr, nullptr, n).energy, ref.energy));
      }
    }
  }

  TEST_CASE("diagnostics row: q = 0 adds nothing to the entropy and NaN reaches the mass and negatives the min") {
    for (SimdLevel simd : runnable_simd_levels()) {
      std::vector<double> q(300, 0.0), V(300, 0.0);
      DiagnosticsRowTotals t = diagnostics_row(simd, entropy(1.0), q.data(), V.data(), nullptr, 300);
      CHECK(t.energy == 0.0);
      CHECK(t.mass == 0.0);
      q[217] = -3e-9;
      t = diagnostics_row(simd, entropy(1.0), q.data(), V.data(), nullptr, 300);
      CHECK(t.min == -3e-9);
      CHECK(t.energy == 0.0);
      q[101] = std::nan("");
      t = diagnostics_row(simd, entropy(1.0), q.data(), V.data(), nullptr, 300);
      CHECK(std::isnan(t.mass));
    }
  }
}

TEST_SUITE("physics") {
  TEST_CASE("diagnostics rows are bitwise the same for 1 and 2 threads") {
    const int saved = omp_get_max_threads();
    UniformGrid<2> grid = make_cube_grid<2>(160, -2.0, 2.0, Boundary::no_flux);  // ≥ parallel_min_cells
    for (const InternalEnergySpec& spec : {entropy(1.0), porous(3.0), porous(2.5)}) {
      Problem<2> p(grid, spec, quadratic(1.0), flux_for(spec));
      const Field<2> q = cell_averages(grid, [](const double* x) {
        return std::max(0.0, 1.0 - x[0] * x[0] - 0.5 * x[1] * x[1]) + 1e-300 * std::exp(-x[0]);
      });
      omp_set_num_threads(1);
      const DiagnosticsRow one = p.diagnostics.measure(q, 0.0, 0.0, nullptr);
      omp_set_num_threads(2);
      const DiagnosticsRow two = p.diagnostics.measure(q, 0.0, 0.0, nullptr);
      CHECK(same_bits(one.mass, two.mass));
      CHECK(same_bits(one.energy, two.energy));
      CHECK(same_bits(one.min, two.min));
      CHECK(same_bits(one.max, two.max));
    }
    omp_set_num_threads(saved);
  }
}
