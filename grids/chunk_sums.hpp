#pragma once
/// The one reduction layer for sums over cells (issue 12): a sum is taken over the fixed global
/// chunks of grids/reduction_chunks.hpp — each chunk's partial computed in one fixed order by
/// whoever owns it (a vectorised row kernel: its result must depend on the chunk's values only,
/// not on its memory alignment) — and the partials are added exactly (ExactSum), so the total is
/// the same bits for any thread count, any visiting order and any split of the chunks over ranks.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <vector>

#include "grids/communicator.hpp"
#include "grids/exact_sum.hpp"
#include "grids/field.hpp"
#include "grids/parallel_for.hpp"
#include "grids/reduction_chunks.hpp"

namespace wgflow {

/// Cells per 1D chunk of a layout that is the whole grid (a decomposed grid's chunks follow its
/// global length: reduce_chunks(grid, ...)).
template <int Dim>
int own_chunk_cells(const FieldLayout<Dim>& L) {
  return reduction_chunk_cells(L.shape[0], Dim);
}

/// Number of reduction chunks: the x-rows in 2D/3D, ceil(nx / chunk cells) segments in 1D.
template <int Dim>
std::size_t num_chunks(const FieldLayout<Dim>& L, int chunk_cells) {
  if constexpr (Dim == 1) return static_cast<std::size_t>((L.shape[0] + chunk_cells - 1) / chunk_cells);
  (void)chunk_cells;
  return num_rows(L);
}
template <int Dim>
std::size_t num_chunks(const FieldLayout<Dim>& L) {
  return num_chunks(L, own_chunk_cells(L));
}

/// First linear index and length of chunk c.
template <int Dim>
void chunk_extent(const FieldLayout<Dim>& L, int chunk_cells, std::size_t c, std::ptrdiff_t& begin, int& count) {
  if constexpr (Dim == 1) {
    const int i0 = static_cast<int>(c) * chunk_cells;
    begin = L.offset + i0;
    count = std::min(chunk_cells, L.shape[0] - i0);
  } else {
    (void)chunk_cells;
    row_extent(L, c, begin, count);  // a chunk is an x-row
  }
}
template <int Dim>
void chunk_extent(const FieldLayout<Dim>& L, std::size_t c, std::ptrdiff_t& begin, int& count) {
  chunk_extent(L, own_chunk_cells(L), c, begin, count);
}

/// N exact sums of chunk partials, merged with other accumulators in any order.
template <std::size_t N>
class ChunkSums {
 public:
  /// Adds one chunk's partials.
  void add(const std::array<double, N>& partial) {
    for (std::size_t k = 0; k < N; ++k) m_sums[k].add(partial[k]);
  }
  /// Adds another accumulator (another thread's or, through words(), another rank's chunks).
  void merge(const ChunkSums& other) {
    for (std::size_t k = 0; k < N; ++k) m_sums[k].add(other.m_sums[k]);
  }
  /// The totals, each correctly rounded.
  std::array<double, N> values() const {
    std::array<double, N> v;
    for (std::size_t k = 0; k < N; ++k) v[k] = m_sums[k].value();
    return v;
  }
  ExactSum& operator[](std::size_t k) { return m_sums[k]; }
  /// Adds every rank's accumulator (one int64 sum-allreduce of the words): then every rank holds the
  /// sums over all ranks' chunks. Collective; nothing on one rank.
  void allreduce(const Communicator& ranks) {
    if (ranks.size() == 1) return;
    std::array<std::int64_t, N * ExactSum::num_words> words;
    for (std::size_t k = 0; k < N; ++k) {
      m_sums[k].normalise();
      std::copy_n(m_sums[k].words(), ExactSum::num_words, words.data() + k * ExactSum::num_words);
    }
    ranks.sum(words.data(), static_cast<int>(words.size()));
    for (std::size_t k = 0; k < N; ++k)
      std::copy_n(words.data() + k * ExactSum::num_words, ExactSum::num_words, m_sums[k].words());
  }

 private:
  std::array<ExactSum, N> m_sums;
};

/// A run-time number of exact sums (e.g. one per data point of a network), merged in any order.
class ChunkSumsVector {
 public:
  explicit ChunkSumsVector(std::size_t n = 0) : m_sums(n) {}
  ExactSum& operator[](std::size_t k) { return m_sums[k]; }
  void merge(const ChunkSumsVector& other) {
    for (std::size_t k = 0; k < m_sums.size(); ++k) m_sums[k].add(other.m_sums[k]);
  }
  double value(std::size_t k) const { return m_sums[k].value(); }
  std::size_t size() const { return m_sums.size(); }
  /// As ChunkSums::allreduce.
  void allreduce(const Communicator& ranks) {
    if (ranks.size() == 1) return;
    std::vector<std::int64_t> words(m_sums.size() * ExactSum::num_words);
    for (std::size_t k = 0; k < m_sums.size(); ++k) {
      m_sums[k].normalise();
      std::copy_n(m_sums[k].words(), ExactSum::num_words, words.data() + k * ExactSum::num_words);
    }
    ranks.sum(words.data(), static_cast<int>(words.size()));
    for (std::size_t k = 0; k < m_sums.size(); ++k)
      std::copy_n(words.data() + k * ExactSum::num_words, ExactSum::num_words, m_sums[k].words());
  }

 private:
  std::vector<ExactSum> m_sums;
};

/// N sums, plus min and max, over chunks: what the diagnostics reduce. min/max are exact in any order.
template <std::size_t N>
struct ChunkSumsMinMax {
  ChunkSums<N> sums;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  void merge(const ChunkSumsMinMax& other) {
    sums.merge(other.sums);
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }
  /// Sums as ChunkSums::allreduce; min and max in one max-allreduce of (−min, max), exact.
  void allreduce(const Communicator& ranks) {
    if (ranks.size() == 1) return;
    sums.allreduce(ranks);
    double extremes[2] = {-min, max};
    ranks.max(extremes, 2);
    min = -extremes[0];
    max = extremes[1];
  }
};

/// Visits every chunk as chunk(c, begin, count, acc), chunks spread over threads (static schedule),
/// each thread into its own Acc; the thread accumulators are then merged. Acc::merge must be exact
/// and order-free (ChunkSums, min, max), so the result does not depend on the thread count.
/// Every accumulator starts as a copy of `empty`.
template <class Acc, int Dim, class ChunkFn>
Acc reduce_chunks_of(const FieldLayout<Dim>& L, int chunk_cells, ChunkFn&& chunk, const Acc& empty) {
  const auto chunks = static_cast<std::ptrdiff_t>(num_chunks(L, chunk_cells));
  const auto visit = [&](std::ptrdiff_t c, Acc& acc) {
    std::ptrdiff_t begin;
    int count;
    chunk_extent(L, chunk_cells, static_cast<std::size_t>(c), begin, count);
    chunk(static_cast<std::size_t>(c), begin, count, acc);
  };
  Acc total = empty;
  if (!use_threads(L)) {
    for (std::ptrdiff_t c = 0; c < chunks; ++c) visit(c, total);
  } else {
#pragma omp parallel
    {
      Acc mine = empty;
#pragma omp for schedule(static) nowait
      for (std::ptrdiff_t c = 0; c < chunks; ++c) visit(c, mine);
#pragma omp critical(wgflow_reduce_chunks)
      total.merge(mine);
    }
  }
  return total;
}

/// Over the chunks of one layout (the whole grid, or one rank's box taken on its own).
template <class Acc, int Dim, class ChunkFn>
Acc reduce_chunks(const FieldLayout<Dim>& L, ChunkFn&& chunk, const Acc& empty = Acc{}) {
  return reduce_chunks_of<Acc>(L, own_chunk_cells(L), chunk, empty);
}

/// Over the chunks of the whole grid that `grid` is a box of: this rank's chunks (cut as the global
/// grid cuts them; the split keeps chunks whole), then Acc::allreduce over grid.ranks. The same bits
/// on every rank and for any number of ranks and threads. Collective on a decomposed grid; `c` in
/// chunk(c, …) is the local chunk index.
template <class Acc, int Dim, class ChunkFn>
Acc reduce_chunks(const UniformGrid<Dim>& grid, const FieldLayout<Dim>& L, ChunkFn&& chunk, const Acc& empty = Acc{}) {
  Acc total = reduce_chunks_of<Acc>(L, reduction_chunk_cells(grid.global_shape(0), Dim), chunk, empty);
  total.allreduce(grid.ranks);
  return total;
}

/// Σ of a field's interior values: each chunk summed left to right, chunks added exactly.
template <int Dim>
double sum_cells(const Field<Dim>& f) {
  const double* v = f.data();
  return reduce_chunks<ChunkSums<1>>(f.layout(), [&](std::size_t, std::ptrdiff_t begin, int count, ChunkSums<1>& acc) {
           double s = 0.0;
           for (std::ptrdiff_t c = begin; c < begin + count; ++c) s += v[c];
           acc.add({s});
         }).values()[0];
}
/// The same over the whole grid that `grid` is a box of (all ranks; collective).
template <int Dim>
double sum_cells(const Field<Dim>& f, const UniformGrid<Dim>& grid) {
  const double* v = f.data();
  return reduce_chunks<ChunkSums<1>>(grid, f.layout(), [&](std::size_t, std::ptrdiff_t begin, int count, ChunkSums<1>& acc) {
           double s = 0.0;
           for (std::ptrdiff_t c = begin; c < begin + count; ++c) s += v[c];
           acc.add({s});
         }).values()[0];
}

}  // namespace wgflow
