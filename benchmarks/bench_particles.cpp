/// wgflow_bench_particles: the cost of --particles against the density's own stage (issue 15: "10⁶
/// particles on a 2D 256² run add at most the cost of one extra stage per stage").
///
/// Per stage of SSP-RK3 the density does prepare_stage (ghosts, ξ) + euler_stage; the particles do
/// ParticleCloud::stage (face velocities of the prepared state, gather, Shu–Osher update), plus
/// begin_step/accept_step once per step (counted as a third of a step here). Both on the same 2D grid,
/// Fokker–Planck (SG flux) and the porous medium (upwind flux), particles sampled from q.
/// Prints min and median over R repeats, in ms, the ratio of the minima (particles/density), the face
/// pass alone and the per-particle rest in ns.
///
/// Usage: wgflow_bench_particles [n=256] [N=1000000] [R=30]   (threads: OMP_NUM_THREADS; BENCH_SORTED=1:
/// the particles stored in cell order, to measure what sorting would gain)
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "grids/cell_loop.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/particles.hpp"
#include "solver/spatial_operator.hpp"

using namespace wgflow;

namespace {

struct Stats {
  double min, median;
};

Stats stats(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return {t.front() * 1e3, t[t.size() / 2] * 1e3};
}

void run(const char* label, const InternalEnergySpec& internal, const PotentialSpec& potential, FluxKind flux,
         int n, std::size_t particles, int reps) {
  const UniformGrid<2> g = make_cube_grid<2>(n, -4.0, 4.0, Boundary::no_flux);
  FreeEnergy<2> energy(g, internal, potential);
  FluxSpec fs;
  fs.kind = flux;
  auto op = make_spatial_operator(energy, fs);
  Field<2> q(FieldLayout<2>(g.shape)), out(q.layout());
  for_each_cell(g, [&](std::ptrdiff_t idx, const std::array<int, 2>&, const std::array<double, 2>& x) {
    q[idx] = std::exp(-((x[0] - 0.5) * (x[0] - 0.5) + x[1] * x[1]) / 2) + 1e-3;
  });
  op->enable_in_place_stages();
  const double dt = 0.5 * op->prepare(q);
  std::vector<double> x = sample_particles(q, g, particles, 7);
  if (std::getenv("BENCH_SORTED") != nullptr) {  // experiment: particles in cell order
    std::vector<std::pair<long, std::size_t>> key(particles);
    for (std::size_t p = 0; p < particles; ++p) {
      const long i = static_cast<long>((x[2 * p] - g.lower[0]) / g.dx(0)), j = static_cast<long>((x[2 * p + 1] - g.lower[1]) / g.dx(1));
      key[p] = {j * n + i, p};
    }
    std::sort(key.begin(), key.end());
    std::vector<double> y(x.size());
    for (std::size_t p = 0; p < particles; ++p) {
      y[2 * p] = x[2 * key[p].second];
      y[2 * p + 1] = x[2 * key[p].second + 1];
    }
    x.swap(y);
  }
  ParticleCloud<2> cloud(g, std::move(x));
  out = q;
  std::vector<double> density, cloud_stage, cloud_step, faces;
  std::array<Field<2>, 2> face_arrays;
  for (int r = 0; r < reps + 2; ++r) {  // two warm-up rounds: first-touch of the face arrays
    double t0 = omp_get_wtime();
    op->prepare_stage(q);
    op->euler_stage(out, q, dt, 0.25, q, 0.75);
    const double t_density = omp_get_wtime() - t0;
    t0 = omp_get_wtime();
    cloud.begin_step();
    const double t_begin = omp_get_wtime() - t0;
    t0 = omp_get_wtime();
    cloud.stage(*op, q, dt, 0.75);
    const double t_stage = omp_get_wtime() - t0;
    t0 = omp_get_wtime();
    cloud.accept_step();
    const double t_accept = omp_get_wtime() - t0;
    t0 = omp_get_wtime();
    op->particle_faces(q, face_arrays);  // the face pass alone: the part that does not scale with N
    const double t_faces = omp_get_wtime() - t0;
    if (r < 2) continue;
    faces.push_back(t_faces);
    density.push_back(t_density);
    cloud_stage.push_back(t_stage);
    cloud_step.push_back(t_stage + (t_begin + t_accept) / 3.0);
  }
  const Stats d = stats(density), p = stats(cloud_stage), ps = stats(cloud_step), f = stats(faces);
  std::printf("%-14s %4d^2 N=%-8zu threads=%d  density stage %.3f ms (median %.3f)  particle stage %.3f ms "
              "(median %.3f; face pass %.3f)  with begin/accept %.3f ms  ratio (min/min) %.1f  gather+update %.2f ns/particle\n",
              label, n, particles, omp_get_max_threads(), d.min, d.median, p.min, p.median, f.min, ps.min, ps.min / d.min,
              (p.min - f.min) * 1e6 / static_cast<double>(particles));
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 256;
  const std::size_t particles = argc > 2 ? static_cast<std::size_t>(std::atol(argv[2])) : 1000000;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 30;
  InternalEnergySpec entropy;
  PotentialSpec quadratic;
  quadratic.kind = PotentialSpec::Kind::quadratic;
  quadratic.gamma = 1.0;
  run("fokker-planck", entropy, quadratic, FluxKind::scharfetter_gummel, n, particles, reps);
  InternalEnergySpec porous;
  porous.kind = InternalEnergySpec::Kind::porous_medium;
  run("porous-medium", porous, PotentialSpec{}, FluxKind::upwind, n, particles, reps);
  return 0;
}
