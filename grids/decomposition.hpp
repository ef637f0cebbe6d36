#pragma once
/// How P ranks split a grid into boxes: a pure function of (global grid, P, rank), so that every
/// rank computes every box, and tests need no MPI. Ranks are numbered like MPI_Cart_create (no
/// reordering) over the axes in (z, y, x) order, x fastest: rank = (cz · py + cy) · px + cx.
///
/// The split obeys grids/reduction_chunks.hpp: x is never split in 2D/3D and only at chunk
/// boundaries in 1D, so sums over fixed chunks do not depend on P. The other axes are split as
/// MPI_Dims_create would (parts as equal as possible, the larger count on the slower axis), each
/// into nearly equal boxes (sizes differ by at most one cell, larger boxes first). Every box has at
/// least two cells along a split axis, so that both ghost layers come from the neighbouring box.
#include <array>
#include <stdexcept>
#include <string>

#include "grids/grid.hpp"

namespace wgflow {

/// P exceeds what the grid allows (an axis too short for its parts, a 1D grid with too few chunks).
class DecompositionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Ranks along each axis (x first) for P ranks on the global grid; throws DecompositionError when
/// the grid cannot be split into P boxes under the rules above.
template <int Dim>
std::array<int, Dim> split_ranks(const UniformGrid<Dim>& global, int ranks);

/// First global cell of box `part` of `parts` along an axis of n cells (the box ends where part + 1
/// starts; part = parts gives n). In 1D x the boxes hold whole reduction chunks.
int box_start(int n, int parts, int part, int chunk_cells);

/// The grid as rank `rank` of `ranks` sees it: its box (shape, offset), the parts per axis and the
/// rank beyond each side. `global` must be undecomposed. ranks = 1 returns `global` unchanged.
template <int Dim>
UniformGrid<Dim> local_grid(const UniformGrid<Dim>& global, int ranks, int rank);

/// The rank at Cartesian coordinates `coords` (x first) of a split with `parts` per axis.
template <int Dim>
int rank_at(const std::array<int, Dim>& parts, const std::array<int, Dim>& coords);
/// Inverse of rank_at.
template <int Dim>
std::array<int, Dim> coords_of(const std::array<int, Dim>& parts, int rank);

}  // namespace wgflow
