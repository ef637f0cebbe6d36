/// wgflow_bench_diagnostics: the per-step diagnostics pass (Diagnostics::measure: mass, free energy
/// with the entropy's q log q, min, max, summed over fixed chunks and added exactly) beside one SG
/// stage of the library on the same field, 2D 2048² and 3D 256³, heat and Fokker–Planck: ns per cell
/// and thread (wall time × threads / cells), min and median over R repeats (docs/benchmarks.md
/// "The diagnostics pass"), and the stage with the diagnostics fused into it (FusedDiagnostics: what
/// the last stage of a step does). WGFLOW_SIMD=generic runs the baseline build of the row kernels.
/// Usage: wgflow_bench_diagnostics [R] [--cpu]
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "grids/cell_loop.hpp"
#include "solver/diagnostics.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/fused_diagnostics.hpp"
#include "solver/spatial_operator.hpp"
using namespace wgflow;

namespace {

/// Wall time, or with --cpu the process's CPU time (all threads; OMP_WAIT_POLICY=passive so that idle
/// threads do not spin): on a loaded machine the CPU time counts only the slices the work really ran.
bool g_cpu_time = false;

double now() {
  if (!g_cpu_time) return omp_get_wtime();
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class Fn>
std::vector<double> timings(int reps, Fn&& fn) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    fn();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t;
}

template <int Dim>
void run(int n, bool fp, int reps) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(n, -4.0, 4.0, Boundary::no_flux);
  InternalEnergySpec in;  // the entropy: the log per cell
  PotentialSpec pot;
  if (fp) {
    pot.kind = PotentialSpec::Kind::quadratic;
    pot.gamma = 1.0;
  }
  FluxSpec fl;
  fl.kind = FluxKind::scharfetter_gummel;
  FreeEnergy<Dim> e(g, in, pot);
  auto op = make_spatial_operator(e, fl);
  Diagnostics<Dim> diagnostics(e);
  Field<Dim> q(FieldLayout<Dim>(g.shape)), base(q.layout()), out(q.layout());
  for_each_cell(g, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double r2 = 0;
    for (int a = 0; a < Dim; ++a) r2 += x[a] * x[a];
    q[idx] = std::exp(-r2 / 2) + 0.01;
    base[idx] = q[idx];
  });
  const double dt = 0.5 * op->prepare(q);
  out = q;
  volatile double sink = 0.0;
  const std::vector<double> stage = timings(reps, [&] { op->euler_stage(out, q, dt, 0.25, base, 0.75); });
  const std::vector<double> diag = timings(reps, [&] { sink = sink + diagnostics.measure(q, 0.0, 0.0, nullptr).energy; });
  // The same stage with the diagnostics fused into it (what the last stage of a step does).
  FusedDiagnostics fused(in, e.V().data(), q.layout().num_cells());
  ChunkSumsMinMax<2> totals;
  op->set_row_observer(&fused);
  const std::vector<double> stage_fused = timings(reps, [&] {
    fused.begin_pass(omp_get_max_threads());
    op->euler_stage(out, q, dt, 0.25, base, 0.75);
    fused.end_pass(out.data());
    if (fused.take(out.data(), totals)) sink = sink + totals.min;
  });
  op->set_row_observer(nullptr);
  const double cells = std::pow(double(n), Dim), T = omp_get_max_threads();
  const auto ns = [&](double s) { return (g_cpu_time ? s : s * T) / cells * 1e9; };
  std::printf("%s %dD n=%d T=%d  SG stage min %.3f med %.3f ns/cell/thread   diagnostics min %.3f med %.3f  (ratio %.2f)"
              "   stage with fused diagnostics min %.3f med %.3f  (stage + %.3f)\n",
              fp ? "sg-fp  " : "sg-heat", Dim, n, omp_get_max_threads(), ns(stage[0]), ns(stage[stage.size() / 2]),
              ns(diag[0]), ns(diag[diag.size() / 2]), diag[0] / stage[0], ns(stage_fused[0]),
              ns(stage_fused[stage_fused.size() / 2]), ns(stage_fused[0] - stage[0]));
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 15;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--cpu")
      g_cpu_time = true;
    else
      reps = std::atoi(argv[i]);
  }
  if (g_cpu_time) std::printf("times: process CPU time (ns per cell, all threads)\n");
  const SimdLevel d = simd_level();
  std::printf("row kernels: %s build\n", d == SimdLevel::avx512 ? "AVX-512" : d == SimdLevel::avx2 ? "AVX2" : "generic");
  run<2>(2048, false, reps);
  run<2>(2048, true, reps);
  run<3>(256, false, reps);
  run<3>(256, true, reps);
}
