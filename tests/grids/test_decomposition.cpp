/// The decomposition of a grid over P ranks (grids/decomposition.hpp) and the neighbour service
/// (grids/halo.hpp): every rank's box, its neighbours and, with the exchange simulated by copying
/// from the neighbouring boxes, its halo contents, for even and uneven splits in 1–3D, periodic and
/// no-flux. The real exchange over MPI is checked by tests/mpi/halo_mpi.cpp under mpirun.
#include <doctest/doctest.h>

#include <omp.h>

#include <cstring>
#include <set>
#include <vector>

#include "grids/decomposition.hpp"
#include "grids/halo.hpp"
#include "grids/inplace_sweep.hpp"
#include "grids/reduction_chunks.hpp"
#include "tests/grids/halo_check.hpp"

using namespace wgflow;
using namespace wgflow::testing;

namespace {

template <int Dim>
UniformGrid<Dim> grid_of(const std::array<int, Dim>& shape, Boundary bc) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(2, -1.0, 3.0, bc);
  g.shape = shape;
  return g;
}

/// Boxes tile the global grid, sizes differ by at most one unit (a cell, or in 1D x a chunk), x is
/// whole in 2D/3D and cut at chunk multiples in 1D, neighbours are the adjacent boxes (across a
/// periodic wrap too), walls and own wraps are own_boundary, and cell centres are the global ones.
template <int Dim>
void check_boxes(const UniformGrid<Dim>& global, int P) {
  CAPTURE(P);
  std::vector<UniformGrid<Dim>> boxes;
  for (int r = 0; r < P; ++r) boxes.push_back(local_grid(global, P, r));
  std::vector<int> covered(global.num_cells(), 0);
  const int chunk = reduction_chunk_cells(global.shape[0], Dim);
  for (int r = 0; r < P; ++r) {
    const UniformGrid<Dim>& b = boxes[static_cast<std::size_t>(r)];
    CAPTURE(r);
    CHECK(b.num_global_cells() == global.num_cells());
    CHECK(b.offset[0] % chunk == 0);
    if (Dim >= 2) CHECK(b.shape[0] == global.shape[0]);
    const std::array<int, Dim> at = coords_of<Dim>(b.parts, r);
    CHECK(rank_at<Dim>(b.parts, at) == r);
    for (int k = 0; k < Dim; ++k) {
      CHECK(b.shape[k] >= (b.parts_along(k) > 1 ? 2 : 1));
      CHECK(b.dx(k) == global.dx(k));
      for (int i = 0; i < b.shape[k]; ++i) CHECK(b.centre(k, i) == global.centre(k, b.offset[k] + i));
      for (int side = 0; side < 2; ++side) {
        const bool edge = side == 0 ? b.offset[k] == 0 : b.offset[k] + b.shape[k] == global.shape[k];
        const int nr = b.neighbour_rank[k][side];
        const Neighbours<Dim> nb(b);
        if (edge && (global.boundary[k] == Boundary::no_flux || b.parts_along(k) == 1)) {
          CHECK(nr == own_boundary);
          CHECK(nb.beyond(k, side) == (global.boundary[k] == Boundary::periodic ? Beyond::wrap : Beyond::wall));
          continue;
        }
        REQUIRE(nr >= 0);
        REQUIRE(nr < P);
        CHECK(nb.beyond(k, side) == Beyond::rank);
        const UniformGrid<Dim>& o = boxes[static_cast<std::size_t>(nr)];
        for (int j = 0; j < Dim; ++j)  // the same extent across the face
          if (j != k) {
            CHECK(o.offset[j] == b.offset[j]);
            CHECK(o.shape[j] == b.shape[j]);
          }
        const int N = global.shape[k];
        if (side == 0) CHECK((o.offset[k] + o.shape[k]) % N == b.offset[k]);
        else CHECK((b.offset[k] + b.shape[k]) % N == o.offset[k]);
      }
    }
    // Every global cell in exactly one box.
    std::array<int, 3> n{1, 1, 1};
    for (int k = 0; k < Dim; ++k) n[static_cast<std::size_t>(k)] = b.shape[k];
    for (int k2 = 0; k2 < n[2]; ++k2)
      for (int k1 = 0; k1 < n[1]; ++k1)
        for (int k0 = 0; k0 < n[0]; ++k0) {
          const int ijk[3] = {k0, k1, k2};
          std::size_t idx = 0, stride = 1;
          for (int k = 0; k < Dim; ++k) {
            idx += static_cast<std::size_t>(b.offset[k] + ijk[k]) * stride;
            stride *= static_cast<std::size_t>(global.shape[k]);
          }
          ++covered[idx];
        }
  }
  for (int c : covered) REQUIRE(c == 1);
  // Balanced: along each axis the box sizes differ by at most one unit.
  for (int k = 0; k < Dim; ++k) {
    const int unit = k == 0 ? chunk : 1;
    int lo = global.shape[k], hi = 0;
    for (const auto& b : boxes) {
      lo = std::min(lo, b.shape[k]);
      hi = std::max(hi, b.shape[k]);
    }
    const bool ragged_end = k == 0 && global.shape[0] % chunk != 0;  // the last chunk is shorter
    CHECK(hi - lo <= (ragged_end ? 2 * unit : unit));
  }
}

/// The halo of every box, with the exchange done by hand: a rank side's ghost layers copied from
/// the neighbouring box's field, the rest by fill_ghosts; every face ghost must then hold what
/// fill_ghosts gives the undecomposed field at the same global index.
template <int Dim>
void check_halos(const UniformGrid<Dim>& global, int P) {
  CAPTURE(P);
  const Field<Dim> reference = reference_field(global);
  std::vector<UniformGrid<Dim>> boxes;
  std::vector<Field<Dim>> fields;
  for (int r = 0; r < P; ++r) {
    boxes.push_back(local_grid(global, P, r));
    fields.push_back(local_field(boxes.back()));
  }
  for (int r = 0; r < P; ++r) {
    const UniformGrid<Dim>& b = boxes[static_cast<std::size_t>(r)];
    Field<Dim>& f = fields[static_cast<std::size_t>(r)];
    fill_ghosts(f, b);
    const Neighbours<Dim> nb(b);
    for_each_face_ghost<Dim>(b.shape, [&](const std::array<int, Dim>& c, int axis) {
      const int side = c[axis] < 0 ? 0 : 1;
      if (nb.local(axis, side)) return;
      const int o = nb.rank(axis, side);
      const UniformGrid<Dim>& ob = boxes[static_cast<std::size_t>(o)];
      std::array<int, Dim> src = c;
      src[axis] = side == 0 ? ob.shape[axis] + c[axis] : c[axis] - b.shape[axis];
      f.at(c) = fields[static_cast<std::size_t>(o)].at(src);
    });
  }
  for (int r = 0; r < P; ++r) {
    CAPTURE(r);
    std::string first;
    const int bad = ghost_mismatches(fields[static_cast<std::size_t>(r)], boxes[static_cast<std::size_t>(r)], reference,
                                     [&](const std::string& s) { if (first.empty()) first = s; });
    INFO(first);
    CHECK(bad == 0);
  }
}

/// A stencil that reads the centre and both neighbours along every axis, written over its input by
/// InPlaceSweep on each box of a split (its rank sides' ghosts filled from the neighbours, as the
/// exchange would), must give bitwise what the out-of-place update gives: across a rank side the sweep
/// reads the ghost row, which it must neither overwrite nor confuse with a ring-held interior row.
template <int Dim>
void check_in_place_on_boxes(const UniformGrid<Dim>& global, int P, int threads) {
  CAPTURE(P);
  CAPTURE(threads);
  const Field<Dim> reference = reference_field(global);
  for (int r = 0; r < P; ++r) {
    CAPTURE(r);
    const UniformGrid<Dim> b = local_grid(global, P, r);
    const FieldLayout<Dim> L(b.shape);
    Field<Dim> q = local_field(b);
    fill_ghosts(q, b);
    const Neighbours<Dim> nb(b);
    for_each_face_ghost<Dim>(b.shape, [&](const std::array<int, Dim>& c, int axis) {
      if (nb.local(axis, c[axis] < 0 ? 0 : 1)) return;
      std::array<int, Dim> g{};
      for (int k = 0; k < Dim; ++k) g[k] = b.offset[k] + c[k];
      q.at(c) = reference.at(g);  // the exchange's values
    });
    const Field<Dim> old = q;
    auto update = [](const RowInputs<Dim>& in, double* out, int count) {
      for (int i = 0; i < count; ++i) {
        double v = 0.5 * in.centre[i];
        for (int k = 0; k < Dim; ++k) v += (0.1 + 0.01 * k) * in.lo[k][i] + (0.2 - 0.03 * k) * in.hi[k][i];
        out[i] = v;
      }
    };
    Field<Dim> expected = old;
    for (std::size_t row = 0; row < num_rows(L); ++row) {
      std::ptrdiff_t begin;
      int count;
      row_extent(L, row, begin, count);
      update(RowInputs<Dim>::of_array(old.data(), L, begin), expected.data() + begin, count);
    }
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    InPlaceSweep<Dim> sweep(L, b, threads);
    REQUIRE(sweep.available());
    sweep.run(q.data(), [&](const RowInputs<Dim>& in, std::ptrdiff_t begin, int count) {
      update(in, q.data() + begin, count);
    });
    omp_set_num_threads(saved);
    int wrong = 0;
    for (std::size_t row = 0; row < num_rows(L); ++row) {
      std::ptrdiff_t begin;
      int count;
      row_extent(L, row, begin, count);
      wrong += std::memcmp(q.data() + begin, expected.data() + begin, static_cast<std::size_t>(count) * sizeof(double)) != 0;
    }
    CHECK(wrong == 0);
    // A rank side's ghosts still hold the neighbour's (old) values: the exchange refreshes them.
    for_each_face_ghost<Dim>(b.shape, [&](const std::array<int, Dim>& c, int axis) {
      if (!nb.local(axis, c[axis] < 0 ? 0 : 1)) CHECK(q.at(c) == old.at(c));
    });
  }
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("decomposition: MPI_Dims_create split with x whole in 2D and 3D and chunk cuts in 1D") {
    CHECK(split_ranks(grid_of<2>({16, 16}, Boundary::no_flux), 3) == std::array<int, 2>{1, 3});
    CHECK(split_ranks(grid_of<3>({8, 8, 8}, Boundary::no_flux), 4) == std::array<int, 3>{1, 2, 2});
    CHECK(split_ranks(grid_of<3>({8, 8, 12}, Boundary::no_flux), 6) == std::array<int, 3>{1, 2, 3});
    CHECK(split_ranks(grid_of<3>({8, 8, 8}, Boundary::no_flux), 3) == std::array<int, 3>{1, 1, 3});
    // 1D: nx = 200 makes chunks of 4 cells; 3 ranks get 17, 17 and 16 chunks, larger boxes first.
    const UniformGrid<1> line = grid_of<1>({200}, Boundary::periodic);
    std::vector<int> starts;
    for (int r = 0; r < 3; ++r) starts.push_back(local_grid(line, 3, r).offset[0]);
    CHECK(starts == std::vector<int>{0, 68, 136});
    CHECK(local_grid(line, 3, 2).shape[0] == 64);
    // P = 1 is the grid itself.
    const UniformGrid<2> g = grid_of<2>({5, 7}, Boundary::periodic);
    const UniformGrid<2> one = local_grid(g, 1, 0);
    CHECK(one.shape == g.shape);
    CHECK_FALSE(one.decomposed());
    CHECK(one.neighbour_rank[0][0] == own_boundary);
  }

  TEST_CASE("decomposition: too many ranks for the grid is a clean error naming the axis") {
    CHECK_THROWS_WITH_AS(split_ranks(grid_of<2>({16, 8}, Boundary::no_flux), 5),
                         "5 ranks: the 8 cells along y cannot be split into 5 boxes of at least 2 cells",
                         DecompositionError);
    // 1D with 100 cells: chunks of 2 cells, 50 of them; 51 ranks cannot each get one.
    CHECK_THROWS_WITH_AS(split_ranks(grid_of<1>({100}, Boundary::no_flux), 51),
                         "51 ranks: the 100 cells along x (split only at multiples of 2 cells) cannot be split "
                         "into 51 boxes of at least 2 cells",
                         DecompositionError);
    CHECK_NOTHROW(split_ranks(grid_of<1>({100}, Boundary::no_flux), 50));
    CHECK_THROWS_AS(split_ranks(grid_of<3>({4, 4, 4}, Boundary::no_flux), 0), DecompositionError);
  }

  TEST_CASE("decomposition: every box and its neighbours for P = 1 to 6 in 1D 2D and 3D") {
    for (Boundary bc : {Boundary::no_flux, Boundary::periodic})
      for (int P = 1; P <= 6; ++P) {
        check_boxes(grid_of<1>({130}, bc), P);  // chunks of 3 cells, the last one of 1
        check_boxes(grid_of<2>({5, 13}, bc), P);
        if (P != 5) check_boxes(grid_of<3>({3, 7, 9}, bc), P);  // P = 5 would cut z = 9 into boxes of 1
      }
    // Mixed boundaries: periodic y, walls in z.
    UniformGrid<3> mixed = grid_of<3>({4, 6, 6}, Boundary::no_flux);
    mixed.boundary[1] = Boundary::periodic;
    for (int P = 1; P <= 4; ++P) check_boxes(mixed, P);
  }

  TEST_CASE("decomposition: halos filled from the neighbouring boxes equal fill_ghosts of the whole grid") {
    for (Boundary bc : {Boundary::no_flux, Boundary::periodic})
      for (int P = 1; P <= 4; ++P) {
        check_halos(grid_of<1>({12}, bc), P);  // P = 2: both ends of each box face the same rank
        check_halos(grid_of<2>({3, 11}, bc), P);
        check_halos(grid_of<3>({3, 5, 7}, bc), P);
      }
    UniformGrid<2> mixed = grid_of<2>({4, 9}, Boundary::periodic);
    mixed.boundary[1] = Boundary::no_flux;
    for (int P = 1; P <= 4; ++P) check_halos(mixed, P);
  }

  TEST_CASE("decomposition: the in-place sweep on each box is bitwise the out-of-place update") {
    const Boundary W = Boundary::no_flux, Pe = Boundary::periodic;
    for (const int threads : {1, 2, 3})
      for (const Boundary bc : {W, Pe}) {
        for (int P : {2, 3}) check_in_place_on_boxes(grid_of<2>({130, 280}, bc), P, threads);  // parallel
        for (int P : {2, 3, 4}) check_in_place_on_boxes(grid_of<3>({5, 7, 9}, bc), P, threads);
        check_in_place_on_boxes(grid_of<3>({40, 26, 50}, bc), 3, threads);  // parallel, 16-17 slices
        check_in_place_on_boxes(grid_of<3>({8, 4, 4}, bc), 4, threads);      // 2 x 2 boxes of 2 x 2
      }
  }
}
