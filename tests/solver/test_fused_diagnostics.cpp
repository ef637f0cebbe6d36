/// Fused diagnostics (issue 14 item 1): the row of a step taken from its last stage, as the stage
/// writes each row, must be bitwise the row of the separate pass over the new state — every column,
/// 2D and 3D, SG and upwind, out of place and in place, 1 and 2 threads.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>

#include "solver/sg_operator.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_row(const DiagnosticsRow& a, const DiagnosticsRow& b) {
  return same_bits(a.time, b.time) && same_bits(a.dt, b.dt) && same_bits(a.mass, b.mass) &&
         same_bits(a.energy, b.energy) && same_bits(a.min, b.min) && same_bits(a.max, b.max) &&
         same_bits(a.dissipation, b.dissipation);
}

/// A bump with a zero region (free boundary for the porous medium) and a subnormal tail.
template <int Dim>
Field<Dim> bump(const UniformGrid<Dim>& grid) {
  return cell_averages(grid, [](const double* x) {
    double r2 = 0.0;
    for (int k = 0; k < Dim; ++k) r2 += (k + 1) * x[k] * x[k];
    return std::max(0.0, 1.0 - r2) + 1e-3 * std::exp(-x[0]) + (x[0] > 1.5 ? 1e-310 : 0.0);
  });
}

/// `steps` steps with fused diagnostics and with the separate pass, on `threads` threads: the states
/// and every row bitwise equal, and every row of the fused run taken from the stage. Returns the rows.
template <int Dim>
std::vector<DiagnosticsRow> compare(const UniformGrid<Dim>& grid, const InternalEnergySpec& spec, const PotentialSpec& V,
                                    ExplicitScheme scheme, int threads, int steps) {
  omp_set_num_threads(threads);
  Problem<Dim> fused(grid, spec, V, flux_for(spec), scheme);
  Problem<Dim> separate(grid, spec, V, flux_for(spec), scheme);
  REQUIRE(fused.diagnostics.fuse_into(fused.stepper));
  Field<Dim> qa = bump(grid), qb = bump(grid);
  DiagnosticsRow pa = fused.diagnostics.measure(qa, 0.0, 0.0, nullptr), pb = separate.diagnostics.measure(qb, 0.0, 0.0, nullptr);
  CHECK(fused.diagnostics.fused_measures() == 0);  // the initial state was not written by a stage
  std::vector<DiagnosticsRow> rows;
  double t = 0.0;
  for (int s = 0; s < steps; ++s) {
    const StepReport ra = fused.stepper.step(qa, t, 1.0), rb = separate.stepper.step(qb, t, 1.0);
    REQUIRE(same_bits(ra.dt, rb.dt));
    t += ra.dt;
    const DiagnosticsRow a = fused.diagnostics.measure(qa, t, ra.dt, &pa);
    const DiagnosticsRow b = separate.diagnostics.measure(qb, t, rb.dt, &pb);
    CHECK(std::memcmp(qa.data(), qb.data(), qa.layout().padded_size * sizeof(double)) == 0);
    CHECK(same_row(a, b));
    CHECK(a.mass > 0.0);
    rows.push_back(a);
    pa = a;
    pb = b;
  }
  CHECK(fused.diagnostics.fused_measures() == steps);
  CHECK(separate.diagnostics.fused_measures() == 0);
  // Measured again, the state has no fresh stage totals: the separate pass, the same bits.
  CHECK(same_row(fused.diagnostics.measure(qa, t, rows.back().dt, &rows[rows.size() - 2]), rows.back()));
  CHECK(fused.diagnostics.fused_measures() == steps);
  return rows;
}

template <int Dim>
void check_case(int n, const InternalEnergySpec& spec, const PotentialSpec& V, ExplicitScheme scheme) {
  const int saved = omp_get_max_threads();
  const UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, Boundary::no_flux);  // ≥ parallel_min_cells
  const std::vector<DiagnosticsRow> one = compare(grid, spec, V, scheme, 1, 3);
  const std::vector<DiagnosticsRow> two = compare(grid, spec, V, scheme, 2, 3);
  for (std::size_t s = 0; s < one.size(); ++s) CHECK(same_row(one[s], two[s]));
  omp_set_num_threads(saved);
}

}  // namespace

TEST_SUITE("physics") {
  TEST_CASE("fused diagnostics equal the separate pass bitwise in 2D for SG heat and Fokker-Planck and upwind porous") {
    check_case<2>(160, entropy(1.0), no_potential(), ExplicitScheme::ssp_rk3);
    check_case<2>(160, entropy(1.0), quadratic(1.0), ExplicitScheme::euler);
    check_case<2>(160, porous(2.0), no_potential(), ExplicitScheme::ssp_rk2);
    check_case<2>(160, porous(2.5), quadratic(1.0), ExplicitScheme::ssp_rk3);
  }

  TEST_CASE("fused diagnostics equal the separate pass bitwise in 3D for SG out of place and in place and upwind") {
    check_case<3>(28, entropy(1.0), no_potential(), ExplicitScheme::ssp_rk3);
    // SG with a potential in 3D runs its stages after the first in place (InPlaceSweep order).
    {
      const UniformGrid<3> grid = make_cube_grid<3>(28, -2.0, 2.0, Boundary::no_flux);
      const FreeEnergy<3> energy(grid, entropy(1.0), quadratic(1.0));
      SgOperator<3> op(energy);
      CHECK(op.enable_in_place_stages());
    }
    check_case<3>(28, entropy(1.0), quadratic(1.0), ExplicitScheme::ssp_rk3);
    check_case<3>(28, entropy(1.0), quadratic(1.0), ExplicitScheme::ssp_rk2);
    check_case<3>(28, porous(3.0), quadratic(1.0), ExplicitScheme::ssp_rk3);
  }

  TEST_CASE("fused diagnostics are off where a chunk is not a stage row or the row needs more than q") {
    Problem<1> line(make_cube_grid<1>(400, -2.0, 2.0, Boundary::no_flux), entropy(1.0), quadratic(1.0),
                    flux_for(entropy(1.0)));
    CHECK_FALSE(line.diagnostics.fuse_into(line.stepper));  // 1D chunks are not the stage's rows
    Problem<2> interacting(make_cube_grid<2>(32, -2.0, 2.0, Boundary::no_flux), entropy(1.0), no_potential(),
                           kernel("gaussian", 2), flux_for(entropy(1.0)));
    CHECK_FALSE(interacting.diagnostics.fuse_into(interacting.stepper));  // E_D needs W*q of the new state
  }
}
