/// Index arithmetic, ghost filling and the dataset order of interior values.
#include <doctest/doctest.h>

#include <algorithm>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"

using namespace wgflow;

TEST_SUITE("unit") {
  TEST_CASE("SIMD level: per-kernel caps apply to the default only and an explicit level reaches every kernel") {
    const SimdLevel cpu = cpu_simd_level();
    CHECK(simd_level() <= cpu);
    CHECK(simd_level_for(SimdLevel::avx2) <= std::min(simd_level(), SimdLevel::avx2));
    for (SimdLevel wanted : {SimdLevel::generic, SimdLevel::avx2, SimdLevel::avx512}) {
      const SimdLevel set = set_simd_level(wanted);
      CHECK(set == std::min(wanted, cpu));  // never a build the CPU cannot run
      CHECK(simd_level() == set);
      CHECK(simd_level_for(SimdLevel::avx2) == set);  // asked for: not capped
      CHECK(simd_level_for(SimdLevel::generic) == set);
    }
    reset_simd_level();
    CHECK(simd_level_for(SimdLevel::generic) == SimdLevel::generic);
    for (SimdLevel s : {SimdLevel::generic, SimdLevel::avx2, SimdLevel::avx512})
      if (s <= cpu) CHECK(run_simd(s, [](int x) { return 2 * x; }, 21) == 42);  // each clone runs the call
  }

  TEST_CASE("layout: strides and offset and ghost indices") {
    const FieldLayout<3> L({4, 3, 2});
    CHECK(L.stride[0] == 1);
    CHECK(L.stride[1] == 8);        // 4 + 2·2 ghosts
    CHECK(L.stride[2] == 8 * 7);    // (3 + 4) rows per plane
    CHECK(L.padded_size == 8u * 7u * 6u);
    CHECK(L.index({0, 0, 0}) == 2 + 2 * 8 + 2 * 56);
    CHECK(L.index({-2, -2, -2}) == 0);
    CHECK(L.index({5, 4, 3}) == static_cast<std::ptrdiff_t>(L.padded_size) - 1);
    CHECK(L.num_cells() == 24u);
  }

  TEST_CASE("ghosts: no-flux mirrors and periodic wraps per axis") {
    UniformGrid<2> g = make_cube_grid<2>(4, 0.0, 1.0, Boundary::no_flux);
    g.shape[1] = 3;
    g.boundary[1] = Boundary::periodic;
    Field<2> f(FieldLayout<2>(g.shape), -1.0);
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 4; ++i) f.at({i, j}) = 10 * j + i;
    fill_ghosts(f, g);
    // x: no-flux mirror q_{-1} = q_0, q_{-2} = q_1, q_n = q_{n-1}, q_{n+1} = q_{n-2}
    CHECK(f.at({-1, 1}) == 10);
    CHECK(f.at({-2, 1}) == 11);
    CHECK(f.at({4, 2}) == 23);
    CHECK(f.at({5, 2}) == 22);
    // y: periodic wrap q_{-1} = q_{n-1}, q_{-2} = q_{n-2}, q_n = q_0, q_{n+1} = q_1
    CHECK(f.at({2, -1}) == 22);
    CHECK(f.at({2, -2}) == 12);
    CHECK(f.at({2, 3}) == 2);
    CHECK(f.at({2, 4}) == 12);
  }

  TEST_CASE("interior values come out x fastest and go back in the same order") {
    const UniformGrid<3> g = [] {
      UniformGrid<3> h = make_cube_grid<3>(3, 0.0, 1.0, Boundary::no_flux);
      h.shape = {3, 2, 2};
      return h;
    }();
    Field<3> f(FieldLayout<3>(g.shape));
    for (int k = 0; k < 2; ++k)
      for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 3; ++i) f.at({i, j, k}) = 100 * k + 10 * j + i;
    const std::vector<double> v = interior_values(f);
    CHECK(v == std::vector<double>{0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112});
    Field<3> g2(FieldLayout<3>(g.shape));
    set_interior_values(g2, v);
    CHECK(g2.at({2, 1, 1}) == 112);
    CHECK_THROWS(set_interior_values(g2, std::vector<double>(5)));
  }

  TEST_CASE("1D rows are fixed blocks independent of threads and cover every cell once") {
    const FieldLayout<1> L({2500});
    CHECK(num_rows(L) == 3u);
    std::vector<int> hits(L.padded_size, 0);
    parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) ++hits[static_cast<std::size_t>(c)];
    });
    int covered = 0;
    for (int i = 0; i < 2500; ++i) covered += hits[static_cast<std::size_t>(L.index({i}))];
    CHECK(covered == 2500);
    CHECK(hits[0] == 0);
  }
}
