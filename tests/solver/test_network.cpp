/// --case mean-field-network: Φ, V and W of the two-layer network's risk against direct sums, the
/// one-neuron network from a density in one cell, E_D + ½ mean y² = ½ mean (f − y)², and the
/// guarantees (mass, q ≥ 0, energy decay every step, thread independence) for every stepper.
#include <doctest/doctest.h>

#include <cstring>

#include "solver/steppers/implicit_euler.hpp"
#include "tests/solver/network_support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

/// A grid with a different box and cell count on each axis (x: 5, y: 4, z: 3 cells).
template <int Dim>
UniformGrid<Dim> uneven_grid() {
  UniformGrid<Dim> g;
  const int shape[3] = {5, 4, 3};
  const double lower[3] = {-2.0, -1.5, -1.0}, upper[3] = {1.5, 2.0, 1.0};
  for (int k = 0; k < Dim; ++k) {
    g.shape[k] = shape[k];
    g.lower[k] = lower[k];
    g.upper[k] = upper[k];
    g.boundary[k] = Boundary::no_flux;
  }
  return g;
}

/// A non-negative state with zeros, from a fixed integer sequence.
template <int Dim>
Field<Dim> scattered_state(const UniformGrid<Dim>& grid) {
  Field<Dim> q(FieldLayout<Dim>(grid.shape));
  unsigned s = 12345u;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    s = s * 1103515245u + 12345u;
    const unsigned v = (s >> 16) % 7u;
    q[idx] = v < 2 ? 0.0 : 0.1 * v;
  });
  return q;
}

/// The cells' centres and linear indices, x fastest.
template <int Dim>
struct Cells {
  std::vector<std::array<double, Dim>> theta;
  std::vector<std::ptrdiff_t> idx;
};
template <int Dim>
Cells<Dim> cells_of(const UniformGrid<Dim>& grid) {
  Cells<Dim> c;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    c.theta.push_back(x);
    c.idx.push_back(idx);
  });
  return c;
}

template <int Dim>
void check_against_direct_sums(Activation activation) {
  const UniformGrid<Dim> grid = uneven_grid<Dim>();
  const NetworkSpec spec = square_data(7, activation, 1.3);
  const NetworkKernel<Dim> kernel(grid, spec);
  const Field<Dim> q = scattered_state(grid);
  const Cells<Dim> cells = cells_of(grid);
  const std::size_t N = cells.idx.size(), n = spec.x.size();
  const double h = grid.cell_volume();
  auto sigma = [&](std::size_t c, std::size_t j) { return neuron<Dim>(spec, cells.theta[c].data(), spec.x[j]); };
  // W(θ_c, θ_c′) = (1/n) Σ_j σ̂(θ_c; x_j) σ̂(θ_c′; x_j), then Φ_c = h^d Σ_c′ W_cc′ q_c′ as a plain double sum.
  Field<Dim> phi(FieldLayout<Dim>(grid.shape));
  kernel.apply(q, phi);
  const Field<Dim> V = kernel.potential();
  double scale = 0.0, worst_phi = 0.0, worst_V = 0.0, worst_psi = 0.0;
  std::vector<double> f(n, 0.0);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t c = 0; c < N; ++c) f[j] += h * sigma(c, j) * q[cells.idx[c]];
  for (std::size_t c = 0; c < N; ++c) {
    double phi_direct = 0.0, V_direct = 0.0, psi_direct = 0.0;
    for (std::size_t c2 = 0; c2 < N; ++c2) {
      double W = 0.0;
      for (std::size_t j = 0; j < n; ++j) W += sigma(c, j) * sigma(c2, j);
      phi_direct += h * (W / n) * q[cells.idx[c2]];
    }
    for (std::size_t j = 0; j < n; ++j) {
      V_direct -= spec.y[j] * sigma(c, j) / n;
      psi_direct += (f[j] - spec.y[j]) * sigma(c, j) / n;  // Ψ(θ_c) = (1/n) Σ_j (f_ρ(x_j) − y_j) σ̂(θ_c; x_j)
    }
    scale = std::max({scale, std::abs(phi_direct), std::abs(V_direct)});
    worst_phi = std::max(worst_phi, std::abs(phi[cells.idx[c]] - phi_direct));
    worst_V = std::max(worst_V, std::abs(V[cells.idx[c]] - V_direct));
    worst_psi = std::max(worst_psi, std::abs(V[cells.idx[c]] + phi[cells.idx[c]] - psi_direct));
  }
  INFO(Dim, "D ", to_string(activation), ": |Φ − direct| ", worst_phi, ", |V − direct| ", worst_V, ", |Ψ − direct| ",
       worst_psi, " at scale ", scale);
  CHECK(scale > 0.1);
  CHECK(worst_phi <= 1e-14 * scale);
  CHECK(worst_V <= 1e-14 * scale);
  CHECK(worst_psi <= 1e-14 * scale);
  const std::vector<double>& f_kernel = kernel.network_output(q);
  for (std::size_t j = 0; j < n; ++j) CHECK(std::abs(f_kernel[j] - f[j]) <= 1e-14 * (1.0 + std::abs(f[j])));
}

template <int Dim>
void check_one_neuron() {
  // h = 0.5 on every axis: h^d and 1/h^d are powers of 2, so f_j = h^d Σ_c S_cj q_c is exact.
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(16, -4.0, 4.0, Boundary::no_flux);
  const NetworkSpec spec = square_data(50);
  const auto kernel = std::make_shared<const NetworkKernel<Dim>>(grid, spec);
  const Cells<Dim> cells = cells_of(grid);
  for (std::size_t c0 : {std::size_t{0}, cells.idx.size() / 3, cells.idx.size() - 5}) {
    Field<Dim> q(FieldLayout<Dim>(grid.shape));
    q[cells.idx[c0]] = 1.0 / grid.cell_volume();  // ρ = δ at θ_c0 (mass 1)
    const std::vector<double> f = kernel->network_output(q);
    double risk = 0.0;
    for (std::size_t j = 0; j < spec.x.size(); ++j) {
      const double one_neuron = neuron<Dim>(spec, cells.theta[c0].data(), spec.x[j]);
      CHECK(f[j] == one_neuron);
      risk += 0.5 * (one_neuron - spec.y[j]) * (one_neuron - spec.y[j]) / static_cast<double>(spec.x.size());
    }
    FreeEnergy<Dim> energy = network_energy(grid, no_diffusion(), kernel);
    Diagnostics<Dim> diagnostics(energy);
    const double E = diagnostics.energy(q);
    INFO(Dim, "D, cell ", c0, ": energy ", E, ", one-neuron risk ", risk);
    CHECK(std::abs(E - risk) <= 1e-14 * std::max(1.0, risk));
  }
}

template <int Dim>
void check_energy_is_risk(double tau, Activation activation, int n) {
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -3.0, 3.0, Boundary::no_flux);
  const NetworkSpec spec = square_data(50, activation);
  const auto kernel = std::make_shared<const NetworkKernel<Dim>>(grid, spec);
  FreeEnergy<Dim> energy = network_energy(grid, tau > 0.0 ? entropy(tau) : no_diffusion(), kernel);
  Diagnostics<Dim> diagnostics(energy);
  // A state the flow has moved (not symmetric, so f ≠ 0).
  Field<Dim> q = standard_normal(grid);
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    q[idx] *= 1.0 + 0.5 * std::tanh(x[0] - 0.3 * x[Dim - 1]);
  });
  const std::vector<double> f = kernel->network_output(q);
  double risk = 0.0, entropy_term = 0.0;
  for (std::size_t j = 0; j < f.size(); ++j) risk += 0.5 * (f[j] - spec.y[j]) * (f[j] - spec.y[j]) / f.size();
  for (double v : interior_values(q)) entropy_term += v > 0.0 ? tau * v * std::log(v) : 0.0;
  entropy_term *= grid.cell_volume();
  const double E = diagnostics.energy(q);
  INFO(Dim, "D tau ", tau, " ", to_string(activation), ": E ", E, ", ½ mean (f − y)² ", risk, " + entropy ", entropy_term);
  CHECK(std::abs(kernel->risk(q) - risk) <= 1e-15);
  CHECK(std::abs(E - (risk + entropy_term)) <= 2e-15 * (std::abs(risk) + std::abs(entropy_term) + 0.1));
}

/// Steps of a stepper from θ ~ N(0, I) with every step checked.
template <int Dim>
void check_guarantees(ExplicitScheme scheme, double tau, int n, long steps) {
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -4.0, 4.0, Boundary::no_flux);
  NetworkProblem<Dim> p(grid, tau > 0.0 ? entropy(tau) : no_diffusion(), square_data(50), scheme);
  Field<Dim> q = standard_normal(grid);
  const Guarantees g = track_guarantees(p.diagnostics, q, steps, [&](Field<Dim>& s, double t) { return p.stepper.step(s, t, 1e9); });
  INFO(Dim, "D ", to_string(scheme), " tau ", tau, ": ", steps, " steps to t = ", g.t, "; risk ", g.first.energy, " -> ",
       g.last.energy, ", worst rise ", g.worst_rise);
  CHECK(g.worst_drift <= 1e-13);
  CHECK(g.min_q >= 0.0);
  CHECK(g.worst_rise <= 1e-14);  // round-off of the energy sum near a minimiser
  CHECK(g.last.energy < 0.8 * g.first.energy);  // the network learns
}

template <int Dim>
void check_implicit_guarantees(double tau, int n, double factor, long steps) {
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -4.0, 4.0, Boundary::no_flux);
  const InternalEnergySpec internal = tau > 0.0 ? entropy(tau) : no_diffusion();
  const auto kernel = std::make_shared<const NetworkKernel<Dim>>(grid, square_data(50));
  FreeEnergy<Dim> energy = network_energy(grid, internal, kernel);
  ImplicitOptions options;
  options.dt_factor = factor;
  ImplicitEuler<Dim> stepper(energy, flux_for(internal, 1), options);
  Diagnostics<Dim> diagnostics(energy);
  Field<Dim> q = standard_normal(grid);
  const Guarantees g = track_guarantees(diagnostics, q, steps, [&](Field<Dim>& s, double t) { return stepper.step(s, t, 1e9); });
  INFO(Dim, "D implicit Euler tau ", tau, " at ", factor, "x the explicit limit: t = ", g.t, "; risk ", g.first.energy,
       " -> ", g.last.energy, ", worst rise ", g.worst_rise);
  CHECK(g.worst_drift <= 1e-13);
  CHECK(g.min_q >= 0.0);
  CHECK(g.worst_rise <= 1e-14);
  CHECK(g.last.energy < 0.9 * g.first.energy);
}

template <int Dim>
std::vector<double> state_after(int threads, int n, double tau) {
  omp_set_num_threads(threads);
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -4.0, 4.0, Boundary::no_flux);
  NetworkProblem<Dim> p(grid, tau > 0.0 ? entropy(tau) : no_diffusion(), square_data(50));
  Field<Dim> q = standard_normal(grid);
  double t = 0.0;
  for (int s = 0; s < 4; ++s) t += p.stepper.step(q, t, 1e9).dt;
  std::vector<double> values = interior_values(q);
  values.push_back(t);
  values.push_back(p.diagnostics.energy(q));
  const std::vector<double>& f = p.network->network_output(q);
  values.insert(values.end(), f.begin(), f.end());
  return values;
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("network Phi V and Psi against direct sums of W on tiny grids in 1D/2D/3D") {
    for (Activation a : {Activation::relu, Activation::tanh, Activation::sigmoid}) {
      check_against_direct_sums<1>(a);
      check_against_direct_sums<2>(a);
      check_against_direct_sums<3>(a);
    }
  }

  TEST_CASE("network output of 1D grids longer than a row block sums the blocks in order") {
    const UniformGrid<1> grid = make_cube_grid<1>(2500, -4.0, 4.0, Boundary::no_flux);
    const NetworkSpec spec = square_data(9, Activation::tanh);
    const NetworkKernel<1> kernel(grid, spec);
    const Field<1> q = standard_normal(grid);
    const std::vector<double>& f = kernel.network_output(q);
    for (std::size_t j = 0; j < spec.x.size(); ++j) {
      double direct = 0.0;
      for (int i = 0; i < 2500; ++i) {
        const double w = grid.centre(0, i);
        direct += neuron<1>(spec, &w, spec.x[j]) * q.at({i});
      }
      CHECK(std::abs(f[j] - direct * grid.cell_volume()) <= 1e-14);
    }
  }

  TEST_CASE("a density in one cell is the one-neuron network in 1D/2D/3D") {
    check_one_neuron<1>();
    check_one_neuron<2>();
    check_one_neuron<3>();
  }

  TEST_CASE("network energy column is half the mean squared residual plus the entropy") {
    for (Activation a : {Activation::relu, Activation::tanh, Activation::sigmoid})
      for (double tau : {0.0, 0.05}) {
        check_energy_is_risk<1>(tau, a, 80);
        check_energy_is_risk<2>(tau, a, 24);
        check_energy_is_risk<3>(tau, a, 10);
      }
  }
}

TEST_SUITE("physics") {
  TEST_CASE("mean-field network: mass and q >= 0 and risk decay every step for explicit steppers in 1D/2D/3D") {
    for (ExplicitScheme scheme : {ExplicitScheme::euler, ExplicitScheme::ssp_rk2, ExplicitScheme::ssp_rk3})
      for (double tau : {0.0, 0.01}) {
        check_guarantees<1>(scheme, tau, 64, 60);
        check_guarantees<2>(scheme, tau, 24, 40);
        check_guarantees<3>(scheme, tau, 10, 20);
      }
  }

  TEST_CASE("mean-field network: implicit Euler keeps mass and q >= 0 and decays the risk at 10x and 100x the limit") {
    for (double factor : {10.0, 100.0})
      for (double tau : {0.0, 0.01}) {
        check_implicit_guarantees<1>(tau, 48, factor, 15);
        check_implicit_guarantees<2>(tau, 16, factor, 8);
      }
  }

  TEST_CASE("mean-field network: bitwise identical with 1 and 2 threads") {
    for (double tau : {0.0, 0.01}) {
      check_same_bits_with_1_and_2_threads([&](int threads) { return state_after<2>(threads, 128, tau); });
      check_same_bits_with_1_and_2_threads([&](int threads) { return state_after<3>(threads, 26, tau); });
    }
  }
}
