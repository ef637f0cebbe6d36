#pragma once
/// The fixed global chunks over which sums of cell values are taken (MPI issue: results must not
/// depend on how cells are split over ranks or threads). A chunk's partial sum is computed in one
/// fixed order by whoever owns it; partials are then added exactly (order-free), so the total
/// depends only on the global grid. Hence the one rule every decomposition obeys: the x-axis is
/// split only at chunk boundaries, and in 2D/3D (where a chunk is a whole x-row) not at all.
#include <algorithm>

namespace wgflow {

/// Cells per chunk along x: a whole x-row in 2D/3D; in 1D ceil(nx / 64) cells, so that up to 64
/// ranks each own at least one chunk. Depends on the global grid only.
inline int reduction_chunk_cells(int nx, int dim) {
  if (dim >= 2) return nx;
  return std::max(1, (nx + 63) / 64);
}

}  // namespace wgflow
