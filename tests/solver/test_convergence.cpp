/// Convergence orders against exact solutions (numerics.md "Exact solutions for tests" and "Expected L1
/// orders"). Every study starts from the exact cell averages at t0, runs the adaptive SSP-RK3 stepper to
/// t1 and measures the L1 distance Δx^d Σ|q_i − q̄_i(t1)| to the exact CELL AVERAGES at t1 (4-point Gauss
/// per axis; Barenblatt: exact::barenblatt_cell_average, accurate at the edge) on grids refined by 2. The explicit step is Δt ∝ Δx² (parabolic limit), so the RK3 time
/// error O(Δt³) = O(Δx⁶) is far below the spatial error and the observed order is the spatial one.
#include <doctest/doctest.h>

#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "solver/barenblatt_average.hpp"
#include "solver/exact_solutions.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

struct Study {
  std::vector<int> cells;
  std::vector<double> errors;
  std::vector<long> steps;
  std::vector<double> orders;
};

/// Runs one convergence study: for each n, q(t0) = exact cell averages, advance to t1, L1 error to the
/// exact cell averages at t1. exact(x, t) takes a const double* of length Dim.
template <int Dim, class Averages>
Study run_study_of_averages(const std::vector<int>& cells, double a, double b, const InternalEnergySpec& internal,
                            const PotentialSpec& potential, const FluxSpec& flux, double t0, double t1,
                            Averages&& averages) {
  Study s;
  s.cells = cells;
  for (const int n : cells) {
    const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, a, b, Boundary::no_flux);
    Problem<Dim> p(grid, internal, potential, flux, ExplicitScheme::ssp_rk3, 0.5);
    Field<Dim> q = averages(grid, t0);
    s.steps.push_back(p.advance(q, t0, t1));
    const Field<Dim> reference = averages(grid, t1);
    s.errors.push_back(l1_distance(q, reference, grid));
  }
  s.orders = observed_orders(s.errors);
  return s;
}

/// The same with the cell averages taken by 4-point Gauss per axis of exact(x, t).
template <int Dim, class Exact>
Study run_study(const std::vector<int>& cells, double a, double b, const InternalEnergySpec& internal,
                const PotentialSpec& potential, const FluxSpec& flux, double t0, double t1, Exact&& exact) {
  return run_study_of_averages<Dim>(cells, a, b, internal, potential, flux, t0, t1, [&](const UniformGrid<Dim>& grid, double t) {
    return cell_averages(grid, [&](const double* x) { return exact(x, t); });
  });
}

/// "n = 16: e = 1.2e-04 (steps 820)  order 2.00" lines for the log.
std::string describe(const std::string& title, const Study& s) {
  std::ostringstream out;
  out << title << '\n';
  for (std::size_t k = 0; k < s.errors.size(); ++k) {
    out << "  n = " << std::setw(4) << s.cells[k] << ": L1 error " << std::scientific << std::setprecision(4)
        << s.errors[k] << "  (" << s.steps[k] << " steps)";
    if (k > 0) out << "  order " << std::fixed << std::setprecision(3) << s.orders[k - 1];
    out << '\n';
  }
  return out.str();
}

void check_orders_at_least(const Study& s, double min_order) {
  REQUIRE(s.orders.size() + 1 == s.errors.size());
  for (std::size_t k = 0; k < s.orders.size(); ++k) {
    CAPTURE(k);
    CHECK(s.errors[k] > 0.0);
    CHECK(s.orders[k] >= min_order);
  }
}

void check_orders_between(const Study& s, double low, double high) {
  REQUIRE(s.orders.size() + 1 == s.errors.size());
  for (std::size_t k = 0; k < s.orders.size(); ++k) {
    CAPTURE(k);
    CHECK(s.orders[k] >= low);
    CHECK(s.orders[k] <= high);
  }
}

// Heat: no-flux cosine mode c0 + c1 Π cos(π n (x_k − a)/L) e^{−Dπ²dn²t/L²} on [0, 1]^d.
constexpr double heat_c0 = 2.0, heat_c1 = 1.0, heat_D = 1.0, heat_t1 = 0.05;
constexpr int heat_mode = 1;

template <int Dim>
Study heat_study(const std::vector<int>& cells) {
  const InternalEnergySpec internal = entropy(heat_D);
  return run_study<Dim>(cells, 0.0, 1.0, internal, no_potential(), flux_for(internal), 0.0, heat_t1,
                        [](const double* x, double t) {
                          return exact::heat_cosine_mode(x, Dim, 0.0, 1.0, heat_mode, heat_c0, heat_c1, heat_D, t);
                        });
}

// Ornstein–Uhlenbeck: V = γ|x|²/2, U = D q log q, from N(m0 = 1 per axis, s0 = 0.5) on [−6, 6]^d.
constexpr double ou_gamma = 1.0, ou_D = 1.0, ou_s0 = 0.5, ou_t1 = 0.5;

template <int Dim>
Study ou_study(const std::vector<int>& cells) {
  const InternalEnergySpec internal = entropy(ou_D);
  const double m0[3] = {1.0, 1.0, 1.0};
  return run_study<Dim>(cells, -6.0, 6.0, internal, quadratic(ou_gamma), flux_for(internal), 0.0, ou_t1,
                        [&](const double* x, double t) {
                          return exact::ornstein_uhlenbeck(x, m0, Dim, ou_s0, ou_gamma, ou_D, t, 1.0);
                        });
}

// Barenblatt of q_t = Δq^m (U = q^m/(m−1), D = 1), mass 1, centred at 0 on [−3, 3]^d, from t0 = 1 to t1.
// The support radius at t1 = 2 is 2.62 (1D) and 2.12 (2D): it never reaches the walls at ±3.
constexpr double bb_m = 2.0, bb_t0 = 1.0, bb_t1 = 2.0;

template <int Dim>
Study barenblatt_study(const std::vector<int>& cells, int order) {
  const InternalEnergySpec internal = porous(bb_m, 1.0);
  const double C = exact::barenblatt_constant(bb_m, Dim, 1.0);
  const double centre[3] = {0.0, 0.0, 0.0};
  // The edge cells are averaged accurately (a kink for m = 2, which 4-point Gauss integrates to O(Δx²)).
  return run_study_of_averages<Dim>(cells, -3.0, 3.0, internal, no_potential(), flux_for(internal, order), bb_t0, bb_t1,
                                    [&](const UniformGrid<Dim>& grid, double t) {
                                      Field<Dim> q(FieldLayout<Dim>(grid.shape));
                                      for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell,
                                                              const std::array<double, Dim>&) {
                                        q[idx] = exact::barenblatt_cell_average<Dim>(grid, cell, centre, bb_m, t, C);
                                      });
                                      return q;
                                    });
}

}  // namespace

TEST_SUITE("convergence") {
  // Proves that SG (the flux picked for U = q log q) with no-flux walls is second order for the heat
  // equation in 1D, 2D and 3D: the cosine mode is smooth and satisfies the wall condition exactly.
  // (Why cell averages: near t = 1/(2π²) ≈ 0.05 the O(Δx²) lag of the discrete decay rate happens to
  // cancel the O(Δx²) gap between point values and cell averages of the initial data, so an error
  // against POINT values would look spuriously small and super-convergent here.)
  TEST_CASE("convergence: heat cosine mode with SG and SSP-RK3 has L1 order >= 1.8 in 1D/2D/3D") {
    SUBCASE("1D") {
      const Study s = heat_study<1>({16, 32, 64});
      MESSAGE(describe("heat cosine mode 1D, t = 0.05", s));
      check_orders_at_least(s, 1.8);
    }
    SUBCASE("2D") {
      const Study s = heat_study<2>({16, 32, 64});
      MESSAGE(describe("heat cosine mode 2D, t = 0.05", s));
      check_orders_at_least(s, 1.8);
    }
    SUBCASE("3D") {
      const Study s = heat_study<3>({8, 16, 32});
      MESSAGE(describe("heat cosine mode 3D, t = 0.05", s));
      check_orders_at_least(s, 1.8);
    }
  }

  // Proves that SG with a drift (Fokker–Planck in V = |x|²/2, potential sampled at centres) stays second
  // order: the moving, spreading Gaussian of the Ornstein–Uhlenbeck process is matched to O(Δx²).
  TEST_CASE("convergence: Ornstein-Uhlenbeck with SG and SSP-RK3 has L1 order >= 1.8 in 1D/2D") {
    SUBCASE("1D") {
      const Study s = ou_study<1>({32, 64, 128});
      MESSAGE(describe("Ornstein-Uhlenbeck 1D, t = 0.5", s));
      check_orders_at_least(s, 1.8);
    }
    SUBCASE("2D") {
      const Study s = ou_study<2>({32, 64, 128});
      MESSAGE(describe("Ornstein-Uhlenbeck 2D, t = 0.5", s));
      check_orders_at_least(s, 1.8);
    }
  }

  // Proves that the second-order upwind flux (minmod, θ = 2) handles the porous medium's free boundary:
  // the Barenblatt profile, only Lipschitz at its edge, converges at an order >= 1.4 in 1D and 2D.
  TEST_CASE("convergence: Barenblatt m=2 with upwind-2 and SSP-RK3 has L1 order >= 1.4 in 1D/2D") {
    SUBCASE("1D") {
      const Study s = barenblatt_study<1>({50, 100, 200}, 2);
      MESSAGE(describe("Barenblatt m = 2, 1D, upwind-2, t = 1 -> 2", s));
      check_orders_at_least(s, 1.4);
    }
    SUBCASE("2D") {
      const Study s = barenblatt_study<2>({32, 64, 128}, 2);
      MESSAGE(describe("Barenblatt m = 2, 2D, upwind-2, t = 1 -> 2", s));
      check_orders_at_least(s, 1.4);
    }
  }

  // Proves that the first-order upwind variant (cell averages as point values) is first order and no
  // better: the measured order is within [0.7, 1.3], so the order option really switches the scheme.
  TEST_CASE("convergence: Barenblatt m=2 with upwind-1 and SSP-RK3 has L1 order between 0.7 and 1.3 in 1D") {
    const Study s = barenblatt_study<1>({50, 100, 200}, 1);
    MESSAGE(describe("Barenblatt m = 2, 1D, upwind-1, t = 1 -> 2", s));
    check_orders_between(s, 0.7, 1.3);
  }
}
