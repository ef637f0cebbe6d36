#pragma once
/// The mean-field PDE against a finite network of width m (solver/network_particles.hpp) in 2D,
/// θ = (w, b), a = 1, ReLU, y = x² on 50 points of [−1, 1], θ ~ N(0, I) on [−4, 4]²: the losses at
/// given times and the L1 distance of the w-marginals (16 bins of width 0.5). Used by the physics
/// test and by benchmarks/network_particles.cpp (the refinement table of the README).
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "grids/quadrature.hpp"
#include "solver/diagnostics.hpp"
#include "solver/network_particles.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

namespace wgflow::test {

struct ParticleComparison {
  std::vector<double> times, pde_loss, particle_loss;
  std::vector<double> marginal_l1;     ///< ∫ |p_PDE(w) − p_particles(w)| dw on the bins, per time
  std::vector<double> marginal_moved;  ///< ∫ |p_PDE(w, t) − p_PDE(w, 0)| dw: how far the flow moved it
  long pde_steps = 0;
};

inline NetworkSpec seed_data_2d() {
  NetworkSpec s;
  for (int j = 0; j < 50; ++j) {
    const double x = -1.0 + 2.0 * j / 49.0;
    s.x.push_back(x);
    s.y.push_back(x * x);
  }
  return s;
}

/// m draws of N(0, I) in 2D kept inside [−L, L]² (the PDE's truncated, renormalised initial density).
inline std::vector<std::array<double, 2>> normal_particles(std::size_t m, double L, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };  // (0, 1)
  std::vector<std::array<double, 2>> theta;
  while (theta.size() < m) {
    const double r = std::sqrt(-2.0 * std::log(uniform())), phi = 2.0 * 3.14159265358979323846 * uniform();
    const std::array<double, 2> t{r * std::cos(phi), r * std::sin(phi)};  // Box–Muller
    if (std::abs(t[0]) < L && std::abs(t[1]) < L) theta.push_back(t);
  }
  return theta;
}

/// The PDE's marginal of w (axis 0) on `bins` equal bins of [−L, L] (n a multiple of bins).
inline std::vector<double> pde_w_marginal(const Field<2>& q, const UniformGrid<2>& g, int bins) {
  std::vector<double> p(static_cast<std::size_t>(bins), 0.0);
  const int per_bin = g.shape[0] / bins;
  const double bin_width = g.dx(0) * per_bin;
  for (int j = 0; j < g.shape[1]; ++j)
    for (int i = 0; i < g.shape[0]; ++i) p[static_cast<std::size_t>(i / per_bin)] += q.at({i, j}) * g.cell_volume() / bin_width;
  return p;
}

inline std::vector<double> particle_w_marginal(const std::vector<std::array<double, 2>>& theta, double L, int bins) {
  std::vector<double> p(static_cast<std::size_t>(bins), 0.0);
  const double bin_width = 2.0 * L / bins;
  for (const auto& t : theta) {
    const int b = std::min(bins - 1, std::max(0, static_cast<int>(std::floor((t[0] + L) / bin_width))));
    p[static_cast<std::size_t>(b)] += 1.0 / (static_cast<double>(theta.size()) * bin_width);
  }
  return p;
}

inline double l1(const std::vector<double>& a, const std::vector<double>& b, double bin_width) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(a[i] - b[i]) * bin_width;
  return s;
}

/// n cells per axis, m particles (Heun steps of particle_dt), the listed times (increasing).
inline ParticleComparison compare_with_particles(int n, std::size_t m, const std::vector<double>& times,
                                                 double particle_dt, std::uint64_t seed = 2026) {
  constexpr double L = 4.0;
  constexpr int bins = 16;
  const NetworkSpec spec = seed_data_2d();
  const UniformGrid<2> grid = make_cube_grid<2>(n, -L, L, Boundary::no_flux);
  const auto network = std::make_shared<const NetworkKernel<2>>(grid, spec);
  FreeEnergy<2> energy(grid, InternalEnergySpec{InternalEnergySpec::Kind::none, 0.0, 2.0}, PotentialSpec{});
  energy.set_network(network);
  FluxSpec flux;
  flux.kind = FluxKind::upwind;
  const auto op = make_spatial_operator(energy, flux);
  ExplicitRk<2> stepper(*op, ExplicitScheme::ssp_rk3, 0.5, FieldLayout<2>(grid.shape));
  Field<2> q = cell_averages(grid, [](const double* x) { return std::exp(-0.5 * (x[0] * x[0] + x[1] * x[1])); });
  double mass = 0.0;
  for (double v : interior_values(q)) mass += v;
  mass *= grid.cell_volume();
  for (std::size_t i = 0; i < q.layout().padded_size; ++i) q.data()[i] /= mass;
  const std::vector<double> initial_marginal = pde_w_marginal(q, grid, bins);

  ParticleNetwork<2> particles(spec, normal_particles(m, L, seed));
  ParticleComparison out;
  double t_pde = 0.0, t_particles = 0.0;
  for (double t : times) {
    while (t_pde < t) {
      const StepReport r = stepper.step(q, t_pde, t);
      t_pde = r.reached_stop ? t : t_pde + r.dt;
      ++out.pde_steps;
    }
    while (t_particles < t - 1e-12) {
      const double dt = std::min(particle_dt, t - t_particles);
      particles.step(dt);
      t_particles += dt;
    }
    out.times.push_back(t);
    out.pde_loss.push_back(network->risk(q));
    out.particle_loss.push_back(particles.loss());
    const std::vector<double> p_pde = pde_w_marginal(q, grid, bins);
    out.marginal_l1.push_back(l1(p_pde, particle_w_marginal(particles.theta(), L, bins), 2.0 * L / bins));
    out.marginal_moved.push_back(l1(p_pde, initial_marginal, 2.0 * L / bins));
  }
  return out;
}

}  // namespace wgflow::test
