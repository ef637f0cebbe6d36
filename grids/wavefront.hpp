#pragma once
/// Temporal blocking of explicit stages (issue 14, item 5): the S stages of a step, each a stencil
/// that reaches `reach` slices along the last axis (y-rows in 2D, z-planes in 3D), computed in one
/// traversal instead of S sweeps over the whole grid, so that a slice of a stage's output is read by
/// the next stage while it is still in cache.
///
/// Each thread owns a band [k0, k1) of slices (static partition). Phase 1, in every band at once, is a
/// wavefront over a trapezoid: at step r the thread computes stage 0 of slice r, stage 1 of slice
/// r − reach, stage 2 of slice r − 2·reach, where stage s covers [k0 + s·reach, k1 − s·reach) (a side
/// that is a wall is not shrunk: the slices beyond it are mirrors of the band's own). After a barrier,
/// phase 2 fills the triangles left around each band border B, stage by stage: stage s on
/// [B − s·reach, B + s·reach) (periodic axes: B = n wraps to 0). Every slice of stage s is computed
/// after the slices of stage s − 1 it reads, exactly once, by one thread.
///
/// The stages may alternate between two full arrays (stage s + 2 overwrites the array of stage s):
/// the order also guarantees that no slice (nor a ghost slice, which RowGhostFiller writes with its
/// source slice) is overwritten before the last read of its old value, provided each band holds at
/// least 2·S·reach + 1 slices (available()). The callback computes whole slices from its inputs,
/// so the results are bitwise those of the stage-by-stage sweep, for any number of threads.
#include <omp.h>

#include <algorithm>

#include "grids/halo.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

/// Where a slice call of WavefrontSchedule::run comes from (for stores of intermediate stage slices).
struct WavefrontPlace {
  int band = 0, bands = 1;  ///< the calling thread's band (= omp_get_thread_num() in a team)
  int k0 = 0, k1 = 0;       ///< the band's slices
  bool border = false;      ///< phase 2: the triangles around k1 (unwrapped slice index `unwrapped`)
  int unwrapped = 0;        ///< the slice index before wrapping (phase 2 on periodic axes: may be ≥ n)
};

template <int Dim>
class WavefrontSchedule {
 public:
  WavefrontSchedule() = default;
  /// For `stages` stages of a stencil that reaches `reach` slices along axis Dim − 1.
  WavefrontSchedule(const UniformGrid<Dim>& grid, int stages, int reach)
      : m_layout(grid.shape), m_stages(stages), m_reach(reach) {
    const Neighbours<Dim> nb(grid);
    m_local = Dim >= 2 && !nb.exchanges();  // a rank side would need the neighbour's stage states
    m_wall = nb.wall(Dim - 1, 0);           // both sides of a local axis are walls or both wrap
  }

  /// Whether the schedule can run with up to `threads` threads (bands long enough, one rank).
  bool available(int threads) const {
    if (!m_local || m_stages < 1) return false;
    const int n = m_layout.shape[Dim - 1];
    return n / std::max(1, team_size(threads)) >= 2 * m_stages * m_reach + 1;
  }

  /// Calls slice(stage, k, place) once for every stage and slice k ∈ [0, n), in the order described
  /// above. slice must compute and write stage `stage` of the whole slice k.
  template <class Slice>
  void run(Slice&& slice) const {
    const int T = team_size(omp_get_max_threads());
    if (T <= 1) {
      sweep(0, 1, slice);
      return;
    }
#pragma omp parallel num_threads(T)
    sweep(omp_get_thread_num(), omp_get_num_threads(), slice);
  }

  /// Threads the traversal uses: one below parallel_min_cells, as the stage loops (use_threads).
  int team_size(int threads) const { return m_layout.num_cells() >= parallel_min_cells ? threads : 1; }
  int stages() const { return m_stages; }
  int reach() const { return m_reach; }
  bool walls() const { return m_wall; }
  /// First and end slice of stage s in phase 1 of band t of nt.
  void stage_range(int t, int nt, int s, int& lo, int& hi) const {
    const int n = m_layout.shape[Dim - 1];
    const int k0 = static_cast<int>(static_cast<long>(n) * t / nt);
    const int k1 = static_cast<int>(static_cast<long>(n) * (t + 1) / nt);
    lo = !(m_wall && t == 0) ? k0 + s * m_reach : k0;
    hi = !(m_wall && t == nt - 1) ? k1 - s * m_reach : k1;
  }

 private:
  template <class Slice>
  void sweep(int t, int nt, Slice& slice) const {
    const int n = m_layout.shape[Dim - 1], h = m_reach, S = m_stages;
    WavefrontPlace place;
    place.band = t;
    place.bands = nt;
    place.k0 = static_cast<int>(static_cast<long>(n) * t / nt);
    place.k1 = static_cast<int>(static_cast<long>(n) * (t + 1) / nt);
    const int k0 = place.k0, k1 = place.k1;
    const bool shrink_hi = !(m_wall && t == nt - 1);
    // Phase 1: the trapezoid of this band.
    for (int r = k0; r < k1 + (S - 1) * h; ++r)
      for (int s = 0; s < S; ++s) {
        const int k = r - s * h;
        int lo, hi;
        stage_range(t, nt, s, lo, hi);
        place.unwrapped = k;
        if (k >= lo && k < hi) slice(s, k, static_cast<const WavefrontPlace&>(place));
      }
    if (nt > 1) {
#pragma omp barrier
    }
    // Phase 2: the triangles around the border at this band's top (the wrap at n on periodic axes).
    if (!shrink_hi) return;
    place.border = true;
    for (int s = 1; s < S; ++s)
      for (int k = k1 - s * h; k < k1 + s * h; ++k) {
        place.unwrapped = k;
        slice(s, (k % n + n) % n, static_cast<const WavefrontPlace&>(place));
      }
  }

  FieldLayout<Dim> m_layout;
  int m_stages = 0, m_reach = 1;
  bool m_local = false, m_wall = true;
};

}  // namespace wgflow
