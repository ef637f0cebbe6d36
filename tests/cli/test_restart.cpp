/// Crash safety and restart: a run stopped by SIGINT, or killed outright with SIGKILL at a random
/// moment, leaves a readable output; `wgflow run --restart` continues it to a result that is bit for
/// bit the uninterrupted run's (every snapshot and every diagnostics row).
#include <doctest/doctest.h>

#include <algorithm>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cmath>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/output_files.hpp"
#include "tests/cli/cli_support.hpp"
#include "tests/cli/process_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// A 2D porous-medium run of about 1.3 s (one thread, 2026 kernels), long enough to be interrupted.
std::vector<std::string> long_run(const std::string& out) {
  return {"run", "--case", "porous-medium", "--dim", "2",       "--n",     "192",       "--domain=-4,4", "--t-end",
          "3",   "--snapshots", "12",       "--out", out,       "--quiet", "--threads", "1"};
}

/// Runs `args` (which must write reference.h5) to the end and returns its wall time in seconds. The
/// SIGKILL test kills at random fractions of it, and requires it to be long enough that kills land
/// mid-run: when faster kernels made the signal tests' runs take 50 ms, they went on passing while
/// every signal arrived after the run had finished.
double timed_reference(const CliDir& dir, const std::vector<std::string>& args) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = run_wgflow(dir, args);
  REQUIRE(r.code == 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("reference run took " << seconds << " s; lengthen it so that a signal can land mid-run");
  REQUIRE(seconds >= 0.25);
  return seconds;
}

/// Starts `args`, sends `signal` after `seconds`, and returns the exit code (128 + n for a signal).
int signal_after(const CliDir& dir, const std::vector<std::string>& args, double seconds, int signal) {
  const pid_t pid = spawn_wgflow(dir, args);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  kill(pid, signal);
  return wait_exit_code(pid);
}

/// Starts `args` (which must write dir/out), sends SIGINT as soon as its snapshot file number
/// `snapshots` − 1 exists, and returns the exit code (128 + SIGINT if the run was interrupted). Tied
/// to the run's progress rather than to a wall-clock fraction, so a loaded machine cannot make the
/// signal land after the end (as a fraction of a separately timed reference run could).
int interrupt_after_snapshots(const CliDir& dir, const std::vector<std::string>& args, const std::string& out,
                              int snapshots) {
  const pid_t pid = spawn_wgflow(dir, args);
  const fs::path last = dir.file(out + ".d/" + snapshot_group_name(snapshots - 1) + ".h5");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int status = 0;
  while (!fs::exists(last) && std::chrono::steady_clock::now() < give_up) {
    if (waitpid(pid, &status, WNOHANG) == pid)  // finished (or failed) before the snapshot appeared
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  kill(pid, SIGINT);
  return wait_exit_code(pid);
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("SIGINT finishes the step and writes a checkpoint and --restart continues bit for bit") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, long_run("reference.h5")).code == 0);
    REQUIRE(interrupt_after_snapshots(dir, long_run("stopped.h5"), "stopped.h5", 4) == 128 + SIGINT);
    const OutputSummary stopped = read_output_summary(dir.file("stopped.h5"));
    CHECK(stopped.snapshot_times.size() < 13);
    const OutputPaths paths = output_paths(dir.file("stopped.h5"));
    REQUIRE(fs::exists(paths.checkpoint()));
    // (a tail file of rows after the last snapshot exists unless the stop fell on a snapshot's step)

    const Result restarted = run_wgflow(dir, {"run", "--restart", "stopped.h5", "--quiet"});
    INFO("stderr: " << restarted.err);
    REQUIRE(restarted.code == 0);
    check_identical_outputs(dir.file("reference.h5"), dir.file("stopped.h5"));
    // A finished output holds only what it lists: the stop's checkpoint and tail rows are gone.
    CHECK_FALSE(fs::exists(paths.checkpoint()));
    CHECK_FALSE(fs::exists(paths.diagnostics_tail()));
  }

  TEST_CASE("SIGKILL at random moments (inside snapshot writes too) leaves a readable output that --restart completes bit for bit") {
    // A 144² run with 40 snapshots (~0.5 s; at 96², 0.25 s, it fell below the guard of timed_reference in
    // CI once the kernels got faster) spends a good part of its time writing, so uniformly random kill times
    // land inside writes (seen as temporary files left behind) as well as between them. Format 1
    // appended to one HDF5 file and lost it to 3 of 150 such kills; format 2 must lose none.
    const auto args = [](const std::string& out) {
      return std::vector<std::string>{"run",         "--case", "porous-medium", "--dim", "2",       "--n",
                                      "144",         "--domain=-4,4", "--t-end", "3",      "--snapshots", "40",
                                      "--out",       out,      "--quiet",       "--threads", "1"};
    };
    CliDir dir;
    const double seconds = timed_reference(dir, args("reference.h5"));
    const bool have_h5py = std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0;
    std::mt19937 random(20261123);
    std::uniform_real_distribution<double> fraction(0.02, 1.0);
    int attempts = 0, killed = 0, mid_write = 0, restarted = 0;
    for (; attempts < 40 && (mid_write < 3 || restarted < 6); ++attempts) {
      const std::string name = "killed" + std::to_string(attempts) + ".h5";
      if (signal_after(dir, args(name), fraction(random) * seconds, SIGKILL) != 128 + SIGKILL) continue;
      ++killed;
      if (!fs::exists(dir.file(name))) continue;  // killed before the output was created
      bool temporaries = false;
      // The snapshot directory is created just after the main file: a kill in between leaves none.
      for (const fs::path& folder : {dir.work(), fs::path(dir.file(name + ".d"))})
        for (const auto& entry : fs::exists(folder) ? fs::directory_iterator(folder) : fs::directory_iterator())
          temporaries = temporaries || entry.path().extension() == ".tmp";
      mid_write += temporaries;
      INFO("attempt " << attempts << (temporaries ? " (killed inside a write)" : ""));
      const OutputSummary summary = read_output_summary(dir.file(name));  // throws if unreadable
      for (int k = 0; k < static_cast<int>(summary.snapshot_times.size()); ++k)
        CHECK(read_snapshot(dir.file(name), k) == read_snapshot(dir.file("reference.h5"), k));
      if (have_h5py) {
        const std::string check = "/usr/bin/python3 -c 'import sys, h5py; f = h5py.File(sys.argv[1], \"r\"); "
                                  "[f[\"steps\"][k][\"density\"][()] for k in f[\"steps\"]]; f[\"diagnostics/time\"][()]' " +
                                  quote(dir.file(name));
        CHECK_MESSAGE(std::system(check.c_str()) == 0, "h5py cannot read " << name);
      }
      const Result r = run_wgflow(dir, {"run", "--restart", name, "--quiet"});
      INFO("stderr: " << r.err);
      REQUIRE(r.code == 0);
      check_identical_outputs(dir.file("reference.h5"), dir.file(name));
      ++restarted;
    }
    MESSAGE(killed, " of ", attempts, " runs killed mid-run, ", mid_write, " of them inside a write; ", restarted,
            " restarted and matched the uninterrupted run");
    CHECK(mid_write >= 3);
    CHECK(restarted >= 6);
  }

  // Particles ride along: the checkpoint and the snapshots carry their positions, and the continued
  // run's particles are bitwise the uninterrupted run's in every snapshot.
  TEST_CASE("a run with particles stopped by SIGINT restarts its particles bit for bit") {
    CliDir dir;
    auto run = [](const std::string& out) {  // stopped after its 4th snapshot file appears, not by the clock
      return std::vector<std::string>{"run", "--case", "porous-medium", "--dim", "2", "--n", "64", "--domain=-4,4",
                                      "--t-end", "1", "--snapshots", "12", "--out", out, "--quiet", "--threads", "1",
                                      "--particles", "2000", "--particles-seed", "9"};
    };
    REQUIRE(run_wgflow(dir, run("reference.h5")).code == 0);
    REQUIRE(interrupt_after_snapshots(dir, run("stopped.h5"), "stopped.h5", 4) == 128 + SIGINT);
    REQUIRE(run_wgflow(dir, {"run", "--restart", "stopped.h5", "--quiet"}).code == 0);
    check_identical_outputs(dir.file("reference.h5"), dir.file("stopped.h5"));
    h5::File a = h5::open_file(dir.file("reference.h5"), false), b = h5::open_file(dir.file("stopped.h5"), false);
    for (int k = 0; k <= 12; ++k) {
      const std::string name = "/steps/" + snapshot_group_name(k) + "/particles";
      const std::vector<double> x = h5::read_dataset(a.id(), name), y = h5::read_dataset(b.id(), name);
      REQUIRE(x.size() == 4000);
      CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0);
    }
  }

  // An adaptive implicit run carries its next step size from step to step; the checkpoint keeps it.
  TEST_CASE("an adaptive implicit-euler run stopped by SIGINT restarts bit for bit") {
    CliDir dir;
    const std::vector<std::string> run{"run", "--case", "porous-medium", "--dim", "1", "--n", "6000", "--potential",
                                       "quadratic", "--stepper", "implicit-euler", "--t-end", "30", "--snapshots", "6",
                                       "--quiet", "--threads", "1"};
    std::vector<std::string> reference = run, stopped = run;
    reference.insert(reference.end(), {"--out", "reference.h5"});
    stopped.insert(stopped.end(), {"--out", "stopped.h5"});
    REQUIRE(run_wgflow(dir, reference).code == 0);
    REQUIRE(interrupt_after_snapshots(dir, stopped, "stopped.h5", 3) == 128 + SIGINT);
    REQUIRE(run_wgflow(dir, {"run", "--restart", "stopped.h5", "--quiet"}).code == 0);
    check_identical_outputs(dir.file("reference.h5"), dir.file("stopped.h5"));
  }

  // The f-divergence case stores its resolved target mass and its target text (with ';') in the output's
  // configuration, and its extra diagnostics columns (L1 and W2 to the target) continue bit for bit.
  TEST_CASE("an f-divergence run stopped by SIGINT restarts bit for bit with its target columns") {
    CliDir dir;
    const std::vector<std::string> run{"run", "--case", "f-divergence", "--dim", "1", "--n", "200", "--divergence",
                                       "hellinger", "--target", "mixture:means=-2;2:weights=1,2:widths=0.7",
                                       "--gaussian-width", "1", "--t-end", "20", "--snapshots", "12", "--quiet",
                                       "--threads", "1"};
    std::vector<std::string> reference = run, stopped = run;
    reference.insert(reference.end(), {"--out", "reference.h5"});
    stopped.insert(stopped.end(), {"--out", "stopped.h5"});
    REQUIRE(run_wgflow(dir, reference).code == 0);
    const OutputSummary ref = read_output_summary(dir.file("reference.h5"));
    CHECK(std::isfinite(ref.diagnostics.rows.back().l1_to_target));
    CHECK(std::isfinite(ref.diagnostics.rows.back().w2_to_target));
    REQUIRE(interrupt_after_snapshots(dir, stopped, "stopped.h5", 4) == 128 + SIGINT);
    CHECK(read_output_summary(dir.file("stopped.h5")).snapshot_times.size() < 13);
    REQUIRE(run_wgflow(dir, {"run", "--restart", "stopped.h5", "--quiet"}).code == 0);
    check_identical_outputs(dir.file("reference.h5"), dir.file("stopped.h5"));
  }

  // --diagnostics-every K keeps the row of every K-th step and of every snapshot: exactly those rows of the
  // every-step run, bit for bit, and a run stopped between kept rows restarts bit for bit (the checkpoint
  // stores how many rows it has).
  TEST_CASE("--diagnostics-every keeps every K-th row of the full run and restarts bit for bit") {
    CliDir dir;
    const std::vector<std::string> run{"run", "--case", "f-divergence", "--dim", "1", "--n", "200", "--divergence",
                                       "hellinger", "--t-end", "20", "--snapshots", "12", "--quiet", "--threads", "1"};
    std::vector<std::string> every = run, sparse = run, stopped = run;
    every.insert(every.end(), {"--out", "every.h5"});
    sparse.insert(sparse.end(), {"--diagnostics-every", "7", "--out", "sparse.h5"});
    stopped.insert(stopped.end(), {"--diagnostics-every", "7", "--out", "stopped.h5"});
    REQUIRE(run_wgflow(dir, every).code == 0);
    REQUIRE(run_wgflow(dir, sparse).code == 0);
    const OutputSummary all = read_output_summary(dir.file("every.h5"));
    const OutputSummary kept = read_output_summary(dir.file("sparse.h5"));
    REQUIRE(all.snapshot_steps == kept.snapshot_steps);
    for (int k = 0; k < static_cast<int>(all.snapshot_steps.size()); ++k)
      CHECK(read_snapshot(dir.file("every.h5"), k) == read_snapshot(dir.file("sparse.h5"), k));
    std::vector<std::size_t> expected;  // row r of the full run is step r
    for (std::size_t r = 0; r < all.diagnostics.size(); ++r)
      if (r % 7 == 0 || std::count(all.snapshot_steps.begin(), all.snapshot_steps.end(), static_cast<long>(r)) > 0)
        expected.push_back(r);
    REQUIRE(kept.diagnostics.size() == expected.size());
    REQUIRE(kept.diagnostics.size() * 5 < all.diagnostics.size());
    bool same = true;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const DiagnosticsRow &x = all.diagnostics.rows[expected[i]], &y = kept.diagnostics.rows[i];
      same = same && x.time == y.time && x.dt == y.dt && x.mass == y.mass && x.energy == y.energy &&
             x.dissipation == y.dissipation && x.min == y.min && x.max == y.max;
    }
    CHECK(same);

    REQUIRE(interrupt_after_snapshots(dir, stopped, "stopped.h5", 4) == 128 + SIGINT);
    REQUIRE(read_output_summary(dir.file("stopped.h5")).snapshot_times.size() < 13);
    const Result restarted = run_wgflow(dir, {"run", "--restart", "stopped.h5", "--quiet"});
    INFO("stderr: " << restarted.err);
    REQUIRE(restarted.code == 0);
    check_identical_outputs(dir.file("sparse.h5"), dir.file("stopped.h5"));
  }

  TEST_CASE("--restart takes no options that change the problem and refuses files it cannot continue") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, {"run", "--n", "16", "--t-end", "0.01", "--out", "a.h5", "--quiet"}).code == 0);
    const Result extra = run_wgflow(dir, {"run", "--restart", "a.h5", "--n", "32"});
    CHECK(extra.code == 2);
    CHECK(extra.err.find("--restart: cannot be combined with --n") != std::string::npos);
    write_text(dir.work() / "text.h5", "not hdf5\n");
    const Result not_hdf5 = run_wgflow(dir, {"run", "--restart", "text.h5"});
    CHECK(not_hdf5.code == 2);
    CHECK(starts_with(not_hdf5.err, "wgflow: error: --restart text.h5: "));
    const Result missing = run_wgflow(dir, {"run", "--restart", "missing.h5"});
    CHECK(missing.code == 2);
    // A finished run has nothing left to do: restarting it changes nothing.
    const std::vector<double> before = read_snapshot(dir.file("a.h5"), -1);
    CHECK(run_wgflow(dir, {"run", "--restart", "a.h5", "--quiet"}).code == 0);
    CHECK(read_snapshot(dir.file("a.h5"), -1) == before);
    CHECK(read_output_summary(dir.file("a.h5")).snapshot_times.size() == 11);
  }
}

TEST_SUITE("cli") {
  // The interaction's FFT plans are made with FFTW_ESTIMATE, so a restarted process computes W*q with
  // the same plan and bits; the SG coefficients are rebuilt from the state at every stage.
  TEST_CASE("interaction runs stopped by SIGINT restart bit for bit (SG Keller-Segel and upwind aggregation)") {
    const std::vector<std::vector<std::string>> runs{
        {"run", "--case", "keller-segel", "--dim", "2", "--n", "80", "--domain=-4,4", "--mass", "40",
         "--gaussian-width", "0.5", "--t-end", "0.3", "--snapshots", "10", "--quiet", "--threads", "2"},
        {"run", "--case", "aggregation-diffusion", "--dim", "2", "--n", "64", "--domain=-2,2", "--diffusion", "0",
         "--gaussian-width", "0.5", "--t-end", "3", "--snapshots", "10", "--quiet", "--threads", "2"}};
    for (const std::vector<std::string>& run : runs) {
      CliDir dir;
      std::vector<std::string> reference = run, stopped = run;
      reference.insert(reference.end(), {"--out", "reference.h5"});
      stopped.insert(stopped.end(), {"--out", "stopped.h5"});
      REQUIRE(run_wgflow(dir, reference).code == 0);
      REQUIRE(interrupt_after_snapshots(dir, stopped, "stopped.h5", 4) == 128 + SIGINT);
      CHECK(read_output_summary(dir.file("stopped.h5")).snapshot_times.size() < 11);
      const Result restarted = run_wgflow(dir, {"run", "--restart", "stopped.h5", "--quiet"});
      INFO("stderr: " << restarted.err);
      REQUIRE(restarted.code == 0);
      check_identical_outputs(dir.file("reference.h5"), dir.file("stopped.h5"));
    }
  }
}
