/// Decomposed explicit runs under mpirun (registered for P = 1, 2, 3, 4, and P = 2 with 2 threads):
/// every rank steps the undecomposed run (its grid has no ranks: nothing is exchanged or reduced
/// across ranks) and the same run on its box of decompose(global, world), with the solver's own
/// pieces (FreeEnergy, SpatialOperator, ExplicitRk with step control, Diagnostics), and requires
/// bitwise equality: dt, mass, energy, min and max of every step, and every cell of its box against
/// the same global cells of the undecomposed state at the end. Cases: SG heat, SG Fokker–Planck with
/// a double-well potential (in 3D with in-place stages), porous medium with the second-order upwind
/// flux (m = 2, and m = 3 in a quadratic potential), f-divergences (KL, Hellinger) to a target (with
/// the L1 distance), in 1D, 2D and 3D, no-flux and periodic axes
/// (periodic across ranks included), uneven splits at P = 3 and 4. On P > 1 the run must really be
/// decomposed, and the same run with the halo exchange switched off must differ (so the check can
/// fail). Exit 0 on every rank iff all passed.
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "grids/cell_loop.hpp"
#include "grids/communicator.hpp"
#include "grids/halo_exchange.hpp"
#include "solver/diagnostics.hpp"
#include "solver/energy/f_divergence.hpp"
#include "solver/energy/target.hpp"
#include "solver/initial_data.hpp"
#include "solver/spatial_operator.hpp"
#include "solver/steppers/explicit_rk.hpp"

using namespace wgflow;

namespace {

int failures = 0;

void fail(const Communicator& world, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "rank %d: %s\n", world.rank(), what.c_str());
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

enum class Physics { heat, fokker_planck, porous2, porous3, kl, hellinger };

struct Case {
  std::string name;
  Physics physics;
  int steps = 20;
};

/// One run's record: the rows of every step and the final state.
template <int Dim>
struct Record {
  std::vector<DiagnosticsRow> rows;
  Field<Dim> q;
};

template <int Dim>
Record<Dim> run(const UniformGrid<Dim>& grid, const Case& c) {
  InternalEnergySpec U;
  PotentialSpec V;
  InitialSpec init;
  FluxSpec flux;
  for (int k = 0; k < Dim; ++k) init.centre[static_cast<std::size_t>(k)] = 0.3 * grid.lower[k] + 0.7 * grid.upper[k];
  init.width = 0.2 * (grid.upper[0] - grid.lower[0]);
  switch (c.physics) {
    case Physics::heat: flux.kind = FluxKind::scharfetter_gummel; break;
    case Physics::fokker_planck:
      flux.kind = FluxKind::scharfetter_gummel;
      V.kind = PotentialSpec::Kind::double_well;
      U.D = 0.3;
      break;
    case Physics::porous2:
    case Physics::porous3:
      U.kind = InternalEnergySpec::Kind::porous_medium;
      U.m = c.physics == Physics::porous2 ? 2.0 : 3.0;
      init.kind = InitialSpec::Kind::barenblatt;
      for (int k = 0; k < Dim; ++k) init.centre[static_cast<std::size_t>(k)] = 0.5 * (grid.lower[k] + grid.upper[k]);
      if (c.physics == Physics::porous3) {
        V.kind = PotentialSpec::Kind::quadratic;
        V.gamma = 2.0;
        V.centre.fill(0.25);
      }
      break;
    case Physics::kl:
    case Physics::hellinger: break;  // the target below sets U and V
  }
  FreeEnergy<Dim> energy(grid, U, V);
  if (c.physics == Physics::kl || c.physics == Physics::hellinger) {  // f-divergence to a Gaussian target
    TargetSpec target;
    target.means = {{0.2, -0.1, 0.1}};
    target.widths = {0.4};
    energy.set_divergence(std::make_shared<const FDivergence<Dim>>(
        grid, parse_divergence(c.physics == Physics::kl ? "kl" : "hellinger"), sample_target(target, grid, 1.0), 1e-3));
    flux.kind = default_flux_for(energy.internal());  // KL: SG through V = −log p; else upwind on ξ
  }
  const auto op = make_spatial_operator(energy, flux);
  Record<Dim> r;
  r.q = make_initial_density(init, grid, energy.internal());
  ExplicitRk<Dim> stepper(*op, ExplicitScheme::ssp_rk3, 0.9, r.q.layout());
  Diagnostics<Dim> diagnostics(energy);
  double t = 0.0;
  r.rows.push_back(diagnostics.measure(r.q, t, 0.0, nullptr));
  for (int s = 0; s < c.steps; ++s) {
    const StepReport report = stepper.step(r.q, t, 1e9);
    t += report.dt;
    r.rows.push_back(diagnostics.measure(r.q, t, report.dt, &r.rows.back()));
  }
  return r;
}

/// Cells of the box (and rows) that differ from the undecomposed run; the first one described.
template <int Dim>
int differences(const UniformGrid<Dim>& box, const Record<Dim>& mine, const Record<Dim>& whole, std::string& first) {
  int bad = 0;
  auto note = [&](const std::string& what) {
    if (bad++ == 0) first = what;
  };
  for (std::size_t s = 0; s < whole.rows.size(); ++s) {
    const DiagnosticsRow &a = mine.rows[s], &b = whole.rows[s];
    const char* names[6] = {"dt", "mass", "energy", "min", "max", "L1 to target"};
    const double va[6] = {a.dt, a.mass, a.energy, a.min, a.max, a.l1_to_target};
    const double vb[6] = {b.dt, b.mass, b.energy, b.min, b.max, b.l1_to_target};
    for (int k = 0; k < 6; ++k)
      if (!same_bits(va[k], vb[k]))
        note("step " + std::to_string(s) + " " + names[k] + " " + std::to_string(va[k]) + " vs " + std::to_string(vb[k]));
  }
  const FieldLayout<Dim>& W = whole.q.layout();
  for_each_cell(box, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
    std::ptrdiff_t at = W.offset;
    for (int k = 0; k < Dim; ++k) at += (box.offset[k] + cell[k]) * W.stride[k];
    if (!same_bits(mine.q[idx], whole.q[at])) {
      std::string where;
      for (int k = 0; k < Dim; ++k) where += (k ? ", " : "") + std::to_string(box.offset[k] + cell[k]);
      note("cell (" + where + ") " + std::to_string(mine.q[idx]) + " vs " + std::to_string(whole.q[at]));
    }
  });
  return bad;
}

/// Ranks on which `bad` > 0, summed over all ranks.
std::int64_t total(const Communicator& world, int bad) {
  std::int64_t n = bad > 0 ? 1 : 0;
  world.sum(&n, 1);
  return n;
}

template <int Dim>
void check(const Communicator& world, const Case& c, const std::array<int, Dim>& shape,
           const std::array<Boundary, Dim>& bc, double lo, double hi, bool control = false) {
  UniformGrid<Dim> global = make_cube_grid<Dim>(2, lo, hi, Boundary::no_flux);
  global.shape = shape;
  global.boundary = bc;
  std::string name = c.name + " " + std::to_string(Dim) + "D";
  for (int k = 0; k < Dim; ++k) name += std::string(k ? "x" : " ") + std::to_string(shape[k]) + (bc[k] == Boundary::periodic ? "p" : "");
  const int team = omp_get_max_threads();
  omp_set_num_threads(1);  // the undecomposed run on one thread: the reference for every P and team
  const Record<Dim> whole = run(global, c);
  omp_set_num_threads(team);
  const UniformGrid<Dim> box = decompose(global, world);
  if (world.size() > 1 && (!box.decomposed() || !box.halo || box.num_cells() >= global.num_cells()))
    fail(world, name + ": not decomposed over " + std::to_string(world.size()) + " ranks");
  std::string first;
  const int bad = differences(box, run(box, c), whole, first);
  if (bad > 0) fail(world, name + ": " + std::to_string(bad) + " differences, e.g. " + first);
  if (control && world.size() > 1) {  // without the exchange the same check must see differences
    UniformGrid<Dim> cut = box;
    cut.halo.reset();
    const int unexchanged = differences(cut, run(cut, c), whole, first);
    if (total(world, unexchanged) == 0) fail(world, name + ": the run without halo exchange passed the check too");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const MpiRuntime mpi(&argc, &argv);
  const Communicator world = Communicator::world();
  const Boundary wall = Boundary::no_flux, wrap = Boundary::periodic;
  const Case heat{"SG heat", Physics::heat}, fp{"SG Fokker-Planck double well", Physics::fokker_planck};
  const Case porous2{"porous m=2 upwind", Physics::porous2}, porous3{"porous m=3 quadratic V upwind", Physics::porous3};
  const Case kl{"f-divergence KL", Physics::kl}, hellinger{"f-divergence Hellinger", Physics::hellinger};
  const bool threads = argc > 1 && std::string(argv[1]) == "--threads";
  try {
    if (!threads) {
      // 1D: 100 cells are 50 chunks of 2 (grids/reduction_chunks.hpp): 17/17/16 chunks on 3 ranks.
      check<1>(world, heat, {100}, {wrap}, 0.0, 1.0, true);
      check<1>(world, fp, {100}, {wall}, -2.0, 2.0);
      check<1>(world, porous2, {100}, {wall}, -1.0, 1.0);
      check<1>(world, porous3, {98}, {wrap}, -1.0, 1.0);
      // 2D: y is split (x never is); 19 and 13 rows split unevenly on 2, 3 and 4 ranks.
      check<2>(world, heat, {16, 19}, {wall, wrap}, 0.0, 1.0, true);
      check<2>(world, fp, {16, 19}, {wrap, wall}, -2.0, 2.0);
      check<2>(world, porous2, {20, 13}, {wall, wall}, -1.0, 1.0);
      check<2>(world, porous3, {20, 13}, {wall, wrap}, -1.0, 1.0);
      // 3D: z split on 2 and 3 ranks, y and z on 4; FP uses the in-place sweep (SgOperator).
      check<3>(world, heat, {8, 7, 9}, {wall, wall, wrap}, 0.0, 1.0, true);
      check<3>(world, fp, {8, 9, 7}, {wall, wrap, wall}, -2.0, 2.0, true);
      check<3>(world, porous2, {9, 8, 7}, {wrap, wall, wall}, -1.0, 1.0);
      check<3>(world, porous3, {8, 7, 9}, {wall, wrap, wrap}, -1.0, 1.0);
      // f-divergence (2D, 3D: the 1D W2 needs the whole line): target, ε = 1e-3 max p, L1 and energy sums.
      check<2>(world, kl, {16, 13}, {wall, wall}, -1.0, 1.0);
      check<2>(world, hellinger, {16, 13}, {wall, wrap}, -1.0, 1.0);
      check<3>(world, hellinger, {8, 7, 9}, {wall, wall, wrap}, -1.0, 1.0);
    } else {
      // Boxes above parallel_min_cells, so that the loops really run on the team: 1 and 2 threads.
      for (int t : {1, 2}) {
        omp_set_num_threads(t);
        const std::string n = " (" + std::to_string(t) + " threads)";
        check<2>(world, Case{heat.name + n, heat.physics, 10}, {256, 160}, {wall, wrap}, 0.0, 1.0);
        check<2>(world, Case{porous2.name + n, porous2.physics, 10}, {256, 160}, {wall, wall}, -1.0, 1.0);
        check<3>(world, Case{fp.name + n, fp.physics, 6}, {40, 32, 32}, {wall, wrap, wall}, -2.0, 2.0);
      }
    }
  } catch (const std::exception& e) {
    fail(world, e.what());
  }
  const std::int64_t failed = total(world, failures);
  if (world.rank() == 0)
    std::printf("decomposed runs on %d ranks%s: %s\n", world.size(), threads ? ", 1 and 2 threads" : "",
                failed == 0 ? "all bitwise equal" : "FAILED");
  return failed == 0 ? 0 : 1;
}
