#pragma once
/// Harness for tests that run wgflow in the background (signals, concurrent writers) and compare
/// whole outputs bit for bit.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"

extern char** environ;

namespace wgflow::cli_test {

/// Starts wgflow with `args` in dir.work() without waiting; returns its pid.
inline pid_t spawn_wgflow(const CliDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv_strings{WGFLOW_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const fs::path previous = fs::current_path();
  fs::current_path(dir.work());
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, WGFLOW_BINARY, nullptr, nullptr, argv.data(), environ);
  fs::current_path(previous);
  REQUIRE(rc == 0);
  return pid;
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Every snapshot and every diagnostics row of two outputs are bitwise equal.
inline void check_identical_outputs(const std::string& expected, const std::string& actual) {
  const OutputSummary a = read_output_summary(expected);
  const OutputSummary b = read_output_summary(actual);
  REQUIRE(a.snapshot_times.size() == b.snapshot_times.size());
  CHECK(a.snapshot_times == b.snapshot_times);
  CHECK(a.snapshot_steps == b.snapshot_steps);
  for (int k = 0; k < static_cast<int>(a.snapshot_times.size()); ++k)
    CHECK(read_snapshot(expected, k) == read_snapshot(actual, k));
  REQUIRE(a.diagnostics.size() == b.diagnostics.size());
  for (std::size_t r = 0; r < a.diagnostics.size(); ++r) {
    const DiagnosticsRow &x = a.diagnostics.rows[r], &y = b.diagnostics.rows[r];
    const bool same = x.time == y.time && x.dt == y.dt && x.mass == y.mass && x.energy == y.energy &&
                      x.dissipation == y.dissipation && x.min == y.min && x.max == y.max &&
                      std::memcmp(&x.l1_to_target, &y.l1_to_target, sizeof(double)) == 0 &&  // NaN outside
                      std::memcmp(&x.w2_to_target, &y.w2_to_target, sizeof(double)) == 0;   // f-divergence runs
    if (!same) {
      FAIL_CHECK("diagnostics row " << r << " differs");
      break;
    }
  }
}

}  // namespace wgflow::cli_test
