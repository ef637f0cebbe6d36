/// The frozen-velocity upwind sweep on P ranks: a topological walk per rank, donors across rank
/// borders delivered by rounds of the halo exchange (docs/linear_solvers.md "The upwind sweep on
/// several ranks").
#include "solver/steppers/upwind_sweep.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/halo_exchange.hpp"
#include "solver/steppers/rounds_walk.hpp"

namespace wgflow {

/// Each rank keeps, per cell, the number of its donors (inflow faces) not yet final, and a stack of
/// cells whose donors are all final. A round empties the stack (a finished cell releases its
/// receivers in this box), then one sum over ranks says how many cells are left and whether any
/// rank moved; if some are left, one halo exchange of q̂ delivers the cells finished next door (a
/// cell not yet final holds −∞ there, which no finished cell can hold: q̂ ≥ 0 or NaN) and releases
/// their receivers here. Cost: O(n) per rank, plus per round one exchange, one allreduce and a pass
/// over this box's remaining border inflows. The cell of highest ξ still pending anywhere has all
/// donors final, so every round finishes at least one cell: a round that finishes none (ξ not a
/// strict order, impossible with finite values) or more rounds than cells stops with ok = false.
template <int Dim>
UpwindSweepResult upwind_sweep(const UniformGrid<Dim>& grid, const implicit_detail::Unknowns<Dim>& unk,
                               const Field<Dim>& xi_field, const Field<Dim>& qn, double dt,
                               const double* inv_dx2, Field<Dim>& qh) {
  constexpr double not_final = walk_not_final;
  constexpr int wall = -1;
  const FieldLayout<Dim>& L = qh.layout();
  const double* xi = xi_field.data();
  const double* q0 = qn.data();
  double* q = qh.data();
  std::fill(q, q + L.padded_size, not_final);
  const auto n = static_cast<std::size_t>(unk.n);
  WalkState walk(n);
  std::vector<int>& pending = walk.pending;
  std::vector<int>& ready = walk.ready;
  std::vector<BorderInflow>& border = walk.border;
  // Inflow on a face: the same comparisons of ξ differences as the formula below.
  for (std::size_t u = 0; u < n; ++u) {
    const std::ptrdiff_t c = unk.cell[u];
    int donors = 0;
    for (int k = 0; k < Dim; ++k) {
      const std::ptrdiff_t s = L.stride[k];
      const int lo = unk.nbr[u][static_cast<std::size_t>(2 * k)];
      const int hi = unk.nbr[u][static_cast<std::size_t>(2 * k + 1)];
      if (lo != wall && xi[c - s] - xi[c] > 0.0) {
        ++donors;
        if (lo == implicit_detail::Unknowns<Dim>::remote) border.push_back({static_cast<int>(u), c - s});
      }
      if (hi != wall && xi[c] - xi[c + s] < 0.0) {
        ++donors;
        if (hi == implicit_detail::Unknowns<Dim>::remote) border.push_back({static_cast<int>(u), c + s});
      }
    }
    pending[u] = donors;
    if (donors == 0) ready.push_back(static_cast<int>(u));
  }
  // A donor's value: its interior cell in this box (a periodic wrap included), else the ghost.
  auto donor = [&](int w, std::ptrdiff_t ghost) { return w >= 0 ? q[unk.cell[static_cast<std::size_t>(w)]] : q[ghost]; };
  auto release = [&](int w) {
    if (w >= 0 && --pending[static_cast<std::size_t>(w)] == 0) ready.push_back(w);
  };
  auto finish_ready = [&]() {
    std::int64_t finished = 0;
    while (!ready.empty()) {
      const auto u = static_cast<std::size_t>(ready.back());
      ready.pop_back();
      const std::ptrdiff_t c = unk.cell[u];
      double in = 0.0, out_rate = 0.0;
      for (int k = 0; k < Dim; ++k) {  // the faces in one fixed order: the same bits on any split
        const std::ptrdiff_t s = L.stride[k];
        const int lo = unk.nbr[u][static_cast<std::size_t>(2 * k)];
        const int hi = unk.nbr[u][static_cast<std::size_t>(2 * k + 1)];
        if (lo != wall) {
          const double ud = xi[c - s] - xi[c];
          if (ud > 0.0) in += ud * donor(lo, c - s) * inv_dx2[k];
          else if (ud < 0.0) out_rate -= ud * inv_dx2[k];
        }
        if (hi != wall) {
          const double ud = xi[c] - xi[c + s];
          if (ud > 0.0) out_rate += ud * inv_dx2[k];
          else if (ud < 0.0) in -= ud * donor(hi, c + s) * inv_dx2[k];
        }
      }
      q[c] = (q0[c] + dt * in) / (1.0 + dt * out_rate);
      ++finished;
      for (int k = 0; k < Dim; ++k) {  // its receivers in this box
        const std::ptrdiff_t s = L.stride[k];
        const int lo = unk.nbr[u][static_cast<std::size_t>(2 * k)];
        const int hi = unk.nbr[u][static_cast<std::size_t>(2 * k + 1)];
        if (lo != wall && xi[c - s] - xi[c] < 0.0) release(lo);
        if (hi != wall && xi[c] - xi[c + s] > 0.0) release(hi);
      }
    }
    return finished;
  };
  UpwindSweepResult result;
  if (!walk_in_rounds(grid, qh, walk, static_cast<std::int64_t>(n), finish_ready, result.rounds)) return result;  // ok = false
  fill_ghosts(qh, grid);
  result.ok = true;
  return result;
}

template UpwindSweepResult upwind_sweep(const UniformGrid<1>&, const implicit_detail::Unknowns<1>&, const Field<1>&,
                                        const Field<1>&, double, const double*, Field<1>&);
template UpwindSweepResult upwind_sweep(const UniformGrid<2>&, const implicit_detail::Unknowns<2>&, const Field<2>&,
                                        const Field<2>&, double, const double*, Field<2>&);
template UpwindSweepResult upwind_sweep(const UniformGrid<3>&, const implicit_detail::Unknowns<3>&, const Field<3>&,
                                        const Field<3>&, double, const double*, Field<3>&);

}  // namespace wgflow
