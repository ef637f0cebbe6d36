/// Implicit Euler with an interaction term W*q at the average (qⁿ + q^{n+1})/2: the implicit suite's
/// guarantees (mass to round-off, q ≥ 0, energy never rising) at steps far beyond the explicit limit,
/// for the Newton (upwind) and the linear (SG) path, thread independence, the semicircle steady state.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstring>

#include "solver/steppers/implicit_euler.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

constexpr double pi = 3.14159265358979323846;

template <int Dim>
struct ImplicitInteraction {
  ImplicitInteraction(const UniformGrid<Dim>& g, const InternalEnergySpec& internal, const PotentialSpec& potential,
                      const InteractionSpec& w, const ImplicitOptions& options)
      : grid(g), energy(g, internal, potential, w), stepper(energy, flux_for(internal, 1), options), diagnostics(energy) {}
  UniformGrid<Dim> grid;
  FreeEnergy<Dim> energy;
  ImplicitEuler<Dim> stepper;
  Diagnostics<Dim> diagnostics;
};

ImplicitOptions fixed_factor(double factor) {
  ImplicitOptions o;
  o.dt_factor = factor;
  return o;
}

/// `steps` fixed steps of `factor` × the explicit limit from data with vacuum, checking each one.
template <int Dim>
void check_guarantees(const InternalEnergySpec& internal, const PotentialSpec& potential, const std::string& w, int n,
                      Boundary bc, double factor, long steps) {
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, bc);
  ImplicitInteraction<Dim> p(grid, internal, potential, kernel(w, Dim), fixed_factor(factor));
  Field<Dim> q = bumps_with_vacuum(grid);
  const Guarantees g =
      track_guarantees(p.diagnostics, q, steps, [&](Field<Dim>& state, double t) { return p.stepper.step(state, t, 1e9); });
  const ImplicitStats& st = p.stepper.stats();
  INFO(Dim, "D ", to_string(bc), " kernel ", w, ", ", factor, "x the explicit limit: ", st.steps, " steps (",
       st.rejected, " rejected) to t = ", g.t, ", ", double(st.newton_iterations) / double(st.steps),
       " Newton iterations per step; energy ", g.first.energy, " -> ", g.last.energy);
  CHECK(g.worst_drift <= 1e-12);
  CHECK(g.min_q >= 0.0);
  CHECK(g.worst_rise <= 1e-14);  // round-off of the energy sum is ~1e-16 relative
  CHECK(g.last.energy < g.first.energy);
}

template <int Dim>
std::vector<double> state_after(int threads, int n, const InternalEnergySpec& internal, const std::string& w) {
  omp_set_num_threads(threads);
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, Boundary::no_flux);
  ImplicitInteraction<Dim> p(grid, internal, quadratic(1.0), kernel(w, Dim), fixed_factor(20.0));
  Field<Dim> q = bumps_with_vacuum(grid);
  double t = 0.0;
  for (int s = 0; s < 4; ++s) t += p.stepper.step(q, t, 1e9).dt;
  std::vector<double> values = interior_values(q);
  values.push_back(t);
  values.push_back(p.diagnostics.measure(q, t, 0.0, nullptr).energy);
  return values;
}

}  // namespace

TEST_SUITE("physics") {
  TEST_CASE("implicit Euler with W*q: mass q >= 0 and energy decay at 10x and 100x the explicit limit in 1D/2D/3D") {
    for (double factor : {10.0, 100.0})
      for (Boundary bc : {Boundary::no_flux, Boundary::periodic}) {
        const std::string w1 = bc == Boundary::no_flux ? "attractive-repulsive" : "gaussian:sigma=0.4";
        check_guarantees<1>(no_diffusion(), no_potential(), w1, 64, bc, factor, 40);
        check_guarantees<1>(porous(2.0, 0.1), quadratic(1.0), "newtonian", 64, bc, factor, 40);
        check_guarantees<2>(porous(2.0, 0.1), no_potential(), "newtonian", 20, bc, factor, 30);
        check_guarantees<2>(porous(3.0, 0.1), double_well(), "morse:ca=2", 20, bc, factor, 30);
        check_guarantees<3>(porous(2.0, 0.1), no_potential(), "gaussian:sigma=0.5", 8, bc, factor, 20);
        check_guarantees<1>(entropy(0.5), quadratic(1.0), "newtonian", 64, bc, factor, 40);
        check_guarantees<2>(entropy(0.5), no_potential(), "newtonian", 20, bc, factor, 30);
        check_guarantees<3>(entropy(0.5), no_potential(), "newtonian", 8, bc, factor, 20);
      }
  }

  TEST_CASE("implicit Euler with W*q: bitwise identical states with 1 and 2 threads") {
    const int saved = omp_get_max_threads();
    const std::vector<double> one = state_after<2>(1, 128, porous(2.0, 0.1), "newtonian");
    const std::vector<double> two = state_after<2>(2, 128, porous(2.0, 0.1), "newtonian");
    const std::vector<double> sg_one = state_after<2>(1, 128, entropy(0.5), "newtonian");
    const std::vector<double> sg_two = state_after<2>(2, 128, entropy(0.5), "newtonian");
    omp_set_num_threads(saved);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(double)) == 0);
    REQUIRE(sg_one.size() == sg_two.size());
    CHECK(std::memcmp(sg_one.data(), sg_two.data(), sg_one.size() * sizeof(double)) == 0);
  }

  // Adaptive implicit steps reach the steady state of |x|²/2 − log|x| (the semicircle) in few steps.
  TEST_CASE("implicit Euler with W*q reaches the 1D semicircle steady state") {
    const UniformGrid<1> grid = make_cube_grid<1>(160, -2.0, 2.0, Boundary::no_flux);
    ImplicitOptions o;
    o.adaptive = true;
    ImplicitInteraction<1> p(grid, no_diffusion(), no_potential(), kernel("attractive-repulsive", 1), o);
    Field<1> q = cell_averages(grid, [](const double* x) { return std::exp(-2.0 * x[0] * x[0]) / std::sqrt(pi / 2.0); });
    double t = 0.0;
    long steps = 0;
    while (t < 20.0) {
      const StepReport r = p.stepper.step(q, t, 20.0);
      t = r.reached_stop ? 20.0 : t + r.dt;
      ++steps;
    }
    const Field<1> exact = cell_averages(grid, [](const double* x) {
      return x[0] * x[0] < 2.0 ? std::sqrt(2.0 - x[0] * x[0]) / pi : 0.0;
    });
    const double error = l1_distance(q, exact, grid);
    MESSAGE("implicit semicircle: ", steps, " steps (", p.stepper.stats().rejected, " rejected), L1 error ", error);
    CHECK(error <= 0.01);
  }
}
