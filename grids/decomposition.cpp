#include "grids/decomposition.hpp"

#include <algorithm>
#include <vector>

#include "grids/field.hpp"
#include "grids/reduction_chunks.hpp"

namespace wgflow {

namespace {

constexpr int min_box_cells = FieldLayout<1>::ghosts;  ///< both ghost layers from one neighbour box

/// MPI_Dims_create(P, m): m factors of P, as close to each other as possible, in non-increasing
/// order (the order MPI returns them in). Greedy over P's prime factors, largest first, each onto
/// the currently smallest factor: MPI implementations use the same balanced rule.
std::vector<int> dims_create(int P, int m) {
  std::vector<int> primes;
  for (int p = 2, rest = P; rest > 1; ++p) {
    if (static_cast<long>(p) * p > rest) p = rest;
    while (rest % p == 0) {
      primes.push_back(p);
      rest /= p;
    }
  }
  std::vector<int> dims(static_cast<std::size_t>(m), 1);
  for (auto it = primes.rbegin(); it != primes.rend(); ++it) *std::min_element(dims.begin(), dims.end()) *= *it;
  std::sort(dims.begin(), dims.end(), std::greater<int>());
  return dims;
}

const char* axis_name(int k) { return k == 0 ? "x" : k == 1 ? "y" : "z"; }

}  // namespace

int box_start(int n, int parts, int part, int chunk_cells) {
  const long chunks = (n + chunk_cells - 1) / chunk_cells;
  const long first_chunk = (chunks * part + parts - 1) / parts;  // ceil: the larger boxes come first
  return static_cast<int>(std::min<long>(n, first_chunk * chunk_cells));
}

template <int Dim>
std::array<int, Dim> split_ranks(const UniformGrid<Dim>& global, int ranks) {
  if (ranks < 1) throw DecompositionError("ranks: need at least 1 (got " + std::to_string(ranks) + ")");
  std::array<int, Dim> parts{};
  parts.fill(1);
  if (Dim == 1) {
    parts[0] = ranks;
  } else {
    // x stays whole (reduction chunks are x-rows); MPI_Dims_create over the others, the larger
    // count on the slower axis (z before y), as MPI_Cart_create orders them.
    const std::vector<int> d = dims_create(ranks, Dim - 1);
    for (int k = Dim - 1, i = 0; k >= 1; --k, ++i) parts[k] = d[static_cast<std::size_t>(i)];
  }
  for (int k = 0; k < Dim; ++k) {
    if (parts[k] == 1) continue;
    const int n = global.global_shape(k);
    const int chunk = k == 0 ? reduction_chunk_cells(n, Dim) : 1;
    for (int p = 0; p < parts[k]; ++p) {
      const int cells = box_start(n, parts[k], p + 1, chunk) - box_start(n, parts[k], p, chunk);
      if (cells < min_box_cells) {
        const std::string unit = chunk > 1 ? " (split only at multiples of " + std::to_string(chunk) + " cells)" : "";
        throw DecompositionError(std::to_string(ranks) + " ranks: the " + std::to_string(n) + " cells along " +
                                 axis_name(k) + unit + " cannot be split into " + std::to_string(parts[k]) +
                                 " boxes of at least " + std::to_string(min_box_cells) + " cells");
      }
    }
  }
  return parts;
}

template <int Dim>
int rank_at(const std::array<int, Dim>& parts, const std::array<int, Dim>& coords) {
  int r = 0;
  for (int k = Dim - 1; k >= 0; --k) r = r * std::max(1, parts[k]) + coords[k];  // 0 parts: one
  return r;
}

template <int Dim>
std::array<int, Dim> coords_of(const std::array<int, Dim>& parts, int rank) {
  std::array<int, Dim> c{};
  for (int k = 0; k < Dim; ++k) {
    const int p = std::max(1, parts[k]);  // 0 parts (an undecomposed grid): one
    c[k] = rank % p;
    rank /= p;
  }
  return c;
}

template <int Dim>
UniformGrid<Dim> local_grid(const UniformGrid<Dim>& global, int ranks, int rank) {
  if (global.decomposed()) throw std::logic_error("local_grid: the grid is already decomposed");
  if (ranks == 1) return global;
  if (rank < 0 || rank >= ranks) throw std::logic_error("local_grid: rank out of range");
  const std::array<int, Dim> parts = split_ranks(global, ranks);
  const std::array<int, Dim> at = coords_of<Dim>(parts, rank);
  UniformGrid<Dim> g = global;
  for (int k = 0; k < Dim; ++k) {
    const int n = global.shape[k];
    const int chunk = k == 0 ? reduction_chunk_cells(n, Dim) : 1;
    g.global_cells[k] = n;
    g.parts[k] = parts[k];
    g.offset[k] = box_start(n, parts[k], at[k], chunk);
    g.shape[k] = box_start(n, parts[k], at[k] + 1, chunk) - g.offset[k];
    for (int side = 0; side < 2; ++side) {
      std::array<int, Dim> beyond = at;
      beyond[k] += side == 0 ? -1 : 1;
      const bool outside = beyond[k] < 0 || beyond[k] >= parts[k];
      if (outside && (global.boundary[k] != Boundary::periodic || parts[k] == 1)) {
        g.neighbour_rank[k][side] = own_boundary;  // a wall, or the wrap onto this same box
        continue;
      }
      beyond[k] = (beyond[k] + parts[k]) % parts[k];
      g.neighbour_rank[k][side] = rank_at<Dim>(parts, beyond);
    }
  }
  return g;
}

template std::array<int, 1> split_ranks<1>(const UniformGrid<1>&, int);
template std::array<int, 2> split_ranks<2>(const UniformGrid<2>&, int);
template std::array<int, 3> split_ranks<3>(const UniformGrid<3>&, int);
template UniformGrid<1> local_grid<1>(const UniformGrid<1>&, int, int);
template UniformGrid<2> local_grid<2>(const UniformGrid<2>&, int, int);
template UniformGrid<3> local_grid<3>(const UniformGrid<3>&, int, int);
template int rank_at<1>(const std::array<int, 1>&, const std::array<int, 1>&);
template int rank_at<2>(const std::array<int, 2>&, const std::array<int, 2>&);
template int rank_at<3>(const std::array<int, 3>&, const std::array<int, 3>&);
template std::array<int, 1> coords_of<1>(const std::array<int, 1>&, int);
template std::array<int, 2> coords_of<2>(const std::array<int, 2>&, int);
template std::array<int, 3> coords_of<3>(const std::array<int, 3>&, int);

}  // namespace wgflow
