#pragma once
#include "solver/layer_guard.hpp"
/// L(q) with the positivity-preserving upwind flux (Carrillo–Chertock–Huang 2015) for a general
/// free energy. Per stage, prepare() makes one read-only pass that finds max q and the largest face
/// speed on every axis, and euler_stage() one fused pass that forms the face fluxes and the update.
/// Where U' is a multiply (porous medium m = 2, 3, or no internal energy) ξ = U'(q) + V is recomputed
/// inside both passes and never stored; otherwise (log, pow) ξ is computed once per stage into a field.
/// Either way a face's ξ and flux are the same numbers from both of its cells (docs/benchmarks.md).
#include <array>
#include <vector>

#include "grids/wavefront.hpp"
#include "solver/spatial_operator.hpp"

namespace wgflow {

template <int Dim>
class UpwindOperator final : public SpatialOperator<Dim> {
 public:
  UpwindOperator(const FreeEnergy<Dim>& energy, const FluxSpec& flux);
  std::string name() const override { return m_flux.order == 2 ? "upwind-2" : "upwind-1"; }
  double prepare(Field<Dim>& in) override;
  void euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a, const Field<Dim>& base,
                   double b) const override;
  bool set_row_observer(RowObserver* observer) override {
    m_row_observer = observer;
    return true;
  }
  /// u = −(ξ_R − ξ_L)/Δx: F = max(u,0) q^E + min(u,0) q^W is u times the value it transports.
  void particle_velocities(const Field<Dim>& in, const double* x, double* v, std::size_t n,
                           std::array<Field<Dim>, Dim>& faces) const override;
  void particle_faces(const Field<Dim>& in, std::array<Field<Dim>, Dim>& faces) const override;

  /// Temporal blocking (grids/wavefront.hpp; reach 2 with the minmod reconstruction, else 1) where ξ
  /// is recomputed from q (porous m = 2, 3, no internal energy): a stored ξ (log, pow, f-divergence,
  /// interaction) is a separate pass per stage. The stage limits (max q, face speeds of each stage's
  /// state) are accumulated in the traversal, from the rows the next stage reads.
  bool enable_blocked_stages(int stages, bool stage_arrays) override;  ///< needs stage_arrays
  bool run_blocked_stages(BlockedStages<Dim>& step) override;

  /// How ξ reaches the kernels: recomputed from q (and V) in each pass, or stored per stage.
  enum class XiMode { stored, linear, square, zero };
  XiMode xi_mode() const { return m_xi_mode; }

 private:
  /// fn(face_velocity): face_velocity(k, R) is the velocity on the low k-face of cell R (particles).
  template <class Fn>
  void with_face_velocity(const Field<Dim>& in, Fn&& fn) const;
  template <class Fn>
  decltype(auto) with_xi(const Field<Dim>& in, Fn&& fn) const;

  const FreeEnergy<Dim>& m_energy;
  FluxSpec m_flux;
  UniformGrid<Dim> m_grid;
  XiMode m_xi_mode = XiMode::stored;
  double m_xi_coef = 0.0;  ///< linear: ξ = coef q + V; square: ξ = coef q² + V
  bool m_with_V = true;    ///< false when V ≡ 0: the passes do not read V
  Field<Dim> m_xi;         ///< ξ of the prepared state (stored mode only; empty otherwise)

  /// One thread's y- and z-faces handed from row to row within a stage (see stage_row).
  struct alignas(64) ThreadCarry {
    std::vector<double> f_y, s_y;       ///< one x-row: high-face flux and σ of the high neighbour
    std::vector<double> f_z, s_z;       ///< 3D: one z-plane of the same, indexed j·nx + i
    std::vector<std::ptrdiff_t> z_tag;  ///< 3D: per j, the row whose high z-faces f_z holds
    std::ptrdiff_t last_row = -2;       ///< the row whose high y-faces f_y holds
    /// Zeroed carries for rows of nx cells (3D: planes of ny rows).
    void size_for(std::size_t nx, std::size_t ny) {
      f_y.assign(nx, 0.0);
      s_y.assign(nx, 0.0);
      if (Dim > 2) {
        f_z.assign(nx * ny, 0.0);
        s_z.assign(nx * ny, 0.0);
        z_tag.assign(ny, -1);
      }
    }
  };
  /// The limit prepare() returns from the maxima of a state (a_k per axis, max q, the largest P' when
  /// ξ is stored), already combined over ranks.
  double limit_from_maxima(const std::array<double, Dim + 2>& maxima, const Field<Dim>& in) const;

  RowObserver* m_row_observer = nullptr;  ///< fused diagnostics of the stage (set_row_observer)
  mutable std::vector<ThreadCarry> m_carry;
  WavefrontSchedule<Dim> m_wavefront;          ///< temporal blocking (enable_blocked_stages)
  int m_blocked_stages = 0;
  std::vector<ThreadCarry> m_blocked_carry;    ///< [thread × stages + stage]
  std::vector<std::array<double, Dim + 1>> m_blocked_maxima;  ///< [thread × stages + stage]: a_k, max q  ///< one per thread of the team size at construction
};

}  // namespace wgflow
