/// wgflow_bench_interaction: time per SSP-RK3 step with and without an interaction term W*q, through
/// the library's classes (FreeEnergy, SgOperator/UpwindOperator, ExplicitRk), on 2D and 3D grids.
/// Each size runs two problems, each once without and once with a kernel:
///   sg       U = q log q, V = |x|²/2 (the SG flux with stored coefficients)   vs + newtonian kernel
///            (Keller–Segel: W*q by FFT and the SG coefficients rebuilt every stage)
///   upwind   U = q²/2 (porous medium m = 2), V = |x|²/2 (ξ recomputed in-pass) vs + morse kernel (ξ stored)
/// and reports ms per step, their ratio, ms per convolution alone, and heap allocations per step (0).
///
///   wgflow_bench_interaction [--quick] [--sizes-2d 256,512,1024] [--sizes-3d 64,96,128] [--steps K]
///                            [--csv PATH]
/// Threads: OMP_NUM_THREADS. Default sizes are the lead's sweep (minutes); --quick runs 2D 64, 3D 16.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "grids/cell_loop.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

// Every operator new of the process is counted, so the driver can state the allocations per step.
namespace heap {
std::atomic<long> allocations{0};
}
void* operator new(std::size_t n) {
  heap::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace wgflow;
using Clock = std::chrono::steady_clock;

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> v;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) v.push_back(std::stoi(item));
  return v;
}

struct Timing {
  double ms_per_step = 0.0;
  double allocations_per_step = 0.0;
  double ms_per_convolution = 0.0;  ///< with a kernel only
};

/// Times `steps` fixed SSP-RK3 steps (Δt = 0.2 × the limit of the initial state) after one warm-up step;
/// the fastest of three repeats.
template <int Dim>
Timing time_steps(const UniformGrid<Dim>& grid, const InternalEnergySpec& internal, const InteractionSpec& w, int steps) {
  PotentialSpec V;
  V.kind = PotentialSpec::Kind::quadratic;
  const FreeEnergy<Dim> energy(grid, internal, V, w);
  FluxSpec flux;
  flux.kind = default_flux_for(internal);
  const auto op = make_spatial_operator(energy, flux);
  ExplicitRk<Dim> stepper(*op, ExplicitScheme::ssp_rk3, 0.5, FieldLayout<Dim>(grid.shape));
  Field<Dim> q(FieldLayout<Dim>(grid.shape));
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double r2 = 0.0;
    for (int k = 0; k < Dim; ++k) r2 += x[k] * x[k];
    q[idx] = std::exp(-2.0 * r2);
  });
  const double dt = 0.2 * op->prepare(q);
  stepper.step_fixed(q, dt);  // warm-up: first touch of every buffer
  Timing t;
  t.ms_per_step = t.ms_per_convolution = 1e300;
  const long before = heap::allocations.load();
  for (int repeat = 0; repeat < 3; ++repeat) {  // the fastest of three: the least disturbed by other load
    const auto start = Clock::now();
    for (int s = 0; s < steps; ++s) stepper.step_fixed(q, dt);
    t.ms_per_step = std::min(t.ms_per_step, 1e3 * std::chrono::duration<double>(Clock::now() - start).count() / steps);
  }
  t.allocations_per_step = double(heap::allocations.load() - before) / (3.0 * steps);
  if (energy.has_interaction()) {
    for (int repeat = 0; repeat < 3; ++repeat) {
      const auto c0 = Clock::now();
      for (int s = 0; s < steps; ++s) energy.interaction()->convolve(q);
      t.ms_per_convolution =
          std::min(t.ms_per_convolution, 1e3 * std::chrono::duration<double>(Clock::now() - c0).count() / steps);
    }
  } else {
    t.ms_per_convolution = 0.0;
  }
  return t;
}

template <int Dim>
void run_size(int n, int steps, std::ostream& csv) {
  UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -4.0, 4.0, Boundary::no_flux);
  struct Problem {
    const char* name;
    InternalEnergySpec internal;
    const char* kernel;
  };
  const Problem problems[] = {{"sg", {InternalEnergySpec::Kind::entropy, 1.0, 2.0}, "newtonian"},
                              {"upwind", {InternalEnergySpec::Kind::porous_medium, 1.0, 2.0}, "morse"}};
  for (const Problem& p : problems) {
    const Timing without = time_steps<Dim>(grid, p.internal, InteractionSpec{}, steps);
    const Timing with = time_steps<Dim>(grid, p.internal, parse_kernel(p.kernel, Dim), steps);
    char line[512];
    std::snprintf(line, sizeof line, "%d,%d,%s,%s,%d,%.4f,%.4f,%.3f,%.4f,%.1f,%.1f", Dim, n, p.name, p.kernel,
                  omp_get_max_threads(), without.ms_per_step, with.ms_per_step, with.ms_per_step / without.ms_per_step,
                  with.ms_per_convolution, without.allocations_per_step, with.allocations_per_step);
    std::printf("%s\n", line);
    std::fflush(stdout);
    csv << line << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes2{256, 512, 1024}, sizes3{64, 96, 128};
  int steps = 20;
  std::string csv_path = "bench_interaction.csv";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      sizes2 = {64};
      sizes3 = {16};
      steps = 3;
    } else if (a == "--sizes-2d" && has_value) {
      sizes2 = parse_list(argv[++i]);
    } else if (a == "--sizes-3d" && has_value) {
      sizes3 = parse_list(argv[++i]);
    } else if (a == "--steps" && has_value) {
      steps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--csv" && has_value) {
      csv_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--sizes-2d N,..] [--sizes-3d N,..] [--steps K] [--csv PATH]\n", argv[0]);
      return 2;
    }
  }
  std::ofstream csv(csv_path);
  const char* header =
      "dim,n,flux,kernel,threads,ms_per_step_without,ms_per_step_with,ratio,ms_per_convolution,"
      "allocs_per_step_without,allocs_per_step_with";
  csv << header << "\n";
  std::printf("%s\n", header);
  for (int n : sizes2) run_size<2>(n, steps, csv);
  for (int n : sizes3) run_size<3>(n, steps, csv);
  return csv ? 0 : 1;
}
