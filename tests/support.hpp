#pragma once
/// Shared helpers for the test suites: a problem assembled from specs, a run loop, error norms.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "grids/parallel_for.hpp"
#include "grids/quadrature.hpp"
#include "solver/diagnostics.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

namespace wgflow::test {

/// Every build of the row kernels this CPU runs (generic, AVX2, AVX-512), for tests that compare them.
inline std::vector<SimdLevel> runnable_simd_levels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel s : {SimdLevel::generic, SimdLevel::avx2, SimdLevel::avx512})
    if (s <= cpu_simd_level()) levels.push_back(s);
  return levels;
}

inline InternalEnergySpec entropy(double D) { return {InternalEnergySpec::Kind::entropy, D, 2.0}; }
inline InternalEnergySpec porous(double m, double D = 1.0) { return {InternalEnergySpec::Kind::porous_medium, D, m}; }
inline PotentialSpec no_potential() { return {}; }
inline InternalEnergySpec no_diffusion() { return {InternalEnergySpec::Kind::none, 0.0, 2.0}; }
/// A named interaction kernel ("newtonian", "gaussian:sigma=0.5", ...) with strength χ.
inline InteractionSpec kernel(const std::string& text, int dim, double chi = 1.0) {
  InteractionSpec s = parse_kernel(text, dim);
  s.chi = chi;
  return s;
}
inline PotentialSpec quadratic(double gamma) {
  PotentialSpec p;
  p.kind = PotentialSpec::Kind::quadratic;
  p.gamma = gamma;
  return p;
}
inline PotentialSpec double_well() {
  PotentialSpec p;
  p.kind = PotentialSpec::Kind::double_well;
  return p;
}
/// SG for entropy, upwind of the given order otherwise (what the CLI picks).
inline FluxSpec flux_for(const InternalEnergySpec& internal, int order = 2) {
  FluxSpec f;
  f.kind = default_flux_for(internal);
  f.order = order;
  return f;
}

/// Grid + energy + operator + stepper + diagnostics, built in place (the operator refers to the energy).
template <int Dim>
struct Problem {
  Problem(const UniformGrid<Dim>& g, const InternalEnergySpec& internal, const PotentialSpec& potential,
          const FluxSpec& flux, ExplicitScheme scheme = ExplicitScheme::ssp_rk3, double cfl = 0.5)
      : grid(g),
        energy(g, internal, potential),
        op(make_spatial_operator(energy, flux)),
        stepper(*op, scheme, cfl, FieldLayout<Dim>(g.shape)),
        diagnostics(energy) {}
  /// The same with an interaction term W*q in the energy.
  Problem(const UniformGrid<Dim>& g, const InternalEnergySpec& internal, const PotentialSpec& potential,
          const InteractionSpec& interaction, const FluxSpec& flux, ExplicitScheme scheme = ExplicitScheme::ssp_rk3,
          double cfl = 0.5)
      : grid(g),
        energy(g, internal, potential, interaction),
        op(make_spatial_operator(energy, flux)),
        stepper(*op, scheme, cfl, FieldLayout<Dim>(g.shape)),
        diagnostics(energy) {}
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;

  /// Steps q from t0 to exactly t_end; on_step(q, row, previous_row) after every accepted step.
  /// Returns the number of steps.
  template <class OnStep>
  long advance(Field<Dim>& q, double t0, double t_end, OnStep&& on_step) {
    double t = t0;
    long steps = 0;
    DiagnosticsRow previous = diagnostics.measure(q, t, 0.0, nullptr);
    while (t < t_end) {
      const StepReport r = stepper.step(q, t, t_end);
      t = r.reached_stop ? t_end : t + r.dt;
      ++steps;
      const DiagnosticsRow row = diagnostics.measure(q, t, r.dt, &previous);
      on_step(q, row, previous);
      previous = row;
    }
    return steps;
  }
  long advance(Field<Dim>& q, double t0, double t_end) {
    return advance(q, t0, t_end, [](const Field<Dim>&, const DiagnosticsRow&, const DiagnosticsRow&) {});
  }

  UniformGrid<Dim> grid;
  FreeEnergy<Dim> energy;
  std::unique_ptr<SpatialOperator<Dim>> op;
  ExplicitRk<Dim> stepper;
  Diagnostics<Dim> diagnostics;
};

/// Data with vacuum: two compactly supported bumps (one off-centre) and zeros elsewhere.
template <int Dim>
Field<Dim> bumps_with_vacuum(const UniformGrid<Dim>& grid) {
  return cell_averages(grid, [](const double* x) {
    double r1 = 0.0, r2 = 0.0;
    for (int k = 0; k < Dim; ++k) {
      r1 += (x[k] + 0.8) * (x[k] + 0.8);
      r2 += (x[k] - 1.1) * (x[k] - 1.1);
    }
    return std::max(0.0, 1.0 - r1 / 0.5) + 2.0 * std::max(0.0, 0.3 - r2) + (r2 < 0.04 ? 1.0 : 0.0);
  });
}

/// L1 distance Δx^d Σ |a − b| over the interior.
template <int Dim>
double l1_distance(const Field<Dim>& a, const Field<Dim>& b, const UniformGrid<Dim>& grid) {
  double sum = 0.0;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    sum += std::abs(a[idx] - b[idx]);
  });
  return sum * grid.cell_volume();
}

/// Max over the interior of |a − b| / max|b|.
template <int Dim>
double max_relative_deviation(const Field<Dim>& a, const Field<Dim>& b, const UniformGrid<Dim>& grid) {
  double diff = 0.0, scale = 0.0;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    diff = std::max(diff, std::abs(a[idx] - b[idx]));
    scale = std::max(scale, std::abs(b[idx]));
  });
  return diff / scale;
}

/// Observed orders log2(e_k / e_{k+1}) for errors on grids refined by 2.
inline std::vector<double> observed_orders(const std::vector<double>& errors) {
  std::vector<double> orders;
  for (std::size_t k = 0; k + 1 < errors.size(); ++k) orders.push_back(std::log2(errors[k] / errors[k + 1]));
  return orders;
}

/// The guarantees of a run, worst over its steps: relative mass drift, min q, relative energy rise
/// from one step to the next, with the first and last diagnostics rows.
struct Guarantees {
  double worst_drift = 0.0, min_q = 0.0, worst_rise = -1.0, t = 0.0;
  DiagnosticsRow first, last;
};

/// Takes `steps` steps by step(q, t) (returning the StepReport) and measures after every one.
template <int Dim, class Step>
Guarantees track_guarantees(Diagnostics<Dim>& diagnostics, Field<Dim>& q, long steps, Step&& step) {
  Guarantees g;
  g.first = g.last = diagnostics.measure(q, 0.0, 0.0, nullptr);
  g.min_q = g.first.min;
  for (long s = 0; s < steps; ++s) {
    const StepReport r = step(q, g.t);
    g.t += r.dt;
    const DiagnosticsRow row = diagnostics.measure(q, g.t, r.dt, &g.last);
    g.worst_drift = std::max(g.worst_drift, std::abs(row.mass - g.first.mass) / g.first.mass);
    g.min_q = std::min(g.min_q, row.min);
    g.worst_rise = std::max(g.worst_rise, (row.energy - g.last.energy) / std::abs(g.last.energy));
    g.last = row;
  }
  return g;
}

/// state(threads) computed with 1 and with 2 threads must be bitwise equal; the thread count is
/// restored afterwards.
template <class State>
void check_same_bits_with_1_and_2_threads(State&& state) {
  const int saved = omp_get_max_threads();
  const std::vector<double> one = state(1);
  const std::vector<double> two = state(2);
  omp_set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(double)) == 0);
}

}  // namespace wgflow::test
