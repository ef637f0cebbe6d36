#include "grids/communicator.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef WGFLOW_HAVE_MPI
#include <mpi.h>
#endif

namespace wgflow {

bool launched_by_mpirun() {
  // OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE, MPICH's Hydra and Slurm's PMI set PMI_SIZE, srun with
  // PMIx sets PMIX_RANK. An OpenMPI singleton (a process that called MPI_Init without mpirun, such as
  // the test runner for hypre) sets PMIX_RANK too, with OMPI_MCA_ess=singleton, and its children
  // inherit both: they were not launched by mpirun and must not start MPI.
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr) return true;
  const char* ess = std::getenv("OMPI_MCA_ess");
  return std::getenv("PMIX_RANK") != nullptr && !(ess != nullptr && std::string(ess) == "singleton");
}

int launcher_rank() {
  if (!launched_by_mpirun()) return 0;
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return 0;
}

#ifdef WGFLOW_HAVE_MPI

bool mpi_built() { return true; }

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised != 0) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  m_owns = true;
}

MpiRuntime::~MpiRuntime() {
  if (m_owns) MPI_Finalize();
}

struct Communicator::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  bool owned = false;  ///< created here (a Cartesian communicator): freed here
  mutable std::vector<MPI_Request> requests;
  ~Impl() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned && finalized == 0) MPI_Comm_free(&comm);
  }
};

Communicator::Communicator() = default;

Communicator Communicator::world() {
  Communicator c;
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised == 0) return c;
  auto impl = std::make_shared<Impl>();
  impl->comm = MPI_COMM_WORLD;
  c.m_impl = impl;
  return c;
}

int Communicator::rank() const {
  if (!m_impl) return 0;
  int r = 0;
  MPI_Comm_rank(m_impl->comm, &r);
  return r;
}

int Communicator::size() const {
  if (!m_impl) return 1;
  int n = 1;
  MPI_Comm_size(m_impl->comm, &n);
  return n;
}

double Communicator::max(double value) const {
  if (!m_impl) return value;
  double out = value;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, m_impl->comm);
  return out;
}

int Communicator::ranks_on_this_machine() const {
  if (!m_impl) return 1;
  MPI_Comm machine;
  MPI_Comm_split_type(m_impl->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &machine);
  int count = 1;
  MPI_Comm_size(machine, &count);
  MPI_Comm_free(&machine);
  return count;
}

double Communicator::min(double value) const {
  if (!m_impl) return value;
  double out = value;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MIN, m_impl->comm);
  return out;
}

void Communicator::max(double* values, int count) const {
  if (!m_impl || count == 0) return;
  MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_MAX, m_impl->comm);
}

std::string Communicator::first_message(const std::string& local) const {
  if (!m_impl) return local;
  const int n = size();
  const int mine = local.empty() ? n : rank();
  int root = n;
  MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, m_impl->comm);
  if (root == n) return std::string();
  int length = static_cast<int>(local.size());
  MPI_Bcast(&length, 1, MPI_INT, root, m_impl->comm);
  std::string text = rank() == root ? local : std::string(static_cast<std::size_t>(length), ' ');
  MPI_Bcast(&text[0], length, MPI_CHAR, root, m_impl->comm);
  return text;
}

void Communicator::sum(std::int64_t* values, int count) const {
  if (!m_impl || count == 0) return;
  MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_INT64_T, MPI_SUM, m_impl->comm);
}

void Communicator::exclusive_sum(std::int64_t* values, int count) const {
  if (!m_impl) {  // one rank: nothing below it
    std::fill(values, values + count, 0);
    return;
  }
  if (count == 0) return;
  std::vector<std::int64_t> below(static_cast<std::size_t>(count), 0);
  MPI_Exscan(values, below.data(), count, MPI_INT64_T, MPI_SUM, m_impl->comm);
  if (rank() == 0) std::fill(below.begin(), below.end(), 0);  // MPI leaves rank 0's result undefined
  std::copy(below.begin(), below.end(), values);
}

std::vector<double> Communicator::all_gather(const double* values, int count) const {
  if (!m_impl) return std::vector<double>(values, values + count);
  const int n = size();
  std::vector<int> counts(static_cast<std::size_t>(n)), displs(static_cast<std::size_t>(n), 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, m_impl->comm);
  for (int r = 1; r < n; ++r) displs[static_cast<std::size_t>(r)] = displs[static_cast<std::size_t>(r) - 1] + counts[static_cast<std::size_t>(r) - 1];
  std::vector<double> all(static_cast<std::size_t>(displs.back() + counts.back()));
  MPI_Allgatherv(values, count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, m_impl->comm);
  return all;
}

void Communicator::abort(int code) const {
  if (m_impl) MPI_Abort(m_impl->comm, code);
  std::exit(code);
}

Communicator Communicator::cartesian(const std::vector<int>& parts_x_first,
                                     const std::vector<bool>& periodic_x_first) const {
  const int n = static_cast<int>(parts_x_first.size());
  int total = 1;
  for (int p : parts_x_first) total *= p;
  if (total != size()) throw std::logic_error("Communicator::cartesian: the parts do not multiply to the rank count");
  if (!m_impl) return *this;
  std::vector<int> dims(static_cast<std::size_t>(n)), periods(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) {  // MPI's row-major order: the last dimension varies fastest (x)
    dims[static_cast<std::size_t>(n - 1 - k)] = parts_x_first[static_cast<std::size_t>(k)];
    periods[static_cast<std::size_t>(n - 1 - k)] = periodic_x_first[static_cast<std::size_t>(k)] ? 1 : 0;
  }
  auto impl = std::make_shared<Impl>();
  MPI_Cart_create(m_impl->comm, n, dims.data(), periods.data(), 0, &impl->comm);
  impl->owned = true;
  Communicator c;
  c.m_impl = impl;
  return c;
}

void Communicator::exchange(const std::vector<HaloMessage>& messages) const {
  if (messages.empty()) return;
  if (!m_impl) throw std::logic_error("Communicator::exchange: a single rank has no one to exchange with");
  auto& req = m_impl->requests;
  req.resize(2 * messages.size());  // allocates on the first exchange only
  std::size_t r = 0;
  for (const HaloMessage& m : messages)
    MPI_Irecv(m.receive, m.count, MPI_DOUBLE, m.peer, m.receive_tag, m_impl->comm, &req[r++]);
  for (const HaloMessage& m : messages)
    MPI_Isend(m.send, m.count, MPI_DOUBLE, m.peer, m.send_tag, m_impl->comm, &req[r++]);
  MPI_Waitall(static_cast<int>(r), req.data(), MPI_STATUSES_IGNORE);
}

void Communicator::exchange_parcels(const std::vector<ParcelMessage>& messages) const {
  if (messages.empty()) return;
  if (!m_impl) throw std::logic_error("Communicator::exchange: a single rank has no one to exchange with");
  const std::size_t n = messages.size();
  std::vector<MPI_Request> req(2 * n);
  std::vector<std::int64_t> sizes_in(n), sizes_out(n);
  const int size_tag = 1 << 14;  // the sizes' tags: apart from the data's
  for (std::size_t m = 0; m < n; ++m)
    MPI_Irecv(&sizes_in[m], 1, MPI_INT64_T, messages[m].peer, size_tag + messages[m].receive_tag, m_impl->comm, &req[m]);
  for (std::size_t m = 0; m < n; ++m) {
    sizes_out[m] = static_cast<std::int64_t>(messages[m].send->size());
    MPI_Isend(&sizes_out[m], 1, MPI_INT64_T, messages[m].peer, size_tag + messages[m].send_tag, m_impl->comm, &req[n + m]);
  }
  MPI_Waitall(static_cast<int>(2 * n), req.data(), MPI_STATUSES_IGNORE);
  for (std::size_t m = 0; m < n; ++m) {
    messages[m].receive->resize(static_cast<std::size_t>(sizes_in[m]));
    MPI_Irecv(messages[m].receive->data(), static_cast<int>(sizes_in[m]), MPI_DOUBLE, messages[m].peer,
              messages[m].receive_tag, m_impl->comm, &req[m]);
  }
  for (std::size_t m = 0; m < n; ++m)
    MPI_Isend(messages[m].send->data(), static_cast<int>(sizes_out[m]), MPI_DOUBLE, messages[m].peer,
              messages[m].send_tag, m_impl->comm, &req[n + m]);
  MPI_Waitall(static_cast<int>(2 * n), req.data(), MPI_STATUSES_IGNORE);
}

const void* Communicator::mpi_handle() const { return m_impl ? &m_impl->comm : nullptr; }

#else  // a serial build: one rank

bool mpi_built() { return false; }
MpiRuntime::MpiRuntime(int*, char***) {}
MpiRuntime::~MpiRuntime() = default;

struct Communicator::Impl {};
Communicator::Communicator() = default;
Communicator Communicator::world() { return Communicator(); }
int Communicator::rank() const { return 0; }
int Communicator::size() const { return 1; }
double Communicator::max(double value) const { return value; }
double Communicator::min(double value) const { return value; }
int Communicator::ranks_on_this_machine() const { return 1; }
void Communicator::max(double*, int) const {}
std::string Communicator::first_message(const std::string& local) const { return local; }
void Communicator::sum(std::int64_t*, int) const {}
void Communicator::exclusive_sum(std::int64_t* values, int count) const { std::fill(values, values + count, 0); }
std::vector<double> Communicator::all_gather(const double* values, int count) const {
  return std::vector<double>(values, values + count);
}
void Communicator::abort(int code) const { std::exit(code); }
Communicator Communicator::cartesian(const std::vector<int>& parts_x_first, const std::vector<bool>&) const {
  for (int p : parts_x_first)
    if (p != 1) throw std::logic_error("Communicator::cartesian: a serial build has one rank");
  return *this;
}
void Communicator::exchange(const std::vector<HaloMessage>& messages) const {
  if (!messages.empty()) throw std::logic_error("Communicator::exchange: a serial build has one rank");
}
void Communicator::exchange_parcels(const std::vector<ParcelMessage>& messages) const {
  if (!messages.empty()) throw std::logic_error("Communicator::exchange: a serial build has one rank");
}
const void* Communicator::mpi_handle() const { return nullptr; }

#endif

}  // namespace wgflow
