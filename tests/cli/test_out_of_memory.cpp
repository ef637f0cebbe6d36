/// Running out of memory in the middle of a run (issue 17: "std::bad_alloc ... leaving an output with
/// no snapshots"): the run's address space is capped (prlimit RLIMIT_AS) below what it holds, after
/// it has written snapshots. It must stop with one clean line and exit 1 — not a signal (HDF5 1.10
/// crashed inside H5Fcreate on a failed allocation before io/output_files.cpp probed for headroom) —
/// keep what it wrote readable, and --restart must finish bit for bit like an uninterrupted run.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"
#include "tests/cli/process_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// Starts `wgflow ARGS` in dir.work() with stderr into `err_path`; returns its pid.
pid_t spawn_with_stderr(const CliDir& dir, const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<std::string> argv_strings{WGFLOW_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const fs::path previous = fs::current_path();
  fs::current_path(dir.work());
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, WGFLOW_BINARY, &actions, nullptr, argv.data(), environ);
  fs::current_path(previous);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  return pid;
}

/// VmSize of process `pid` in bytes (0 if unreadable).
double vm_size_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  double kib = 0.0;
  while (status >> key) {
    if (key == "VmSize:") {
      status >> kib;
      return kib * 1024.0;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0.0;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("running out of memory mid-run stops with one line and keeps the snapshots and --restart finishes bitwise") {
    CliDir dir;
    const std::vector<std::string> args{"run", "--case", "fokker-planck", "--dim", "2", "--n", "96", "--gaussian-center",
                                        "1", "--t-end", "4", "--snapshots", "40", "--threads", "1", "--quiet"};
    std::vector<std::string> reference = args, capped = args;
    reference.insert(reference.end(), {"--out", "whole.h5"});
    capped.insert(capped.end(), {"--out", "oom.h5"});
    REQUIRE(run_wgflow(dir, reference).code == 0);

    const std::string err_path = (dir.root() / "oom-stderr.txt").string();
    const pid_t pid = spawn_with_stderr(dir, capped, err_path);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(dir.work() / "oom.h5.d" / "000001.h5") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Stopped while the cap is set, so the run cannot finish in between; the cap is 9 MiB below what it
    // maps (more than the 8 MiB HDF5 probe, which may be mapped at this moment).
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    const double vm = vm_size_bytes(pid);
    REQUIRE(vm > 0.0);
    const rlim_t cap = static_cast<rlim_t>(vm) - (9u << 20);
    const struct rlimit limit { cap, RLIM_INFINITY };
    REQUIRE(::prlimit(pid, RLIMIT_AS, &limit, nullptr) == 0);
    REQUIRE(::kill(pid, SIGCONT) == 0);
    const int code = wait_exit_code(pid);
    const std::string err = read_text(err_path);
    INFO("stderr: " << err);
    // The out-of-memory path really ran: exit 1 (not a signal, not a finished run) and its one line.
    CHECK(code == 1);
    CHECK(count_lines(err) == 1);
    REQUIRE(starts_with(err, "wgflow: error: out of memory at step "));
    CHECK(contains(err, "snapshots written so far are kept in oom.h5; continue with wgflow run --restart oom.h5"));
    CHECK(!fs::exists(dir.work() / "oom.h5.lock"));  // the lock went with the process

    // What it wrote is readable, and at least the two snapshots seen before the cap are there.
    const OutputSummary kept = read_output_summary(dir.file("oom.h5"));
    CHECK(kept.snapshot_times.size() >= 2);
    CHECK(kept.snapshot_times.size() < 41);
    for (int k = 0; k < static_cast<int>(kept.snapshot_times.size()); ++k)
      CHECK(read_snapshot(dir.file("oom.h5"), k) == read_snapshot(dir.file("whole.h5"), k));

    const Result restarted = run_wgflow(dir, {"run", "--restart", "oom.h5", "--quiet"});
    INFO("restart stderr: " << restarted.err);
    REQUIRE(restarted.code == 0);
    check_identical_outputs(dir.file("whole.h5"), dir.file("oom.h5"));
  }
}
