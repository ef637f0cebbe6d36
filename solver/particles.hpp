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
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/halo.hpp"
#include "solver/snapshot_arrays.hpp"
#include "solver/spatial_operator.hpp"

namespace wgflow {

/// Where a periodic coordinate lands in [lower, upper): x − k·(upper − lower) for the integer k that
/// puts it there (x itself when it is inside already; lower if rounding would give upper).
double wrap_periodic(double x, double lower, double upper);

template <int Dim>
class ParticleCloud final : public SnapshotArraySource<Dim> {
 public:
  /// positions: n × Dim, row-major (x, y, z of particle 0, then particle 1, ...); see check_positions.
  ParticleCloud(const UniformGrid<Dim>& grid, std::vector<double> positions);

  std::size_t size() const { return m_x.size() / Dim; }
  const std::vector<double>& positions() const { return m_x; }
  /// Round-off excursions through a no-flux wall that were clamped back (over the cloud's life).
  long clamps() const { return m_clamps; }
  void set_clamps(long clamps) { m_clamps = clamps; }

  /// Explicit steps: begin_step() before the first stage (again after a rejected attempt), stage()
  /// once per stage with the prepared stage state, before the stage overwrites it, and accept_step()
  /// once the density's step is accepted. Stage j: X ← a·Xⁿ + b·(X + Δt v_j(X)), a = 1 − b, the
  /// density's stage_update applied to positions.
  void begin_step();
  void stage(const SpatialOperator<Dim>& op, const Field<Dim>& in, double dt, double b);
  void accept_step();

  /// Implicit Euler: Xⁿ⁺¹ = the flow over dt of the frozen velocity field of the new state q (prepared),
  /// integrated exactly cell by cell (per axis v_k is linear in x_k: an exponential; Pollock 1988).
  void frozen_flow(const SpatialOperator<Dim>& op, const Field<Dim>& q, double dt);

  /// "particles" (n × Dim) and "particle_clamps" (1: clamps() so far, for info and restarts).
  void append_snapshot_arrays(const Field<Dim>& q, std::vector<SnapshotArray>& out) const override;

 private:
  UniformGrid<Dim> m_grid;
  Neighbours<Dim> m_neighbours;  ///< which axes wrap (grids/halo.hpp)
  std::vector<double> m_x;      ///< Xⁿ: wrapped into the box
  std::vector<double> m_stage;  ///< the current stage's positions (periodic axes not wrapped)
  bool m_stage_is_x = true;     ///< no stage of this step yet: the stage positions are Xⁿ (m_x)
  std::array<Field<Dim>, Dim> m_u;  ///< face velocities of the current stage state (many particles)
  std::vector<double> m_at, m_v;    ///< stage positions wrapped for the lookup; their velocities
  long m_clamps = 0;
};

/// Throws std::invalid_argument (text without the option name) unless `positions` holds whole rows of
/// Dim finite coordinates inside the closed box.
template <int Dim>
void check_positions(const UniformGrid<Dim>& grid, const std::vector<double>& positions);

/// n positions sampled from q: a cell with probability ∝ its mass (inverse CDF over the cells in
/// dataset order), then a uniform point in it. std::mt19937_64 seeded with `seed`, uniforms made from
/// its raw 64-bit output (53 bits), so the result is the same on every platform.
template <int Dim>
std::vector<double> sample_particles(const Field<Dim>& q, const UniformGrid<Dim>& grid, std::size_t n,
                                     std::uint64_t seed);

}  // namespace wgflow
