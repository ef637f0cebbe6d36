#include "solver/particles.hpp"

#include <algorithm>
#include <atomic>

#include <omp.h>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"
#include "grids/reduction_chunks.hpp"
#include "solver/mac_velocity.hpp"

namespace wgflow {

double wrap_periodic(double x, double lower, double upper) {
  if (x >= lower && x < upper) return x;
  const double length = upper - lower;
  double y = x - length * std::floor((x - lower) / length);
  if (!(y < upper)) y = lower;  // x just below lower: y rounds to upper ≡ lower
  if (y < lower) y = lower;
  return y;
}

template <int Dim>
void check_positions(const UniformGrid<Dim>& grid, const std::vector<double>& positions) {
  if (positions.size() % Dim != 0)
    throw std::invalid_argument("positions must be N x " + std::to_string(Dim) + " (got " +
                                std::to_string(positions.size()) + " values)");
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const int k = static_cast<int>(i % Dim);
    const double x = positions[i];
    if (!std::isfinite(x) || x < grid.lower[k] || x > grid.upper[k]) {
      std::ostringstream msg;
      msg.precision(17);
      msg << "particle " << i / Dim << " coordinate " << k << " is " << x << ", outside the domain [" << grid.lower[k]
          << ", " << grid.upper[k] << "]";
      throw std::invalid_argument(msg.str());
    }
  }
}

template <int Dim>
ParticleCloud<Dim>::ParticleCloud(const UniformGrid<Dim>& grid, std::vector<double> positions)
    : m_grid(grid), m_neighbours(grid), m_boxes(grid) {
  check_positions(grid, positions);
  m_total = positions.size() / Dim;
  for (std::size_t i = 0; i < positions.size(); ++i) {  // the periodic upper end is the lower end
    const int k = static_cast<int>(i % Dim);
    if (m_neighbours.periodic(k)) positions[i] = wrap_periodic(positions[i], grid.lower[k], grid.upper[k]);
  }
  if (!grid.decomposed()) {
    m_x = std::move(positions);
    m_ids.resize(m_total);
    for (std::size_t p = 0; p < m_total; ++p) m_ids[p] = static_cast<std::int64_t>(p);
    return;
  }
  for (std::size_t p = 0; p < m_total; ++p)  // every rank reads them all once: keeps its own
    if (m_boxes.holds(positions.data() + p * Dim)) {
      m_x.insert(m_x.end(), positions.begin() + static_cast<std::ptrdiff_t>(p * Dim),
                 positions.begin() + static_cast<std::ptrdiff_t>((p + 1) * Dim));
      m_ids.push_back(static_cast<std::int64_t>(p));
    }
}

template <int Dim>
ParticleCloud<Dim>::ParticleCloud(const UniformGrid<Dim>& grid, OwnedParticles owned)
    : m_grid(grid), m_neighbours(grid), m_boxes(grid), m_total(owned.total), m_ids(std::move(owned.ids)),
      m_x(std::move(owned.positions)) {
  check_positions(grid, m_x);
  for (std::size_t i = 0; i < m_x.size(); ++i) {
    const int k = static_cast<int>(i % Dim);
    if (m_neighbours.periodic(k)) m_x[i] = wrap_periodic(m_x[i], grid.lower[k], grid.upper[k]);
  }
  if (grid.decomposed()) migrate(false);  // a point sampled at a cell's edge may round into the next box
  m_migrations = 0;                        // ... which is placement, not motion
}

template <int Dim>
long ParticleCloud<Dim>::all_clamps() const {
  std::int64_t clamps = m_clamps;
  m_grid.ranks.sum(&clamps, 1);
  return static_cast<long>(clamps);
}

template <int Dim>
long ParticleCloud<Dim>::all_migrations() const {
  std::int64_t migrations = m_migrations;
  m_grid.ranks.sum(&migrations, 1);
  return static_cast<long>(migrations);
}

template <int Dim>
void ParticleCloud<Dim>::migrate(bool by_stage) {
  m_stage.resize(m_x.size());
  const std::size_t width = 1 + 2 * Dim;  // index, Xⁿ, stage position
  const auto position = [&](std::size_t p) { return (by_stage ? m_stage : m_x).data() + p * Dim; };
  for (int round = 0;; ++round) {
    for (int k = 0; k < Dim; ++k) {
      const bool low = m_neighbours.beyond(k, 0) == Beyond::rank, high = m_neighbours.beyond(k, 1) == Beyond::rank;
      if (!low && !high) continue;
      m_send[0].clear();
      m_send[1].clear();
      std::size_t kept = 0;
      for (std::size_t p = 0; p < size(); ++p) {
        const int side = m_boxes.side(k, position(p)[k]);
        if (side == 0 || (side < 0 && !low) || (side > 0 && !high)) {
          if (kept != p) {
            std::copy_n(m_x.data() + p * Dim, Dim, m_x.data() + kept * Dim);
            std::copy_n(m_stage.data() + p * Dim, Dim, m_stage.data() + kept * Dim);
            m_ids[kept] = m_ids[p];
          }
          ++kept;
          continue;
        }
        std::vector<double>& out = m_send[side < 0 ? 0 : 1];
        out.push_back(static_cast<double>(m_ids[p]));  // exact below 2^53
        out.insert(out.end(), m_x.data() + p * Dim, m_x.data() + (p + 1) * Dim);
        out.insert(out.end(), m_stage.data() + p * Dim, m_stage.data() + (p + 1) * Dim);
      }
      m_migrations += static_cast<long>(size() - kept);
      m_x.resize(kept * Dim);
      m_stage.resize(kept * Dim);
      m_ids.resize(kept);
      // Tag 2k: sent towards the low side, 2k + 1: towards the high side (two boxes along a periodic
      // axis are each other's low and high neighbour).
      std::vector<ParcelMessage> messages;
      if (low) messages.push_back({m_neighbours.rank(k, 0), 2 * k, 2 * k + 1, &m_send[0], &m_receive[0]});
      if (high) messages.push_back({m_neighbours.rank(k, 1), 2 * k + 1, 2 * k, &m_send[1], &m_receive[1]});
      m_grid.ranks.exchange_parcels(messages);
      for (int side = 0; side < 2; ++side) {
        if (!(side == 0 ? low : high)) continue;
        const std::vector<double>& in = m_receive[static_cast<std::size_t>(side)];
        for (std::size_t r = 0; r + width <= in.size(); r += width) {
          m_ids.push_back(static_cast<std::int64_t>(in[r]));
          m_x.insert(m_x.end(), in.begin() + static_cast<std::ptrdiff_t>(r + 1), in.begin() + static_cast<std::ptrdiff_t>(r + 1 + Dim));
          m_stage.insert(m_stage.end(), in.begin() + static_cast<std::ptrdiff_t>(r + 1 + Dim),
                         in.begin() + static_cast<std::ptrdiff_t>(r + width));
        }
      }
    }
    // One round moves a particle one box per axis: more only after a stage that crossed a whole box.
    std::int64_t away = 0;
    for (std::size_t p = 0; p < size(); ++p) away += m_boxes.holds(position(p)) ? 0 : 1;
    m_grid.ranks.sum(&away, 1);
    if (away == 0) break;
    if (round > 64) throw std::logic_error("ParticleCloud: particles still away from their boxes after 64 rounds");
  }
  m_home_by_stage = by_stage;
}

namespace {
template <int Dim>
long fused_stage(const UniformGrid<Dim>& g, const FieldLayout<Dim>& L, const std::array<const double*, Dim>& u,
                 const double* from, const double* x0, double* out, std::size_t n, double dt, double b);
}  // namespace

template <int Dim>
void ParticleCloud<Dim>::begin_step() {
  m_stage_is_x = true;  // the first stage starts from Xⁿ: no copy of the positions per step
}

template <int Dim>
void ParticleCloud<Dim>::stage(const SpatialOperator<Dim>& op, const Field<Dim>& in, double dt, double b) {
  if (m_total == 0) return;
  const bool decomposed = m_grid.decomposed();
  // After a rejected attempt the particles sit on the ranks of stage positions: back to Xⁿ's.
  if (decomposed && m_home_by_stage != !m_stage_is_x) migrate(!m_stage_is_x);
  const UniformGrid<Dim>& g = m_grid;
  const FieldLayout<Dim>& L = in.layout();
  m_stage.resize(m_x.size());
  const double* from = m_stage_is_x ? m_x.data() : m_stage.data();  // this stage's positions
  std::atomic<long> clamps{0};
  // X ← a·Xⁿ + b·(X + Δt v(X)), the density's stage_update on positions; round-off out of a no-flux
  // box is clamped and counted. Reads X and Xⁿ and writes X once: the memory-traffic minimum.
  const auto update = [&](std::size_t p, const std::array<double, Dim>& v) {
    const double* x0 = m_x.data() + p * Dim;
    for (int k = 0; k < Dim; ++k) {
      double y = stage_update(x0[k], from[p * Dim + k] + dt * v[k], b);
      if (!m_neighbours.periodic(k) && (y < g.lower[k] || y > g.upper[k])) {
        y = std::clamp(y, g.lower[k], g.upper[k]);
        clamps.fetch_add(1, std::memory_order_relaxed);
      }
      m_stage[p * Dim + k] = y;
    }
  };
  // Periodic axes wrapped for the lookup only (the stage combination needs continuous values).
  const auto wrapped = [&](std::size_t p) {
    std::array<double, Dim> at{};
    for (int k = 0; k < Dim; ++k) {
      const double xk = from[p * Dim + k];
      at[k] = m_neighbours.periodic(k) ? wrap_periodic(xk, g.lower[k], g.upper[k]) : xk;
    }
    return at;
  };
  if (2 * size() >= L.num_cells()) {  // many particles: one face pass, then gather and update fused
    op.particle_faces(in, m_u);
    std::array<const double*, Dim> uk{};
    for (int k = 0; k < Dim; ++k) uk[k] = m_u[k].data();
    m_clamps += fused_stage<Dim>(g, L, uk, from, m_x.data(), m_stage.data(), size(), dt, b);
  } else {  // few: each particle evaluates the faces of its own cell (bitwise the same v)
    m_at.resize(m_x.size());
    m_v.resize(m_x.size());
    parallel_for_items(size(), [&](std::size_t p) {
      const std::array<double, Dim> at = wrapped(p);
      std::copy(at.begin(), at.end(), m_at.begin() + static_cast<std::ptrdiff_t>(p * Dim));
    });
    op.particle_velocities(in, m_at.data(), m_v.data(), size(), m_u);
    parallel_for_items(size(), [&](std::size_t p) {
      std::array<double, Dim> v{};
      for (int k = 0; k < Dim; ++k) v[k] = m_v[p * Dim + k];
      update(p, v);
    });
  }
  m_stage_is_x = false;
  m_clamps += clamps.load();
  if (decomposed) migrate(true);  // the next stage looks each particle up on the rank that holds it
}

template <int Dim>
void ParticleCloud<Dim>::accept_step() {
  if (m_stage_is_x) return;  // no stage ran
  const UniformGrid<Dim>& g = m_grid;
  bool periodic = false;
  for (int k = 0; k < Dim; ++k) periodic = periodic || m_neighbours.periodic(k);
  if (!periodic) {
    m_x.swap(m_stage);  // Xⁿ⁺¹ is the last stage's positions
  } else {
    parallel_for_items(size(), [&](std::size_t p) {
      for (int k = 0; k < Dim; ++k) {
        const double y = m_stage[p * Dim + k];
        m_x[p * Dim + k] = m_neighbours.periodic(k) ? wrap_periodic(y, g.lower[k], g.upper[k]) : y;
      }
    });
  }
  m_stage_is_x = true;
  m_home_by_stage = false;  // Xⁿ⁺¹ is the stage position: the same boxes
}

namespace {

/// The many-particle stage in one pass: per particle wrap (periodic axes, for the lookup), locate,
/// gather the MAC velocity from the face arrays u, X ← stage_update(Xⁿ, X + Δt v, b), clamp into
/// no-flux boxes. The same arithmetic as locate()/mac_velocity()/stage_update() (so bitwise what the
/// few-particle path gives), with everything the loop needs in locals: the lambdas of the first
/// version reloaded captures per particle and cost 10 ns a particle, 7× the memory-traffic floor.
/// `from` may be `out` (each particle reads its coordinates before writing them). Returns the clamps.
template <int Dim>
long fused_stage(const UniformGrid<Dim>& g, const FieldLayout<Dim>& L, const std::array<const double*, Dim>& u,
                 const double* from, const double* x0, double* out, std::size_t n, double dt, double b) {
  std::array<double, Dim> lower{}, upper{}, inv_dx{};
  std::array<int, Dim> last{}, first{};
  std::array<std::ptrdiff_t, Dim> stride{};
  std::array<bool, Dim> periodic{}, walls{};
  const Neighbours<Dim> neighbours(g);
  for (int k = 0; k < Dim; ++k) {
    lower[k] = g.lower[k];
    upper[k] = g.upper[k];
    inv_dx[k] = 1.0 / g.dx(k);  // as CellLocator
    last[k] = g.global_shape(k) - 1;  // global cell indices: the particle's box holds cell i (particle_boxes.hpp)
    first[k] = g.offset[k];
    stride[k] = L.stride[k];
    periodic[k] = neighbours.periodic(k);
    walls[k] = !periodic[k];
  }
  const std::ptrdiff_t offset = L.offset;
  const auto count = static_cast<std::ptrdiff_t>(n);
  long clamps = 0;
#pragma omp parallel for schedule(static) reduction(+ : clamps) if (n >= parallel_min_cells && omp_get_max_threads() > 1)
  for (std::ptrdiff_t p = 0; p < count; ++p) {
    std::array<double, Dim> x{}, lambda{};
    std::ptrdiff_t c = offset;
    for (int k = 0; k < Dim; ++k) {
      x[k] = from[p * Dim + k];
      const double at = periodic[k] ? wrap_periodic(x[k], lower[k], upper[k]) : x[k];
      const double s = std::max((at - lower[k]) * inv_dx[k], 0.0);
      const int i = std::min(static_cast<int>(s), last[k]);
      lambda[k] = std::min(s - i, 1.0);
      c += (i - first[k]) * stride[k];
    }
    for (int k = 0; k < Dim; ++k) {
      const double l = lambda[k];
      const double v = (1.0 - l) * u[k][c] + l * u[k][c + stride[k]];
      double y = stage_update(x0[p * Dim + k], x[k] + dt * v, b);
      if (walls[k] && (y < lower[k] || y > upper[k])) {
        y = std::clamp(y, lower[k], upper[k]);
        ++clamps;
      }
      out[p * Dim + k] = y;
    }
  }
  return clamps;
}

}  // namespace

template <int Dim>
void ParticleCloud<Dim>::append_snapshot_arrays(const Field<Dim>&, std::vector<SnapshotArray>& out) const {
  SnapshotArray positions{"particles", {m_total, static_cast<std::size_t>(Dim)}, m_x};
  if (m_grid.decomposed()) {  // this rank's rows: particle i is row i of the file
    positions.distributed = true;
    positions.rows.assign(m_ids.begin(), m_ids.end());
  }
  out.push_back(std::move(positions));
  out.push_back(SnapshotArray{"particle_clamps", {1}, {static_cast<double>(all_clamps())}});
}

template <int Dim>
OwnedParticles sample_owned_particles(const Field<Dim>& q_field, const UniformGrid<Dim>& grid, std::size_t n,
                                      std::uint64_t seed) {
  const FieldLayout<Dim>& L = q_field.layout();
  const double* q = q_field.data();
  const int chunk_cells = reduction_chunk_cells(grid.global_shape(0), Dim);
  const std::size_t chunks = num_chunks(L, chunk_cells);
  std::size_t all_chunks = 1;
  for (int k = 1; k < Dim; ++k) all_chunks *= static_cast<std::size_t>(grid.global_shape(k));
  if (Dim == 1) all_chunks = static_cast<std::size_t>((grid.global_shape(0) + chunk_cells - 1) / chunk_cells);
  const auto global_chunk = [&](std::size_t c) -> std::size_t {  // chunks in dataset order: x-rows, 1D segments
    if constexpr (Dim == 1) return static_cast<std::size_t>(grid.offset[0] / chunk_cells) + c;
    std::size_t rest = c, index = 0, scale = 1;
    for (int k = 1; k < Dim; ++k) {
      const auto nk = static_cast<std::size_t>(L.shape[k]);
      index += (rest % nk + static_cast<std::size_t>(grid.offset[k])) * scale;
      rest /= nk;
      scale *= static_cast<std::size_t>(grid.global_shape(k));
    }
    return index;
  };
  // Each chunk's mass, left to right; every rank gets all of them (index, mass), in global order.
  std::vector<double> mine(2 * chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    std::ptrdiff_t begin;
    int count;
    chunk_extent(L, chunk_cells, c, begin, count);
    double sum = 0.0;
    for (std::ptrdiff_t i = begin; i < begin + count; ++i) sum += std::max(q[i], 0.0);
    mine[2 * c] = static_cast<double>(global_chunk(c));
    mine[2 * c + 1] = sum;
  }
  const std::vector<double> gathered = grid.ranks.all_gather(mine.data(), static_cast<int>(mine.size()));
  std::vector<double> mass(all_chunks, 0.0), level(all_chunks + 1, 0.0);
  std::vector<std::ptrdiff_t> local(all_chunks, -1);  // this rank's chunk index of a global chunk
  for (std::size_t i = 0; i + 1 < gathered.size(); i += 2) mass[static_cast<std::size_t>(gathered[i])] = gathered[i + 1];
  for (std::size_t c = 0; c < chunks; ++c) local[global_chunk(c)] = static_cast<std::ptrdiff_t>(c);
  for (std::size_t c = 0; c < all_chunks; ++c) level[c + 1] = level[c] + mass[c];
  const double total = level.back();
  if (n > 0 && !(total > 0.0)) throw std::invalid_argument("the initial density has no mass to sample from");
  std::mt19937_64 rng(seed);
  const auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };  // [0, 1)
  OwnedParticles owned;
  owned.total = n;
  for (std::size_t p = 0; p < n; ++p) {
    const double target = uniform() * total;
    std::array<double, Dim> u{};
    for (int k = 0; k < Dim; ++k) u[k] = uniform();  // drawn by every rank: one stream for all
    auto it = std::upper_bound(level.begin() + 1, level.end(), target);  // first chunk whose level passes target
    std::size_t r = std::min(static_cast<std::size_t>(it - (level.begin() + 1)), all_chunks - 1);
    while (mass[r] <= 0.0 && r > 0) --r;  // never an empty chunk (target rounding at a step)
    if (local[r] < 0) continue;           // another rank's chunk: its particle
    std::ptrdiff_t begin;
    int count;
    chunk_extent(L, chunk_cells, static_cast<std::size_t>(local[r]), begin, count);
    double cumulative = level[r];
    int i = count - 1;
    for (int j = 0; j < count; ++j) {
      cumulative += std::max(q[begin + j], 0.0);
      if (cumulative > target) {
        i = j;
        break;
      }
    }
    while (q[begin + i] <= 0.0 && i > 0) --i;  // never an empty cell
    std::ptrdiff_t rest = begin + i - L.offset;
    std::array<int, Dim> cell{};
    for (int k = Dim - 1; k >= 0; --k) {
      cell[k] = static_cast<int>(rest / L.stride[k]);
      rest -= cell[k] * L.stride[k];
    }
    for (int k = 0; k < Dim; ++k)
      owned.positions.push_back(grid.lower[k] + (static_cast<double>(cell[k] + grid.offset[k]) + u[k]) * grid.dx(k));
    owned.ids.push_back(static_cast<std::int64_t>(p));
  }
  return owned;
}

template <int Dim>
std::vector<double> sample_particles(const Field<Dim>& q, const UniformGrid<Dim>& grid, std::size_t n,
                                     std::uint64_t seed) {
  if (grid.decomposed()) throw std::logic_error("sample_particles: a decomposed grid samples its own particles only");
  return sample_owned_particles(q, grid, n, seed).positions;
}

template class ParticleCloud<1>;
template class ParticleCloud<2>;
template class ParticleCloud<3>;
template void check_positions(const UniformGrid<1>&, const std::vector<double>&);
template void check_positions(const UniformGrid<2>&, const std::vector<double>&);
template void check_positions(const UniformGrid<3>&, const std::vector<double>&);
template OwnedParticles sample_owned_particles(const Field<1>&, const UniformGrid<1>&, std::size_t, std::uint64_t);
template OwnedParticles sample_owned_particles(const Field<2>&, const UniformGrid<2>&, std::size_t, std::uint64_t);
template OwnedParticles sample_owned_particles(const Field<3>&, const UniformGrid<3>&, std::size_t, std::uint64_t);
template std::vector<double> sample_particles(const Field<1>&, const UniformGrid<1>&, std::size_t, std::uint64_t);
template std::vector<double> sample_particles(const Field<2>&, const UniformGrid<2>&, std::size_t, std::uint64_t);
template std::vector<double> sample_particles(const Field<3>&, const UniformGrid<3>&, std::size_t, std::uint64_t);

}  // namespace wgflow
