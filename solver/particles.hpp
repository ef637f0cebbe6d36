#pragma once
#include "solver/layer_guard.hpp"
/// Particles carried by the computed flow: dx/dt = v(x, t), v the velocity field that the scheme's own
/// face fluxes imply (SpatialOperator::particle_velocities, interpolated as a MAC / RT0 field), so that
/// particles sampled from q_0 stay samples of q_t up to the discretisation error (numerics.md
/// "Particles"). Explicit steppers move them with the same SSP-RK stages and Δt as the density;
/// implicit Euler moves them along the frozen velocity field of the new state (backward Euler).
/// No-flux walls: the wall velocity is 0; a round-off excursion out of the box is clamped and counted.
/// Periodic axes wrap into [lower, upper). Every particle is independent: threaded with a static
/// schedule, results bitwise independent of the thread count.
/// On a decomposed grid each rank holds the particles its box holds (solver/particle_boxes.hpp), each
/// with its global index (its row in the output); after every stage the particles that left the box
/// move to the neighbouring ranks (axis by axis, repeated until every particle is home), so a stage
/// looks every particle up in its own rank's cells: bitwise the positions of one rank.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/halo.hpp"
#include "solver/particle_boxes.hpp"
#include "solver/snapshot_arrays.hpp"
#include "solver/spatial_operator.hpp"

namespace wgflow {

/// Particles of one rank: n × Dim positions and the global index of each (its output row).
struct OwnedParticles {
  std::vector<double> positions;
  std::vector<std::int64_t> ids;
  std::size_t total = 0;  ///< particles on all ranks
};

template <int Dim>
class ParticleCloud final : public SnapshotArraySource<Dim> {
 public:
  /// positions: all n particles, n × Dim, row-major (x, y, z of particle 0, then particle 1, ...);
  /// see check_positions. This rank keeps those its box holds (particle i keeps index i).
  ParticleCloud(const UniformGrid<Dim>& grid, std::vector<double> positions);
  /// This rank's particles alone (sample_owned_particles).
  ParticleCloud(const UniformGrid<Dim>& grid, OwnedParticles owned);

  /// Particles on this rank, and on all ranks.
  std::size_t size() const { return m_x.size() / Dim; }
  std::size_t total() const { return m_total; }
  /// This rank's positions (on one rank: all, in index order) and their global indices.
  const std::vector<double>& positions() const { return m_x; }
  const std::vector<std::int64_t>& ids() const { return m_ids; }
  /// Round-off excursions through a no-flux wall that were clamped back (over the cloud's life) by
  /// this rank; all_clamps(): by all ranks (collective).
  long clamps() const { return m_clamps; }
  long all_clamps() const;
  void set_clamps(long clamps) { m_clamps = clamps; }
  /// Decomposed grid, over this run (not stored: a restart counts afresh; one rank: all 0), so that a
  /// user and the tests see that particles did cross between ranks (run summary, tests/mpi):
  /// handovers(): particles sent to another rank mid-step by frozen_flow, summed over ranks and steps;
  /// handover_rounds(): exchange rounds that carried any (both already the same on every rank: they
  /// come from the in-flight sum each round takes anyway); all_migrations(): particles migrate() sent
  /// to a neighbour rank after a stage or a frozen flow, summed over ranks (collective: one sum).
  long handovers() const { return m_handovers; }
  long handover_rounds() const { return m_handover_rounds; }
  long all_migrations() const;

  /// Explicit steps: begin_step() before the first stage (again after a rejected attempt), stage()
  /// once per stage with the prepared stage state, before the stage overwrites it, and accept_step()
  /// once the density's step is accepted. Stage j: X ← a·Xⁿ + b·(X + Δt v_j(X)), a = 1 − b, the
  /// density's stage_update applied to positions.
  void begin_step();
  void stage(const SpatialOperator<Dim>& op, const Field<Dim>& in, double dt, double b);
  void accept_step();

  /// Implicit Euler: Xⁿ⁺¹ = the flow over dt of the frozen velocity field of the new state q (prepared),
  /// integrated exactly cell by cell (per axis v_k is linear in x_k: an exponential; Pollock 1988).
  /// Decomposed: particles are handed to the neighbouring rank mid-flight (particle_flow.cpp). Collective.
  void frozen_flow(const SpatialOperator<Dim>& op, const Field<Dim>& q, double dt);

  /// "particles" (n × Dim; decomposed: this rank's rows) and "particle_clamps" (1: all_clamps() so
  /// far, for info and restarts). Collective on a decomposed grid.
  void append_snapshot_arrays(const Field<Dim>& q, std::vector<SnapshotArray>& out) const override;

 private:
  /// Decomposed grid: moves every particle to the rank whose box holds it, by its stage position
  /// (by_stage) or by Xⁿ. Collective.
  void migrate(bool by_stage);

  UniformGrid<Dim> m_grid;
  Neighbours<Dim> m_neighbours;  ///< which axes wrap, which sides face ranks (grids/halo.hpp)
  ParticleBoxes<Dim> m_boxes;    ///< which rank holds a position
  std::size_t m_total = 0;
  std::vector<std::int64_t> m_ids;  ///< global index of each particle held here
  bool m_home_by_stage = false;     ///< decomposed: the particles are on the ranks of their stage positions
  std::array<std::vector<double>, 2> m_send, m_receive;  ///< migration buffers (low, high side)
  std::vector<double> m_x;      ///< Xⁿ: wrapped into the box
  std::vector<double> m_stage;  ///< the current stage's positions (periodic axes not wrapped)
  bool m_stage_is_x = true;     ///< no stage of this step yet: the stage positions are Xⁿ (m_x)
  std::array<Field<Dim>, Dim> m_u;  ///< face velocities of the current stage state (many particles)
  std::vector<double> m_at, m_v;    ///< stage positions wrapped for the lookup; their velocities
  long m_clamps = 0;
  long m_handovers = 0, m_handover_rounds = 0;  ///< sums over ranks (see handovers())
  long m_migrations = 0;                        ///< this rank's sends in migrate()
};

/// Throws std::invalid_argument (text without the option name) unless `positions` holds whole rows of
/// Dim finite coordinates inside the closed box.
template <int Dim>
void check_positions(const UniformGrid<Dim>& grid, const std::vector<double>& positions);

/// n positions sampled from q: a cell with probability ∝ its mass, then a uniform point in it.
/// The inverse CDF in two levels, so that a split over ranks changes nothing: the reduction chunks
/// (x-rows; 1D segments) in global order with their masses (Σ max(q, 0) left to right, gathered
/// once), their cumulative sums taken left to right by every rank alike; then inside the chosen
/// chunk, by its owner, the running sum from the chunk's level. std::mt19937_64 seeded with `seed`
/// (every rank draws the whole stream), uniforms from its raw 64-bit output (53 bits): the same on
/// every platform. Collective; each rank gets the particles its box holds.
template <int Dim>
OwnedParticles sample_owned_particles(const Field<Dim>& q, const UniformGrid<Dim>& grid, std::size_t n,
                                      std::uint64_t seed);
/// All n positions, on a grid held by one rank.
template <int Dim>
std::vector<double> sample_particles(const Field<Dim>& q, const UniformGrid<Dim>& grid, std::size_t n,
                                     std::uint64_t seed);

}  // namespace wgflow
