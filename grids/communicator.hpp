#pragma once
/// The ranks of a run and the few collective operations the seam needs, behind one small class so
/// that nothing above grids/ includes mpi.h. In a serial build (CMake WGFLOW_WITH_MPI=OFF), and in
/// any run not started by mpirun, it is a single rank and every operation is a local no-op.
///
/// MPI is started only where it is needed: a run under mpirun (launched_by_mpirun) or one that uses
/// hypre (solver/linear/mpi_session.hpp). A plain `wgflow run` never initialises MPI: OpenMPI's
/// singleton start costs about a second.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wgflow {

/// Whether this build can run on several ranks (CMake option WGFLOW_WITH_MPI).
bool mpi_built();

/// Whether the process was started by mpirun/mpiexec/srun (their environment: OMPI_COMM_WORLD_SIZE,
/// PMI_SIZE, PMIX_RANK, but not an OpenMPI singleton's PMIX_RANK inherited by a child), so that MPI
/// must be initialised even on one rank.
bool launched_by_mpirun();

/// This process's rank in the job as its launcher numbered it (OMPI_COMM_WORLD_RANK, PMI_RANK,
/// PMIX_RANK), 0 when not launched by mpirun. Known before MPI starts: errors in the options, which
/// every rank finds alike, are printed by rank 0 alone.
int launcher_rank();

/// MPI for the life of main(): MPI_Init_thread (MPI_THREAD_FUNNELED: only the main thread calls MPI,
/// OpenMP threads never do) unless MPI is already running; MPI_Finalize of what it initialised.
/// A no-op in a serial build.
class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

 private:
  bool m_owns = false;
};

/// One message of an exchange: `count` doubles from `send` to rank `peer`, and `count` doubles from
/// `peer` into `receive`; `tag` tells apart several messages between the same two ranks (the one
/// sent with tag t is received with tag t).
struct HaloMessage {
  int peer = 0;
  int send_tag = 0, receive_tag = 0;
  const double* send = nullptr;
  double* receive = nullptr;
  int count = 0;
};

/// One message of an exchange whose sizes the receivers do not know: `send` to rank `peer` with tag
/// send_tag, and what `peer` sends with tag receive_tag into `receive` (resized to fit).
struct ParcelMessage {
  int peer = 0;
  int send_tag = 0, receive_tag = 0;
  const std::vector<double>* send = nullptr;
  std::vector<double>* receive = nullptr;
};

class Communicator {
 public:
  /// A single rank (no MPI).
  Communicator();
  /// All ranks of the run (MPI_COMM_WORLD) when MPI is running, else a single rank.
  static Communicator world();

  int rank() const;
  int size() const;
  /// How many of these ranks share this rank's machine (MPI_COMM_TYPE_SHARED; 1 without MPI): what
  /// a memory check per machine multiplies a rank's need by. Collective.
  int ranks_on_this_machine() const;

  /// The largest/smallest value over all ranks: exact in any order, so the same on every rank and
  /// for every decomposition.
  double max(double value) const;
  double min(double value) const;
  /// Elementwise max over all ranks, in place (several limits in one allreduce).
  void max(double* values, int count) const;
  /// The message of the lowest rank whose `local` is not empty, on every rank ("" when every rank
  /// passes ""): an error found on one rank's box becomes the same error on every rank, so that
  /// all of them stop alike and rank 0 can report it.
  std::string first_message(const std::string& local) const;
  /// Elementwise sum over all ranks, in place: for exact (integer) accumulators, whose sum does not
  /// depend on the order.
  void sum(std::int64_t* values, int count) const;
  /// Elementwise sum over the ranks below this one, in place (MPI_Exscan; zeros on rank 0): the
  /// exact prefix of integer accumulators, e.g. where a rank's share of a cumulative sum starts.
  void exclusive_sum(std::int64_t* values, int count) const;
  /// Every rank's `count` doubles (counts may differ), concatenated in rank order, on every rank.
  /// For data gathered once per run (a 1D target line), never per step.
  std::vector<double> all_gather(const double* values, int count) const;
  /// Ends the whole job (every rank) with this exit code; on one rank, std::exit.
  [[noreturn]] void abort(int code) const;

  /// The Cartesian communicator of a split with parts[k] ranks along axis k (x first; MPI_Cart_create
  /// over (z, y, x) without reordering, so ranks keep their numbers: grids/decomposition.hpp).
  Communicator cartesian(const std::vector<int>& parts_x_first, const std::vector<bool>& periodic_x_first) const;
  /// Posts every receive, then every send (nonblocking), and waits for all of them.
  void exchange(const std::vector<HaloMessage>& messages) const;
  /// The same for messages of any size: the sizes first, then the data (e.g. particles that move to
  /// a neighbouring box).
  void exchange_parcels(const std::vector<ParcelMessage>& messages) const;

  /// The MPI_Comm of these ranks, as a `const MPI_Comm*` (nullptr for a single rank without MPI), for
  /// the one user outside grids/: io/'s parallel HDF5 files (H5Pset_fapl_mpio), which include mpi.h.
  const void* mpi_handle() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> m_impl;  ///< nullptr: a single rank
};

}  // namespace wgflow
