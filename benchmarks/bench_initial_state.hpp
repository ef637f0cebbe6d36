#pragma once
/// The problem every kernel benchmark steps (wgflow_bench, wgflow_bench_simd, wgflow_bench_mpi): its
/// free energy, flux and box (bench_problem), and its initial density: a Gaussian plus a floor for the
/// SG kernels, a compactly supported bump with vacuum around it for the porous medium, sampled at the
/// global cell centres of `grid` (a rank's box or the whole grid).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "grids/cell_loop.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "solver/energy/internal_energy.hpp"
#include "solver/energy/potential.hpp"
#include "solver/spatial_operator.hpp"

namespace wgflow {

/// SG heat (entropy, D = 1) and, with `quadratic_potential`, SG Fokker–Planck (γ = 1) on [−4, 4]^d;
/// the porous medium (m = 2, second-order upwind, θ = 2) on [−1, 1]^d.
struct BenchProblem {
  InternalEnergySpec internal;
  PotentialSpec potential;
  FluxSpec flux;
  double lower, upper;
};

inline BenchProblem bench_problem(bool porous, bool quadratic_potential) {
  BenchProblem p;
  p.internal.kind = porous ? InternalEnergySpec::Kind::porous_medium : InternalEnergySpec::Kind::entropy;
  p.internal.D = 1.0;
  p.internal.m = 2.0;
  if (quadratic_potential) {
    p.potential.kind = PotentialSpec::Kind::quadratic;
    p.potential.gamma = 1.0;
  }
  p.flux.kind = porous ? FluxKind::upwind : FluxKind::scharfetter_gummel;
  p.flux.order = 2;
  p.flux.theta = 2.0;
  p.lower = porous ? -1.0 : -4.0;
  p.upper = porous ? 1.0 : 4.0;
  return p;
}

template <int Dim>
Field<Dim> bench_initial_state(const UniformGrid<Dim>& grid, bool porous) {
  Field<Dim> q(FieldLayout<Dim>(grid.shape));
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    double r2 = 0.0;
    for (int a = 0; a < Dim; ++a) r2 += (x[a] - 0.1 * (a + 1)) * (x[a] - 0.1 * (a + 1));
    q[idx] = porous ? std::max(0.0, 1.0 - r2 / 0.36) : std::exp(-r2 / 2.0) + 0.01;
  });
  return q;
}

}  // namespace wgflow
