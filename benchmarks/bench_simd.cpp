/// wgflow_bench_simd: the SSP-RK3 step of wgflow_bench's kernels (sg-heat, sg-fp, porous) in each build
/// of the row kernels this CPU runs (generic, AVX2, AVX-512; set_simd_level), blocked or stage by
/// stage, builds alternated step by step in one process. Each step is timed by the CPU time of the
/// process, and the minimum over the repeats is kept: on a shared host that is the step's cost when
/// no other process took the core or its caches, which wall-clock rates (wgflow_bench) hide under
/// load (docs/benchmarks.md "AVX-512 stage kernels"). One thread by default (OMP_NUM_THREADS applies).
/// Usage: wgflow_bench_simd [--repeats R] [--n2 N] [--n3 N] [--unblocked]
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/bench_initial_state.hpp"
#include "grids/parallel_for.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

using namespace wgflow;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

const char* level_name(SimdLevel s) {
  return s == SimdLevel::avx512 ? "avx512" : s == SimdLevel::avx2 ? "avx2" : "generic";
}

template <int Dim>
void run(const std::string& kernel, int n, int repeats, bool blocked) {
  const bool porous = kernel == "porous";
  const BenchProblem problem = bench_problem(porous, kernel == "sg-fp");  // as wgflow_bench
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, problem.lower, problem.upper, Boundary::no_flux);
  Field<Dim> q = bench_initial_state(grid, porous);
  FreeEnergy<Dim> energy(grid, problem.internal, problem.potential);
  std::unique_ptr<SpatialOperator<Dim>> op = make_spatial_operator(energy, problem.flux);
  ExplicitRk<Dim> stepper(*op, ExplicitScheme::ssp_rk3, 0.5, q.layout());
  const bool on = stepper.set_temporal_blocking(blocked);
  std::vector<SimdLevel> levels;
  for (SimdLevel s : {SimdLevel::generic, SimdLevel::avx2, SimdLevel::avx512})
    if (s <= cpu_simd_level()) levels.push_back(s);
  std::vector<double> best(levels.size(), std::numeric_limits<double>::infinity());
  double t = 0.0;
  t += stepper.step(q, t, 1e300).dt;  // warm-up: first touch, page faults
  for (int r = 0; r < repeats; ++r)
    for (std::size_t l = 0; l < levels.size(); ++l) {
      set_simd_level(levels[l]);
      const double c0 = cpu_seconds();
      t += stepper.step(q, t, 1e300).dt;
      best[l] = std::min(best[l], cpu_seconds() - c0);
    }
  reset_simd_level();
  const double cells = static_cast<double>(grid.num_cells());
  std::printf("%-8s %dD n=%-5d %s threads=%d", kernel.c_str(), Dim, n, on ? "blocked  " : "unblocked", omp_get_max_threads());
  for (std::size_t l = 0; l < levels.size(); ++l)
    std::printf("  %s %.3e", level_name(levels[l]), cells * omp_get_max_threads() / best[l]);
  std::printf("  cells/s per step (cells x threads / min CPU time); avx512/avx2 %.2f\n",
              levels.size() == 3 ? best[1] / best[2] : 1.0);
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 15, n2 = 2048, n3 = 256;
  bool blocked = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc)
      repeats = std::atoi(argv[++i]);
    else if (a == "--n2" && i + 1 < argc)
      n2 = std::atoi(argv[++i]);
    else if (a == "--n3" && i + 1 < argc)
      n3 = std::atoi(argv[++i]);
    else if (a == "--unblocked")
      blocked = false;
    else {
      std::fprintf(stderr, "usage: wgflow_bench_simd [--repeats R] [--n2 N] [--n3 N] [--unblocked]\n");
      return 2;
    }
  }
  if (std::getenv("OMP_NUM_THREADS") == nullptr) omp_set_num_threads(1);
  for (const char* k : {"sg-heat", "sg-fp", "porous"}) {
    if (n2 > 0) run<2>(k, n2, repeats, blocked);
    if (n3 > 0) run<3>(k, n3, repeats, blocked);
  }
}
