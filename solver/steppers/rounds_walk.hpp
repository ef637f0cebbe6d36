#pragma once
#include "solver/layer_guard.hpp"
/// The round loop both distributed walks of implicit Euler share (upwind_sweep.cpp and
/// implicit_positivity_ranks.cpp): finish what is ready, agree over ranks on what is left, exchange the
/// walk's values, release the cells whose donor across a rank border became final.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "grids/halo_exchange.hpp"

namespace wgflow {

/// What a cell not yet final holds in the exchanged field; no finished cell holds it.
inline constexpr double walk_not_final = -std::numeric_limits<double>::infinity();

/// A cell of this box whose donor across a face lives in a neighbouring box (its ghost).
struct BorderInflow {
  int u;                 ///< the receiving unknown
  std::ptrdiff_t ghost;  ///< the donor's ghost cell in the exchanged field
};

/// The state of a walk in the flux graph's order on one rank: per unknown, the donors not yet final;
/// the unknowns whose donors all are; the border inflows still waiting.
struct WalkState {
  /// A walk over `cells` unknowns: no donors counted yet, room for every cell in `ready`.
  explicit WalkState(std::size_t cells) : pending(cells, 0) { ready.reserve(cells); }
  std::vector<int> pending, ready;
  std::vector<BorderInflow> border;
};

/// Runs finish_ready() (empties w.ready, returns how many cells it finished) in rounds until every
/// rank is done: one exact int64 sum over ranks per round, then one halo exchange of `values`.
/// `cells` is this rank's number of unknowns; `rounds` counts the exchanges. False (nothing reached
/// every cell) when a round finishes no cell on any rank, or after more rounds than the grid has cells.
template <int Dim, class FinishReady>
bool walk_in_rounds(const UniformGrid<Dim>& grid, Field<Dim>& values, WalkState& w, std::int64_t cells,
                    FinishReady&& finish_ready, long& rounds) {
  const double* v = values.data();
  const auto max_rounds = static_cast<long>(grid.num_global_cells());
  long taken = 0;
  for (;;) {
    const std::int64_t finished = finish_ready();
    cells -= finished;
    std::int64_t totals[2] = {cells, finished};
    grid.ranks.sum(totals, 2);  // exact: every rank takes the same decision
    if (totals[0] == 0) return true;
    if (totals[1] == 0 || taken >= max_rounds || !grid.halo) return false;
    grid.halo->exchange(values);
    ++taken;
    ++rounds;
    std::size_t kept = 0;
    for (const BorderInflow& e : w.border) {
      if (v[e.ghost] == walk_not_final)
        w.border[kept++] = e;
      else if (--w.pending[static_cast<std::size_t>(e.u)] == 0)
        w.ready.push_back(e.u);
    }
    w.border.resize(kept);
  }
}

}  // namespace wgflow
