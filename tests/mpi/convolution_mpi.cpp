/// The distributed interaction convolution (solver/energy/distributed_convolution.hpp) under mpirun
/// (registered for P = 1, 2, 3, 4): every rank convolves its box of a state with InteractionTerm on
/// decompose(global, world) and compares with the serial convolution of the whole state (the
/// undecomposed grid, on every rank): max |Φ_P − Φ_1| ≤ 1e-13 max |Φ_1| on every cell of its box,
/// for attractive (Newtonian, Gaussian) and repulsive (power, Morse) kernels, no-flux (zero-padded)
/// and periodic axes, 1D, 2D and 3D, uneven boxes at P = 3 and 4, twice (the buffers are reused).
/// On P > 1 the grid must really be decomposed. Exit 0 on every rank iff all passed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "grids/cell_loop.hpp"
#include "grids/communicator.hpp"
#include "grids/halo_exchange.hpp"
#include "solver/energy/interaction.hpp"

using namespace wgflow;

namespace {

int failures = 0;
double worst = 0.0;

void fail(const Communicator& world, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "rank %d: %s\n", world.rank(), what.c_str());
}

/// A smooth positive state, a function of the global cell index only (the same on every split).
template <int Dim>
double state_at(const UniformGrid<Dim>& g, const std::array<int, Dim>& cell, int round) {
  double v = 1.0 + 0.1 * round;
  for (int k = 0; k < Dim; ++k) v += 0.4 * std::sin(0.7 * (g.offset[k] + cell[k]) + k + round);
  return v;
}

template <int Dim>
Field<Dim> state(const UniformGrid<Dim>& g, int round) {
  Field<Dim> q(FieldLayout<Dim>(g.shape));
  for_each_cell<Dim>(g, [&](std::size_t, const std::array<int, Dim>& c, const auto&) { q.at(c) = state_at<Dim>(g, c, round); });
  return q;
}

template <int Dim>
void check_case(const Communicator& world, const std::string& name, const std::array<int, Dim>& shape,
                const std::array<Boundary, Dim>& bc, const std::string& kernel) {
  UniformGrid<Dim> global = make_cube_grid<Dim>(2, -1.0, 1.5, Boundary::no_flux);
  global.shape = shape;
  global.boundary = bc;
  const UniformGrid<Dim> local = decompose(global, world);
  if (world.size() > 1 && !local.decomposed()) fail(world, name + ": the grid is not decomposed");
  const InteractionSpec spec = parse_kernel(kernel, Dim);
  const InteractionTerm<Dim> serial(global, spec), distributed(local, spec);
  for (int round = 0; round < 2; ++round) {
    const Field<Dim> whole = state(global, round), mine = state(local, round);
    const Field<Dim>& phi_1 = serial.convolve(whole);
    double scale = 0.0;
    for_each_cell<Dim>(global, [&](std::size_t, const std::array<int, Dim>& c, const auto&) { scale = std::max(scale, std::abs(phi_1.at(c))); });
    const Field<Dim>& phi_p = distributed.convolve(mine);
    double diff = 0.0;
    for_each_cell<Dim>(local, [&](std::size_t, const std::array<int, Dim>& c, const auto&) {
      std::array<int, Dim> g{};
      for (int k = 0; k < Dim; ++k) g[k] = c[k] + local.offset[k];
      diff = std::max(diff, std::abs(phi_p.at(c) - phi_1.at(g)));
    });
    const double relative = diff / scale;
    worst = std::max(worst, relative);
    if (!(scale > 0.0) || !(relative <= 1e-13))
      fail(world, name + " (" + kernel + "): relative difference " + std::to_string(relative));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const MpiRuntime mpi(&argc, &argv);
  const Communicator world = Communicator::world();
  const Boundary wall = Boundary::no_flux, wrap = Boundary::periodic;
  try {
    check_case<1>(world, "1D no-flux", {48}, {wall}, "newtonian");
    check_case<1>(world, "1D periodic", {48}, {wrap}, "morse");
    check_case<2>(world, "2D no-flux", {7, 13}, {wall, wall}, "newtonian");
    check_case<2>(world, "2D no-flux", {7, 13}, {wall, wall}, "power:a=2");
    check_case<2>(world, "2D periodic", {6, 11}, {wrap, wrap}, "gaussian:sigma=0.3");
    check_case<2>(world, "2D periodic x, walls y", {8, 9}, {wrap, wall}, "morse");
    check_case<3>(world, "3D no-flux", {5, 8, 9}, {wall, wall, wall}, "newtonian");
    check_case<3>(world, "3D periodic", {4, 9, 8}, {wrap, wrap, wrap}, "power:a=2");
    check_case<3>(world, "3D walls y, periodic z", {6, 8, 7}, {wrap, wall, wrap}, "gaussian:sigma=0.4");
  } catch (const std::exception& e) {
    fail(world, e.what());
  }
  std::int64_t total = failures;
  world.sum(&total, 1);
  const double largest = world.max(worst);
  if (world.rank() == 0)
    std::printf("distributed convolution on %d ranks: %s (largest relative difference %.2e)\n", world.size(),
                total == 0 ? "equal to the serial one" : "FAILED", largest);
  return total == 0 ? 0 : 1;
}
