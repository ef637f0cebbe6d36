/// The SG flux limiting of implicit_positivity.cpp on a decomposed grid: the same factors β, computed
/// in an order of the flux graph (each cell after the cells that give to it), with the β of cells in
/// neighbouring boxes delivered by rounds of the halo exchange, as the upwind sweep does.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "grids/boundary.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/halo_exchange.hpp"
#include "solver/steppers/rounds_walk.hpp"
#include "solver/flux/scharfetter_gummel.hpp"
#include "solver/steppers/implicit_euler_impl.hpp"

namespace wgflow {

using implicit_detail::eps;
using implicit_detail::flush_subnormal;

/// An SG face flux runs from higher to lower Slotboom potential, so the faces with a nonzero flux
/// form an acyclic graph; each cell is done once the cells that give to it (its donors) are: then
/// out_u = qⁿ + Δt (Σ β_donor·inflow − β_u·outflow) with β_u = 1, and if that is < 0, β_u = shave ·
/// (qⁿ + Δt·inflow)/(Δt·outflow), and β_u = 0 if rounding still leaves out_u < 0 — the serial rules,
/// each cell visited once. A cell whose donors all keep β = 1 gets out bit for bit as before. Donors
/// in other boxes: β travels in a halo exchange per round (not final: −∞), one int64 sum per round
/// decides for all ranks. Returns Σ|Δout| over all ranks (an exact sum), or −1 when a round finished
/// no cell (rounding made the flux graph cyclic): the caller then rejects the attempt.
template <int Dim>
double ImplicitEuler<Dim>::Impl::limit_sg_fluxes_decomposed(const Field<Dim>& qn_field, double dt) {
  constexpr double not_final = walk_not_final;
  constexpr int wall = -1;
  const double* q0 = qn_field.data();
  double* op = out.data();
  if (beta.layout().padded_size != L.padded_size) beta = Field<Dim>(L);
  double* b = beta.data();
  std::fill(b, b + L.padded_size, not_final);
  const auto n = static_cast<std::size_t>(unk.n);
  auto rates = [&](std::size_t u) { return sg_face_rates(unk.cell[u]); };  // [2k]: low face, > 0 into u
  auto gives = [](int j, double g) { return (j % 2 == 0) ? g < 0.0 : g > 0.0; };
  auto takes = [](int j, double g) { return (j % 2 == 0) ? g > 0.0 : g < 0.0; };
  auto neighbour_cell = [&](std::size_t u, int j) {
    const int w = unk.nbr[u][static_cast<std::size_t>(j)];
    const std::ptrdiff_t s = L.stride[j / 2];
    return w >= 0 ? unk.cell[static_cast<std::size_t>(w)] : unk.cell[u] + (j % 2 == 0 ? -s : s);
  };
  WalkState walk(n);
  std::vector<int>& pending = walk.pending;
  std::vector<int>& ready = walk.ready;
  std::vector<BorderInflow>& border = walk.border;
  for (std::size_t u = 0; u < n; ++u) {
    const auto g = rates(u);
    int donors = 0;
    for (int j = 0; j < 2 * Dim; ++j) {
      const int w = unk.nbr[u][static_cast<std::size_t>(j)];
      if (w == wall || !takes(j, g[static_cast<std::size_t>(j)])) continue;
      ++donors;
      if (w == implicit_detail::Unknowns<Dim>::remote) border.push_back({static_cast<int>(u), neighbour_cell(u, j)});
    }
    pending[u] = donors;
    if (donors == 0) ready.push_back(static_cast<int>(u));
  }
  constexpr double shave = 1.0 - 16.0 * (2 * Dim + 1) * eps;
  ExactSum moved;
  std::int64_t limited = 0;
  auto finish_ready = [&]() {
    std::int64_t finished = 0;
    while (!ready.empty()) {
      const auto u = static_cast<std::size_t>(ready.back());
      ready.pop_back();
      const std::ptrdiff_t c = unk.cell[u];
      const auto g = rates(u);
      b[c] = 1.0;
      // out with the current factors; with all β = 1 the operations of sg_conservative_update.
      auto update = [&]() {
        double rate = 0.0;
        for (int k = 0; k < Dim; ++k) {
          const auto lo = static_cast<std::size_t>(2 * k), hi = lo + 1;
          const double f_lo = takes(int(lo), g[lo]) ? b[neighbour_cell(u, int(lo))] : b[c];
          const double f_hi = takes(int(hi), g[hi]) ? b[neighbour_cell(u, int(hi))] : b[c];
          rate += f_lo * g[lo] - f_hi * g[hi];
        }
        return flush_subnormal(q0[c] + dt * rate);
      };
      const double before = op[c];
      bool donor_limited = false;
      for (int j = 0; j < 2 * Dim; ++j)
        if (unk.nbr[u][static_cast<std::size_t>(j)] != wall && takes(j, g[static_cast<std::size_t>(j)]) &&
            b[neighbour_cell(u, j)] != 1.0)
          donor_limited = true;
      if (donor_limited) op[c] = update();
      if (op[c] < 0.0) {
        double in = 0.0, give = 0.0;
        for (int j = 0; j < 2 * Dim; ++j) {
          const double gj = (j % 2 == 0) ? g[static_cast<std::size_t>(j)] : -g[static_cast<std::size_t>(j)];
          if (gj > 0.0)
            in += b[neighbour_cell(u, j)] * gj;
          else
            give -= gj;
        }
        b[c] = give > 0.0 ? std::min(1.0, shave * std::max(q0[c] + dt * in, 0.0) / (dt * give)) : 0.0;
        op[c] = update();
        if (op[c] < 0.0) {  // rounding: give nothing
          b[c] = 0.0;
          op[c] = update();
        }
        ++limited;
      }
      moved.add(std::abs(op[c] - before));
      ++finished;
      for (int j = 0; j < 2 * Dim; ++j) {  // its receivers in this box
        const int w = unk.nbr[u][static_cast<std::size_t>(j)];
        if (w >= 0 && static_cast<std::size_t>(w) != u && gives(j, g[static_cast<std::size_t>(j)]) &&
            --pending[static_cast<std::size_t>(w)] == 0)
          ready.push_back(w);
      }
    }
    return finished;
  };
  if (!walk_in_rounds(grid, beta, walk, static_cast<std::int64_t>(n), finish_ready, stats.sweep_rounds)) return -1.0;
  grid.ranks.sum(&limited, 1);
  stats.limited_cells += limited;
  ChunkSums<1> total;
  total[0].add(moved);
  total.allreduce(grid.ranks);
  return total.values()[0];
}

template double ImplicitEuler<1>::Impl::limit_sg_fluxes_decomposed(const Field<1>&, double);
template double ImplicitEuler<2>::Impl::limit_sg_fluxes_decomposed(const Field<2>&, double);
template double ImplicitEuler<3>::Impl::limit_sg_fluxes_decomposed(const Field<3>&, double);

}  // namespace wgflow
