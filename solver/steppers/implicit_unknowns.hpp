#pragma once
#include "solver/layer_guard.hpp"
/// Internal to implicit Euler: the cells as unknowns of a sparse system (numbering, neighbours, fixed pattern).
#include <Eigen/SparseCore>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/field.hpp"
#include "grids/halo.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow::implicit_detail {

using SpMatR = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;  // row-major: Eigen's SpMV runs on OpenMP
using SpMatC = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
using Vec = Eigen::VectorXd;

/// Index of the unknown of the first cell of row r (unknowns are numbered in dataset order, x fastest).
template <int Dim>
std::ptrdiff_t first_unknown(const FieldLayout<Dim>& L, std::size_t r, std::ptrdiff_t begin) {
  if constexpr (Dim == 1) return begin - L.offset;
  return static_cast<std::ptrdiff_t>(r) * L.shape[0];
}

/// The cells as unknowns: their neighbours across every face that exists (walls have none, periodic
/// axes wrap), a fixed sparsity pattern holding the diagonal and every neighbour, and the position of
/// each of those entries in the pattern's value array, so that rows can be filled in parallel.
template <int Dim>
struct Unknowns {
  static constexpr int slots = 2 * Dim + 1;  ///< 0: diagonal; 1 + 2k: low neighbour along k; 2 + 2k: high

  FieldLayout<Dim> layout;
  Eigen::Index n = 0;
  std::vector<std::ptrdiff_t> cell;               ///< unknown → padded index
  static constexpr int remote = -2;
  std::vector<std::array<int, 2 * Dim>> nbr;      ///< [2k] low, [2k + 1] high neighbour; −1 at a wall, remote
                                                  ///< (−2) on another rank: the face exists, the unknown is not here
  std::vector<std::array<int, slots>> slot;       ///< position in the pattern's values; −1: no entry
  SpMatR pattern;
  /// Some neighbours lie on other ranks. They have no unknown here (nbr: remote), so the
  /// pattern is only this box's block: fine for gather/scatter and hypre's stencil (set_stencil), which
  /// couples across rank borders itself, but no Eigen product or solve may use it.
  bool decomposed = false;

  explicit Unknowns(const UniformGrid<Dim>& grid) : layout(grid.shape) {
    const Neighbours<Dim> neighbours(grid);
    decomposed = neighbours.exchanges();
    n = static_cast<Eigen::Index>(layout.num_cells());
    cell.resize(static_cast<std::size_t>(n));
    nbr.resize(static_cast<std::size_t>(n));
    std::array<int, Dim> ustride{};
    int s = 1;
    for (int k = 0; k < Dim; ++k) {
      ustride[k] = s;
      s *= grid.shape[k];
    }
    int u = 0;
    std::vector<Eigen::Triplet<double, int>> entries;
    for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& c, const std::array<double, Dim>&) {
      cell[static_cast<std::size_t>(u)] = idx;
      entries.emplace_back(u, u, 0.0);
      for (int k = 0; k < Dim; ++k) {
        const int nk = grid.shape[k];
        int lo = -1, hi = -1;  // −1: a wall; −2: a cell of another rank
        if (c[k] > 0) lo = u - ustride[k];
        else if (neighbours.beyond(k, 0) == Beyond::wrap) lo = u + (nk - 1) * ustride[k];
        else if (neighbours.beyond(k, 0) == Beyond::rank) lo = remote;
        if (c[k] < nk - 1) hi = u + ustride[k];
        else if (neighbours.beyond(k, 1) == Beyond::wrap) hi = u - (nk - 1) * ustride[k];
        else if (neighbours.beyond(k, 1) == Beyond::rank) hi = remote;
        nbr[static_cast<std::size_t>(u)][static_cast<std::size_t>(2 * k)] = lo;
        nbr[static_cast<std::size_t>(u)][static_cast<std::size_t>(2 * k + 1)] = hi;
        if (lo >= 0) entries.emplace_back(u, lo, 0.0);
        if (hi >= 0) entries.emplace_back(u, hi, 0.0);
      }
      ++u;
    });
    pattern.resize(n, n);
    pattern.setFromTriplets(entries.begin(), entries.end());  // duplicates (periodic n ≤ 2) merge
    pattern.makeCompressed();
    slot.resize(static_cast<std::size_t>(n));
    const int* outer = pattern.outerIndexPtr();
    const int* inner = pattern.innerIndexPtr();
    auto find = [&](int row, int col) {
      for (int p = outer[row]; p < outer[row + 1]; ++p)
        if (inner[p] == col) return p;
      return -1;
    };
    for (int v = 0; v < n; ++v) {
      auto& sl = slot[static_cast<std::size_t>(v)];
      sl[0] = find(v, v);
      for (int j = 0; j < 2 * Dim; ++j) {
        const int w = nbr[static_cast<std::size_t>(v)][static_cast<std::size_t>(j)];
        sl[static_cast<std::size_t>(j + 1)] = w >= 0 ? find(v, w) : -1;
      }
    }
  }

  /// Interior values of f in unknown order.
  void gather(const Field<Dim>& f, Vec& x) const {
    x.resize(n);
    const double* fp = f.data();
    double* xp = x.data();
    parallel_for_rows(layout, [&](std::size_t r, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(layout, r, begin);
      for (int i = 0; i < count; ++i) xp[u0 + i] = fp[begin + i];
    });
  }
  /// Writes x into the interior of f (ghosts untouched).
  void scatter(const Vec& x, Field<Dim>& f) const {
    double* fp = f.data();
    const double* xp = x.data();
    parallel_for_rows(layout, [&](std::size_t r, std::ptrdiff_t begin, int count) {
      const std::ptrdiff_t u0 = first_unknown(layout, r, begin);
      for (int i = 0; i < count; ++i) fp[begin + i] = xp[u0 + i];
    });
  }
};

}  // namespace wgflow::implicit_detail
