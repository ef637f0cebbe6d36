#include "solver/initial_data.hpp"

#include <cmath>
#include <stdexcept>

#include "grids/quadrature.hpp"
#include "solver/exact_solutions.hpp"

namespace wgflow {

namespace {

/// Cell average of N(c, w²) along one axis: (Φ((x_r − c)/w) − Φ((x_l − c)/w))/Δx, exact.
double gaussian_cell_average_1d(double xl, double xr, double c, double w) {
  const double s = 1.0 / (std::sqrt(2.0) * w);
  return 0.5 * (std::erf((xr - c) * s) - std::erf((xl - c) * s)) / (xr - xl);
}

}  // namespace

template <int Dim>
Field<Dim> make_initial_density(const InitialSpec& spec, const UniformGrid<Dim>& grid,
                                const InternalEnergySpec& internal) {
  Field<Dim> q(FieldLayout<Dim>(grid.shape));
  switch (spec.kind) {
    case InitialSpec::Kind::gaussian:
      for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
        double v = 1.0;
        for (int k = 0; k < Dim; ++k) {
          const double xl = grid.lower[k] + cell[k] * grid.dx(k);
          v *= gaussian_cell_average_1d(xl, xl + grid.dx(k), spec.centre[static_cast<std::size_t>(k)], spec.width);
        }
        q[idx] = v;
      });
      break;
    case InitialSpec::Kind::barenblatt: {
      if (internal.kind != InternalEnergySpec::Kind::porous_medium)
        throw std::invalid_argument("--initial barenblatt: needs the porous-medium case (m > 1)");
      const double m = internal.m;
      const double C = exact::barenblatt_constant(m, Dim, 1.0);
      const double t = internal.D * barenblatt_initial_time;
      q = cell_averages(grid, [&](const double* x) { return exact::barenblatt(x, spec.centre.data(), Dim, m, t, C); });
      break;
    }
    case InitialSpec::Kind::uniform:
      for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) { q[idx] = 1.0; });
      break;
    case InitialSpec::Kind::values:
      set_interior_values(q, spec.values);
      break;
  }

  double mass = 0.0;
  bool bad = false;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    bad = bad || !std::isfinite(q[idx]) || q[idx] < 0.0;
    mass += q[idx];
  });
  if (bad) throw std::invalid_argument("--initial: the initial density has negative or non-finite values");
  mass *= grid.cell_volume();
  if (spec.mass > 0.0) {
    if (!(mass > 0.0)) throw std::invalid_argument("--initial: the initial density is zero on this grid; cannot rescale it to --mass");
    const double scale = spec.mass / mass;
    for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) { q[idx] *= scale; });
  }
  return q;
}

template Field<1> make_initial_density(const InitialSpec&, const UniformGrid<1>&, const InternalEnergySpec&);
template Field<2> make_initial_density(const InitialSpec&, const UniformGrid<2>&, const InternalEnergySpec&);
template Field<3> make_initial_density(const InitialSpec&, const UniformGrid<3>&, const InternalEnergySpec&);

}  // namespace wgflow
