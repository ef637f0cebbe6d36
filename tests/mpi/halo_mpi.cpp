/// The halo exchange under mpirun (registered for P = 1, 2, 3, 4 when MPI is built): every rank fills
/// its box with a function of the global cell index, exchanges, and checks that every face ghost
/// holds what fill_ghosts gives the undecomposed grid (tests/grids/halo_check.hpp): periodic wraps
/// across ranks, walls mirrored, uneven splits in 1D, 2D and 3D. Also the Cartesian communicator's
/// numbering and the reductions of grids/communicator.hpp. Exit 0 on every rank iff all passed.
#include <cstdint>
#include <cstdio>
#include <string>

#include "grids/communicator.hpp"
#include "grids/decomposition.hpp"
#include "grids/halo_exchange.hpp"
#include "tests/grids/halo_check.hpp"

using namespace wgflow;
using namespace wgflow::testing;

namespace {

int failures = 0;

void fail(const Communicator& world, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "rank %d: %s\n", world.rank(), what.c_str());
}

template <int Dim>
void check_case(const Communicator& world, const std::string& name, const std::array<int, Dim>& shape,
                const std::array<Boundary, Dim>& bc) {
  UniformGrid<Dim> global = make_cube_grid<Dim>(2, 0.0, 1.0, Boundary::no_flux);
  global.shape = shape;
  global.boundary = bc;
  const UniformGrid<Dim> local = local_grid(global, world.size(), world.rank());
  HaloExchange<Dim> halo(local, world);
  if (halo.communicator().rank() != world.rank()) fail(world, name + ": the Cartesian communicator renumbered the ranks");
  const Field<Dim> reference = reference_field(global);
  for (int round = 0; round < 2; ++round) {  // the buffers are reused
    Field<Dim> f = local_field(local);
    halo.fill(f);
    std::string first;
    const int bad = ghost_mismatches(f, local, reference, [&](const std::string& s) {
      if (first.empty()) first = s;
    });
    if (bad > 0) fail(world, name + ": " + std::to_string(bad) + " wrong ghosts, e.g. " + first);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const MpiRuntime mpi(&argc, &argv);
  const Communicator world = Communicator::world();
  const int P = world.size();
  const Boundary wall = Boundary::no_flux, wrap = Boundary::periodic;
  try {
    check_case<1>(world, "1D no-flux", {24}, {wall});
    check_case<1>(world, "1D periodic", {24}, {wrap});
    check_case<2>(world, "2D no-flux", {5, 11}, {wall, wall});
    check_case<2>(world, "2D periodic", {5, 11}, {wrap, wrap});
    check_case<2>(world, "2D periodic x, walls y", {4, 9}, {wrap, wall});
    check_case<3>(world, "3D no-flux", {3, 5, 7}, {wall, wall, wall});
    check_case<3>(world, "3D periodic", {3, 5, 7}, {wrap, wrap, wrap});
    check_case<3>(world, "3D walls y, periodic z", {4, 6, 6}, {wrap, wall, wrap});
  } catch (const std::exception& e) {
    fail(world, e.what());
  }
  if (world.max(world.rank()) != P - 1 || world.min(world.rank()) != 0) fail(world, "max/min allreduce");
  std::int64_t sums[2] = {world.rank(), 1};
  world.sum(sums, 2);
  if (sums[0] != static_cast<std::int64_t>(P) * (P - 1) / 2 || sums[1] != P) fail(world, "int64 sum allreduce");
  std::int64_t total = failures;
  world.sum(&total, 1);
  if (world.rank() == 0) std::printf("halo exchange on %d ranks: %s\n", P, total == 0 ? "all ghosts right" : "FAILED");
  return total == 0 ? 0 : 1;
}
