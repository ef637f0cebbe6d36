#pragma once
/// A mean-field-network problem assembled in the tests: the kernel, the energy with it, an explicit
/// stepper and diagnostics (the energy must be complete before the operator is made).
#include <cmath>
#include <memory>

#include "solver/energy/network.hpp"
#include "tests/support.hpp"

namespace wgflow::test {

/// y = x² on n equispaced points of [−1, 1] (the seed's set-up).
inline NetworkSpec square_data(int n, Activation activation = Activation::relu, double output_weight = 1.0) {
  NetworkSpec s;
  s.activation = activation;
  s.output_weight = output_weight;
  for (int j = 0; j < n; ++j) {
    const double x = -1.0 + 2.0 * j / (n - 1);
    s.x.push_back(x);
    s.y.push_back(x * x);
  }
  return s;
}

template <int Dim>
FreeEnergy<Dim> network_energy(const UniformGrid<Dim>& grid, const InternalEnergySpec& internal,
                               std::shared_ptr<const NetworkKernel<Dim>> network) {
  FreeEnergy<Dim> e(grid, internal, no_potential());
  e.set_network(std::move(network));
  return e;
}

template <int Dim>
struct NetworkProblem {
  NetworkProblem(const UniformGrid<Dim>& g, const InternalEnergySpec& internal, const NetworkSpec& spec,
                 ExplicitScheme scheme = ExplicitScheme::ssp_rk3, double cfl = 0.5)
      : grid(g),
        network(std::make_shared<const NetworkKernel<Dim>>(g, spec)),
        energy(network_energy(g, internal, network)),
        op(make_spatial_operator(energy, flux_for(internal))),
        stepper(*op, scheme, cfl, FieldLayout<Dim>(g.shape)),
        diagnostics(energy) {}
  NetworkProblem(const NetworkProblem&) = delete;
  NetworkProblem& operator=(const NetworkProblem&) = delete;

  UniformGrid<Dim> grid;
  std::shared_ptr<const NetworkKernel<Dim>> network;
  FreeEnergy<Dim> energy;
  std::unique_ptr<SpatialOperator<Dim>> op;
  ExplicitRk<Dim> stepper;
  Diagnostics<Dim> diagnostics;
};

/// θ ~ N(0, I) as cell averages on the grid, mass 1.
template <int Dim>
Field<Dim> standard_normal(const UniformGrid<Dim>& grid) {
  Field<Dim> q = cell_averages(grid, [](const double* x) {
    double r2 = 0.0;
    for (int k = 0; k < Dim; ++k) r2 += x[k] * x[k];
    return std::exp(-0.5 * r2);
  });
  double mass = 0.0;
  for (double v : interior_values(q)) mass += v;
  mass *= grid.cell_volume();
  for (std::size_t i = 0; i < q.layout().padded_size; ++i) q.data()[i] /= mass;
  return q;
}

}  // namespace wgflow::test
