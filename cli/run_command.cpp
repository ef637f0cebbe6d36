#include "cli/run_command.hpp"

#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <sstream>

#include "cli/divergence_setup.hpp"
#include "cli/network_setup.hpp"
#include "cli/problem_setup.hpp"
#include "cli/signals.hpp"
#include "cli/trackers.hpp"
#include "grids/communicator.hpp"
#include "io/output_files.hpp"
#include "io/initial_file.hpp"
#include "io/interaction_config.hpp"
#include "io/network_config.hpp"
#include "io/options.hpp"
#include "io/output_lock.hpp"
#include "io/pack.hpp"
#include "solver/concentration.hpp"
#include "io/parameter_flags.hpp"
#include "io/particle_file.hpp"
#include "solver/particles.hpp"
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
  /// Creates (fresh run) or reopens (restart) the output. Called only once the stepper and every
  /// other large buffer exist, so that a run that cannot start (out of memory) leaves no output.
  std::function<std::unique_ptr<SnapshotWriter<Dim>>()> open_writer;
  std::vector<SnapshotArray> arrays;  ///< snapshot arrays of a restarted run's restart point (particles)
  std::unique_ptr<ParticleCloud<Dim>> particles;  ///< nullptr: none
};

/// Runs a set-up step; whatever it throws is bad input (a file, a formula, a path): exit code 2.
template <class SetUp>
auto as_input_error(SetUp&& set_up) {
  try {
    return set_up();
  } catch (const ConfigError&) {
    throw;
  } catch (const OutputWriteError&) {  // not the input's fault: the disk's
    throw;
  } catch (const std::bad_alloc&) {
    throw;  // not bad input: reported as out of memory (exit 1)
  } catch (const std::exception& e) {
    throw ConfigError(user_message(e));
  }
}

/// " (rose in N steps)" when the energy ever increased from one step to the next (checked every step,
/// whether or not --diagnostics-every keeps the rows), else "".
std::string energy_rises(const RunSummary& summary) {
  return summary.energy_increases > 0 ? " (rose in " + std::to_string(summary.energy_increases) + " steps)" : "";
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
  const OutputPaths paths = output_paths(out);
  if (output_exists(paths) && !overwrite)
    throw ConfigError("--out: '" + out + "' (or its snapshot directory '" + paths.directory + "' or its sidecar '" +
                      paths.xdmf + "') exists; pass --overwrite to replace it");
}

/// The particles of a run (nullptr for none): sampled from q_0 or read from a file for a fresh run,
/// the restart point's positions for a restarted one. Bad input throws ConfigError naming --particles.
template <int Dim>
std::unique_ptr<ParticleCloud<Dim>> make_particles(const RunConfig& c, const UniformGrid<Dim>& grid,
                                                   const StartingPoint<Dim>& start, bool restarted) {
  if (restarted && start.arrays.empty() && c.particles == "0") return nullptr;
  if (restarted) {
    const auto find = [&](const std::string& name) -> const SnapshotArray* {
      for (const SnapshotArray& a : start.arrays)
        if (a.name == name) return &a;
      return nullptr;
    };
    const SnapshotArray* positions = find("particles");
    if (positions == nullptr) {
      if (c.particles != "0") throw std::runtime_error("--restart: the restart point holds no particle positions");
      return nullptr;
    }
    auto cloud = std::make_unique<ParticleCloud<Dim>>(grid, positions->values);
    if (const SnapshotArray* clamps = find("particle_clamps"); clamps != nullptr && !clamps->values.empty())
      cloud->set_clamps(grid.ranks.rank() == 0 ? static_cast<long>(clamps->values[0]) : 0);  // a total: counted once
    return cloud;
  }
  try {
    std::vector<double> positions;
    if (c.particles.rfind("file:", 0) == 0) {
      positions = read_particle_positions(c.particles.substr(5), Dim);
      if (positions.empty()) throw std::invalid_argument("/positions holds no particle");
    } else {
      const long n = c.particle_count();
      if (n == 0) return nullptr;
      return std::make_unique<ParticleCloud<Dim>>(
          grid, sample_owned_particles(start.q, grid, static_cast<std::size_t>(n), static_cast<std::uint64_t>(c.particles_seed)));
    }
    return std::make_unique<ParticleCloud<Dim>>(grid, std::move(positions));
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError("--particles: " + std::string(e.what()) + " (got '" + c.particles + "')");
  }
}

template <int Dim>
StartingPoint<Dim> fresh_start(const RunConfig& c, const UniformGrid<Dim>& grid, const std::vector<RootArray>& root_arrays) {
  check_output_path(c.out, c.overwrite);
  StartingPoint<Dim> s;
  s.q = make_initial_density(initial_of(c, grid), grid, internal_energy_of(c));
  s.particles = make_particles(c, grid, s, false);  // before the writer: bad input leaves no file behind
  s.open_writer = [out = c.out, grid, meta = RunMetadata{c.case_name, c.to_ini(), root_arrays}, overwrite = c.overwrite] {
    return std::make_unique<SnapshotWriter<Dim>>(out, grid, meta, overwrite, grid.ranks);
  };
  return s;
}

template <int Dim>
StartingPoint<Dim> restart_from(const std::string& path, const UniformGrid<Dim>& grid,
                                const std::vector<RootArray>& root_arrays) {
  const OutputSummary summary = read_output_summary(path);
  if (summary.snapshot_times.empty()) {  // killed before its first snapshot: start it again
    RunConfig c = parse_config_text(summary.config_text);
    c.out = path;
    c.overwrite = true;
    return fresh_start(c, grid, root_arrays);
  }
  StartingPoint<Dim> s;
  const Checkpoint checkpoint = read_restart_point(path, array_box(grid));  // this rank's box, whatever P wrote it
  const std::size_t rows = checkpoint.rows;
  if (summary.diagnostics.size() < rows)
    throw std::runtime_error("--restart " + path + ": the file has " + std::to_string(summary.diagnostics.size()) +
                             " diagnostics rows, fewer than the " + std::to_string(rows) + " its checkpoint needs");
  s.q = Field<Dim>(FieldLayout<Dim>(grid.shape));
  set_interior_values(s.q, checkpoint.density);
  s.state = RunState{checkpoint.time, checkpoint.step, checkpoint.next_snapshot};
  s.stepper_state = checkpoint.stepper_state;
  s.arrays = checkpoint.arrays;
  s.particles = make_particles(parse_config_text(summary.config_text), grid, s, true);
  s.open_writer = [path, grid, resume = typename SnapshotWriter<Dim>::Resume{checkpoint.next_snapshot, rows}] {
    return std::make_unique<SnapshotWriter<Dim>>(path, grid, resume, grid.ranks);
  };
  // The history continues as a window (run_problem drops the rows already in files once the writer is
  // open): row 0 and the rows up to the restart point.
  s.history.initial = summary.diagnostics.front();
  s.history.rows.assign(summary.diagnostics.rows.begin(), summary.diagnostics.rows.begin() + static_cast<long>(rows));
  return s;
}

template <int Dim>
int run_problem(const RunConfig& config, const std::string& restart_path) {
  const UniformGrid<Dim> grid = rank_grid_of<Dim>(config);  // this rank's box (all of it on one rank)
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
  std::shared_ptr<const NetworkKernel<Dim>> network;  // mean-field-network: V and W from the data
  if (c.case_name == "mean-field-network")
    as_input_error([&] {
      network = std::make_shared<const NetworkKernel<Dim>>(grid, network_spec_of(c));
      energy.set_network(network);
      return 0;
    });
  const std::vector<RootArray> root_arrays = network ? network_root_arrays(network->spec()) : std::vector<RootArray>{};
  FluxSpec flux;
  flux.kind = default_flux_for(energy.internal());
  flux.order = c.order;
  const auto op = make_spatial_operator(energy, flux);
  StartingPoint<Dim> start =
      as_input_error([&] {
        return restart_path.empty() ? fresh_start(c, grid, root_arrays) : restart_from(restart_path, grid, root_arrays);
      });
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
  ParticleCloud<Dim>* const particles = start.particles.get();
  std::vector<const SnapshotArraySource<Dim>*> sources;
  if (particles != nullptr) {
    if (!stepper->set_particles(particles)) throw ConfigError("--particles: not supported by this stepper");
    sources.push_back(particles);
  }

  Simulation<Dim> simulation(energy, *stepper);
  simulation.set_diagnostics_every(c.diagnostics_every);
  const std::unique_ptr<SnapshotWriter<Dim>> writer = as_input_error([&] { return start.open_writer(); });
  ConcentrationTracker<Dim> concentration(grid);  // after the output: a step's snapshot is written first
  concentration.scan(start.history);
  start.history.forget_before(writer->rows_written());
  simulation.set_history(std::move(start.history));
  std::unique_ptr<NetworkOutputSource<Dim>> network_output;
  if (network) {
    network_output = std::make_unique<NetworkOutputSource<Dim>>(network);
    sources.push_back(network_output.get());
  }
  OutputTracker<Dim> output(*writer, *stepper, sources);
  const int threads = omp_get_max_threads();
  const std::string workers = std::to_string(grid.ranks.size()) + (grid.ranks.size() == 1 ? " rank x " : " ranks x ") +
                              std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  ProgressTracker<Dim> progress(start.state.t, c.t_end, isatty(STDERR_FILENO) != 0, workers);
  std::vector<Tracker<Dim>*> trackers{&output, &concentration};
  if (!c.quiet && grid.ranks.rank() == 0) trackers.push_back(&progress);  // one progress line per job

  const StopOnSignal stop_on_signal;
  simulation.set_stop_flag(StopOnSignal::flag());
  RunSummary summary;
  AddressSpaceReserve reserve(24u << 20);  // for the clean stop after a failed allocation
  try {
    summary = simulation.run(start.q, c.t_end, c.snapshots, start.state, trackers);
  } catch (const std::runtime_error&) {
    // Keep the diagnostics of every good step and list every snapshot written (a non-finite state, a
    // concentration, a crawl, a failed write); a failure while doing so is not reported over the first.
    try {
      writer->flush_diagnostics(simulation.history());
    } catch (const std::exception&) {
    }
    throw;
  } catch (const std::bad_alloc&) {
    reserve.release();
    try {
      writer->flush_diagnostics(simulation.history());
    } catch (const std::exception&) {
    }
    std::ostringstream msg;
    msg << "out of memory at step " << start.state.step << ", t = " << start.state.t << "; the "
        << writer->snapshots_written() << " snapshots written so far are kept in " << writer->path()
        << "; continue with wgflow run --restart " << writer->path() << " where more memory is free";
    throw std::runtime_error(msg.str());
  }
  writer->flush_diagnostics(simulation.history());
  const std::string& out = writer->path();
  if (summary.interrupted) {
    // The signal reached some ranks only (mpirun passes it on to each): the stop was agreed over all of them.
    const int signal_number = static_cast<int>(grid.ranks.max(static_cast<double>(*StopOnSignal::flag())));
    if (grid.ranks.rank() == 0)
      std::fprintf(stderr, "wgflow: stopped by signal %d at step %ld, t = %.6g; checkpoint written to %s; continue with: wgflow run --restart %s\n",
                 signal_number, start.state.step, start.state.t, out.c_str(), out.c_str());
    return 128 + signal_number;
  }
  writer->remove_stop_files();
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
    if (st.positivity_retries > 0) {  // conservative updates < 0: repaired (one rank), else rejected
      std::snprintf(text, sizeof text, "; %ld negative updates (%ld rejected)", st.positivity_retries,
                    st.negative_states + st.decomposed_rejections);
      solver_work += text;
      if (st.sweep_rounds > 0) {  // the upwind sweeps on several ranks (solver/steppers/upwind_sweep.hpp)
        std::snprintf(text, sizeof text, "; %s in %ld exchange rounds",
                      implicit_stepper->is_linear() ? "flux limiting" : "upwind sweeps", st.sweep_rounds);
        solver_work += text;
      }
    }
  }
  std::string particle_text;
  if (particles != nullptr) {
    particle_text = "; " + std::to_string(particles->total()) + " particles (" + std::to_string(particles->all_clamps()) +
                    " wall clamps";
    if (grid.decomposed()) {  // that they crossed between ranks (tests/mpi require it), even when 0
      if (implicit_stepper != nullptr)  // mid-step hand-overs of the frozen flow (solver/particle_flow.cpp)
        particle_text += "; " + std::to_string(particles->handovers()) + " hand-overs in " +
                         std::to_string(particles->handover_rounds()) + " exchange rounds";
      particle_text += "; " + std::to_string(particles->all_migrations()) + " migrations between ranks";
    }
    particle_text += ")";
  }
  if (!c.quiet && grid.ranks.rank() == 0)  // one line for the whole (decomposed) run
    std::printf(
        "wgflow: %dD %s on %ld^%d cells, %s + %s: %ld steps (%ld rejected) to t = %g in %.3g s on %s%s; "
        "mass drift %.2e, final energy %.10g%s, min q %.3g%s; wrote %s\n",
        Dim, c.case_name.c_str(), c.n, Dim, stepper->name().c_str(), scheme.c_str(), summary.steps,
        summary.rejected, summary.final_time, summary.wall_seconds, workers.c_str(), solver_work.c_str(), summary.relative_mass_drift,
        summary.final_energy, energy_rises(summary).c_str(), summary.min_q, particle_text.c_str(), out.c_str());
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
  if (is_packed_output(parsed.restart))
    throw ConfigError("--restart " + parsed.restart + ": a file written by wgflow pack is a copy to read, not a run to "
                      "continue; continue the run it was packed from");
  RunConfig c = parse_config_text(summary.config_text);
  c.threads = parsed.config.threads;
  c.quiet = parsed.config.quiet;
  c.out = parsed.restart;
  const std::vector<long> expected(static_cast<std::size_t>(c.dim), c.n);
  if (summary.case_name != c.case_name || summary.dim != c.dim || summary.shape_zyx != expected)
    throw ConfigError("--restart " + parsed.restart + ": the file's case or grid does not match its stored configuration");
  return c;
}

/// The one line for a run stopped by a failed write: what failed, what the output still holds (read
/// back from disk, not assumed), and how to go on.
std::string failed_write_message(const OutputWriteError& e, const std::string& out) {
  std::string kept = "nothing kept; free space and run the same command again";
  try {
    const std::size_t n = read_output_summary(out).snapshot_times.size();
    kept = n == 0   ? "no snapshot kept"
           : n == 1 ? "snapshot 0 kept"
                    : "snapshots 0-" + std::to_string(n - 1) + " kept";
    kept += e.disk_full() ? "; free space and run with --restart " + out : "; run with --restart " + out + " once it can be written";
  } catch (const std::exception&) {
  }
  return std::string(e.what()) + "; " + kept;
}

/// Stops every rank of an mpirun job with exit `code` after rank 0 has printed `message` (an error every
/// rank found alike): mpirun kills the whole job at the first non-zero exit, which could otherwise
/// swallow the line before rank 0 wrote it.
int stop_all_ranks(const Communicator& world, const std::string& message, int code = 2) {
  if (world.rank() == 0) std::fprintf(stderr, "wgflow: error: %s\n", message.c_str());
  world.max(0.0);  // a barrier: nobody exits before rank 0 has printed
  return code;
}

int run_on_this_rank(const ParsedRunOptions& parsed, std::unique_ptr<MpiSession>& mpi);

}  // namespace

int run_command(const std::vector<std::string>& args) {
  // Under mpirun MPI starts first (grids/communicator.hpp): before the output lock, which the other
  // ranks would otherwise find taken, and before the options, whose errors every rank finds alike.
  std::unique_ptr<MpiSession> mpi;
  if (launched_by_mpirun()) mpi = std::make_unique<MpiSession>(nullptr, nullptr);
  const Communicator world = Communicator::world();
  ParsedRunOptions parsed;
  try {
    parsed = parse_run_options(args);
  } catch (const ConfigError& e) {
    if (world.size() == 1) throw;
    return stop_all_ranks(world, e.what());
  }
  if (parsed.help) {
    if (world.rank() == 0) std::cout << parsed.help_text;
    return 0;
  }
  if (world.size() == 1) return run_on_this_rank(parsed, mpi);
  // P > 1: what decomposed runs cannot do yet is refused before anything is written (run_on_this_rank,
  // once a restart's stored options are read); every error is found by every rank alike (reductions,
  // the output's rank agreement), so rank 0 prints it once and all ranks exit together.
  try {
    return run_on_this_rank(parsed, mpi);
  } catch (const ConfigError& e) {
    return stop_all_ranks(world, e.what());
  } catch (const std::bad_alloc&) {
    // Possibly on this rank alone: the others may wait in a collective call, so end the job.
    std::fprintf(stderr, "wgflow: error: out of memory on rank %d of %d\n", world.rank(), world.size());
    world.abort(1);
  } catch (const std::exception& e) {
    return stop_all_ranks(world, user_message(e), 1);
  }
}

namespace {

int run_on_this_rank(const ParsedRunOptions& parsed, std::unique_ptr<MpiSession>& mpi) {
  // One writer per output, for the whole run (before anything of it is read, checked or written).
  const OutputLock lock(parsed.restart.empty() ? parsed.config.out : parsed.restart,
                        parsed.restart.empty() ? "--out" : "--restart", Communicator::world());  // rank 0 holds it
  const RunConfig c = parsed.restart.empty() ? parsed.config : restart_config(parsed);
  if (const int ranks = Communicator::world().size(); ranks > 1) {  // a restart: the stored run's options
    const std::string refusal = decomposition_problem(c, ranks);
    if (!refusal.empty()) throw ConfigError(refusal);
  }
  if (c.threads > 0) omp_set_num_threads(c.threads);
  // hypre needs MPI. Only runs that use it start MPI: without mpirun OpenMPI starts a singleton
  // (it forks its orted), about 1 s of wall time that explicit runs need not pay (docs/linear_solvers.md).
  if (!mpi && c.stepper == "implicit-euler" && c.linear_solver == "multigrid") mpi = std::make_unique<MpiSession>(nullptr, nullptr);
  try {
    switch (c.dim) {
      case 1: return run_problem<1>(c, parsed.restart);
      case 2: return run_problem<2>(c, parsed.restart);
      default: return run_problem<3>(c, parsed.restart);
    }
  } catch (const OutputWriteError& e) {
    throw std::runtime_error(failed_write_message(e, c.out));
  } catch (const std::bad_alloc&) {  // before the output exists (run_problem reports the ones after)
    throw std::runtime_error("out of memory while setting up " + std::to_string(c.n) + "^" + std::to_string(c.dim) +
                             " cells; nothing was written (try a smaller --n, or where more memory is free)");
  }
}

}  // namespace

}  // namespace wgflow
