#pragma once
#include "solver/layer_guard.hpp"
/// MPI for the life of main(): hypre (the multigrid linear solver) needs MPI initialised even on one
/// rank, and a run under mpirun needs it on any number (grids/communicator.hpp, MpiRuntime).
#include <memory>

#include "grids/communicator.hpp"

namespace wgflow {

/// Whether this build has the hypre multigrid solver (CMake option WGFLOW_WITH_HYPRE).
bool multigrid_available();

/// Initialises MPI (MpiRuntime: MPI_Init_thread, MPI_THREAD_FUNNELED) unless it is already running,
/// and hypre; finalises what it initialised. Without mpirun OpenMPI starts as a singleton (one rank).
/// Builds without hypre initialise MPI only under mpirun (launched_by_mpirun), serial builds never.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  std::unique_ptr<MpiRuntime> mpi_;
  bool owns_hypre_ = false;
};

}  // namespace wgflow
