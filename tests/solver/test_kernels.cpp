/// Pointwise kernels on hand-computed stencils: Bernoulli function, SG flux, minmod reconstruction,
/// upwind flux, and one full stage of each operator on a 3-cell grid.
#include <doctest/doctest.h>

#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/flux/upwind.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

TEST_SUITE("unit") {
  TEST_CASE("Bernoulli function: values and symmetry B(-z) = B(z) + z and no jump at the series switch") {
    CHECK(bernoulli(0.0) == 1.0);
    CHECK(bernoulli(1.0) == doctest::Approx(1.0 / (std::exp(1.0) - 1.0)).epsilon(1e-15));
    for (double z : {1e-8, 9.99e-4, 1e-3, 0.3, 5.0, 40.0}) {
      CHECK(bernoulli(-z) == doctest::Approx(bernoulli(z) + z).epsilon(1e-14));
    }
    CHECK(bernoulli(0.999e-3) == doctest::Approx(bernoulli(1.001e-3)).epsilon(1e-5));
    CHECK(std::isfinite(bernoulli(800.0)));
    CHECK(bernoulli(800.0) >= 0.0);
    CHECK(bernoulli(-800.0) == doctest::Approx(800.0));
  }

  TEST_CASE("minmod and the limited slope keep reconstructed point values non-negative") {
    CHECK(minmod(1.0, 2.0, 3.0) == 1.0);
    CHECK(minmod(-1.0, -2.0, -0.5) == -0.5);
    CHECK(minmod(1.0, -2.0, 3.0) == 0.0);
    // q = (0, 1, 4): σ_1 = minmod(2·3, 2, 2·1) = 2 → q^E = 2, q^W = 0 ≥ 0.
    const double q[] = {0.0, 1.0, 4.0};
    CHECK(limited_slope(q, 1, 1, 2.0) == 2.0);
    // A vacuum cell next to mass has zero slope: its point values stay 0.
    const double v[] = {3.0, 0.0, 2.0};
    CHECK(limited_slope(v, 1, 1, 2.0) == 0.0);
  }

  TEST_CASE("upwind face flux picks the upwind reconstructed value") {
    // ξ decreasing to the right: u > 0, flux carries q^E of the left cell.
    const double q[] = {1.0, 1.0, 2.0, 4.0, 4.0};
    const double xi[] = {0.0, 0.0, 1.0, 0.5, 0.0};
    // Face between cells 2 and 3: uΔx = ξ_2 − ξ_3 = 0.5 > 0, σ_2 = minmod(4, 1.5, 2) = 1.5, q^E = 2.75.
    CHECK(upwind_face_rate<2>(q, xi, 3, 1, 1.0, 2.0) == doctest::Approx(0.5 * 2.75));
    CHECK(upwind_face_rate<1>(q, xi, 3, 1, 1.0, 2.0) == doctest::Approx(0.5 * 2.0));
    // Face between 1 and 2: uΔx = −1 < 0, flux carries q^W of cell 2: 2 − 1.5/2 = 1.25.
    CHECK(upwind_face_rate<2>(q, xi, 2, 1, 1.0, 2.0) == doctest::Approx(-1.25));
  }

  TEST_CASE("SG operator: one Euler stage on a 3-cell no-flux grid by hand") {
    // D = 1, Δx = 1, V = (0, 1, 3): Pe_{½} = 1, Pe_{3/2} = 2.
    const UniformGrid<1> grid = make_cube_grid<1>(3, 0.0, 3.0, Boundary::no_flux);
    PotentialSpec pot = quadratic(1.0);  // V = x²/2 at centres 0.5, 1.5, 2.5 → 0.125, 1.125, 3.125
    Problem<1> p(grid, entropy(1.0), pot, flux_for(entropy(1.0)), ExplicitScheme::euler);
    Field<1> q(FieldLayout<1>(grid.shape));
    q.at({0}) = 1.0;
    q.at({1}) = 2.0;
    q.at({2}) = 3.0;
    const double J_half = bernoulli(1.0) * 1.0 - bernoulli(-1.0) * 2.0;    // J_{1/2}
    const double J_3half = bernoulli(2.0) * 2.0 - bernoulli(-2.0) * 3.0;   // J_{3/2}
    const double dt = 0.01;
    p.stepper.step_fixed(q, dt);
    CHECK(q.at({0}) == doctest::Approx(1.0 - dt * J_half).epsilon(1e-14));
    CHECK(q.at({1}) == doctest::Approx(2.0 + dt * (J_half - J_3half)).epsilon(1e-14));
    CHECK(q.at({2}) == doctest::Approx(3.0 + dt * J_3half).epsilon(1e-14));
    // The positivity limit is the inverse of the largest diagonal: cell 1 loses B(Pe_{3/2}) + B(−Pe_{1/2}).
    const double diag1 = bernoulli(2.0) + bernoulli(-1.0);
    const double diag0 = bernoulli(1.0), diag2 = bernoulli(-2.0);
    CHECK(p.op->prepare(q) == doctest::Approx(1.0 / std::max({diag0, diag1, diag2})));
  }

  TEST_CASE("SG flux vanishes on the discrete Gibbs state q = e^{-V/D}") {
    const UniformGrid<2> grid = make_cube_grid<2>(12, -2.0, 2.0, Boundary::no_flux);
    const double D = 0.7;
    Problem<2> p(grid, entropy(D), double_well(), flux_for(entropy(D)), ExplicitScheme::euler);
    Field<2> q(FieldLayout<2>(grid.shape));
    for_each_cell(grid, [&](std::ptrdiff_t i, const std::array<int, 2>&, const std::array<double, 2>&) {
      q[i] = std::exp(-p.energy.V()[i] / D);
    });
    const Field<2> before = q;
    p.stepper.step_fixed(q, 0.5 * p.op->prepare(q));
    CHECK(max_relative_deviation(q, before, grid) <= 1e-15);
  }

  TEST_CASE("upwind operator: a stage on 3 cells conserves mass exactly and moves mass downhill") {
    const UniformGrid<1> grid = make_cube_grid<1>(3, 0.0, 3.0, Boundary::no_flux);
    Problem<1> p(grid, porous(2.0), no_potential(), flux_for(porous(2.0), 1), ExplicitScheme::euler);
    Field<1> q(FieldLayout<1>(grid.shape));
    q.at({0}) = 3.0;
    q.at({1}) = 1.0;
    q.at({2}) = 0.0;
    // ξ = 2q = (6, 2, 0); u_{½} = 4, u_{3/2} = 2; first-order fluxes F = u q_upwind = 12, 2.
    const double dt = 0.01;
    p.stepper.step_fixed(q, dt);
    CHECK(q.at({0}) == doctest::Approx(3.0 - dt * 12.0));
    CHECK(q.at({1}) == doctest::Approx(1.0 + dt * (12.0 - 2.0)));
    CHECK(q.at({2}) == doctest::Approx(dt * 2.0));
    // Limit: hyperbolic 1/(2·4) vs parabolic 1/(2·P'max) = 1/(2·2·2·3) → parabolic wins here.
    Field<1> r(FieldLayout<1>(grid.shape));
    r.at({0}) = 3.0;
    r.at({1}) = 1.0;
    CHECK(p.op->prepare(r) == doctest::Approx(1.0 / 12.0));
  }
}
