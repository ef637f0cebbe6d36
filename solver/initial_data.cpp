#include "solver/initial_data.hpp"
#include "grids/parameter_error.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"
#include "grids/quadrature.hpp"
#include "solver/energy/parse_number.hpp"
#include "solver/barenblatt_average.hpp"
#include "solver/exact_solutions.hpp"

namespace wgflow {

namespace {

/// Cell average of N(c, w²) along one axis: (Φ((x_r − c)/w) − Φ((x_l − c)/w))/Δx, exact.
double gaussian_cell_average_1d(double xl, double xr, double c, double w) {
  const double s = 1.0 / (std::sqrt(2.0) * w);
  return 0.5 * (std::erf((xr - c) * s) - std::erf((xl - c) * s)) / (xr - xl);
}

template <int Dim>
double max_value(const Field<Dim>& q, const UniformGrid<Dim>& grid) {
  return grid.ranks.max(parallel_max_rows(q.layout(), [&](std::ptrdiff_t begin, int count) {
    double largest = 0.0;
    for (int i = 0; i < count; ++i) largest = std::max(largest, q[begin + i]);
    return largest;
  }));
}

/// True if some interior value (of any rank) is non-finite or (unless finite_only) negative.
template <int Dim>
bool any_bad(const Field<Dim>& q, const UniformGrid<Dim>& grid, bool finite_only) {
  return grid.ranks.max(parallel_max_rows(q.layout(), [&](std::ptrdiff_t begin, int count) {
    bool bad = false;
    for (int i = 0; i < count; ++i) bad = bad || !std::isfinite(q[begin + i]) || (!finite_only && q[begin + i] < 0.0);
    return bad ? 1.0 : 0.0;
  })) > 0.0;
}

}  // namespace

template <int Dim>
Field<Dim> make_initial_density(const InitialSpec& spec, const UniformGrid<Dim>& grid,
                                const InternalEnergySpec& internal) {
  Field<Dim> q(FieldLayout<Dim>(grid.shape));
  switch (spec.kind) {
    case InitialSpec::Kind::gaussian: {
      // The product of 1D cell averages: each factor depends on one index only, so it is computed once
      // per axis (3·n erf pairs instead of 3·n³) and the product is taken in the same order as before.
      std::array<std::vector<double>, Dim> factor;
      for (int k = 0; k < Dim; ++k) {
        factor[k].resize(static_cast<std::size_t>(grid.shape[k]));
        for (int i = 0; i < grid.shape[k]; ++i) {
          const double xl = grid.lower[k] + (grid.offset[k] + i) * grid.dx(k);  // global index, as centre()
          factor[k][static_cast<std::size_t>(i)] =
              gaussian_cell_average_1d(xl, xl + grid.dx(k), spec.centre[static_cast<std::size_t>(k)], spec.width);
        }
      }
      parallel_for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
        double v = 1.0;
        for (int k = 0; k < Dim; ++k) v *= factor[k][static_cast<std::size_t>(cell[k])];
        q[idx] = v;
      });
      break;
    }
    case InitialSpec::Kind::barenblatt: {
      if (internal.kind != InternalEnergySpec::Kind::porous_medium)
        throw ParameterError(Parameter::initial, "needs the porous-medium case (m > 1)", "barenblatt");
      const double m = internal.m;
      const double C = exact::barenblatt_constant(m, Dim, 1.0);
      const double t = internal.D * barenblatt_initial_time;
      // Accurate cell averages: the edge is a square root for m = 3 (exact::barenblatt_cell_average).
      // The edge cells cost thousands of evaluations each (3D 64^3: ~2 s on one core): rows in parallel.
      parallel_for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
        q[idx] = exact::barenblatt_cell_average<Dim>(grid, cell, spec.centre.data(), m, t, C);
      });
      break;
    }
    case InitialSpec::Kind::uniform:
      parallel_for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) { q[idx] = 1.0; });
      break;
    case InitialSpec::Kind::values:
      set_interior_values(q, spec.values);
      break;
  }

  // Checks and rescaling in parallel too (max and "any" are exact, so independent of the split), over
  // every rank: all of them refuse alike, and rescale by the same factor.
  const double max_value_unscaled = max_value(q, grid);
  if (any_bad(q, grid, false)) throw ParameterError(Parameter::initial, "the initial density has negative or non-finite values");
  double mass = sum_cells(q, grid) * grid.cell_volume();  // fixed chunks, exact: the same for any split of the grid
  if (!std::isfinite(mass))
    throw ParameterError(Parameter::initial, "the mass of the initial density overflows (values up to " +
                                format_exact(max_value_unscaled) + "); scale the density down");
  if (spec.mass > 0.0) {
    if (!(mass > 0.0)) throw ParameterError(Parameter::initial, "the initial density is zero on this grid; cannot rescale it to {mass}");
    // Rescaling must neither overflow nor lose the density to underflow: a factor such as 1/1e-310 is
    // refused here rather than written as inf (or 0) at the first snapshot.
    const double scale = spec.mass / mass;
    bool finite = std::isfinite(scale) && scale > 0.0;
    parallel_for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) { q[idx] *= scale; });
    finite = finite && !any_bad(q, grid, true);
    const double rescaled = sum_cells(q, grid) * grid.cell_volume();
    if (!finite || !(std::abs(rescaled - spec.mass) <= 1e-10 * spec.mass))
      throw ParameterError(Parameter::mass, "cannot rescale the initial density (mass " + format_exact(mass) + ", values up to " +
                                  format_exact(max_value_unscaled) + ") to mass " + format_exact(spec.mass) +
                                  ": the factor " + format_exact(scale) + " over- or underflows; scale the density itself");
  }
  return q;
}

template Field<1> make_initial_density(const InitialSpec&, const UniformGrid<1>&, const InternalEnergySpec&);
template Field<2> make_initial_density(const InitialSpec&, const UniformGrid<2>&, const InternalEnergySpec&);
template Field<3> make_initial_density(const InitialSpec&, const UniformGrid<3>&, const InternalEnergySpec&);

}  // namespace wgflow
