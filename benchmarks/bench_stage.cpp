/// wgflow_bench_stage: one SG stage (stage 2 of SSP-RK3: out = base + b·(in + Δt L(in) − base)) of the
/// library, out of place and in place, on 2D 2048² and 3D 256³, min and median over R repeats
/// (docs/benchmarks.md "Why 3D SG is below the model"). Usage: wgflow_bench_stage [R]
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "grids/cell_loop.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/sg_operator.hpp"
#include "solver/spatial_operator.hpp"
using namespace wgflow;
template <int Dim>
void run(int n, bool fp, int reps) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(n, -4.0, 4.0, Boundary::no_flux);
  InternalEnergySpec in;
  PotentialSpec pot;
  if (fp) {
    pot.kind = PotentialSpec::Kind::quadratic;
    pot.gamma = 1.0;
  }
  FluxSpec fl;
  fl.kind = FluxKind::scharfetter_gummel;
  FreeEnergy<Dim> e(g, in, pot);
  auto op = make_spatial_operator(e, fl);
  Field<Dim> q(FieldLayout<Dim>(g.shape)), base(q.layout()), out(q.layout());
  for_each_cell(g, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double r2 = 0;
    for (int a = 0; a < Dim; ++a) r2 += x[a] * x[a];
    q[idx] = std::exp(-r2 / 2) + 0.01;
    base[idx] = q[idx];
  });
  const double dt = 0.5 * op->prepare(q);
  out = q;
  std::vector<double> a, b;
  const bool ip = static_cast<SgOperator<Dim>&>(*op).enable_in_place_stages_always();
  for (int r = 0; r < reps; ++r) {
    double t0 = omp_get_wtime();
    op->euler_stage(out, q, dt, 0.25, base, 0.75);
    a.push_back(omp_get_wtime() - t0);
    if (ip) {
      t0 = omp_get_wtime();
      op->euler_stage(out, out, dt, 0.25, base, 0.75);
      b.push_back(omp_get_wtime() - t0);
    }
  }
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double cells = std::pow(double(n), Dim);
  std::printf("%s %dD n=%d T=%d  out-of-place min %.3e med %.3e cells/s", fp ? "sg-fp  " : "sg-heat", Dim, n,
              omp_get_max_threads(), cells / a[0], cells / a[a.size() / 2]);
  if (ip) std::printf("   in-place min %.3e med %.3e", cells / b[0], cells / b[b.size() / 2]);
  std::printf("\n");
}
int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 15;
  run<2>(2048, false, reps);
  run<2>(2048, true, reps);
  run<3>(256, false, reps);
  run<3>(256, true, reps);
}
