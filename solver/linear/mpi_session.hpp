#pragma once
/// MPI for the life of main(): hypre (the multigrid linear solver) needs MPI initialised even on one rank.

namespace wgflow {

/// Whether this build has the hypre multigrid solver (CMake option WGFLOW_WITH_HYPRE).
bool multigrid_available();

/// Initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP threads
/// never do) and hypre, unless MPI is already initialised; finalises what it initialised. Without mpirun
/// OpenMPI starts as a singleton (one rank). A no-op in builds without hypre.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool owns_ = false;
};

}  // namespace wgflow
