/// Parallel HDF5 output and input under mpirun (registered for P = 1, 2, 3, 4 when MPI is built).
///
///     wgflow_output_mpi write DIR   every rank writes DIR/{1d,2d,3d}.h5 from its box of the grid
///                                   (snapshots, a refused non-finite snapshot, a restart of the
///                                   writer, a checkpoint), then reads them back on the same ranks;
///                                   also a bad --initial file and the output lock on P ranks
///     wgflow_output_mpi read DIR    reads outputs written in DIR on any number of ranks, here
///     wgflow_output_mpi bench DIR N COUNT   times COUNT snapshots of N x N cells (not a test)
///
/// Every value is a function of the global cell index (and the snapshot), so each rank knows what
/// its box must hold, whatever the rank count that wrote the file: every read value is compared
/// bitwise. The grids split unevenly (grids/decomposition.hpp). tests/mpi/compare_outputs.py then
/// checks that the files of P ranks equal those of one rank. Prints "all outputs right" on rank 0
/// and exits 0 on every rank iff every check passed everywhere.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "grids/communicator.hpp"
#include "grids/decomposition.hpp"
#include "io/checkpoint.hpp"
#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/output_lock.hpp"
#include "io/rank_agreement.hpp"
#include "io/run_config.hpp"
#include "io/snapshot_writer.hpp"

using namespace wgflow;

namespace {

int failures = 0;

void fail(const Communicator& world, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "rank %d: %s\n", world.rank(), what.c_str());
}

constexpr int k_snapshots = 3;
constexpr int k_checkpoint = 99;  ///< the checkpoint's values: value(g, 99)

/// The value of global cell `g` (row-major flat index, x fastest) in snapshot `k`: not round in
/// binary, positive (a valid --initial density), different for every cell and snapshot.
double value(std::size_t g, int k) { return 1.0 + 0.5 * std::sin(0.37 * double(g) + 1.3 * k) + 1e-3 * double(g); }

std::vector<double> box_values(const h5::Box& box, int k) {
  std::vector<double> v(box.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = value(box.global_index(i), k);
  return v;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

DiagnosticsRow row(int step) {
  const double t = 0.01 * step;
  return {t, step == 0 ? 0.0 : 0.01, 2.0 + 1e-15 * step, -std::log1p(t), 0.5 / (1 + step), 0.5, 1.5 + 1e-3 * step};
}

/// The grids of the three cases: uneven splits on 2, 3 and 4 ranks (1D in whole reduction chunks of
/// 4 cells; 2D along y; 3D along z and, from 4 ranks on, y), on [-2, 2] per axis for ParaView's probe
/// (whose cell indices differ on every axis, so that a swapped axis shows).
template <int Dim>
UniformGrid<Dim> case_grid() {
  UniformGrid<Dim> g = make_cube_grid<Dim>(2, -2.0, 2.0, Boundary::no_flux);
  if constexpr (Dim == 1) g.shape = {202};
  if constexpr (Dim == 2) g.shape = {7, 11};
  if constexpr (Dim == 3) g.shape = {5, 7, 8};
  if constexpr (Dim >= 2) g.boundary[1] = Boundary::periodic;
  return g;
}

/// The step of snapshot k, and the diagnostics rows up to it (steps 0 .. 4k).
int step_of(int k) { return 4 * k; }
void grow_history(DiagnosticsHistory& history, int k) {
  while (static_cast<int>(history.size()) <= step_of(k)) history.push_back(row(static_cast<int>(history.size())));
}

template <int Dim>
void write_case(const Communicator& world, const std::string& path) {
  const UniformGrid<Dim> local = local_grid(case_grid<Dim>(), world.size(), world.rank());
  const h5::Box box = array_box(local);
  const std::string name = std::to_string(Dim) + "D write: ";
  DiagnosticsHistory history;
  {
    SnapshotWriter<Dim> writer(path, local, RunMetadata{"heat", "case = heat\n"}, true, world);
    for (int k = 0; k < k_snapshots; ++k) {
      grow_history(history, k);
      if (k == 1) {  // a non-finite value in the last rank's box: every rank refuses, with one message
        std::vector<double> bad = box_values(box, k);
        if (world.rank() == world.size() - 1) bad[1] = std::nan("");
        std::string message;
        try {
          writer.write_snapshot(bad, row(step_of(k)).time, step_of(k), history);
        } catch (const std::runtime_error& e) {
          message = e.what();
        }
        const h5::Box last_box = array_box(local_grid(case_grid<Dim>(), world.size(), world.size() - 1));
        const std::string expected = "density has 1 non-finite values, first at flat index " +
                                     std::to_string(last_box.global_index(1));
        if (message.find(expected) == std::string::npos)
          fail(world, name + "refusal of a non-finite value said '" + message + "', expected '" + expected + "'");
        if (writer.snapshots_written() != k) fail(world, name + "the refused snapshot was counted");
      }
      writer.write_snapshot(box_values(box, k), row(step_of(k)).time, step_of(k), history, {0.25, 0.5});
    }
  }
  // Continue as a restart does: keep two snapshots and their rows, write the third again, stop with a
  // checkpoint (the state of step 9, after the last snapshot).
  const std::size_t keep_rows = static_cast<std::size_t>(step_of(1)) + 1;
  SnapshotWriter<Dim> writer(path, local, typename SnapshotWriter<Dim>::Resume{2, keep_rows}, world);
  DiagnosticsHistory resumed;
  for (std::size_t i = 0; i < keep_rows; ++i) resumed.push_back(row(static_cast<int>(i)));
  grow_history(resumed, 2);
  writer.write_snapshot(box_values(box, 2), row(step_of(2)).time, step_of(2), resumed, {0.25, 0.5});
  while (resumed.size() < 10) resumed.push_back(row(static_cast<int>(resumed.size())));
  writer.flush_diagnostics(resumed);
  Checkpoint c{box_values(box, k_checkpoint), row(9).time, 9, k_snapshots, {0.75}, resumed.size(), {}};
  write_checkpoint(writer.path(), c, writer.box(), writer.ranks());
}

/// Reads the output of the Dim case at `path` (written on any number of ranks) on this one.
template <int Dim>
void read_case(const Communicator& world, const std::string& path, const std::string& how) {
  const UniformGrid<Dim> global = case_grid<Dim>();
  const UniformGrid<Dim> local = local_grid(global, world.size(), world.rank());
  const h5::Box box = array_box(local);
  const std::string name = std::to_string(Dim) + "D " + how + ": ";
  for (int k = 0; k < k_snapshots; ++k)
    if (!same_bits(read_snapshot(path, k, box), box_values(box, k)))
      fail(world, name + "snapshot " + std::to_string(k) + " differs in this rank's box");
  const Checkpoint restart = read_restart_point(path, box);
  if (restart.step != 9 || restart.next_snapshot != k_snapshots || restart.rows != 10 || restart.stepper_state != std::vector<double>{0.75})
    fail(world, name + "the restart point is not the checkpoint (step " + std::to_string(restart.step) + ")");
  if (!same_bits(restart.density, box_values(box, k_checkpoint)))
    fail(world, name + "the checkpoint's density differs in this rank's box");
  std::vector<long> shape_zyx;
  for (hsize_t n : box.global) shape_zyx.push_back(static_cast<long>(n));
  if (!same_bits(read_initial_density(path, shape_zyx, "--initial", box, world), box_values(box, k_snapshots - 1)))
    fail(world, name + "--initial file: read another box than this rank's");
  const OutputSummary summary = read_output_summary(path);
  if (summary.shape_zyx != shape_zyx || summary.snapshot_times.size() != k_snapshots || summary.diagnostics.size() != 10)
    fail(world, name + "the main file does not list the whole grid, 3 snapshots and 10 rows");
}

/// An --initial file with two negative values, one of them in the last rank's box: every rank
/// refuses it with the message a single rank gives (counts and first index over the whole grid).
void check_bad_initial(const Communicator& world, const std::string& dir) {
  const UniformGrid<2> global = case_grid<2>();
  const UniformGrid<2> local = local_grid(global, world.size(), world.rank());
  const std::string path = dir + "/bad-initial.h5";
  const std::vector<hsize_t> dims{11, 7};
  if (world.rank() == 0) {
    std::vector<double> values(77, 1.0);
    values[75] = -1.0;  // the last row: the last rank's box
    values[76] = -2.0;
    h5::File file = h5::create_file(path);
    h5::write_dataset(file.id(), "density", dims, values.data());
  }
  world.max(0.0);  // the file exists before anyone reads it
  std::string message;
  try {
    read_initial_density(path, {11, 7}, "--initial", array_box(local), world);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  const std::string expected = "--initial file:" + path + ": /density has 2 negative values (first at index (10, 5)); a density must be finite and >= 0";
  if (message != expected) fail(world, "bad --initial file: '" + message + "', expected '" + expected + "'");
}

/// The output lock of a job is rank 0's: every rank takes it together, and a second writer of the same
/// output is refused on every rank (ConfigError), rank 0's message naming the holder.
void check_lock(const Communicator& world, const std::string& dir) {
  const std::string path = dir + "/locked.h5";
  const OutputLock lock(path, "--out", world);
  bool refused = false;
  std::string message;
  try {
    const OutputLock again(path, "--out", world);
  } catch (const ConfigError& e) {
    refused = true;
    message = e.what();
  }
  if (!refused) fail(world, "a second lock of the same output was not refused here");
  if (world.rank() == 0 && message.find("is being written by pid") == std::string::npos)
    fail(world, "rank 0's refusal does not name the holder: '" + message + "'");
}

/// A step that fails on the last rank only (a full disk there) fails on every rank, as a full disk.
void check_agreement(const Communicator& world) {
  bool full = false;
  try {
    on_every_rank(world, "x.h5", [&] {
      if (world.rank() == world.size() - 1) throw OutputWriteError("x.h5", true, "test");
    });
  } catch (const OutputWriteError& e) {
    full = e.disk_full();
  }
  if (!full) fail(world, "a full disk on the last rank was not a full disk here");
  bool passed = true;
  try {
    on_rank0(world, "x.h5", [] {});
  } catch (...) {
    passed = false;
  }
  if (!passed) fail(world, "a step that failed nowhere failed here");
}

/// Seconds per snapshot of an n x n grid written by these ranks (the median of `count` snapshots,
/// after one not timed), as rank 0 sees it: write_snapshot returns once the file is renamed into place.
double time_snapshots(const Communicator& world, const std::string& dir, int n, int count) {
  UniformGrid<2> global = make_cube_grid<2>(n, -2.0, 2.0, Boundary::no_flux);
  const UniformGrid<2> local = local_grid(global, world.size(), world.rank());
  const h5::Box box = array_box(local);
  const std::vector<double> density = box_values(box, 0);
  DiagnosticsHistory history;
  SnapshotWriter<2> writer(dir + "/bench.h5", local, RunMetadata{"heat", ""}, true, world);
  std::vector<double> seconds;
  for (int k = 0; k <= count; ++k) {
    history.push_back(row(k));
    world.max(0.0);
    const auto start = std::chrono::steady_clock::now();
    writer.write_snapshot(density, row(k).time, k, history);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (k > 0) seconds.push_back(world.max(s));
  }
  on_rank0(world, writer.path(), [&] { remove_output(writer.paths()); });  // 8 n^2 bytes per snapshot
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const MpiRuntime mpi(&argc, &argv);
  h5::init();
  const Communicator world = Communicator::world();
  if (argc == 5 && std::string(argv[1]) == "bench") {  // not a test: wgflow_output_mpi bench DIR N COUNT
    if (world.rank() == 0) std::filesystem::create_directories(argv[2]);
    world.max(0.0);
    const double s = time_snapshots(world, argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    if (world.rank() == 0)
      std::printf("%d ranks: %s^2 snapshot (%.0f MB) in %.3f s (median of %s)\n", world.size(), argv[3],
                  8e-6 * std::atof(argv[3]) * std::atof(argv[3]), s, argv[4]);
    return 0;
  }
  if (argc != 3 || (std::string(argv[1]) != "write" && std::string(argv[1]) != "read")) {
    if (world.rank() == 0) std::fprintf(stderr, "usage: wgflow_output_mpi write|read DIR, or bench DIR N COUNT\n");
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  try {
    if (mode == "write") {
      if (world.rank() == 0) std::filesystem::create_directories(dir);
      world.max(0.0);
      write_case<1>(world, dir + "/1d.h5");
      write_case<2>(world, dir + "/2d.h5");
      write_case<3>(world, dir + "/3d.h5");
      check_bad_initial(world, dir);
      check_lock(world, dir);
      if (world.rank() == world.size() - 1 && world.size() > 1)
        std::fprintf(stderr, "output_mpi: rank %d now fails a step on purpose and says why:\n", world.rank());
      check_agreement(world);
    }
    const std::string how = mode == "write" ? "read back" : "read on " + std::to_string(world.size()) + " ranks";
    read_case<1>(world, dir + "/1d.h5", how);
    read_case<2>(world, dir + "/2d.h5", how);
    read_case<3>(world, dir + "/3d.h5", how);
  } catch (const std::exception& e) {
    fail(world, std::string("unexpected error: ") + e.what());
    world.abort(1);
  }
  std::int64_t total = failures;
  world.sum(&total, 1);
  if (world.rank() == 0 && total == 0) std::printf("all outputs right on %d ranks (%s)\n", world.size(), mode.c_str());
  return total == 0 ? 0 : 1;
}
