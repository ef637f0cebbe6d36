/// wgflow_bench_log: det_log (solver/energy/det_log.hpp, the log of the diagnostics pass) against the
/// table-driven candidate table_log (benchmarks/table_log.hpp), one thread, 4096 values in L1, in the
/// baseline (SSE2), the AVX2 and the AVX-512 build of the same loop: ns per value (min over repeats), the worst
/// error in ulp against a long double log, and whether both builds give the same bits
/// (docs/benchmarks.md "The diagnostics pass"). Usage: wgflow_bench_log [--values N] (N random bit
/// patterns for the accuracy check, default 4 million; the targeted values are always added).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "benchmarks/table_log.hpp"
#include "solver/energy/det_log.hpp"

using namespace wgflow;

namespace {

struct DetLog {
  double operator()(double x) const { return det_log(x); }
};
struct TableLog {
  double operator()(double x) const { return table_log(x); }
};

template <class Log>
[[gnu::noinline]] void run_generic(const double* x, double* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = Log{}(x[i]);
}

template <class Log>
[[gnu::target("avx2"), gnu::flatten, gnu::noinline]] void run_avx2(const double* x, double* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = Log{}(x[i]);
}

template <class Log>
[[gnu::target("avx512f,avx512dq,avx512vl,prefer-vector-width=512"), gnu::flatten, gnu::noinline]] void run_avx512(
    const double* x, double* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = Log{}(x[i]);
}

bool has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

template <class Fn>
double ns_per_value(Fn fn, int n) {
  double best = 1e300;
  for (int r = 0; r < 2000; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best / n * 1e9;
}

double ulps(double x, double y) {
  const long double exact = std::log(static_cast<long double>(x));
  const double r = static_cast<double>(exact);
  if (r == 0.0) return y == 0.0 ? 0.0 : 1e300;
  const double ulp = std::nextafter(std::abs(r), INFINITY) - std::abs(r);
  return static_cast<double>(std::abs(static_cast<long double>(y) - exact) / ulp);
}

/// Random bit patterns of positive finite doubles, every power of two, values near 1, both ends of
/// every cell of table_log (7 mantissa bits after 0x3fe6…) in several binades, subnormals.
std::vector<double> accuracy_inputs(long random_values) {
  std::vector<double> x;
  std::mt19937_64 gen(11);
  for (long i = 0; i < random_values; ++i) {
    const std::uint64_t b = gen() % 0x7ff0000000000000ULL;
    double v;
    std::memcpy(&v, &b, sizeof v);
    if (v > 0.0) x.push_back(v);
  }
  std::uniform_real_distribution<double> near(0.5, 2.0);
  for (long i = 0; i < random_values / 4; ++i) x.push_back(near(gen));
  for (int e = -1074; e <= 1023; ++e) x.push_back(std::ldexp(1.0, e));
  for (int i = -100000; i <= 100000; ++i) x.push_back(1.0 + i * 0x1p-52);
  for (int i = -100000; i <= 100000; ++i) x.push_back(1.0 + i * 0x1p-30);
  for (int e : {-1074, -1060, -1030, -1022, -500, -3, -1, 0, 1, 5, 700, 1023})
    for (std::uint64_t c = 0; c <= 128; ++c)
      for (std::int64_t d = -2; d <= 1; ++d) {
        const std::uint64_t b = 0x3fe6000000000000ULL + (c << 45) + static_cast<std::uint64_t>(d);
        double z;
        std::memcpy(&z, &b, sizeof z);
        const double v = std::ldexp(z, e);
        if (v > 0.0 && std::isfinite(v)) x.push_back(v);
      }
  x.push_back(std::numeric_limits<double>::max());
  x.push_back(std::numeric_limits<double>::denorm_min());
  x.push_back(std::nextafter(0x1p-1022, 0.0));
  return x;
}

template <class Log>
void report(const char* name, const std::vector<double>& in, const std::vector<double>& acc) {
  const int n = static_cast<int>(in.size());
  std::vector<double> out(in.size());
  const double generic = ns_per_value([&] { run_generic<Log>(in.data(), out.data(), n); }, n);
  const double avx2 =
      __builtin_cpu_supports("avx2") ? ns_per_value([&] { run_avx2<Log>(in.data(), out.data(), n); }, n) : NAN;
  const double avx512 = has_avx512() ? ns_per_value([&] { run_avx512<Log>(in.data(), out.data(), n); }, n) : NAN;
  std::vector<double> a(acc.size()), b(acc.size());
  run_generic<Log>(acc.data(), a.data(), static_cast<int>(acc.size()));
  bool same = true;
  if (__builtin_cpu_supports("avx2")) {
    run_avx2<Log>(acc.data(), b.data(), static_cast<int>(acc.size()));
    same = std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  }
  if (has_avx512()) {
    run_avx512<Log>(acc.data(), b.data(), static_cast<int>(acc.size()));
    same = same && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  }
  double worst = 0.0, at = 0.0;
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const double e = ulps(acc[i], a[i]);
    if (e > worst) {
      worst = e;
      at = acc[i];
    }
  }
  std::printf("%-10s generic %.3f  AVX2 %.3f  AVX-512 %.3f ns/value  worst %.4f ulp (at %a)  same bits in every build: %s\n",
              name, generic, avx2, avx512, worst, at, same ? "yes" : "NO");
}

}  // namespace

int main(int argc, char** argv) {
  long values = 4000000;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--values" && i + 1 < argc) values = std::atol(argv[++i]);
  __builtin_cpu_init();
  std::vector<double> in(4096);  // the values a diagnostics row meets: densities in (0, 1]
  std::mt19937_64 gen(1);
  std::uniform_real_distribution<double> q(1e-6, 1.0);
  for (double& v : in) v = q(gen);
  const std::vector<double> acc = accuracy_inputs(values);
  std::printf("one thread, %zu values in L1; accuracy over %zu inputs\n", in.size(), acc.size());
  report<DetLog>("det_log", in, acc);
  report<TableLog>("table_log", in, acc);
}
