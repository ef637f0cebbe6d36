#include "grids/halo_exchange.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "grids/decomposition.hpp"

namespace wgflow {

namespace {

constexpr int G = FieldLayout<1>::ghosts;

/// Calls fn(linear index) for the G layers along `axis` starting at index `first` (interior cells
/// of the other axes), in one fixed order: both ends of a message walk the same cells this way.
template <int Dim, class Fn>
void for_each_layer_cell(const FieldLayout<Dim>& L, int axis, int first, Fn&& fn) {
  std::array<int, 3> lo{0, 0, 0}, hi{1, 1, 1};
  std::array<std::ptrdiff_t, 3> stride{0, 0, 0};
  for (int k = 0; k < Dim; ++k) {
    hi[static_cast<std::size_t>(k)] = L.shape[k];
    stride[static_cast<std::size_t>(k)] = L.stride[k];
  }
  lo[static_cast<std::size_t>(axis)] = first;
  hi[static_cast<std::size_t>(axis)] = first + G;
  for (int c2 = lo[2]; c2 < hi[2]; ++c2)
    for (int c1 = lo[1]; c1 < hi[1]; ++c1)
      for (int c0 = lo[0]; c0 < hi[0]; ++c0) fn(L.offset + c0 * stride[0] + c1 * stride[1] + c2 * stride[2]);
}

}  // namespace

bool halo_profiling() {
  static const bool on = [] {
    const char* v = std::getenv("WGFLOW_PROFILE_HALO");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

HaloProfile& halo_profile() {
  static HaloProfile totals;  // only the main thread exchanges (MPI_THREAD_FUNNELED)
  return totals;
}

template <int Dim>
HaloExchange<Dim>::HaloExchange(const UniformGrid<Dim>& grid, const Communicator& world)
    : m_grid(grid), m_neighbours(grid), m_profile(halo_profiling()), m_rank(world.rank()) {
  std::vector<int> parts;
  std::vector<bool> periodic;
  for (int k = 0; k < Dim; ++k) {
    parts.push_back(grid.parts_along(k));
    periodic.push_back(m_neighbours.periodic(k));
  }
  m_comm = world.cartesian(parts, periodic);
  std::size_t at = 0;
  for (int k = 0; k < Dim; ++k)
    for (int side = 0; side < 2; ++side) {
      if (m_neighbours.local(k, side)) continue;
      if (grid.shape[k] < G) throw std::logic_error("HaloExchange: a box thinner than the ghost layers");
      int count = G;
      for (int j = 0; j < Dim; ++j)
        if (j != k) count *= grid.shape[j];
      m_faces.push_back(Face{k, side, at, count});
      at += static_cast<std::size_t>(count);
    }
  m_send.assign(at, 0.0);
  m_receive.assign(at, 0.0);
  for (const Face& f : m_faces) {
    HaloMessage m;
    m.peer = m_neighbours.rank(f.axis, f.side);
    // Tag 2·axis + the side of the receiving box the values land on: the two messages between two
    // ranks that face each other across both ends of a periodic axis stay apart.
    m.send_tag = 2 * f.axis + (1 - f.side);
    m.receive_tag = 2 * f.axis + f.side;
    m.send = m_send.data() + f.at;
    m.receive = m_receive.data() + f.at;
    m.count = f.count;
    m_messages.push_back(m);
  }
}

template <int Dim>
void HaloExchange<Dim>::fill(Field<Dim>& f) {
  exchange(f);
  fill_own_ghosts(f, m_grid);  // walls and wraps onto this box
}

template <int Dim>
HaloExchange<Dim>::~HaloExchange() {
  if (m_profile && m_rank == 0 && m_own.exchanges > 0)
    std::fprintf(stderr, "halo exchange (rank 0, %dD box of %zu cells): %lld exchanges, %.6f s\n", Dim,
                 m_grid.num_cells(), static_cast<long long>(m_own.exchanges), m_own.seconds);
}

template <int Dim>
void HaloExchange<Dim>::exchange(Field<Dim>& f) {
  if (!m_profile) return exchange_untimed(f);
  const auto start = std::chrono::steady_clock::now();
  exchange_untimed(f);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m_own.seconds += s;
  ++m_own.exchanges;
  halo_profile().seconds += s;
  ++halo_profile().exchanges;
}

template <int Dim>
void HaloExchange<Dim>::exchange_untimed(Field<Dim>& f) {
  const FieldLayout<Dim>& L = f.layout();
  if (L.shape != m_grid.shape)
    throw std::logic_error("HaloExchange: a field whose layout is not the grid's box");
  double* q = f.data();
  for (const Face& face : m_faces) {  // this box's G boundary layers on that side
    const int n = L.shape[face.axis];
    double* out = m_send.data() + face.at;
    for_each_layer_cell(L, face.axis, face.side == 0 ? 0 : n - G, [&](std::ptrdiff_t idx) { *out++ = q[idx]; });
  }
  m_comm.exchange(m_messages);
  for (const Face& face : m_faces) {  // into the G ghost layers beyond that side
    const int n = L.shape[face.axis];
    const double* in = m_receive.data() + face.at;
    for_each_layer_cell(L, face.axis, face.side == 0 ? -G : n, [&](std::ptrdiff_t idx) { q[idx] = *in++; });
  }
}

template <int Dim>
UniformGrid<Dim> decompose(const UniformGrid<Dim>& global, const Communicator& world) {
  if (world.size() == 1) return global;
  UniformGrid<Dim> g = local_grid(global, world.size(), world.rank());
  g.ranks = world;
  g.halo = std::make_shared<HaloExchange<Dim>>(g, world);  // collective (MPI_Cart_create)
  return g;
}

template UniformGrid<1> decompose(const UniformGrid<1>&, const Communicator&);
template UniformGrid<2> decompose(const UniformGrid<2>&, const Communicator&);
template UniformGrid<3> decompose(const UniformGrid<3>&, const Communicator&);

template class HaloExchange<1>;
template class HaloExchange<2>;
template class HaloExchange<3>;

}  // namespace wgflow
