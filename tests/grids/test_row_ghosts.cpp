/// RowGhostFiller (ghost filling fused into a row loop) leaves a field exactly as fill_ghosts does,
/// whatever order the rows come in; SG stages that rely on it, and SG stages written over their input
/// (InPlaceSweep), give bitwise the states of out-of-place stages with full ghost passes.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/energy/free_energy.hpp"
#include "solver/sg_operator.hpp"

using namespace wgflow;

namespace {

template <int Dim>
void check_same_as_fill_ghosts(const std::array<int, Dim>& shape, const std::array<Boundary, Dim>& bc) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(2, 0.0, 1.0, Boundary::no_flux);
  g.shape = shape;
  g.boundary = bc;
  const FieldLayout<Dim> L(shape);
  Field<Dim> reference(L, -7.0), fused(L, -7.0);
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::size_t r = 0; r < num_rows(L); ++r) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, r, begin, count);
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) reference[c] = fused[c] = u(rng);
  }
  fill_ghosts(reference, g);
  const RowGhostFiller<Dim> filler(L, g);
  REQUIRE(filler.fused());
  for (std::size_t r = num_rows(L); r-- > 0;) {  // reverse order: no row may depend on another
    std::ptrdiff_t begin;
    int count;
    row_extent(L, r, begin, count);
    filler(fused.data(), begin, count);
  }
  CHECK(std::memcmp(reference.data(), fused.data(), L.padded_size * sizeof(double)) == 0);
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("row ghosts: fused ghost filling equals fill_ghosts in 2D and 3D for both boundary kinds") {
    const Boundary W = Boundary::no_flux, P = Boundary::periodic;
    for (const Boundary bx : {W, P})
      for (const Boundary by : {W, P}) {
        check_same_as_fill_ghosts<2>({5, 2}, {bx, by});
        check_same_as_fill_ghosts<2>({2, 7}, {bx, by});
        for (const Boundary bz : {W, P}) {
          check_same_as_fill_ghosts<3>({4, 3, 2}, {bx, by, bz});
          check_same_as_fill_ghosts<3>({2, 5, 6}, {bx, by, bz});
        }
      }
    // 1D and axes of one cell are not fused (their callers run fill_ghosts instead).
    const UniformGrid<1> g1 = make_cube_grid<1>(8, 0.0, 1.0, W);
    CHECK_FALSE(RowGhostFiller<1>(FieldLayout<1>(g1.shape), g1).fused());
    UniformGrid<2> g2 = make_cube_grid<2>(8, 0.0, 1.0, W);
    g2.shape[1] = 1;
    CHECK_FALSE(RowGhostFiller<2>(FieldLayout<2>(g2.shape), g2).fused());
  }

  TEST_CASE("row ghosts: an SG stage leaves its output with the ghosts fill_ghosts would give it") {
    UniformGrid<3> g = make_cube_grid<3>(6, -2.0, 2.0, Boundary::no_flux);
    g.boundary[1] = Boundary::periodic;
    InternalEnergySpec internal{InternalEnergySpec::Kind::entropy, 1.0, 2.0};
    PotentialSpec potential;
    potential.kind = PotentialSpec::Kind::quadratic;
    potential.gamma = 1.0;
    const FreeEnergy<3> energy(g, internal, potential);
    SgOperator<3> op(energy);
    const FieldLayout<3> L(g.shape);
    Field<3> q(L, 0.0), out(L, -3.0);
    for (std::size_t r = 0; r < num_rows(L); ++r) {
      std::ptrdiff_t begin;
      int count;
      row_extent(L, r, begin, count);
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) q[c] = 1.0 + 0.01 * static_cast<double>(c % 17);
    }
    const double dt = 0.5 * op.prepare(q);
    op.euler_stage(out, q, dt, 0.25, q, 0.75);
    Field<3> refilled = out;
    fill_ghosts(refilled, g);
    CHECK(std::memcmp(out.data(), refilled.data(), L.padded_size * sizeof(double)) == 0);
  }
}

namespace {

/// An SG stage written over its input equals the out-of-place stage bit for bit (interior and
/// ghosts), for `threads` threads: slabs of zero, one and several slices, both boundary kinds.
template <int Dim>
void check_in_place_stage(const std::array<int, Dim>& shape, const std::array<Boundary, Dim>& bc, bool potential,
                          int threads) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(2, -2.0, 2.0, Boundary::no_flux);
  g.shape = shape;
  g.boundary = bc;
  InternalEnergySpec internal{InternalEnergySpec::Kind::entropy, 0.8, 2.0};
  PotentialSpec V;
  if (potential) {
    V.kind = PotentialSpec::Kind::quadratic;
    V.gamma = 1.5;
  }
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);  // before enable_in_place_stages(): scratch for this many threads
  const FreeEnergy<Dim> energy(g, internal, V);
  SgOperator<Dim> op(energy);
  REQUIRE(op.enable_in_place_stages_always());
  CHECK(op.enable_in_place_stages() == (Dim == 3 && potential));  // where the memory bound needs it
  const FieldLayout<Dim> L(g.shape);
  Field<Dim> q(L, 0.0), base(L, 0.0);
  for (std::size_t r = 0; r < num_rows(L); ++r) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, r, begin, count);
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      q[c] = 1.0 + 0.37 * std::sin(0.1 * static_cast<double>(c));
      base[c] = 1.0 + 0.21 * std::cos(0.3 * static_cast<double>(c));
    }
  }
  const double dt = 0.5 * op.prepare(q);
  Field<Dim> reference(L, 0.0);
  op.euler_stage(reference, q, dt, 0.25, base, 0.75);
  op.euler_stage(q, q, dt, 0.25, base, 0.75);
  omp_set_num_threads(saved);
  CHECK(std::memcmp(q.data(), reference.data(), L.padded_size * sizeof(double)) == 0);
}

}  // namespace

TEST_SUITE("unit") {
  TEST_CASE("in-place SG stage: bitwise the out-of-place stage for 1 to 5 threads and both boundary kinds") {
    const Boundary W = Boundary::no_flux, P = Boundary::periodic;
    for (const int threads : {1, 2, 3, 5})
      for (const bool potential : {false, true}) {
        for (const Boundary by : {W, P}) {
          check_in_place_stage<2>({200, 90}, {W, by}, potential, threads);   // parallel: ≥ 16384 cells
          check_in_place_stage<2>({9, 7}, {P, by}, potential, threads);      // one thread
          for (const Boundary bz : {W, P}) {
            check_in_place_stage<3>({60, 70, 4}, {W, by, bz}, potential, threads);  // 0 to 2 slices per thread
            check_in_place_stage<3>({30, 24, 31}, {P, by, bz}, potential, threads);
            check_in_place_stage<3>({40, 40, 2}, {W, by, bz}, potential, threads);  // ring-held wrap
            check_in_place_stage<3>({5, 4, 3}, {W, by, bz}, potential, threads);
          }
        }
      }
  }
}
