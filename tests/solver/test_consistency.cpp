/// Results that must not depend on how the problem is laid out: the dimension of a problem that is
/// constant along an axis, and the number of threads.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstring>

#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

double profile(double x) { return std::max(0.0, 1.0 - (x - 0.3) * (x - 0.3)) + 0.2 * std::exp(-x * x); }

/// Runs the same fixed steps on a 1D grid and on a 2D grid whose data is constant in y; returns the
/// largest difference between the 1D state and any y-row of the 2D state.
double dimension_gap(const InternalEnergySpec& internal, ExplicitScheme scheme) {
  const int n = 48;
  const UniformGrid<1> g1 = make_cube_grid<1>(n, -2.0, 2.0, Boundary::no_flux);
  UniformGrid<2> g2 = make_cube_grid<2>(n, -2.0, 2.0, Boundary::no_flux);
  g2.shape[1] = 5;
  g2.boundary[1] = Boundary::periodic;
  Problem<1> p1(g1, internal, no_potential(), flux_for(internal), scheme);
  Problem<2> p2(g2, internal, no_potential(), flux_for(internal), scheme);
  Field<1> q1 = cell_averages(g1, [](const double* x) { return profile(x[0]); });
  Field<2> q2 = cell_averages(g2, [](const double* x) { return profile(x[0]); });
  const double dt = 0.2 * p1.op->prepare(q1);
  for (int s = 0; s < 200; ++s) {
    p1.stepper.step_fixed(q1, dt);
    p2.stepper.step_fixed(q2, dt);
  }
  double gap = 0.0;
  for (int j = 0; j < g2.shape[1]; ++j)
    for (int i = 0; i < n; ++i) gap = std::max(gap, std::abs(q2.at({i, j}) - q1.at({i})));
  return gap;
}

/// The state after `steps` adaptive steps with the given number of threads, as raw interior values.
template <int Dim>
std::vector<double> state_after(int threads, int n, const InternalEnergySpec& internal, const PotentialSpec& potential,
                                int steps) {
  omp_set_num_threads(threads);
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, Boundary::no_flux);
  Problem<Dim> p(grid, internal, potential, flux_for(internal), ExplicitScheme::ssp_rk3);
  Field<Dim> q = cell_averages(grid, [](const double* x) {
    double r2 = 0.0;
    for (int k = 0; k < Dim; ++k) r2 += (x[k] - 0.3 * k) * (x[k] - 0.3 * k);
    return std::max(0.0, 1.0 - r2);
  });
  double t = 0.0;
  for (int s = 0; s < steps; ++s) t += p.stepper.step(q, t, 1e6).dt;
  std::vector<double> values = interior_values(q);
  values.push_back(t);  // the step sizes too
  values.push_back(p.diagnostics.measure(q, t, 0.0, nullptr).mass);
  return values;
}

template <int Dim>
void check_bitwise_across_threads(int n, const InternalEnergySpec& internal, const PotentialSpec& potential) {
  check_same_bits_with_1_and_2_threads([&](int threads) { return state_after<Dim>(threads, n, internal, potential, 15); });
}

}  // namespace

TEST_SUITE("physics") {
  // Fluxes along an axis on which the data is constant are exactly zero, so a 2D run with data
  // constant in y must reproduce the 1D run (same fixed steps) to round-off.
  TEST_CASE("dimension consistency: 2D data constant in y equals the 1D run") {
    for (ExplicitScheme scheme : {ExplicitScheme::euler, ExplicitScheme::ssp_rk3}) {
      const double gap_sg = dimension_gap(entropy(1.0), scheme);
      const double gap_upwind = dimension_gap(porous(2.0), scheme);
      MESSAGE("1D vs 2D gap (", to_string(scheme), "): SG ", gap_sg, ", upwind ", gap_upwind);
      CHECK(gap_sg <= 1e-14);
      CHECK(gap_upwind <= 1e-14);
    }
  }

  // Grids large enough that every loop runs on the thread team; the state and the step sizes after
  // 15 adaptive SSP-RK3 steps must be bitwise identical for 1 and 2 threads.
  TEST_CASE("thread determinism: 1 and 2 threads give bitwise identical states") {
    check_bitwise_across_threads<1>(40000, porous(2.0), quadratic(1.0));
    check_bitwise_across_threads<2>(160, porous(2.0), double_well());
    check_bitwise_across_threads<2>(160, entropy(0.3), double_well());
    check_bitwise_across_threads<3>(32, porous(3.0), no_potential());
    check_bitwise_across_threads<3>(32, entropy(0.5), double_well());  // SG, rows in y-tiles
    check_bitwise_across_threads<3>(32, entropy(0.5), no_potential());  // SG, constant coefficients
  }
}
