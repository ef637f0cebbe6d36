#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "solver/linear/mpi_session.hpp"

int main(int argc, char** argv) {
  const wgflow::MpiSession mpi(&argc, &argv);  // the multigrid solver (hypre) needs MPI, even on one rank
  return doctest::Context(argc, argv).run();
}
