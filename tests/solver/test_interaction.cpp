/// Interaction energies ½∬W q q: the FFT convolution against the direct sum, the cell-averaged
/// kernels against closed forms, the guarantees (mass, q ≥ 0, energy) with W*q in ξ, bitwise
/// thread independence, and closed-form dynamics (contraction, a steady state, Keller–Segel).
#include <doctest/doctest.h>
#include <omp.h>

#include <cstring>

#include "io/run_config.hpp"
#include "solver/energy/convolution.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

constexpr double pi = 3.14159265358979323846;

/// |i − j| along an axis as the convolution reads it: plain (no-flux) or the nearest image (periodic).
int axis_offset(int i, int j, int n, Boundary b) {
  const int d = std::abs(i - j);
  return b == Boundary::periodic ? std::min(d, n - d) : d;
}

/// max_i |FFT_i − direct_i| / max_i Σ_j |K_{i−j} q_j| for a sign-changing table and state.
template <int Dim>
double fft_vs_direct(const UniformGrid<Dim>& grid) {
  std::vector<double> table(grid.num_cells());
  for (std::size_t t = 0; t < table.size(); ++t) table[t] = std::cos(1.3 * double(t)) + 1.0 / (1.0 + double(t));
  Convolution<Dim> conv(grid, table);
  Field<Dim> q(FieldLayout<Dim>(grid.shape)), fft(q.layout());
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double v = 0.3;
    for (int k = 0; k < Dim; ++k) v += std::sin(2.0 * x[k] + k);
    q[idx] = v;
  });
  conv.apply(q, fft);
  double worst = 0.0, scale = 0.0;
  for_each_cell(grid, [&](std::ptrdiff_t i, const std::array<int, Dim>& ci, const std::array<double, Dim>&) {
    double direct = 0.0, size = 0.0;
    for_each_cell(grid, [&](std::ptrdiff_t j, const std::array<int, Dim>& cj, const std::array<double, Dim>&) {
      std::size_t t = 0, stride = 1;
      for (int k = 0; k < Dim; ++k) {
        t += static_cast<std::size_t>(axis_offset(ci[k], cj[k], grid.shape[k], grid.boundary[k])) * stride;
        stride *= static_cast<std::size_t>(grid.shape[k]);
      }
      direct += table[t] * q[j];
      size += std::abs(table[t] * q[j]);
    });
    worst = std::max(worst, std::abs(fft[i] - direct));
    scale = std::max(scale, size);
  });
  return worst / scale;
}

/// Runs `steps` adaptive steps from data with vacuum and checks mass, positivity and energy on each.
template <int Dim>
void check_guarantees(const InternalEnergySpec& internal, const PotentialSpec& potential, const std::string& w,
                      int n, ExplicitScheme scheme, Boundary bc, long steps) {
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, bc);
  Problem<Dim> p(grid, internal, potential, kernel(w, Dim), flux_for(internal), scheme, 0.5);
  Field<Dim> q = bumps_with_vacuum(grid);
  const Guarantees g =
      track_guarantees(p.diagnostics, q, steps, [&](Field<Dim>& state, double t) { return p.stepper.step(state, t, 1e6); });
  INFO(Dim, "D ", p.op->name(), " kernel ", w, " ", to_string(scheme), " ", to_string(bc), " after ", steps,
       " steps to t = ", g.t, ": energy ", g.first.energy, " -> ", g.last.energy);
  CHECK(g.worst_drift <= 1e-12);
  CHECK(g.min_q >= 0.0);
  CHECK(g.worst_rise <= 1e-14);
  CHECK(g.last.energy < g.first.energy);  // the interaction drives the flow: the energy really falls
}

/// Second moment Σ |x|² q h^d / mass about the origin.
template <int Dim>
double second_moment(const Field<Dim>& q, const UniformGrid<Dim>& grid) {
  double m2 = 0.0, mass = 0.0;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double r2 = 0.0;
    for (int k = 0; k < Dim; ++k) r2 += x[k] * x[k];
    m2 += r2 * q[idx];
    mass += q[idx];
  });
  return m2 / mass;
}

template <int Dim>
Field<Dim> gaussian(const UniformGrid<Dim>& grid, double sigma, double mass) {
  return cell_averages(grid, [&](const double* x) {
    double r2 = 0.0;
    for (int k = 0; k < Dim; ++k) r2 += x[k] * x[k];
    return mass * std::exp(-r2 / (2.0 * sigma * sigma)) / std::pow(2.0 * pi * sigma * sigma, 0.5 * Dim);
  });
}

/// The state after `steps` adaptive steps with the given number of threads, as raw values (+ t, energy).
template <int Dim>
std::vector<double> state_after(int threads, int n, const InternalEnergySpec& internal, const std::string& w, int steps) {
  omp_set_num_threads(threads);
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, Boundary::no_flux);
  Problem<Dim> p(grid, internal, no_potential(), kernel(w, Dim, 5.0), flux_for(internal), ExplicitScheme::ssp_rk3);
  Field<Dim> q = bumps_with_vacuum(grid);
  double t = 0.0;
  for (int s = 0; s < steps; ++s) t += p.stepper.step(q, t, 1e6).dt;
  std::vector<double> values = interior_values(q);
  values.push_back(t);
  values.push_back(p.diagnostics.measure(q, t, 0.0, nullptr).energy);
  return values;
}

template <int Dim>
void check_bitwise_across_threads(int n, const InternalEnergySpec& internal, const std::string& w) {
  check_same_bits_with_1_and_2_threads([&](int threads) { return state_after<Dim>(threads, n, internal, w, 10); });
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("FFT convolution equals the direct O(N^2) sum in 1D/2D/3D with both boundary kinds") {
    for (Boundary b0 : {Boundary::no_flux, Boundary::periodic})
      for (Boundary b1 : {Boundary::no_flux, Boundary::periodic}) {
        UniformGrid<1> g1 = make_cube_grid<1>(37, -2.0, 2.0, b0);
        UniformGrid<2> g2 = make_cube_grid<2>(12, -2.0, 2.0, b0);
        g2.shape[1] = 9;
        g2.boundary[1] = b1;
        UniformGrid<3> g3 = make_cube_grid<3>(6, -2.0, 2.0, b0);
        g3.shape[1] = 5;
        g3.shape[2] = 7;
        g3.boundary[1] = b1;
        g3.boundary[2] = b0 == b1 ? b0 : Boundary::no_flux;
        const double e1 = fft_vs_direct(g1), e2 = fft_vs_direct(g2), e3 = fft_vs_direct(g3);
        MESSAGE("FFT vs direct (", to_string(b0), "/", to_string(b1), "): 1D ", e1, ", 2D ", e2, ", 3D ", e3);
        CHECK(e1 <= 1e-12);
        CHECK(e2 <= 1e-12);
        CHECK(e3 <= 1e-12);
      }
  }

  TEST_CASE("cell-averaged kernels match closed-form cell averages") {
    const double h = 0.1;
    // 1D |x|²/2 − log|x|: the average over [a, b] of x²/2 is (b³ − a³)/(6h), of log|x| is [x log|x| − x]/h.
    const UniformGrid<1> g1 = make_cube_grid<1>(20, -1.0, 1.0, Boundary::no_flux);
    const std::vector<double> w1 = cell_averaged_kernel(kernel("attractive-repulsive", 1), g1);
    auto F = [](double x) { return x == 0.0 ? 0.0 : x * std::log(std::abs(x)) - x; };
    double worst1 = 0.0;
    for (int m = 0; m < 20; ++m) {
      const double a = (m - 0.5) * h, b = (m + 0.5) * h;
      const double exact = (b * b * b - a * a * a) / (6.0 * h) - (F(b) - F(a)) / h;
      worst1 = std::max(worst1, std::abs(w1[static_cast<std::size_t>(m)] - exact));
    }
    // 2D Newtonian (1/2π) log r, cell around the origin: the average of log r over [−a, a]² is
    // log a + (log 2)/2 + π/4 − 3/2.
    const UniformGrid<2> g2 = make_cube_grid<2>(20, -1.0, 1.0, Boundary::no_flux);
    const std::vector<double> w2 = cell_averaged_kernel(kernel("newtonian", 2, 2.0), g2);
    const double a = 0.5 * h;
    const double exact2 = 2.0 * (std::log(a) + 0.5 * std::log(2.0) + pi / 4.0 - 1.5) / (2.0 * pi);  // χ = 2
    // 3D Newtonian −1/(4π r): the average of 1/r over the unit cube is 3 log(2 + √3) − π/2, and over a
    // cube of side h it is that over h (1/r is homogeneous of degree −1).
    const UniformGrid<3> g3a = make_cube_grid<3>(4, -2.0, 2.0, Boundary::no_flux);
    const UniformGrid<3> g3b = make_cube_grid<3>(4, -0.2, 0.2, Boundary::no_flux);
    const double w3a = cell_averaged_kernel(kernel("newtonian", 3), g3a)[0];
    const double w3b = cell_averaged_kernel(kernel("newtonian", 3), g3b)[0];
    const double exact3 = -(3.0 * std::log(2.0 + std::sqrt(3.0)) - pi / 2.0) / (4.0 * pi);
    MESSAGE("1D worst ", worst1, "; 2D W_0 ", w2[0], " vs ", exact2, "; 3D W_0 ", w3a, " vs ", exact3, ", scaled ",
            w3b * 0.1);
    CHECK(worst1 <= 1e-10);
    CHECK(w2[0] == doctest::Approx(exact2).epsilon(1e-10));
    CHECK(w3a == doctest::Approx(exact3).epsilon(1e-10));
    CHECK(w3b * 0.1 == doctest::Approx(w3a).epsilon(1e-12));
  }
}

TEST_SUITE("physics") {
  TEST_CASE("guarantees with an interaction: SG Keller-Segel for every stepper in 1D/2D/3D") {
    for (ExplicitScheme scheme : {ExplicitScheme::euler, ExplicitScheme::ssp_rk2, ExplicitScheme::ssp_rk3})
      for (Boundary bc : {Boundary::no_flux, Boundary::periodic}) {
        check_guarantees<1>(entropy(0.5), quadratic(1.0), "newtonian", 64, scheme, bc, 300);
        check_guarantees<2>(entropy(0.5), no_potential(), "newtonian", 20, scheme, bc, 300);
        check_guarantees<3>(entropy(0.5), no_potential(), "newtonian", 8, scheme, bc, 200);
      }
  }

  TEST_CASE("guarantees with an interaction: upwind aggregation for every stepper in 1D/2D/3D") {
    for (ExplicitScheme scheme : {ExplicitScheme::euler, ExplicitScheme::ssp_rk2, ExplicitScheme::ssp_rk3})
      for (Boundary bc : {Boundary::no_flux, Boundary::periodic}) {
        // A periodic box reads W at the nearest image, whose gradient jumps at half the box: smooth
        // short-range kernels there (the semicircle of |x|²/2 − log|x| is wider than half this box).
        const std::string w1 = bc == Boundary::no_flux ? "attractive-repulsive" : "gaussian:sigma=0.4";
        check_guarantees<1>(no_diffusion(), no_potential(), w1, 64, scheme, bc, 300);
        check_guarantees<2>(porous(2.0, 0.1), no_potential(), "morse:ca=2", 20, scheme, bc, 300);
        check_guarantees<3>(porous(3.0, 0.1), double_well(), "gaussian:sigma=0.5", 8, scheme, bc, 200);
      }
  }

  TEST_CASE("interaction runs are bitwise identical with 1 and 2 threads") {
    check_bitwise_across_threads<2>(128, entropy(0.5), "newtonian");
    check_bitwise_across_threads<2>(128, no_diffusion(), "attractive-repulsive");
    check_bitwise_across_threads<3>(26, porous(2.0, 0.1), "morse");
  }

  // W = |x|²/2 (power:a=2) without diffusion: W*q = (M|x|² − 2x·Mx̄ + M m₂)/2, so the velocity is
  // −M(x − x̄) and a centred q₀ contracts exactly: q(t, x) = e^{dMt} q₀(e^{Mt} x); a Gaussian of
  // standard deviation σ keeps its shape with σ e^{−Mt}.
  TEST_CASE("W = |x|^2/2 without diffusion contracts q0 exactly as e^{Mt}") {
    const double M = 1.5, sigma = 0.5, t_end = 0.5;
    std::vector<double> errors;
    for (int n : {64, 128, 256}) {
      const UniformGrid<1> grid = make_cube_grid<1>(n, -2.0, 2.0, Boundary::no_flux);
      Problem<1> p(grid, no_diffusion(), no_potential(), kernel("power:a=2", 1), flux_for(no_diffusion()));
      Field<1> q = gaussian(grid, sigma, M);
      p.advance(q, 0.0, t_end);
      const Field<1> exact = gaussian(grid, sigma * std::exp(-M * t_end), M);
      errors.push_back(l1_distance(q, exact, grid) / M);
      if (n == 256)
        CHECK(second_moment(q, grid) == doctest::Approx(sigma * sigma * std::exp(-2.0 * M * t_end)).epsilon(2e-3));
    }
    const std::vector<double> orders = observed_orders(errors);
    MESSAGE("contraction L1 errors ", errors[0], " ", errors[1], " ", errors[2], "; orders ", orders[0], " ", orders[1]);
    CHECK(errors[2] <= 2e-3);
    CHECK(orders[0] >= 1.0);
    CHECK(orders[1] >= 1.0);
  }

  // W = |x|²/2 − log|x| in 1D, no diffusion: the steady state of mass 1 is the semicircle
  // (1/π)√(2 − x²) (Carrillo–Chertock–Huang 2015, Example 4.x).
  TEST_CASE("1D steady state of W = |x|^2/2 - log|x| is the semicircle with L1 error falling") {
    std::vector<double> errors;
    for (int n : {40, 80, 160}) {
      const UniformGrid<1> grid = make_cube_grid<1>(n, -2.0, 2.0, Boundary::no_flux);
      Problem<1> p(grid, no_diffusion(), no_potential(), kernel("attractive-repulsive", 1), flux_for(no_diffusion()));
      Field<1> q = gaussian(grid, 0.5, 1.0);
      p.advance(q, 0.0, 10.0);
      const Field<1> exact = cell_averages(grid, [](const double* x) {
        return x[0] * x[0] < 2.0 ? std::sqrt(2.0 - x[0] * x[0]) / pi : 0.0;
      });
      errors.push_back(l1_distance(q, exact, grid));
    }
    const std::vector<double> orders = observed_orders(errors);
    MESSAGE("semicircle L1 errors ", errors[0], " ", errors[1], " ", errors[2], "; orders ", orders[0], " ", orders[1]);
    CHECK(errors[0] > errors[1]);
    CHECK(errors[1] > errors[2]);
    CHECK(errors[2] <= 0.02);
  }

  // In 2D the same kernel's steady state of mass 1 is the uniform disk 1/π on |x| < 1, of energy 3/8
  // (½∬|x−y|²/2 = m₂/2 = 1/4 and −½∬log|x−y| = 1/8 for the unit disk).
  TEST_CASE("2D steady state of W = |x|^2/2 - log|x| is the disk 1/pi with energy 3/8") {
    std::vector<double> errors;
    for (int n : {32, 64}) {
      const UniformGrid<2> grid = make_cube_grid<2>(n, -2.0, 2.0, Boundary::no_flux);
      Problem<2> p(grid, no_diffusion(), no_potential(), kernel("attractive-repulsive", 2), flux_for(no_diffusion()));
      Field<2> q = gaussian(grid, 0.5, 1.0);
      p.advance(q, 0.0, 5.0);
      const Field<2> exact = cell_averages(grid, [](const double* x) { return x[0] * x[0] + x[1] * x[1] < 1.0 ? 1.0 / pi : 0.0; });
      errors.push_back(l1_distance(q, exact, grid));
      const double energy = p.diagnostics.energy(q);
      MESSAGE(n, "^2: L1 distance to the disk ", errors.back(), ", energy ", energy, ", centre ", q.at({n / 2, n / 2}));
      CHECK(energy == doctest::Approx(0.375).epsilon(1e-3));  // the Gaussian start has mass 1 − 6e-5
      CHECK(q.at({n / 2, n / 2}) == doctest::Approx(1.0 / pi).epsilon(1e-3));
    }
    CHECK(errors[1] < 0.7 * errors[0]);
  }

  // 2D Keller–Segel q_t = Δq − χ∇·(q∇c), −Δc = q: in the plane the second moment obeys
  // d/dt ∫|x|² q = 4M(1 − χM/(8π)) exactly, so mass below 8π/χ spreads and mass above concentrates.
  TEST_CASE("2D Keller-Segel spreads below the critical mass 8pi/chi and concentrates above it") {
    const double chi = 1.0, t_end = 0.02;
    for (double fraction : {0.5, 2.0}) {
      const double M = fraction * 8.0 * pi / chi;
      const UniformGrid<2> grid = make_cube_grid<2>(64, -4.0, 4.0, Boundary::no_flux);
      Problem<2> p(grid, entropy(1.0), no_potential(), kernel("newtonian", 2, chi), flux_for(entropy(1.0)));
      Field<2> q = gaussian(grid, 0.5, M);
      const double m2_0 = second_moment(q, grid) * M;
      const double max0 = p.diagnostics.measure(q, 0.0, 0.0, nullptr).max;
      p.advance(q, 0.0, t_end);
      const double rate = (second_moment(q, grid) * M - m2_0) / t_end;
      const double exact = 4.0 * M * (1.0 - chi * M / (8.0 * pi));
      const double max1 = p.diagnostics.measure(q, t_end, 0.0, nullptr).max;
      MESSAGE("M = ", fraction, " x 8pi/chi: d/dt m2 = ", rate, " (exact ", exact, "), max q ", max0, " -> ", max1);
      CHECK(rate == doctest::Approx(exact).epsilon(0.05));
      if (fraction < 1.0) CHECK(max1 < max0);
      if (fraction > 1.0) CHECK(max1 > max0);
    }
  }
}

TEST_SUITE("unit") {
  TEST_CASE("the memory estimate counts the FFT buffers of an interaction run") {
    RunConfig c;
    c.case_name = "keller-segel";
    c.dim = 2;
    c.n = 100;
    RunConfig plain = c;
    plain.case_name = "heat";
    // Padded real array (2n)², two half-spectra (n + 1)·2n complex numbers, Φ and V + W*q.
    const double fft = 200.0 * 200.0 * 8.0 + 2.0 * 101.0 * 200.0 * 16.0 + 2.0 * 104.0 * 104.0 * 8.0;
    CHECK(estimated_memory_bytes(c) - estimated_memory_bytes(plain) == doctest::Approx(fft));
    c.bc = {"periodic"};
    const double periodic = 100.0 * 100.0 * 8.0 + 2.0 * 51.0 * 100.0 * 16.0 + 2.0 * 104.0 * 104.0 * 8.0;
    CHECK(estimated_memory_bytes(c) - estimated_memory_bytes(plain) == doctest::Approx(periodic));
  }
}
