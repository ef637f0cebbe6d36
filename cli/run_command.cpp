#include "cli/run_command.hpp"

#include <omp.h>

#include <cstdio>
#include <iostream>

#include "cli/trackers.hpp"
#include "io/initial_file.hpp"
#include "io/options.hpp"
#include "solver/initial_data.hpp"
#include "solver/steppers/explicit_rk.hpp"

namespace wgflow {

namespace {

/// Expands "one value or one per axis" into a value per axis.
double per_axis(const std::vector<double>& values, int axis, double fallback) {
  if (values.empty()) return fallback;
  return values.size() == 1 ? values.front() : values[static_cast<std::size_t>(axis)];
}

InternalEnergySpec internal_energy_of(const RunConfig& c) {
  InternalEnergySpec s;
  s.kind = c.case_name == "porous-medium" ? InternalEnergySpec::Kind::porous_medium : InternalEnergySpec::Kind::entropy;
  s.D = c.diffusion;
  s.m = c.m;
  return s;
}

template <int Dim>
UniformGrid<Dim> grid_of(const RunConfig& c) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(static_cast<int>(c.n), c.domain[0], c.domain[1], Boundary::no_flux);
  const std::vector<std::string> bc = c.boundary_per_axis();
  for (int k = 0; k < Dim; ++k) g.boundary[k] = parse_boundary(bc[static_cast<std::size_t>(k)]);
  return g;
}

template <int Dim>
InitialSpec initial_of(const RunConfig& c, const UniformGrid<Dim>& grid) {
  InitialSpec s;
  const std::string init = c.resolved_initial();
  const double midpoint = 0.5 * (c.domain[0] + c.domain[1]);
  for (int k = 0; k < Dim; ++k) s.centre[static_cast<std::size_t>(k)] = per_axis(c.gaussian_center, k, midpoint);
  s.width = c.gaussian_width > 0.0 ? c.gaussian_width : (c.domain[1] - c.domain[0]) / 20.0;
  s.mass = c.mass > 0.0 ? c.mass : 1.0;
  if (init == "gaussian") s.kind = InitialSpec::Kind::gaussian;
  if (init == "uniform") s.kind = InitialSpec::Kind::uniform;
  if (init == "barenblatt") {
    s.kind = InitialSpec::Kind::barenblatt;
    s.centre.fill(midpoint);
  }
  if (init.rfind("file:", 0) == 0) {
    std::vector<long> shape_zyx;
    for (int k = Dim - 1; k >= 0; --k) shape_zyx.push_back(grid.shape[k]);
    s.kind = InitialSpec::Kind::values;
    s.values = read_initial_density(init.substr(5), shape_zyx);
    s.mass = c.mass;  // 0 keeps the file's own mass
  }
  return s;
}

template <int Dim>
int run_problem(const RunConfig& c) {
  const UniformGrid<Dim> grid = grid_of<Dim>(c);
  const InternalEnergySpec internal = internal_energy_of(c);
  PotentialSpec potential;
  potential.kind = parse_potential_kind(c.resolved_potential());
  potential.gamma = c.gamma;
  for (int k = 0; k < Dim; ++k) potential.centre[static_cast<std::size_t>(k)] = per_axis(c.potential_center, k, 0.0);

  const FreeEnergy<Dim> energy(grid, internal, potential);
  Field<Dim> q = make_initial_density(initial_of(c, grid), grid, internal);
  FluxSpec flux;
  flux.kind = default_flux_for(internal);
  flux.order = c.order;
  const auto op = make_spatial_operator(energy, flux);
  ExplicitRk<Dim> stepper(*op, parse_explicit_scheme(c.stepper), c.cfl, q.layout());

  SnapshotWriter<Dim> writer(c.out, grid, RunMetadata{c.case_name, c.to_ini()}, c.overwrite);
  SnapshotTracker<Dim> snapshots(writer);
  Simulation<Dim> simulation(energy, stepper);
  RunSummary summary;
  try {
    summary = simulation.run(q, c.t_end, c.snapshots, {&snapshots});
  } catch (const NonFiniteState&) {
    writer.flush_diagnostics(simulation.history());  // keep the diagnostics of every good step
    throw;
  }
  writer.flush_diagnostics(simulation.history());

  if (!c.quiet)
    std::printf(
        "wgflow: %dD %s on %ld^%d cells, %s + %s: %ld steps (%ld rejected) to t = %g in %.3g s; "
        "mass drift %.2e, final energy %.10g, min q %.3g; wrote %s\n",
        Dim, c.case_name.c_str(), c.n, Dim, stepper.name().c_str(), op->name().c_str(), summary.steps,
        summary.rejected, summary.final_time, summary.wall_seconds, summary.relative_mass_drift,
        summary.final_energy, summary.min_q, c.out.c_str());
  return 0;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  const ParsedRunOptions parsed = parse_run_options(args);
  if (parsed.help) {
    std::cout << parsed.help_text;
    return 0;
  }
  const RunConfig& c = parsed.config;
  if (c.threads > 0) omp_set_num_threads(c.threads);
  switch (c.dim) {
    case 1: return run_problem<1>(c);
    case 2: return run_problem<2>(c);
    default: return run_problem<3>(c);
  }
}

}  // namespace wgflow
