/// Temporal blocking (issue 14 item 5, grids/wavefront.hpp): an explicit step whose stages run in one
/// wavefront traversal gives bitwise the states, time steps, rejections and fused diagnostics of the
/// stage-by-stage step, for SG and upwind, SSP-RK2 and RK3, 2D and 3D, both boundary kinds, 1 to 3
/// threads, on grids whose slices do not divide evenly into the threads' bands, and every build of
/// the row kernels (generic, AVX2, AVX-512) gives the generic build's bits, blocked or not.
#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "solver/fused_diagnostics.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

struct RunResult {
  std::vector<double> state;  ///< interior of q after the steps
  std::vector<double> dts;
  long rejected = 0, blocked_runs = 0;
  std::vector<double> totals;  ///< fused diagnostics of the last step: Σq, ΣE, min, max
};

template <int Dim>
RunResult run(Problem<Dim>& p, const Field<Dim>& q0, bool blocked, int threads, int steps) {
  omp_set_num_threads(threads);
  const bool on = p.stepper.set_temporal_blocking(blocked);
  CHECK(on == blocked);
  FusedDiagnostics fused(p.energy.internal(), p.energy.V().data(), p.grid.num_cells());
  REQUIRE(p.stepper.set_row_observer(&fused));
  Field<Dim> q = q0;
  RunResult r;
  const long runs0 = p.stepper.blocked_runs();
  double t = 0.0;
  for (int s = 0; s < steps; ++s) {
    const StepReport rep = p.stepper.step(q, t, 1e6);
    t += rep.dt;
    r.dts.push_back(rep.dt);
    r.rejected += rep.rejected;
  }
  ChunkSumsMinMax<2> totals;
  REQUIRE(fused.take(q.data(), totals));
  const auto sums = totals.sums.values();
  r.totals = {sums[0], sums[1], totals.min, totals.max};
  p.stepper.set_row_observer(nullptr);
  r.blocked_runs = p.stepper.blocked_runs() - runs0;
  const FieldLayout<Dim> L(p.grid.shape);
  for (std::size_t row = 0; row < num_rows(L); ++row) {  // the interior (ghosts: the next prepare's)
    std::ptrdiff_t begin;
    int count;
    row_extent(L, row, begin, count);
    r.state.insert(r.state.end(), q.data() + begin, q.data() + begin + count);
  }
  return r;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// The baseline (generic) build unblocked at 2 threads against every build this CPU runs (generic,
/// AVX2, AVX-512: simd_level()) unblocked at 2 threads and blocked at 3 threads, and the best build
/// also blocked at 1 and 2 threads.
template <int Dim>
long check_blocked(const std::array<int, Dim>& shape, Boundary bc, const InternalEnergySpec& internal,
                   const PotentialSpec& potential, int order, ExplicitScheme scheme, double cfl, int steps) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(3);  // scratch (upwind carries) for up to 3 threads
  UniformGrid<Dim> grid = make_cube_grid<Dim>(8, -2.0, 2.0, bc);
  grid.shape = shape;
  Problem<Dim> p(grid, internal, potential, flux_for(internal, order), scheme, cfl);
  const Field<Dim> q0 = bumps_with_vacuum(grid);
  set_simd_level(SimdLevel::generic);
  const RunResult reference = run(p, q0, false, 2, steps);
  CHECK(reference.blocked_runs == 0);
  for (const SimdLevel simd : runnable_simd_levels()) {
    set_simd_level(simd);
    INFO(Dim, "D ", p.op->name(), " ", to_string(scheme), " ", to_string(bc), " build ", static_cast<int>(simd));
    if (simd != SimdLevel::generic) {
      const RunResult unblocked = run(p, q0, false, 2, steps);
      CHECK(unblocked.rejected == reference.rejected);
      CHECK(same_bits(unblocked.dts, reference.dts));
      CHECK(same_bits(unblocked.totals, reference.totals));
      CHECK(same_bits(unblocked.state, reference.state));
    }
    for (const int threads : {1, 2, 3}) {
      if (threads < 3 && simd != cpu_simd_level()) continue;
      const RunResult blocked = run(p, q0, true, threads, steps);
      INFO("threads ", threads);
      CHECK(blocked.blocked_runs == steps + blocked.rejected);  // every attempt ran blocked
      CHECK(blocked.rejected == reference.rejected);
      CHECK(same_bits(blocked.dts, reference.dts));
      CHECK(same_bits(blocked.totals, reference.totals));
      CHECK(same_bits(blocked.state, reference.state));
    }
  }
  reset_simd_level();
  omp_set_num_threads(saved);
  return reference.rejected;
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("temporal blocking: SG stages bitwise the stage-by-stage step in 2D and 3D") {
    for (const ExplicitScheme scheme : {ExplicitScheme::ssp_rk2, ExplicitScheme::ssp_rk3})
      for (const Boundary bc : {Boundary::no_flux, Boundary::periodic}) {
        // 131 × 127 ≥ parallel_min_cells: threaded; 127 and 47 slices split unevenly over 2 and 3 bands.
        check_blocked<2>({131, 127}, bc, entropy(0.5), double_well(), 2, scheme, 0.5, 6);
        check_blocked<2>({131, 127}, bc, entropy(0.7), no_potential(), 2, scheme, 0.9, 6);
        check_blocked<3>({24, 21, 47}, bc, entropy(0.5), no_potential(), 2, scheme, 0.5, 4);
        // 3D with a potential: the stepper's stages are in place (one buffer), intermediate stages
        // live in the operator's slice stores, which may hold at most 1/8 of the planes (3 bands × 12).
        const int planes = 8 * 12 * std::max(3, omp_get_num_procs()) + 5;  // stores: a band per thread or core
        check_blocked<3>({16, 13, planes}, bc, entropy(0.5), double_well(), 2, scheme, 0.5, 4);
      }
  }

  TEST_CASE("temporal blocking: upwind stages and their a-posteriori stage limits bitwise the stage-by-stage step") {
    long rejected = 0;
    for (const ExplicitScheme scheme : {ExplicitScheme::ssp_rk2, ExplicitScheme::ssp_rk3})
      for (const Boundary bc : {Boundary::no_flux, Boundary::periodic}) {
        check_blocked<2>({131, 127}, bc, porous(2.0), quadratic(1.0), 2, scheme, 0.5, 6);
        check_blocked<2>({131, 127}, bc, porous(3.0), no_potential(), 1, scheme, 0.5, 6);
        check_blocked<3>({24, 21, 47}, bc, porous(2.0), double_well(), 2, scheme, 0.5, 4);
        // Δt at the limit of qⁿ in a strong confining potential: later stages have smaller limits (max q
        // rises), so steps are rejected (46 over the four runs) and
        // retried; the blocked step must find the same rejections after the fact.
        rejected += check_blocked<2>({131, 127}, bc, porous(2.0), quadratic(30.0), 2, scheme, 1.0, 30);
      }
    CHECK(rejected > 0);
  }

  TEST_CASE("temporal blocking: off where stages need a global pass between them or the bands are too thin") {
    const UniformGrid<2> grid = make_cube_grid<2>(32, -2.0, 2.0, Boundary::no_flux);
    Problem<2> log_upwind(grid, entropy(0.5), quadratic(1.0), flux_for(porous(2.0)), ExplicitScheme::ssp_rk3);
    CHECK_FALSE(log_upwind.stepper.set_temporal_blocking(true));  // ξ = D log q + V stored per stage
    Problem<2> euler(grid, entropy(0.5), quadratic(1.0), flux_for(entropy(0.5)), ExplicitScheme::euler);
    CHECK_FALSE(euler.stepper.set_temporal_blocking(true));  // one stage: nothing to block
    Problem<2> sg(grid, entropy(0.5), quadratic(1.0), flux_for(entropy(0.5)), ExplicitScheme::ssp_rk3);
    CHECK(sg.stepper.set_temporal_blocking(true));
    CHECK_FALSE(sg.stepper.set_temporal_blocking(false));
    const UniformGrid<2> thin = make_cube_grid<2>(6, -2.0, 2.0, Boundary::no_flux);  // < 2·3 + 1 slices
    Problem<2> thin_sg(thin, entropy(0.5), quadratic(1.0), flux_for(entropy(0.5)), ExplicitScheme::ssp_rk3);
    CHECK_FALSE(thin_sg.stepper.set_temporal_blocking(true));
    // In-place 3D stages (with a potential, issue 7's memory bound): the slice stores would be more
    // than 1/8 of an array (2 bands × 12 planes of 47), so stage by stage; without a potential they
    // replace a stage array and block.
    const int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    UniformGrid<3> slab = make_cube_grid<3>(8, -2.0, 2.0, Boundary::no_flux);
    slab.shape = {24, 21, 47};
    Problem<3> in_place(slab, entropy(0.5), double_well(), flux_for(entropy(0.5)), ExplicitScheme::ssp_rk3);
    CHECK_FALSE(in_place.stepper.set_temporal_blocking(true));
    Problem<3> heat(slab, entropy(0.5), no_potential(), flux_for(entropy(0.5)), ExplicitScheme::ssp_rk3);
    CHECK(heat.stepper.set_temporal_blocking(true));
    omp_set_num_threads(saved);
  }
}
