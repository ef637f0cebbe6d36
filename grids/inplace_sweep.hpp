#pragma once
/// Stencil updates written over their own input ("in place"), for stencils that reach one cell along
/// y and z (the 5- and 7-point stencils of the SG flux). An explicit SSP-RK step then needs one stage
/// buffer instead of two, which is what brings SG with a potential in 3D to stages + 3 = 6 grid arrays
/// (docs/benchmarks.md, issue 7), and the stores go to lines the stencil has just read instead of
/// to a third array that must first be fetched (write-allocate).
///
/// Each thread sweeps a slab of slices (z-planes in 3D, y-rows in 2D) row by row. Before a row is
/// overwritten its old values (with its x-ghosts) are copied into a per-thread ring of one slice plus
/// one row, which is exactly the rows a later row of the sweep can still need: the row itself, the
/// one before it (y − 1) and the one a slice back (z − 1). The slices just outside the slab, which
/// the neighbouring threads overwrite, are copied before a barrier. Ghost rows are never read: a
/// neighbour across a boundary is taken from the interior row fill_ghosts would copy (mirror or wrap),
/// so the ghosts can be refilled (RowGhostFiller) as each row is written. The exception is a side
/// that faces another rank (grids/halo.hpp): its ghost rows hold the neighbour's values, are read
/// directly and are never written by the sweep; after run() they are stale and the caller must
/// exchange them again (grids/halo_exchange.hpp) before the next stage. Every update reads only old
/// values, so the results are bitwise those of the out-of-place update for any number of threads.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/halo.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

/// Old values around the row [begin, begin + count): centre[i] is cell begin + i (i = −2 … count + 1,
/// so with its x-ghosts); lo[k][i] and hi[k][i] its neighbours one cell down and up axis k
/// (lo[0] = centre − 1, hi[0] = centre + 1).
template <int Dim>
struct RowInputs {
  const double* centre = nullptr;
  std::array<const double*, Dim> lo{};
  std::array<const double*, Dim> hi{};

  /// The inputs of an update that reads an unchanged array q (out of place).
  static RowInputs of_array(const double* q, const FieldLayout<Dim>& L, std::ptrdiff_t begin) {
    RowInputs in;
    in.centre = q + begin;
    for (int k = 0; k < Dim; ++k) {
      in.lo[k] = q + begin - L.stride[k];
      in.hi[k] = q + begin + L.stride[k];
    }
    return in;
  }
};

template <int Dim>
class InPlaceSweep {
 public:
  InPlaceSweep() = default;
  /// Allocates the per-thread scratch (about three slices per thread) for up to max_threads threads.
  InPlaceSweep(const FieldLayout<Dim>& L, const UniformGrid<Dim>& grid, int max_threads)
      : m_layout(L), m_nb(grid), m_ghosts(L, grid) {
    m_available = Dim >= 2 && m_ghosts.fused();  // every axis ≥ 2 cells: boundary neighbours are interior
    if (!m_available) return;
    m_scratch.resize(static_cast<std::size_t>(std::max(1, max_threads)));
    for (auto& s : m_scratch) s.assign(static_cast<std::size_t>((3 * rows_per_slice() + 1) * width()), 0.0);
  }
  bool available() const { return m_available; }

  /// Calls row(inputs, begin, count) once for every interior row; row must write the row's new
  /// values into q[begin, begin + count) and read old values only through inputs. Afterwards the
  /// ghosts of q are filled as fill_ghosts would fill them. Allocates nothing.
  template <class Row>
  void run(double* q, Row&& row) {
    const auto& L = m_layout;
    const int ns = L.shape[Dim - 1], R = rows_per_slice(), W = width();
    const bool parallel = L.num_cells() >= parallel_min_cells;
    const bool ghost_rows = m_nb.exchanges();  // some side faces another rank: its ghost rows are read
    const int T = parallel ? std::min(omp_get_max_threads(), static_cast<int>(m_scratch.size())) : 1;
#pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int k0 = static_cast<int>(static_cast<long>(ns) * t / nt);
      const int k1 = static_cast<int>(static_cast<long>(ns) * (t + 1) / nt);
      double* ring = m_scratch[static_cast<std::size_t>(t)].data();
      double* below = ring + static_cast<std::ptrdiff_t>(R + 1) * W;
      double* above = below + static_cast<std::ptrdiff_t>(R) * W;
      // Slices the slab's first and last slice read across its ends (after the boundary map). They
      // need a copy when another thread overwrites them, or when they are this slab's own slices
      // that the sweep has left the ring by the time they are read (periodic, one thread).
      const int kb = k1 > k0 ? map(Dim - 1, k0 - 1) : -1;
      const int ka = k1 > k0 ? map(Dim - 1, k1) : -1;
      const bool below_copied = kb >= 0 && kb < ns && (kb < k0 || kb >= k1);
      const bool above_copied = ka >= 0 && ka < ns && (ka >= k1 || ka < k1 - 2);
      for (int j = 0; j < R; ++j) {
        if (below_copied) copy_row(q, j, kb, below + static_cast<std::ptrdiff_t>(j) * W);
        if (above_copied) copy_row(q, j, ka, above + static_cast<std::ptrdiff_t>(j) * W);
      }
#pragma omp barrier
      for (int k = k0; k < k1; ++k)
        for (int j = 0; j < R; ++j) {
          const long r = static_cast<long>(k - k0) * R + j;  // position in this thread's sweep
          double* slot = ring + (r % (R + 1)) * W;
          copy_row(q, j, k, slot);
          // Old values of row (jj, kk) of this slab or its halo, read while row r is updated.
          auto old_row = [&](int jj, int kk) -> const double* {
            // A rank side's ghost row: the exchange's values, never written by the sweep.
            if (ghost_rows && (kk < 0 || kk >= ns || jj < 0 || jj >= R)) return q + row_begin(jj, kk);
            if (kk == ka && above_copied) return above + static_cast<std::ptrdiff_t>(jj) * W + G;
            if (kk == kb && below_copied) return below + static_cast<std::ptrdiff_t>(jj) * W + G;
            const long rr = static_cast<long>(kk - k0) * R + jj;
            if (rr <= r) return ring + (rr % (R + 1)) * W + G;  // already overwritten: r − rr ≤ R
            return q + row_begin(jj, kk);                        // not yet
          };
          RowInputs<Dim> in;
          in.centre = slot + G;
          in.lo[0] = in.centre - 1;
          in.hi[0] = in.centre + 1;
          in.lo[Dim - 1] = old_row(j, map(Dim - 1, k - 1));
          in.hi[Dim - 1] = old_row(j, map(Dim - 1, k + 1));
          if constexpr (Dim == 3) {
            in.lo[1] = old_row(map(1, j - 1), k);
            in.hi[1] = old_row(map(1, j + 1), k);
          }
          const std::ptrdiff_t begin = row_begin(j, k);
          row(in, begin, L.shape[0]);
          m_ghosts(q, begin, L.shape[0]);
        }
    }
  }

 private:
  static constexpr int G = FieldLayout<Dim>::ghosts;
  int rows_per_slice() const { return Dim == 3 ? m_layout.shape[1] : 1; }
  int width() const { return m_layout.shape[0] + 2 * G; }
  /// Row j of slice k (j = 0 in 2D).
  std::ptrdiff_t row_begin(int j, int k) const {
    if constexpr (Dim == 3) return m_layout.offset + j * m_layout.stride[1] + k * m_layout.stride[2];
    return m_layout.offset + k * m_layout.stride[Dim - 1];
  }
  /// Index whose value the neighbour index i ∈ [−1, n] holds (Neighbours::neighbour_index): itself,
  /// across a wall the cell it mirrors, across a wrap the cell it wraps to (what fill_ghosts copies
  /// to ghost i), across a rank side the ghost row itself.
  int map(int axis, int i) const { return m_nb.neighbour_index(axis, i); }
  void copy_row(const double* q, int j, int k, double* to) const {
    std::memcpy(to, q + row_begin(j, k) - G, static_cast<std::size_t>(width()) * sizeof(double));
  }

  FieldLayout<Dim> m_layout;
  Neighbours<Dim> m_nb;
  RowGhostFiller<Dim> m_ghosts{FieldLayout<Dim>(), UniformGrid<Dim>()};
  bool m_available = false;
  std::vector<std::vector<double>> m_scratch;  ///< per thread: ring (R + 1 rows), below (R), above (R)
};

}  // namespace wgflow
