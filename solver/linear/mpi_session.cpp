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
  if (initialised != 0) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  HYPRE_Init();
  owns_ = true;
}

MpiSession::~MpiSession() {
  if (!owns_) return;
  HYPRE_Finalize();
  MPI_Finalize();
}
#else
bool multigrid_available() { return false; }
MpiSession::MpiSession(int*, char***) {}
MpiSession::~MpiSession() = default;
#endif

}  // namespace wgflow
