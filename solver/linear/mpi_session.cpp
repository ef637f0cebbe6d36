/// MPI and hypre initialisation for main().
#include "solver/linear/mpi_session.hpp"

#ifdef WGFLOW_HAVE_HYPRE
#include <mpi.h>

#include <HYPRE_utilities.h>
#endif

namespace wgflow {

#ifdef WGFLOW_HAVE_HYPRE
bool multigrid_available() { return true; }

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised != 0) return;  // someone else's MPI, and so their hypre
  mpi_ = std::make_unique<MpiRuntime>(argc, argv);
  HYPRE_Init();
  owns_hypre_ = true;
}

MpiSession::~MpiSession() {
  if (owns_hypre_) HYPRE_Finalize();  // before MPI_Finalize (mpi_'s destructor)
}
#else
bool multigrid_available() { return false; }
// Without hypre only a run under mpirun needs MPI (a no-op in serial builds).
MpiSession::MpiSession(int* argc, char*** argv) {
  if (launched_by_mpirun()) mpi_ = std::make_unique<MpiRuntime>(argc, argv);
}
MpiSession::~MpiSession() = default;
#endif

}  // namespace wgflow
