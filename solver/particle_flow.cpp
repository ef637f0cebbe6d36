/// Implicit Euler's particle motion: the exact flow over Δt of the frozen face velocities, cell by
/// cell (Pollock 1988), on one rank or on P, where a particle that reaches a face towards another
/// rank's box is handed over mid-flight with its remaining time and its global cell.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "grids/parallel_for.hpp"
#include "solver/mac_velocity.hpp"
#include "solver/particles.hpp"

namespace wgflow {

namespace {

/// expm1(z)/z, 1 at z = 0: x(τ) = x + v₀ τ φ(Aτ) solves dx/dt = v₀ + A (x − x₀) exactly.
inline double phi1(double z) { return z == 0.0 ? 1.0 : std::expm1(z) / z; }

/// Time to reach the face at velocity v_face from velocity v0 > 0 or < 0 moving towards it, in the
/// field v = v0 + A (x − x0); infinite when the flow stops before the face (v_face of the other sign).
inline double exit_time(double v0, double v_face, double distance, double A) {
  if (!(v0 * v_face > 0.0)) return std::numeric_limits<double>::infinity();
  if (A == 0.0) return distance / v0;
  return std::log(v_face / v0) / A;  // v(t) = v0 e^{At} reaches v_face
}

constexpr int max_crossings = 100000;  // a gradient field has no cycles: ξ falls at every crossing
constexpr int max_handovers = 100000;  // rounds of hand-overs between ranks (each crosses a box)

}  // namespace

/// Each particle keeps its global cell while it moves (the cell's low corner is lower + cell·Δx on
/// any split, so the arithmetic is one rank's); a crossing into a cell outside this rank's box pauses
/// it on the face (`leaves`: 2·axis + side). Then, on a decomposed grid, the paused particles go to
/// the rank beyond that side (id, position, remaining time, global cell), which continues them; the
/// rounds end when no rank has a particle in flight (one int64 sum per round). Last, periodic axes
/// wrap and every particle moves to the rank whose box holds its position (migrate).
template <int Dim>
void ParticleCloud<Dim>::frozen_flow(const SpatialOperator<Dim>& op, const Field<Dim>& q, double dt) {
  const bool decomposed = m_grid.decomposed();
  if (m_total == 0 || (!decomposed && size() == 0)) return;
  const FieldLayout<Dim>& L = q.layout();
  const UniformGrid<Dim>& g = m_grid;
  if (decomposed) {
    op.particle_faces(q, m_u);  // every face of this box, from q's exchanged ghosts
  } else {
    // The exact flow may cross many cells: the face arrays are filled for the whole grid (one pass
    // per implicit step), by asking for the velocity at as many points as there are cells.
    m_at.assign(L.num_cells() * Dim, g.lower[0]);
    for (std::size_t i = 0; i < m_at.size(); ++i) m_at[i] = g.lower[i % Dim];
    m_v.resize(m_at.size());
    op.particle_velocities(q, m_at.data(), m_v.data(), L.num_cells(), m_u);
  }
  std::vector<double> remaining(size(), dt);
  std::vector<int> cell(size() * Dim);
  std::vector<signed char> leaves(size(), -1);
  for (std::size_t p = 0; p < size(); ++p)
    for (int k = 0; k < Dim; ++k) {  // locate() on the global grid
      const double s = (m_x[p * Dim + k] - g.lower[k]) / g.dx(k);
      cell[p * Dim + k] = std::clamp(static_cast<int>(std::floor(s)), 0, g.global_shape(k) - 1);
    }
  const auto trace = [&](std::size_t p) {
    double* x = m_x.data() + p * Dim;
    int* gc = cell.data() + p * Dim;
    std::array<int, Dim> lc{};
    const auto in_box = [&]() {
      for (int k = 0; k < Dim; ++k) {
        lc[k] = gc[k] - g.offset[k];
        if (lc[k] < 0 || lc[k] >= g.shape[k]) {
          leaves[p] = static_cast<signed char>(2 * k + (lc[k] < 0 ? 0 : 1));
          return false;
        }
      }
      return true;
    };
    if (!in_box()) return;
    double& rest = remaining[p];
    for (int crossing = 0; crossing < max_crossings && rest > 0.0; ++crossing) {
      const std::ptrdiff_t c = L.index(lc);
      std::array<double, Dim> v0{}, A{}, lo{};
      double tau = rest;
      int exit_axis = -1;
      for (int k = 0; k < Dim; ++k) {
        const double dx = g.dx(k);
        lo[k] = g.lower[k] + gc[k] * dx;
        const double v_lo = m_u[k][c], v_hi = m_u[k][c + L.stride[k]];
        A[k] = (v_hi - v_lo) / dx;
        const double xk = std::clamp(x[k], lo[k], lo[k] + dx);
        v0[k] = v_lo + A[k] * (xk - lo[k]);
        x[k] = xk;
        const double t = v0[k] > 0.0 ? exit_time(v0[k], v_hi, lo[k] + dx - xk, A[k])
                                     : exit_time(v0[k], v_lo, lo[k] - xk, A[k]);
        if (t < tau) {
          tau = t;
          exit_axis = k;
        }
      }
      for (int k = 0; k < Dim; ++k)
        x[k] = std::clamp(x[k] + v0[k] * tau * phi1(A[k] * tau), lo[k], lo[k] + g.dx(k));
      rest -= tau;
      if (exit_axis < 0) break;
      const int k = exit_axis;
      const int step = v0[k] > 0.0 ? 1 : -1;
      x[k] = step > 0 ? lo[k] + g.dx(k) : lo[k];
      int next = gc[k] + step;
      if (next < 0 || next >= g.global_shape(k)) {  // only periodic axes: wall faces have v = 0
        next = next < 0 ? g.global_shape(k) - 1 : 0;
        x[k] = next == 0 ? g.lower[k] : g.upper[k];
      }
      gc[k] = next;
      if (rest > 0.0 && !in_box()) return;  // on to the rank beyond that face
    }
    rest = 0.0;  // arrived (or the flow stops inside the cell)
  };
  std::size_t first = 0;  // particles [first, size()) have not been traced on this rank yet
  for (int round = 0;; ++round) {
    parallel_for_items(size() - first, [&](std::size_t i) { trace(first + i); });
    if (!decomposed) break;
    constexpr std::size_t width = 2 + 2 * Dim;  // id, x, remaining time, global cell
    std::array<std::vector<double>, 2 * Dim> send, receive;
    std::size_t kept = 0;
    for (std::size_t p = 0; p < size(); ++p) {
      if (leaves[p] < 0) {
        if (kept != p) {
          std::copy_n(m_x.data() + p * Dim, Dim, m_x.data() + kept * Dim);
          std::copy_n(cell.data() + p * Dim, Dim, cell.data() + kept * Dim);
          m_ids[kept] = m_ids[p];
          remaining[kept] = remaining[p];
        }
        ++kept;
        continue;
      }
      std::vector<double>& out = send[static_cast<std::size_t>(leaves[p])];
      out.push_back(static_cast<double>(m_ids[p]));  // exact below 2^53
      out.insert(out.end(), m_x.data() + p * Dim, m_x.data() + (p + 1) * Dim);
      out.push_back(remaining[p]);
      for (int k = 0; k < Dim; ++k) out.push_back(cell[p * Dim + k]);
    }
    m_x.resize(kept * Dim);
    cell.resize(kept * Dim);
    m_ids.resize(kept);
    remaining.resize(kept);
    // Tag 2k + side towards that side, received with the opposite side's tag (as migrate()).
    std::vector<ParcelMessage> messages;
    for (int k = 0; k < Dim; ++k)
      for (int side = 0; side < 2; ++side)
        if (m_neighbours.beyond(k, side) == Beyond::rank) {
          const auto f = static_cast<std::size_t>(2 * k + side);
          messages.push_back({m_neighbours.rank(k, side), 2 * k + side, 2 * k + 1 - side, &send[f], &receive[f]});
        }
    m_grid.ranks.exchange_parcels(messages);
    first = kept;
    for (const std::vector<double>& in : receive)
      for (std::size_t r = 0; r + width <= in.size(); r += width) {
        m_ids.push_back(static_cast<std::int64_t>(in[r]));
        m_x.insert(m_x.end(), in.begin() + static_cast<std::ptrdiff_t>(r + 1),
                   in.begin() + static_cast<std::ptrdiff_t>(r + 1 + Dim));
        remaining.push_back(in[r + 1 + Dim]);
        for (int k = 0; k < Dim; ++k) cell.push_back(static_cast<int>(in[r + 2 + Dim + static_cast<std::size_t>(k)]));
      }
    leaves.assign(size(), -1);
    std::int64_t in_flight = static_cast<std::int64_t>(size() - first);
    m_grid.ranks.sum(&in_flight, 1);
    if (in_flight == 0) break;
    m_handovers += static_cast<long>(in_flight);  // every particle received this round: each was sent once
    ++m_handover_rounds;
    if (round >= max_handovers) throw std::logic_error("ParticleCloud::frozen_flow: particles still in flight");
  }
  parallel_for_items(size(), [&](std::size_t p) {
    for (int k = 0; k < Dim; ++k)
      if (m_neighbours.periodic(k)) m_x[p * Dim + k] = wrap_periodic(m_x[p * Dim + k], g.lower[k], g.upper[k]);
  });
  if (decomposed) migrate(false);  // a particle left on a face may belong to the box beyond it
  m_stage_is_x = true;
}

template void ParticleCloud<1>::frozen_flow(const SpatialOperator<1>&, const Field<1>&, double);
template void ParticleCloud<2>::frozen_flow(const SpatialOperator<2>&, const Field<2>&, double);
template void ParticleCloud<3>::frozen_flow(const SpatialOperator<3>&, const Field<3>&, double);

}  // namespace wgflow
