#pragma once
/// The ghosts of a decomposed field: the two ghost layers of every face that looks onto another
/// rank's box come from that box (nonblocking sends and receives over the Cartesian communicator,
/// periodic wraps across ranks included); the faces on walls and wraps onto this box are filled by
/// fill_ghosts. Afterwards every ghost holds what fill_ghosts gives on the undecomposed grid. Only
/// face ghosts are exchanged, not edges or corners: fill_ghosts leaves those alone too, and no
/// stencil reads them (the second-order upwind and SG fluxes reach along one axis at a time, and
/// the in-place sweep reads whole rows along y and z, never diagonal neighbours).
#include <cstdint>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/communicator.hpp"
#include "grids/halo.hpp"

namespace wgflow {

/// Opt-in timing of the halo exchange (scripts/bench_mpi.py, docs/scaling.md): with the environment
/// variable WGFLOW_PROFILE_HALO=1 every exchange() adds its wall time (packing, the messages and the
/// wait for the neighbours, unpacking; steady_clock) to this process's totals, and each HaloExchange
/// prints its totals on rank 0 when it is destroyed. Otherwise the cost is one branch per exchange.
struct HaloProfile {
  double seconds = 0.0;
  std::int64_t exchanges = 0;
};
bool halo_profiling();         ///< WGFLOW_PROFILE_HALO=1, read once
HaloProfile& halo_profile();   ///< this process's totals (every HaloExchange adds to them)

template <int Dim>
class HaloExchange {
 public:
  /// grid: this rank's box (grids/decomposition.hpp, local_grid); world: the run's ranks, whose
  /// count is the product of grid.parts. Allocates the message buffers once.
  HaloExchange(const UniformGrid<Dim>& grid, const Communicator& world);
  ~HaloExchange();
  HaloExchange(const HaloExchange&) = delete;
  HaloExchange& operator=(const HaloExchange&) = delete;

  /// Fills every ghost of f (whose layout is the grid's box). Collective: every rank calls it.
  void fill(Field<Dim>& f);
  /// Only the ghosts of faces towards other ranks (fill_ghosts and exchange_ghosts call this).
  void exchange(Field<Dim>& f);

  const Neighbours<Dim>& neighbours() const { return m_neighbours; }
  const Communicator& communicator() const { return m_comm; }

 private:
  struct Face {
    int axis = 0, side = 0;
    std::size_t at = 0;  ///< offset of this face's values in m_send and m_receive
    int count = 0;       ///< ghosts × the face's cells
  };
  UniformGrid<Dim> m_grid;
  Neighbours<Dim> m_neighbours;
  Communicator m_comm;  ///< Cartesian over the split
  std::vector<Face> m_faces;
  std::vector<double> m_send, m_receive;
  std::vector<HaloMessage> m_messages;
  bool m_profile = false;   ///< halo_profiling() at construction
  int m_rank = 0;           ///< world rank (the destructor may run after MPI_Finalize)
  HaloProfile m_own;        ///< this exchange's share of halo_profile(), printed by the destructor
  void exchange_untimed(Field<Dim>& f);
};

/// This rank's box of `global` for the ranks of `world` (local_grid), with the ranks and, where a
/// side faces another rank, the halo exchange attached: fill_ghosts and the reductions of every
/// field and operator built on it then act on the whole decomposed grid. One rank: `global` itself.
template <int Dim>
UniformGrid<Dim> decompose(const UniformGrid<Dim>& global, const Communicator& world);

}  // namespace wgflow
