/// The positivity sweep of implicit Euler's upwind path (solver/steppers/upwind_sweep.hpp) on P ranks
/// (registered for P = 1, 2, 3, 4) against the serial sweep it replaced: one walk over all cells sorted
/// by decreasing ξ (written out below), on the undecomposed grid on every rank. Every cell of every
/// rank's box must be bitwise equal to it, and so must the new sweep on the undecomposed grid. The ξ
/// fields make the dependency chains cross the rank borders (y in 2D, y and z in 3D; x in 1D) many
/// times: a snake that runs up and down y column after column, a spiral whose descent winds around
/// a periodic box, plateaus of equal ξ (no flow across those faces), 1D periodic zigzag. On P > 1
/// the sweep must really have needed rounds of the halo exchange (the snakes: at least 10). Exit 0
/// iff all passed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/communicator.hpp"
#include "grids/halo_exchange.hpp"
#include "solver/steppers/upwind_sweep.hpp"

using namespace wgflow;

namespace {

int failures = 0;

void fail(const Communicator& world, const std::string& what) {
  ++failures;
  std::fprintf(stderr, "rank %d: %s\n", world.rank(), what.c_str());
}

template <int Dim>
using GlobalFn = std::function<double(const std::array<int, Dim>&, const std::array<int, Dim>&)>;

/// f at every cell of grid's box from its global index (and the global shape), ghosts filled.
template <int Dim>
Field<Dim> sample(const UniformGrid<Dim>& grid, const GlobalFn<Dim>& f) {
  Field<Dim> out(FieldLayout<Dim>(grid.shape));
  std::array<int, Dim> n{};
  for (int k = 0; k < Dim; ++k) n[k] = grid.global_shape(k);
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& c, const std::array<double, Dim>&) {
    std::array<int, Dim> g{};
    for (int k = 0; k < Dim; ++k) g[k] = grid.offset[k] + c[k];
    out.data()[idx] = f(g, n);
  });
  fill_ghosts(out, grid);
  return out;
}

/// The serial sweep as implicit_positivity.cpp had it: cells sorted by decreasing ξ (ties: lower
/// unknown first), each computed from its donors, which come earlier.
template <int Dim>
Field<Dim> sorted_sweep(const UniformGrid<Dim>& grid, const Field<Dim>& xif, const Field<Dim>& qn, double dt,
                        const std::array<double, Dim>& inv_dx2) {
  const implicit_detail::Unknowns<Dim> unk(grid);
  const FieldLayout<Dim>& L = xif.layout();
  const double* xi = xif.data();
  std::vector<std::pair<double, int>> order(static_cast<std::size_t>(unk.n));
  for (int u = 0; u < unk.n; ++u) order[static_cast<std::size_t>(u)] = {xi[unk.cell[static_cast<std::size_t>(u)]], u};
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  std::vector<double> qh(static_cast<std::size_t>(unk.n), 0.0);
  for (const auto& entry : order) {
    const auto u = static_cast<std::size_t>(entry.second);
    const std::ptrdiff_t c = unk.cell[u];
    double in = 0.0, out_rate = 0.0;
    for (int k = 0; k < Dim; ++k) {
      const std::ptrdiff_t s = L.stride[k];
      const int lo = unk.nbr[u][static_cast<std::size_t>(2 * k)];
      const int hi = unk.nbr[u][static_cast<std::size_t>(2 * k + 1)];
      if (lo >= 0) {
        const double ud = xi[c - s] - xi[c];
        if (ud > 0.0) in += ud * qh[static_cast<std::size_t>(lo)] * inv_dx2[k];
        else if (ud < 0.0) out_rate -= ud * inv_dx2[k];
      }
      if (hi >= 0) {
        const double ud = xi[c] - xi[c + s];
        if (ud > 0.0) out_rate += ud * inv_dx2[k];
        else if (ud < 0.0) in -= ud * qh[static_cast<std::size_t>(hi)] * inv_dx2[k];
      }
    }
    qh[u] = (qn[c] + dt * in) / (1.0 + dt * out_rate);
  }
  Field<Dim> out(L);
  for (std::size_t u = 0; u < qh.size(); ++u) out.data()[unk.cell[u]] = qh[u];
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

template <int Dim>
void check_case(const Communicator& world, const std::string& name, const std::array<int, Dim>& n, Boundary bc,
                const GlobalFn<Dim>& xi_of, double dt, long min_rounds) {
  UniformGrid<Dim> global;
  global.shape = n;
  global.lower.fill(-1.0);
  global.upper.fill(1.0);
  global.boundary.fill(bc);
  std::array<double, Dim> inv_dx2{};
  for (int k = 0; k < Dim; ++k) inv_dx2[k] = 1.0 / (global.dx(k) * global.dx(k));
  const GlobalFn<Dim> qn_of = [](const std::array<int, Dim>& g, const std::array<int, Dim>&) {
    double s = 0.0;
    for (int k = 0; k < Dim; ++k) s += (1.3 + 0.4 * k) * g[k];
    return 1.0 + 0.75 * std::sin(s) + (g[0] % 5 == 0 ? 0.0 : 1e-3);  // some cells with qⁿ = 0.25
  };
  // The reference on the whole grid, on every rank (no ranks attached: nothing exchanged).
  const Field<Dim> xi_g = sample<Dim>(global, xi_of), qn_g = sample<Dim>(global, qn_of);
  const Field<Dim> reference = sorted_sweep<Dim>(global, xi_g, qn_g, dt, inv_dx2);
  Field<Dim> serial(xi_g.layout());
  const implicit_detail::Unknowns<Dim> unk_g(global);
  const UpwindSweepResult s = upwind_sweep(global, unk_g, xi_g, qn_g, dt, inv_dx2.data(), serial);
  if (!s.ok || s.rounds != 0) fail(world, name + ": the undecomposed sweep failed or exchanged");
  for (std::ptrdiff_t c : unk_g.cell)
    if (!same_bits(serial[c], reference[c]) || !(serial[c] >= 0.0)) {
      fail(world, name + ": the undecomposed sweep differs from the sorted one");
      break;
    }
  // This rank's box.
  const UniformGrid<Dim> grid = decompose(global, world);
  const Field<Dim> xi = sample<Dim>(grid, xi_of), qn = sample<Dim>(grid, qn_of);
  const implicit_detail::Unknowns<Dim> unk(grid);
  Field<Dim> qh(xi.layout());
  const UpwindSweepResult r = upwind_sweep(grid, unk, xi, qn, dt, inv_dx2.data(), qh);
  if (!r.ok) fail(world, name + ": the decomposed sweep stopped short");
  long wrong = 0;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& c, const std::array<double, Dim>&) {
    std::array<int, Dim> g{};
    for (int k = 0; k < Dim; ++k) g[k] = grid.offset[k] + c[k];
    if (!same_bits(qh.data()[idx], reference[reference.layout().index(g)])) ++wrong;
  });
  if (wrong > 0) fail(world, name + ": " + std::to_string(wrong) + " cells differ from the serial sweep");
  // Ghosts: what fill_ghosts gives (the caller's residual reads them).
  Field<Dim> filled = qh;
  fill_ghosts(filled, grid);
  if (std::memcmp(filled.data(), qh.data(), sizeof(double) * qh.layout().padded_size) != 0)
    fail(world, name + ": ghosts of the result not filled");
  if (world.size() > 1 && grid.decomposed() && r.rounds < min_rounds)
    fail(world, name + ": only " + std::to_string(r.rounds) + " exchange rounds: the chains do not cross the borders");
  if (world.rank() == 0)
    std::printf("%s: %ld exchange rounds on %d ranks\n", name.c_str(), r.rounds, world.size());
}

}  // namespace

int main(int argc, char** argv) {
  const MpiRuntime mpi(&argc, &argv);
  const Communicator world = Communicator::world();
  try {
    // 2D snake: ξ falls along x = 0 upwards in y, x = 1 downwards, ...: one chain through all cells.
    check_case<2>(world, "2D snake, no-flux", {12, 30}, Boundary::no_flux,
                  [](const std::array<int, 2>& g, const std::array<int, 2>& n) {
                    const int along = g[0] % 2 == 0 ? g[1] : n[1] - 1 - g[1];
                    return -static_cast<double>(g[0] * n[1] + along);
                  }, 5.0, 10);
    // 2D spiral on a periodic box, with a plateau (ξ clipped: ties carry no flow).
    check_case<2>(world, "2D spiral with plateau, periodic", {20, 26}, Boundary::periodic,
                  [](const std::array<int, 2>& g, const std::array<int, 2>& n) {
                    const double x = (g[0] + 0.5) / n[0] - 0.5, y = (g[1] + 0.5) / n[1] - 0.5;
                    const double r = std::sqrt(x * x + y * y), theta = std::atan2(y, x);
                    return std::max(-0.4, std::sin(3.0 * theta + 25.0 * r) * 0.3 - r);
                  }, 2.0, 1);
    // 3D: the snake in (x, y) with a z zigzag on top, periodic, so chains cross y and z borders.
    check_case<3>(world, "3D snake with z zigzag, periodic", {6, 12, 10}, Boundary::periodic,
                  [](const std::array<int, 3>& g, const std::array<int, 3>& n) {
                    const int along = g[0] % 2 == 0 ? g[1] : n[1] - 1 - g[1];
                    const int up = (g[0] * n[1] + along) % 2 == 0 ? g[2] : n[2] - 1 - g[2];
                    return -static_cast<double>((g[0] * n[1] + along) * n[2] + up);
                  }, 1.0, 10);
    check_case<3>(world, "3D spiral, no-flux", {8, 14, 12}, Boundary::no_flux,
                  [](const std::array<int, 3>& g, const std::array<int, 3>& n) {
                    const double y = (g[1] + 0.5) / n[1] - 0.5, z = (g[2] + 0.5) / n[2] - 0.5;
                    const double r = std::sqrt(y * y + z * z), theta = std::atan2(z, y);
                    return std::sin(theta + 20.0 * r) - 0.1 * g[0] - r;
                  }, 3.0, 1);
    // 1D periodic zigzag (x is split only at reduction chunks: 400 cells).
    check_case<1>(world, "1D zigzag, periodic", {400}, Boundary::periodic,
                  [](const std::array<int, 1>& g, const std::array<int, 1>&) {
                    return std::sin(0.05 * g[0]) + 0.2 * std::sin(0.7 * g[0]);
                  }, 4.0, 1);
  } catch (const std::exception& e) {
    fail(world, e.what());
  }
  std::int64_t total = failures;
  world.sum(&total, 1);
  if (world.rank() == 0)
    std::printf("upwind sweep on %d ranks: %s\n", world.size(), total == 0 ? "bitwise equal to the serial sweep" : "FAILED");
  return total == 0 ? 0 : 1;
}
