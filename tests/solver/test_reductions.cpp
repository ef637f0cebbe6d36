/// Sums over cells through fixed chunks and exact accumulation (grids/chunk_sums.hpp, issue 12): the
/// chunk partials do not depend on memory alignment, and the totals do not depend on the thread
/// count nor on how the chunks are split over (simulated) ranks and in which order they are visited.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "grids/chunk_sums.hpp"
#include "solver/diagnostics_kernel.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_totals(const DiagnosticsRowTotals& a, const DiagnosticsRowTotals& b) {
  return same_bits(a.mass, b.mass) && same_bits(a.energy, b.energy) && same_bits(a.min, b.min) && same_bits(a.max, b.max);
}

/// Mass and energy of q's diagnostics as P simulated ranks would get them: the chunks dealt out at
/// random, each rank visiting its chunks in a random order into its own accumulator, the ranks'
/// words added elementwise (an int64 MPI_SUM allreduce) in a random order.
template <int Dim>
std::array<double, 2> split_over_ranks(const Field<Dim>& q, const Field<Dim>& V, const InternalEnergySpec& spec, int P,
                                       std::mt19937_64& gen) {
  const FieldLayout<Dim>& L = q.layout();
  std::vector<std::size_t> chunks(num_chunks(L));
  for (std::size_t c = 0; c < chunks.size(); ++c) chunks[c] = c;
  std::shuffle(chunks.begin(), chunks.end(), gen);
  std::vector<ChunkSums<2>> rank(static_cast<std::size_t>(P));
  for (std::size_t c : chunks) {
    std::ptrdiff_t begin;
    int count;
    chunk_extent(L, c, begin, count);
    const DiagnosticsRowTotals t = diagnostics_row(simd_level(), spec, q.data() + begin, V.data() + begin, nullptr, count);
    rank[gen() % rank.size()].add({t.mass, t.energy});
  }
  std::shuffle(rank.begin(), rank.end(), gen);
  ChunkSums<2> total;
  for (ChunkSums<2>& r : rank)
    for (std::size_t k = 0; k < 2; ++k) {
      r[k].normalise();
      for (int w = 0; w < ExactSum::num_words; ++w) total[k].words()[w] += r[k].words()[w];
    }
  return total.values();
}

template <int Dim>
void check_split_and_threads(int n) {
  const int saved = omp_get_max_threads();
  UniformGrid<Dim> grid = make_cube_grid<Dim>(n, -2.0, 2.0, Boundary::no_flux);
  Problem<Dim> p(grid, entropy(1.0), quadratic(1.0), flux_for(entropy(1.0)));
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> noise(0.0, 1e-3);
  Field<Dim> q = cell_averages(grid, [](const double* x) { return std::max(0.0, 1.0 - x[0] * x[0]) + 1e-300 * std::exp(-x[0]); });
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) { q[idx] += noise(gen); });
  omp_set_num_threads(1);
  const DiagnosticsRow one = p.diagnostics.measure(q, 0.0, 0.0, nullptr);
  for (int threads : {2, 3}) {
    omp_set_num_threads(threads);
    const DiagnosticsRow row = p.diagnostics.measure(q, 0.0, 0.0, nullptr);
    CHECK(same_bits(row.mass, one.mass));
    CHECK(same_bits(row.energy, one.energy));
    CHECK(same_bits(row.min, one.min));
    CHECK(same_bits(row.max, one.max));
  }
  omp_set_num_threads(saved);
  const double volume = grid.cell_volume();
  for (int P : {1, 2, 3, 4, 7}) {
    const std::array<double, 2> sums = split_over_ranks(q, p.energy.V(), entropy(1.0), P, gen);
    CHECK(same_bits(sums[0] * volume, one.mass));
    CHECK(same_bits(sums[1] * volume + p.energy.energy_constant(), one.energy));
  }
  // sum_cells: the same total for every split too, and the mass to round-off.
  const double total = sum_cells(q);
  CHECK(std::abs(total * volume - one.mass) <= 1e-15 * one.mass);
  ChunkSums<1> a, b;
  for (std::size_t c = 0; c < num_chunks(q.layout()); ++c) {
    std::ptrdiff_t begin;
    int count;
    chunk_extent(q.layout(), c, begin, count);
    double s = 0.0;
    for (int i = 0; i < count; ++i) s += q[begin + i];
    (gen() & 1 ? a : b).add({s});
  }
  b.merge(a);
  CHECK(same_bits(b.values()[0], total));
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("diagnostics chunk totals do not depend on the memory alignment of the chunk") {
    std::mt19937_64 gen(9);
    std::uniform_real_distribution<double> u(0.0, 2.0);
    for (int n : {1, 3, 7, 37, 256, 301, 2048}) {
      std::vector<double> q0(static_cast<std::size_t>(n)), V0(q0.size()), phi0(q0.size());
      for (std::size_t i = 0; i < q0.size(); ++i) {
        q0[i] = i % 9 == 4 ? 0.0 : u(gen);
        V0[i] = u(gen) - 1.0;
        phi0[i] = u(gen);
      }
      for (SimdLevel simd : runnable_simd_levels()) {
        const DiagnosticsRowTotals ref = diagnostics_row(simd, entropy(0.5), q0.data(), V0.data(), phi0.data(), n);
        for (int shift = 1; shift < 4; ++shift) {  // the same values one to three doubles further on
          std::vector<double> q(q0.size() + 4), V(q.size()), phi(q.size());
          std::copy(q0.begin(), q0.end(), q.begin() + shift);
          std::copy(V0.begin(), V0.end(), V.begin() + shift);
          std::copy(phi0.begin(), phi0.end(), phi.begin() + shift);
          CHECK(same_totals(diagnostics_row(simd, entropy(0.5), q.data() + shift, V.data() + shift, phi.data() + shift, n), ref));
          CHECK(same_totals(diagnostics_row(simd, entropy(0.5), q.data() + shift, V.data() + shift, nullptr, n),
                            diagnostics_row(simd, entropy(0.5), q0.data(), V0.data(), nullptr, n)));
        }
      }
    }
  }

  TEST_CASE("reduction chunks tile the interior: x-rows in 2D and 3D and segments of reduction_chunk_cells in 1D") {
    const FieldLayout<1> L1({1000});
    CHECK(num_chunks(L1) == 63);  // ceil(1000 / 16) with 16 = ceil(1000 / 64) cells each
    std::ptrdiff_t begin;
    int count, covered = 0;
    for (std::size_t c = 0; c < num_chunks(L1); ++c) {
      chunk_extent(L1, c, begin, count);
      CHECK(begin == L1.offset + covered);
      covered += count;
    }
    CHECK(covered == 1000);
    CHECK(num_chunks(FieldLayout<1>({5})) == 5);
    const FieldLayout<3> L3({7, 5, 3});
    CHECK(num_chunks(L3) == 15);
    chunk_extent(L3, 14, begin, count);
    CHECK(begin == L3.index({0, 4, 2}));
    CHECK(count == 7);
  }
}

TEST_SUITE("physics") {
  TEST_CASE("diagnostics sums are bitwise the same for any thread count and any split of the chunks over ranks") {
    check_split_and_threads<1>(20000);  // ≥ parallel_min_cells: threads really run
    check_split_and_threads<2>(160);
    check_split_and_threads<3>(28);
  }
}
