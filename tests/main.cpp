#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstring>
#include <memory>

#include "solver/linear/mpi_session.hpp"

namespace {
/// doctest_discover_tests runs the binary once per test case just to list its suites: no test runs,
/// so OpenMPI's singleton start (~0.7 s each, ~2 min over the suite) is skipped for listings.
bool only_lists(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list-", 7) == 0 || std::strncmp(argv[i], "-lt", 3) == 0) return true;  // -ltc, -lts
  return false;
}
}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<wgflow::MpiSession> mpi;  // the multigrid solver (hypre) needs MPI, even on one rank
  if (!only_lists(argc, argv)) mpi = std::make_unique<wgflow::MpiSession>(&argc, &argv);
  return doctest::Context(argc, argv).run();
}
