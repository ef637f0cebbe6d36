/// The start-up fields are built in parallel over rows (issue 14): the initial density (gaussian,
/// uniform, rescaled) and a sampled potential must be bitwise the same with 1 and 2 threads, and the
/// gaussian must still be the product of exact 1D cell averages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <omp.h>
#include <vector>

#include "grids/cell_loop.hpp"
#include "solver/energy/potential.hpp"
#include "solver/initial_data.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

// 40³ = 64000 cells: above parallel_min_cells, so 2 threads really split the rows.
const UniformGrid<3> grid = make_cube_grid<3>(40, -2.0, 2.0, Boundary::no_flux);

InitialSpec gaussian_spec() {
  InitialSpec spec;
  spec.kind = InitialSpec::Kind::gaussian;
  spec.centre = {0.1, -0.2, 0.3};
  spec.width = 0.4;
  spec.mass = 2.5;  // exercises the parallel rescaling too
  return spec;
}

}  // namespace

TEST_CASE("initial density and potential are bitwise the same with 1 and 2 threads") {
  for (const auto kind : {InitialSpec::Kind::gaussian, InitialSpec::Kind::uniform}) {
    InitialSpec spec = gaussian_spec();
    spec.kind = kind;
    check_same_bits_with_1_and_2_threads([&](int threads) {
      omp_set_num_threads(threads);
      return interior_values(make_initial_density(spec, grid, entropy(1.0)));
    });
  }
  PotentialSpec potential;
  potential.kind = PotentialSpec::Kind::double_well;
  check_same_bits_with_1_and_2_threads([&](int threads) {
    omp_set_num_threads(threads);
    const Field<3> V = sample_potential(potential, grid);
    return std::vector<double>(V.data(), V.data() + V.layout().padded_size);  // ghosts included
  });
}

TEST_CASE("the gaussian initial density is the rescaled product of exact 1D cell averages") {
  const InitialSpec spec = gaussian_spec();
  const Field<3> q = make_initial_density(spec, grid, entropy(1.0));
  std::vector<double> reference;
  double sum = 0.0;
  for_each_cell(grid, [&](std::ptrdiff_t, const std::array<int, 3>& cell, const std::array<double, 3>&) {
    double v = 1.0;
    for (int k = 0; k < 3; ++k) {
      const double xl = grid.lower[k] + cell[k] * grid.dx(k), xr = xl + grid.dx(k);
      const double s = 1.0 / (std::sqrt(2.0) * spec.width);
      v *= 0.5 * (std::erf((xr - spec.centre[k]) * s) - std::erf((xl - spec.centre[k]) * s)) / grid.dx(k);
    }
    reference.push_back(v);
    sum += v;
  });
  const double scale = spec.mass / (sum * grid.cell_volume());
  const std::vector<double> got = interior_values(q);
  REQUIRE(got.size() == reference.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - scale * reference[i]));
  CHECK(worst <= 1e-13 * scale * *std::max_element(reference.begin(), reference.end()));
}
