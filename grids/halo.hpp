#pragma once
/// The one neighbour service: what lies beyond each side of this rank's box, and where a stencil
/// that reaches across a side finds its values. Every place that looks across the boundary asks
/// here (fill_ghosts, RowGhostFiller, InPlaceSweep, the SG and MAC face coefficients, the implicit
/// unknowns' numbering, the FFT padding, the particles' wrap, hypre's periodicity), so that a
/// decomposed grid changes one class, not each kernel. Beyond a side lies one of:
///   wall  the global box's no-flux wall: ghosts mirror the interior (q_{-1} = q_0, q_{-2} = q_1),
///   wrap  a periodic wrap onto this same box (an axis of the global box held by one rank),
///   rank  another rank's box, across a periodic wrap or not: its cells fill the ghosts through the
///         halo exchange (grids/halo_exchange.hpp).
/// On one rank every side is a wall or a wrap, exactly the grid's boundary kinds.
#include <array>

#include "grids/grid.hpp"

namespace wgflow {

enum class Beyond { wall, wrap, rank };

template <int Dim>
class Neighbours {
 public:
  Neighbours() = default;
  explicit Neighbours(const UniformGrid<Dim>& grid) {
    for (int k = 0; k < Dim; ++k) {
      m_n[k] = grid.shape[k];
      m_periodic[k] = grid.boundary[k] == Boundary::periodic;
      for (int side = 0; side < 2; ++side) {
        m_rank[k][side] = grid.neighbour_rank[k][side];
        m_beyond[k][side] = m_rank[k][side] != own_boundary ? Beyond::rank
                            : m_periodic[k]                 ? Beyond::wrap
                                                            : Beyond::wall;
      }
    }
  }

  /// side 0: low end of the axis, 1: high end.
  Beyond beyond(int axis, int side) const { return m_beyond[axis][side]; }
  bool wall(int axis, int side) const { return m_beyond[axis][side] == Beyond::wall; }
  /// The rank beyond a Beyond::rank side.
  int rank(int axis, int side) const { return m_rank[axis][side]; }
  /// Whether this rank fills the side's ghosts itself (wall or wrap), not the exchange.
  bool local(int axis, int side) const { return m_beyond[axis][side] != Beyond::rank; }
  /// Whether the global box wraps around this axis (FFT padding, particle positions, hypre).
  bool periodic(int axis) const { return m_periodic[axis]; }
  /// Whether some side's ghosts come from another rank.
  bool exchanges() const {
    for (int k = 0; k < Dim; ++k)
      if (!local(k, 0) || !local(k, 1)) return true;
    return false;
  }

  /// Local interior cell whose value ghost g ∈ {1, 2} of a local side holds: ghost −g (low) or
  /// n − 1 + g (high) mirrors across a wall or wraps onto this box. −1 for a rank side (the ghost
  /// holds the neighbouring box's value).
  int ghost_source(int axis, int side, int g) const { return ghost_source(axis, side, g, m_n[axis]); }
  /// The same for an array of n cells along the axis (a field's own layout).
  int ghost_source(int axis, int side, int g, int n) const {
    switch (m_beyond[axis][side]) {
      case Beyond::wall: return side == 0 ? g - 1 : n - g;
      case Beyond::wrap: return side == 0 ? n - g : g - 1;
      case Beyond::rank: return -1;
    }
    return -1;
  }

  /// Where a stencil finds the value of neighbour index i ∈ [−1, n] along axis: i itself inside the
  /// box and across a rank side (the ghost the exchange filled), else the interior cell that ghost
  /// i would copy (mirror or wrap). Lets a sweep that overwrites its input read old values from
  /// interior rows only.
  int neighbour_index(int axis, int i) const {
    const int n = m_n[axis];
    if (i < 0) return m_beyond[axis][0] == Beyond::rank ? i : ghost_source(axis, 0, -i);
    if (i >= n) return m_beyond[axis][1] == Beyond::rank ? i : ghost_source(axis, 1, i - n + 1);
    return i;
  }

 private:
  std::array<int, Dim> m_n{};
  std::array<bool, Dim> m_periodic{};
  std::array<std::array<int, 2>, Dim> m_rank{};
  std::array<std::array<Beyond, 2>, Dim> m_beyond{};
};

}  // namespace wgflow
