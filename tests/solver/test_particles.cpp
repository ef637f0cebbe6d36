/// Particles carried by the computed flow (solver/particles.hpp). 1D transport is monotone, so the
/// particle that starts at quantile u of q_0 must sit at quantile u of q_t: that checks particles against
/// the density for the SG flux (heat, a KL flow), the upwind flux (porous medium) and implicit Euler.
/// Then the 2D product case against 1D runs, walls, periodic wrap and thread-count independence.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <memory>

#include "grids/decomposition.hpp"
#include "solver/energy/target.hpp"
#include "solver/initial_data.hpp"
#include "solver/particles.hpp"
#include "solver/steppers/implicit_euler.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

/// Piecewise-linear CDF of cell averages, normalised to 1, and its inverse.
struct Cdf {
  UniformGrid<1> grid;
  std::vector<double> q, cum;  ///< cum[i]: mass left of cell i (normalised)
  Cdf(const UniformGrid<1>& g, const std::vector<double>& values) : grid(g), q(values), cum(values.size() + 1, 0.0) {
    for (std::size_t i = 0; i < q.size(); ++i) cum[i + 1] = cum[i] + q[i];
    for (double& c : cum) c /= cum.back();
  }
  double operator()(double x) const {
    const double s = (x - grid.lower[0]) / grid.dx(0);
    const auto i = static_cast<std::size_t>(std::clamp(std::floor(s), 0.0, double(q.size() - 1)));
    return cum[i] + (cum[i + 1] - cum[i]) * std::clamp(s - double(i), 0.0, 1.0);
  }
  /// x with F(x) = u; cell index of x in `cell`.
  double inverse(double u, std::size_t& cell) const {
    std::size_t i = static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
    i = std::clamp<std::size_t>(i, 1, q.size()) - 1;
    cell = i;
    const double w = cum[i + 1] - cum[i];
    const double frac = w > 0.0 ? std::clamp((u - cum[i]) / w, 0.0, 1.0) : 0.5;
    return grid.lower[0] + (double(i) + frac) * grid.dx(0);
  }
};

/// max_k |x_k − F_t⁻¹(F_0(x_k⁰))| in units of Δx, over particles whose target cell and its neighbours
/// carry mass (inside the support) and whose quantile u_k lies in [tail, 1 − tail].
double quantile_error(const UniformGrid<1>& g, const std::vector<double>& q0, const std::vector<double>& qt,
                      const std::vector<double>& x0, const std::vector<double>& xt, double tail = 0.0) {
  const Cdf F0(g, q0), Ft(g, qt);
  double worst = 0.0;
  for (std::size_t k = 0; k < x0.size(); ++k) {
    std::size_t cell = 0;
    const double u = F0(x0[k]);
    if (u < tail || u > 1.0 - tail) continue;
    const double x = Ft.inverse(u, cell);
    const bool inside = qt[cell] > 0.0 && (cell == 0 || qt[cell - 1] > 0.0) && (cell + 1 == qt.size() || qt[cell + 1] > 0.0);
    if (inside) worst = std::max(worst, std::abs(xt[k] - x) / g.dx(0));
  }
  return worst;
}

/// Runs particles sampled from q (10⁴ unless told) with an explicit stepper over the operator of
/// `energy` to t_end; returns the positions before and after, q advanced in place.
template <int Dim>
std::pair<std::vector<double>, std::vector<double>> run_particles(const FreeEnergy<Dim>& energy, Field<Dim>& q,
                                                                  double t_end, std::size_t n = 10000,
                                                                  ExplicitScheme scheme = ExplicitScheme::ssp_rk3) {
  const UniformGrid<Dim>& grid = energy.grid();
  const auto op = make_spatial_operator(energy, flux_for(energy.internal()));
  ExplicitRk<Dim> stepper(*op, scheme, 0.5, q.layout());
  ParticleCloud<Dim> cloud(grid, sample_particles(q, grid, n, 7));
  const std::vector<double> x0 = cloud.positions();
  stepper.set_particles(&cloud);
  for (double t = 0.0; t < t_end;) t += stepper.step(q, t, t_end).dt;
  CHECK(cloud.clamps() == 0);
  return {x0, cloud.positions()};
}

/// The quantile error (in Δx) of a 1D run on n cells; the energy made by make_energy(grid).
template <class MakeEnergy>
double quantile_error_1d(int n, double a, double b, const InitialSpec& initial, double t_end, MakeEnergy&& make_energy) {
  const UniformGrid<1> grid = make_cube_grid<1>(n, a, b, Boundary::no_flux);
  const std::unique_ptr<FreeEnergy<1>> energy = make_energy(grid);
  Field<1> q = make_initial_density(initial, grid, energy->internal());
  const std::vector<double> q0 = interior_values(q);
  const auto [x0, xt] = run_particles(*energy, q, t_end);
  return quantile_error(grid, q0, interior_values(q), x0, xt);
}

InitialSpec gaussian(double centre, double width) {
  InitialSpec s;
  s.centre = {centre, 0.0, 0.0};
  s.width = width;
  return s;
}

/// Errors at n, 2n, 4n cells: each ≤ 2Δx; the observed orders are reported.
template <class MakeEnergy>
void check_quantiles(const std::string& name, double a, double b, const InitialSpec& initial, double t_end, MakeEnergy&& make) {
  std::vector<double> errors;  // in units of x
  for (int n : {64, 128, 256}) {
    const double e = quantile_error_1d(n, a, b, initial, t_end, make);
    INFO(name, " on ", n, " cells: max |x_k - F_t^-1(u_k)| = ", e, " dx");
    CHECK(e <= 2.0);
    errors.push_back(e * (b - a) / n);
  }
  const std::vector<double> orders = observed_orders(errors);
  MESSAGE(name, ": quantile errors ", errors[0], ", ", errors[1], ", ", errors[2], " (orders ", orders[0], ", ",
          orders[1], ")");
  CHECK(errors[2] < errors[0]);
}

}  // namespace

TEST_SUITE("physics") {
  TEST_CASE("particles: 1D quantiles follow the density for heat") {
    check_quantiles("heat", -5.0, 5.0, gaussian(0.3, 0.5), 0.25, [](const UniformGrid<1>& g) {
      return std::make_unique<FreeEnergy<1>>(g, entropy(1.0), no_potential());
    });
  }

  TEST_CASE("particles: 1D quantiles follow the density for the porous medium inside the support") {
    InitialSpec barenblatt;
    barenblatt.kind = InitialSpec::Kind::barenblatt;
    check_quantiles("porous medium", -3.0, 3.0, barenblatt, 0.5, [](const UniformGrid<1>& g) {
      return std::make_unique<FreeEnergy<1>>(g, porous(2.0), no_potential());
    });
  }

  TEST_CASE("particles: 1D quantiles follow the density for a KL flow toward two bumps") {
    check_quantiles("KL flow", -4.0, 4.0, gaussian(-1.0, 0.4), 0.5, [](const UniformGrid<1>& g) {
      TargetSpec target;
      target.means = {{-1.2, 0.0, 0.0}, {1.0, 0.0, 0.0}};
      target.weights = {1.0, 2.0};
      target.widths = {0.4, 0.6};
      auto e = std::make_unique<FreeEnergy<1>>(g, InternalEnergySpec{InternalEnergySpec::Kind::none, 1.0, 2.0},
                                               PotentialSpec{});
      e->set_divergence(std::make_shared<const FDivergence<1>>(g, parse_divergence("kl"), sample_target(target, g, 1.0), 1e-3));
      return e;
    });
  }

  TEST_CASE("particles: implicit Euler moves 1D quantiles with the density") {
    for (const bool sg : {true, false}) {
      const UniformGrid<1> grid = make_cube_grid<1>(128, -3.0, 3.0, Boundary::no_flux);
      const FreeEnergy<1> energy(grid, sg ? entropy(1.0) : porous(2.0), sg ? quadratic(1.0) : no_potential());
      InitialSpec init = gaussian(0.5, 0.4);
      if (!sg) init.kind = InitialSpec::Kind::barenblatt;
      Field<1> q = make_initial_density(init, grid, energy.internal());
      const std::vector<double> q0 = interior_values(q);
      ImplicitOptions options;
      options.dt = 0.005;
      ImplicitEuler<1> stepper(energy, flux_for(energy.internal()), options);
      ParticleCloud<1> cloud(grid, sample_particles(q, grid, 10000, 3));
      const std::vector<double> x0 = cloud.positions();
      stepper.set_particles(&cloud);
      for (double t = 0.0; t < 0.5;) t += stepper.step(q, t, 0.5).dt;
      // Backward Euler for both: they differ by O(Δt), most in the tails, where the velocity is largest
      // (heat: v = x/σ²) and the quantile map is ill-conditioned; the central 98 % are compared.
      const double e = quantile_error(grid, q0, interior_values(q), x0, cloud.positions(), 0.01);
      INFO(std::string(sg ? "SG" : "upwind"), " implicit Euler: ", e, " dx");
      CHECK(e <= 2.0);
      CHECK(cloud.clamps() == 0);
    }
  }

  TEST_CASE("particles: 2D product Fokker-Planck marginals match the 1D runs") {
    const double a = 1.0, b = 2.0, t_end = 0.5;
    const int n = 64;
    const InitialSpec init = [] {
      InitialSpec s;
      s.centre = {1.0, -0.5, 0.0};
      s.width = 0.5;
      return s;
    }();
    PotentialSpec V2;
    V2.kind = PotentialSpec::Kind::function;
    V2.function = [a, b](const double* x) { return a * x[0] * x[0] / 2 + b * x[1] * x[1] / 2; };
    const UniformGrid<2> grid = make_cube_grid<2>(n, -4.0, 4.0, Boundary::no_flux);
    const FreeEnergy<2> energy(grid, entropy(1.0), V2);
    Field<2> q = make_initial_density(init, grid, energy.internal());
    const auto [x0, xt] = run_particles(energy, q, t_end);
    for (int axis = 0; axis < 2; ++axis) {
      const UniformGrid<1> line = make_cube_grid<1>(n, -4.0, 4.0, Boundary::no_flux);
      PotentialSpec V1;
      V1.kind = PotentialSpec::Kind::function;
      const double gamma = axis == 0 ? a : b;
      V1.function = [gamma](const double* x) { return gamma * x[0] * x[0] / 2; };
      const FreeEnergy<1> energy1(line, entropy(1.0), V1);
      Field<1> q1 = make_initial_density(gaussian(init.centre[static_cast<std::size_t>(axis)], 0.5), line, energy1.internal());
      const std::vector<double> q10 = interior_values(q1);
      const auto op = make_spatial_operator(energy1, flux_for(energy1.internal()));
      ExplicitRk<1> stepper(*op, ExplicitScheme::ssp_rk3, 0.5, q1.layout());
      for (double t = 0.0; t < t_end;) t += stepper.step(q1, t, t_end).dt;
      std::vector<double> m0, mt;  // the particles' coordinates along this axis
      for (std::size_t p = 0; p < x0.size() / 2; ++p) {
        m0.push_back(x0[2 * p + static_cast<std::size_t>(axis)]);
        mt.push_back(xt[2 * p + static_cast<std::size_t>(axis)]);
      }
      const double e = quantile_error(line, q10, interior_values(q1), m0, mt);
      INFO("axis ", axis, ": ", e, " dx");
      CHECK(e <= 2.0);
    }
  }

  TEST_CASE("particles: no-flux boxes keep every particle inside in 2D and 3D") {
    // Mass pushed into the corners by a potential whose minimum lies outside the box.
    PotentialSpec V = quadratic(4.0);
    V.centre = {3.0, -3.0, 3.0};
    const UniformGrid<2> g2 = make_cube_grid<2>(24, -1.0, 1.0, Boundary::no_flux);
    const FreeEnergy<2> e2(g2, entropy(0.05), V);
    Field<2> q2 = make_initial_density(gaussian(0.0, 0.3), g2, e2.internal());
    const auto [a2, x2] = run_particles(e2, q2, 1.0, 2000);
    for (std::size_t i = 0; i < x2.size(); ++i) CHECK((x2[i] >= -1.0 && x2[i] <= 1.0));
    const UniformGrid<3> g3 = make_cube_grid<3>(8, -1.0, 1.0, Boundary::no_flux);
    const FreeEnergy<3> e3(g3, porous(2.0, 0.1), V);
    Field<3> q3 = make_initial_density(gaussian(0.0, 0.3), g3, e3.internal());
    const auto [a3, x3] = run_particles(e3, q3, 1.0, 2000);
    for (std::size_t i = 0; i < x3.size(); ++i) CHECK((x3[i] >= -1.0 && x3[i] <= 1.0));
  }
}

TEST_SUITE("unit") {
  TEST_CASE("particles: periodic wrap lands in the box") {
    CHECK(wrap_periodic(5.25, -5.0, 5.0) == -4.75);
    CHECK(wrap_periodic(-5.25, -5.0, 5.0) == 4.75);
    CHECK(wrap_periodic(5.0, -5.0, 5.0) == -5.0);
    CHECK(wrap_periodic(-5.0, -5.0, 5.0) == -5.0);
    CHECK(wrap_periodic(-1e-20, 0.0, 1.0) == 0.0);  // 1 − 1e-20 rounds to the upper end: lower instead
    CHECK(wrap_periodic(std::nextafter(-5.0, -6.0), -5.0, 5.0) == std::nextafter(5.0, 0.0));
    CHECK(wrap_periodic(1.5, 0.0, 1.0) == 0.5);
  }

  // Which rank holds a position on a decomposed grid (solver/particle_boxes.hpp): the box of the cell
  // the stage looks it up in; a particle that left goes to the nearer side, around a periodic wrap too.
  TEST_CASE("particles: the box that holds a position and the side a leaving particle goes to") {
    for (const Boundary bc : {Boundary::periodic, Boundary::no_flux}) {
      const UniformGrid<1> global = make_cube_grid<1>(12, 0.0, 12.0, bc);  // boxes [0, 4), [4, 8), [8, 12)
      const bool periodic = bc == Boundary::periodic;
      const ParticleBoxes<1> first(local_grid(global, 3, 0)), middle(local_grid(global, 3, 1)), last(local_grid(global, 3, 2));
      CHECK(first.global_cell(0, 12.0) == (periodic ? 0 : 11));  // the upper end wraps onto cell 0
      CHECK(first.side(0, 3.999) == 0);
      CHECK(first.side(0, 4.0) == 1);  // a point on a face lies in the cell above it, as in the stage
      CHECK(first.side(0, 11.5) == (periodic ? -1 : 1));
      CHECK(first.side(0, -0.25) == (periodic ? -1 : 0));  // no-flux: clamped into cell 0
      CHECK(middle.side(0, 3.5) == -1);
      CHECK(middle.side(0, 8.0) == 1);
      CHECK(last.side(0, 0.5) == (periodic ? 1 : -1));
      CHECK(last.side(0, 7.5) == -1);
      CHECK(last.side(0, 12.25) == (periodic ? 1 : 0));
      const double x = 5.5;
      CHECK((first.holds(&x) || middle.holds(&x) || last.holds(&x)));
      CHECK(middle.holds(&x));
    }
  }

  TEST_CASE("particles: a periodic flow carries particles across the boundary like its shifted copy") {
    // The same flow on the circle of length 10, as [-5,5) and as [0,10): a bump at x = 4.5 spreads
    // across x = 5 ≡ -5 ≡ 0 (mod 10) in a tilted potential. Each particle must end at the same point of
    // the circle in both runs, inside the box, and some must have crossed the boundary of [-5,5).
    std::vector<std::vector<double>> starts, finals;
    for (const double shift : {0.0, 5.0}) {
      const UniformGrid<1> grid = make_cube_grid<1>(100, -5.0 + shift, 5.0 + shift, Boundary::periodic);
      PotentialSpec V;
      V.kind = PotentialSpec::Kind::function;
      V.function = [](const double* x) { return 0.5 * std::sin(M_PI * x[0] / 5.0); };
      const FreeEnergy<1> energy(grid, entropy(1.0), V);
      Field<1> q(FieldLayout<1>(grid.shape));
      std::vector<double> v(100);  // cell i of [-5,5) is cell (i + 50) mod 100 of [0,10)
      for (int i = 0; i < 100; ++i)
        v[static_cast<std::size_t>((i + (shift > 0.0 ? 50 : 0)) % 100)] = 0.01 + std::exp(-std::pow((i - 95) / 4.0, 2));
      set_interior_values(q, v);
      std::vector<double> x0;
      for (int p = 0; p < 40; ++p) x0.push_back(wrap_periodic(3.0 + 0.099 * p, grid.lower[0], grid.upper[0]));
      ParticleCloud<1> cloud(grid, x0);
      const auto op = make_spatial_operator(energy, flux_for(energy.internal()));
      ExplicitRk<1> stepper(*op, ExplicitScheme::ssp_rk3, 0.5, q.layout());
      stepper.set_particles(&cloud);
      for (double t = 0.0; t < 0.5;) t += stepper.step(q, t, 0.5).dt;
      for (double x : cloud.positions()) CHECK((x >= grid.lower[0] && x < grid.upper[0]));
      starts.push_back(x0);
      finals.push_back(cloud.positions());
    }
    int crossed = 0;
    for (std::size_t p = 0; p < finals[0].size(); ++p) {
      CHECK(std::abs(std::remainder(finals[0][p] - finals[1][p], 10.0)) <= 1e-9);
      crossed += (starts[0][p] > 0.0) != (finals[0][p] > 0.0);  // from near 5 to near -5
    }
    CHECK(crossed > 0);
  }

  TEST_CASE("particles: thread count changes no bit of the particle output") {
    std::vector<std::vector<double>> results;
    const int saved = omp_get_max_threads();
    for (const int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      const UniformGrid<2> grid = make_cube_grid<2>(32, -3.0, 3.0, Boundary::no_flux);
      const FreeEnergy<2> energy(grid, porous(2.0), quadratic(1.0));
      Field<2> q = make_initial_density(gaussian(0.5, 0.6), grid, energy.internal());
      const auto [x0, xt] = run_particles(energy, q, 0.2, 20000);  // ≥ 16384 particles: threaded
      results.push_back(xt);
    }
    omp_set_num_threads(saved);
    CHECK(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(double)) == 0);
    CHECK(std::memcmp(results[0].data(), results[2].data(), results[0].size() * sizeof(double)) == 0);
  }

  TEST_CASE("particles: sampling is deterministic and follows the mass") {
    const UniformGrid<1> grid = make_cube_grid<1>(4, 0.0, 4.0, Boundary::no_flux);
    Field<1> q(FieldLayout<1>(grid.shape));
    set_interior_values(q, {0.0, 1.0, 0.0, 3.0});
    const std::vector<double> x = sample_particles(q, grid, 40000, 11);
    CHECK(x == sample_particles(q, grid, 40000, 11));
    CHECK(x != sample_particles(q, grid, 40000, 12));
    std::size_t in_second = 0, in_empty = 0;
    for (double xi : x) {
      in_second += xi >= 1.0 && xi < 2.0;
      in_empty += (xi < 1.0) || (xi >= 2.0 && xi < 3.0);
    }
    CHECK(in_empty == 0);
    CHECK(std::abs(double(in_second) / 40000.0 - 0.25) < 0.01);
  }
}
