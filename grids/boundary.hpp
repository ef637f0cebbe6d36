#pragma once
/// Ghost filling: the one function through which a field learns its neighbours' values.
/// No-flux walls mirror the interior (q_{-1} = q_0, q_{-2} = q_1), which makes every one-sided
/// difference across the wall vanish; periodic axes wrap around (grids/halo.hpp, Neighbours). On a
/// decomposed grid the ghosts of sides that face another rank come from the grid's halo exchange
/// (grids/halo_exchange.hpp): fill_ghosts = fill_own_ghosts + exchange_ghosts, and afterwards every
/// ghost holds what fill_ghosts gives the undecomposed grid at the same global index.
#include <array>

#include "grids/field.hpp"

namespace wgflow {

/// Every ghost of f (collective on a decomposed grid: every rank calls it).
template <int Dim>
void fill_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid);
/// Only the sides this rank fills itself: walls and periodic wraps onto its own box.
template <int Dim>
void fill_own_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid);
/// Only the sides that face another rank (grid.halo; nothing on one rank): what a fused stage that
/// filled its own sides row by row (RowGhostFiller, InPlaceSweep) leaves to do. Collective.
template <int Dim>
void exchange_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid);

/// fill_ghosts fused into a row loop: called right after an interior row (an x-line, Dim ≥ 2) has
/// been written, it writes every ghost value that fill_ghosts copies from that row (the row's own
/// x-ghosts and, where the row is the source of a y- or z-ghost row, that ghost row's interior part),
/// so that after a loop over all rows the field holds exactly what fill_own_ghosts would give it (the
/// corners fill_ghosts leaves alone stay untouched). Every ghost row has exactly one source row, so
/// rows written by different threads never write the same ghost. Why: in 3D a separate fill_ghosts
/// pass touches the two ends of every x-line, a strided walk over the whole array that cost 12 % of
/// an SG step at 256³ (docs/benchmarks.md); here the row is still in L1.
/// fused() is false in 1D (a row is a block, the line's ghosts need its far end) and when an axis has
/// fewer than 2 cells (a ghost's source would be a ghost); callers then run fill_ghosts afterwards.
template <int Dim>
class RowGhostFiller {
 public:
  RowGhostFiller(const FieldLayout<Dim>& layout, const UniformGrid<Dim>& grid);
  bool fused() const { return m_fused; }
  /// Ghosts that come from the row of length count starting at linear index begin.
  void operator()(double* q, std::ptrdiff_t begin, int count) const;

 private:
  FieldLayout<Dim> m_layout;
  /// [axis][side][g − 1]: Neighbours::ghost_source, precomputed (−1: a rank side, left alone).
  std::array<std::array<std::array<int, FieldLayout<Dim>::ghosts>, 2>, Dim> m_source{};
  bool m_fused = false;
};

}  // namespace wgflow
