#include "cli/run_command.hpp"

#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/divergence_setup.hpp"
#include "cli/problem_setup.hpp"
#include "cli/signals.hpp"
#include "cli/trackers.hpp"
#include "io/initial_file.hpp"
#include "io/interaction_config.hpp"
#include "io/options.hpp"
#include "solver/linear/mpi_session.hpp"
#include "solver/steppers/explicit_rk.hpp"
#include "solver/steppers/implicit_euler.hpp"

namespace wgflow {

namespace {

/// The state a run starts from: a fresh initial density, or the newest restart point of an output.
template <int Dim>
struct StartingPoint {
  Field<Dim> q;
  RunState state;
  DiagnosticsHistory history;  ///< rows of the steps already taken (empty for a fresh run)
  std::vector<double> stepper_state;  ///< carried step control of a restarted run
  std::unique_ptr<SnapshotWriter<Dim>> writer;
};

/// Runs a set-up step; whatever it throws is bad input (a file, a formula, a path): exit code 2.
template <class SetUp>
auto as_input_error(SetUp&& set_up) {
  try {
    return set_up();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(e.what());
  }
}

/// Refuses an output path that cannot be written, before any work is done.
void check_output_path(const std::string& out, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path(out);
  if (fs::is_directory(path, ec)) throw ConfigError("--out: '" + out + "' is a directory, not a file name");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw ConfigError("--out: cannot create '" + out + "': directory '" + dir.string() + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw ConfigError("--out: cannot create '" + out + "': no write permission in '" + dir.string() + "'");
  if (output_exists(output_paths(out)) && !overwrite)
    throw ConfigError("--out: '" + out + "' (or its snapshot directory '" + out +
                      ".d') exists; pass --overwrite to replace it");
}

template <int Dim>
StartingPoint<Dim> fresh_start(const RunConfig& c, const UniformGrid<Dim>& grid) {
  check_output_path(c.out, c.overwrite);
  StartingPoint<Dim> s;
  s.q = make_initial_density(initial_of(c, grid), grid, internal_energy_of(c));
  s.writer = std::make_unique<SnapshotWriter<Dim>>(c.out, grid, RunMetadata{c.case_name, c.to_ini()}, c.overwrite);
  return s;
}

template <int Dim>
StartingPoint<Dim> restart_from(const std::string& path, const UniformGrid<Dim>& grid) {
  const OutputSummary summary = read_output_summary(path);
  if (summary.snapshot_times.empty()) {  // killed before its first snapshot: start it again
    RunConfig c = parse_config_text(summary.config_text);
    c.out = path;
    c.overwrite = true;
    return fresh_start(c, grid);
  }
  StartingPoint<Dim> s;
  const Checkpoint checkpoint = read_restart_point(path);
  const auto rows = static_cast<std::size_t>(checkpoint.step) + 1;  // row 0 and one per step
  if (summary.diagnostics.size() < rows)
    throw std::runtime_error("--restart " + path + ": the file has " + std::to_string(summary.diagnostics.size()) +
                             " diagnostics rows, fewer than the " + std::to_string(rows) + " its checkpoint needs");
  s.history.rows.assign(summary.diagnostics.rows.begin(), summary.diagnostics.rows.begin() + static_cast<long>(rows));
  s.q = Field<Dim>(FieldLayout<Dim>(grid.shape));
  set_interior_values(s.q, checkpoint.density);
  s.state = RunState{checkpoint.time, checkpoint.step, checkpoint.next_snapshot};
  s.stepper_state = checkpoint.stepper_state;
  s.writer = std::make_unique<SnapshotWriter<Dim>>(
      path, grid, typename SnapshotWriter<Dim>::Resume{checkpoint.next_snapshot, rows});
  return s;
}

template <int Dim>
int run_problem(const RunConfig& config, const std::string& restart_path) {
  const UniformGrid<Dim> grid = grid_of<Dim>(config);
  FreeEnergy<Dim> energy =
      as_input_error([&] { return FreeEnergy<Dim>(grid, internal_energy_of(config), potential_of<Dim>(config), interaction_of(config)); });
  RunConfig resolved = config;  // f-divergence: target-mass 0 resolved here, stored so that a restart reuses it
  if (config.case_name == "f-divergence")
    as_input_error([&] {
      if (!(resolved.target_mass > 0.0)) resolved.target_mass = initial_mass_of(config, grid);
      energy.set_divergence(divergence_of(resolved, grid));
      return 0;
    });
  const RunConfig& c = resolved;
  FluxSpec flux;
  flux.kind = default_flux_for(energy.internal());
  flux.order = c.order;
  const auto op = make_spatial_operator(energy, flux);
  StartingPoint<Dim> start =
      as_input_error([&] { return restart_path.empty() ? fresh_start(c, grid) : restart_from(restart_path, grid); });
  std::unique_ptr<TimeStepper<Dim>> stepper;
  const ImplicitEuler<Dim>* implicit_stepper = nullptr;  // for its solver statistics
  std::string scheme = op->name();
  if (c.stepper == "implicit-euler") {
    ImplicitOptions options;
    options.dt = c.dt;
    options.adaptive = !(c.dt > 0.0);
    options.linear_solver = c.linear_solver == "eigen" ? ImplicitOptions::LinearSolver::eigen
                                                        : ImplicitOptions::LinearSolver::multigrid;
    auto implicit = std::make_unique<ImplicitEuler<Dim>>(energy, flux, options);
    scheme = implicit->operator_name();  // the implicit upwind scheme is first order
    implicit_stepper = implicit.get();
    stepper = std::move(implicit);
  } else {
    stepper = std::make_unique<ExplicitRk<Dim>>(*op, parse_explicit_scheme(c.stepper), c.cfl, start.q.layout());
  }
  if (!start.stepper_state.empty()) stepper->restore_carried_state(start.stepper_state);

  Simulation<Dim> simulation(energy, *stepper);
  simulation.set_history(std::move(start.history));
  OutputTracker<Dim> output(*start.writer, *stepper);
  ProgressTracker<Dim> progress(start.state.t, c.t_end, isatty(STDERR_FILENO) != 0);
  std::vector<Tracker<Dim>*> trackers{&output};
  if (!c.quiet) trackers.push_back(&progress);

  const StopOnSignal stop_on_signal;
  simulation.set_stop_flag(StopOnSignal::flag());
  RunSummary summary;
  try {
    summary = simulation.run(start.q, c.t_end, c.snapshots, start.state, trackers);
  } catch (const NonFiniteState&) {
    start.writer->flush_diagnostics(simulation.history());  // keep the diagnostics of every good step
    throw;
  }
  start.writer->flush_diagnostics(simulation.history());
  const std::string& out = start.writer->path();
  if (summary.interrupted) {
    const int signal_number = *StopOnSignal::flag();
    std::fprintf(stderr, "wgflow: stopped by signal %d at step %ld, t = %.6g; checkpoint written to %s; continue with: wgflow run --restart %s\n",
                 signal_number, start.state.step, start.state.t, out.c_str(), out.c_str());
    return 128 + signal_number;
  }
  std::string solver_work;  // implicit runs: iterations per accepted step
  if (implicit_stepper != nullptr && implicit_stepper->stats().steps > 0) {
    const ImplicitStats& st = implicit_stepper->stats();
    char text[160];
    const double per_step = double(st.linear_iterations) / double(st.steps);
    const std::string solver = implicit_stepper->linear_solver_name();
    if (implicit_stepper->is_linear())
      std::snprintf(text, sizeof text, "; %.1f %s linear iterations/step", per_step, solver.c_str());
    else
      std::snprintf(text, sizeof text, "; %.2f Newton iterations/step (max %d), %.1f %s linear iterations/step",
                    double(st.newton_iterations) / double(st.steps), st.max_newton_iterations, per_step,
                    solver.c_str());
    solver_work = text;
  }
  if (!c.quiet)
    std::printf(
        "wgflow: %dD %s on %ld^%d cells, %s + %s: %ld steps (%ld rejected) to t = %g in %.3g s%s; "
        "mass drift %.2e, final energy %.10g, min q %.3g; wrote %s\n",
        Dim, c.case_name.c_str(), c.n, Dim, stepper->name().c_str(), scheme.c_str(), summary.steps,
        summary.rejected, summary.final_time, summary.wall_seconds, solver_work.c_str(), summary.relative_mass_drift,
        summary.final_energy, summary.min_q, out.c_str());
  return 0;
}

/// The configuration of a run to continue: the one stored in the file, with --threads and --quiet.
RunConfig restart_config(const ParsedRunOptions& parsed) {
  OutputSummary summary;
  try {
    summary = read_output_summary(parsed.restart);
  } catch (const std::exception& e) {
    throw ConfigError("--restart " + parsed.restart + ": " + e.what());
  }
  RunConfig c = parse_config_text(summary.config_text);
  c.threads = parsed.config.threads;
  c.quiet = parsed.config.quiet;
  c.out = parsed.restart;
  const std::vector<long> expected(static_cast<std::size_t>(c.dim), c.n);
  if (summary.case_name != c.case_name || summary.dim != c.dim || summary.shape_zyx != expected)
    throw ConfigError("--restart " + parsed.restart + ": the file's case or grid does not match its stored configuration");
  return c;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  const ParsedRunOptions parsed = parse_run_options(args);
  if (parsed.help) {
    std::cout << parsed.help_text;
    return 0;
  }
  const RunConfig c = parsed.restart.empty() ? parsed.config : restart_config(parsed);
  if (c.threads > 0) omp_set_num_threads(c.threads);
  // hypre needs MPI. Only runs that use it start MPI: without mpirun OpenMPI starts a singleton
  // (it forks its orted), about 1 s of wall time that explicit runs need not pay (docs/linear_solvers.md).
  std::unique_ptr<MpiSession> mpi;
  if (c.stepper == "implicit-euler" && c.linear_solver == "multigrid") mpi = std::make_unique<MpiSession>(nullptr, nullptr);
  switch (c.dim) {
    case 1: return run_problem<1>(c, parsed.restart);
    case 2: return run_problem<2>(c, parsed.restart);
    default: return run_problem<3>(c, parsed.restart);
  }
}

}  // namespace wgflow
