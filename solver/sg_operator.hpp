#pragma once
#include "solver/layer_guard.hpp"
/// L(q) with the Scharfetter–Gummel flux for U = D q log q plus a potential V.
/// The face coefficients depend on V only, so they and the explicit step limit are computed once.
///
/// Storage (docs/benchmarks.md "Byte model"): B(−z) = B(z) + z gives c⁻ − c⁺ = ΔV/Δx² exactly in
/// exact arithmetic, so per face only the smaller coefficient s = D B(|Pe|)/Δx² is stored, and
///   c⁺ = s + max(−d, 0),  c⁻ = s + max(d, 0),  d = (V_R − V_L)/Δx²
/// is rebuilt from V in the stage (sums of non-negative numbers: no cancellation for large |Pe|).
/// Where V is constant (no potential) every Pe is 0 and no per-face array is kept at all: the flux is
/// the plain difference D (q_L − q_R)/Δx² of the heat equation.
///
/// With an interaction term the drift potential is V + W*q, a function of the state: prepare()
/// convolves, rebuilds s per face and the positivity limit for the state of each stage (the SG flux
/// with a state-dependent drift frozen over a stage), in parallel passes that allocate nothing.
#include <array>

#include "grids/inplace_sweep.hpp"
#include "grids/stage_stores.hpp"
#include "grids/wavefront.hpp"
#include "solver/spatial_operator.hpp"

namespace wgflow {

template <int Dim>
class SgOperator final : public SpatialOperator<Dim> {
 public:
  explicit SgOperator(const FreeEnergy<Dim>& energy);
  std::string name() const override { return "scharfetter-gummel"; }
  double prepare(Field<Dim>& in) override;
  /// prepare() without the ghost pass: euler_stage fills the ghosts of its output row by row.
  double prepare_stage(Field<Dim>& in) override;
  void euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a, const Field<Dim>& base,
                   double b) const override;
  bool set_row_observer(RowObserver* observer) override {
    m_row_observer = observer;
    return true;
  }
  /// The SG flux over the face density it transports (sg_operator.cpp, numerics.md "Particles").
  void particle_velocities(const Field<Dim>& in, const double* x, double* v, std::size_t n,
                           std::array<Field<Dim>, Dim>& faces) const override;
  void particle_faces(const Field<Dim>& in, std::array<Field<Dim>, Dim>& faces) const override;
  /// In-place stages where they are needed for the memory bound of issue 7 (stages + 3 arrays): in 3D
  /// with a potential, where qⁿ, two stage buffers, V and three face arrays would make 7. Elsewhere the
  /// out-of-place stage is kept: the in-place sweep copies every row once more and measured 10–30 %
  /// slower per stage at one thread (docs/benchmarks.md "In-place stages").
  bool enable_in_place_stages() override;
  /// In-place stages wherever the sweep can run (2D and 3D, every axis ≥ 2 cells): tests and benchmarks.
  /// Allocates the sweep's per-thread scratch, about three grid slices per thread.
  bool enable_in_place_stages_always();
  /// Temporal blocking (grids/wavefront.hpp, reach 1) without an interaction, whose convolution is a
  /// global pass between stages. The stage limit is state-independent here (the coefficients are).
  /// Intermediate stages go to StageStores, so only the last stage's array is written (also with the
  /// one-buffer in-place stepper).
  bool enable_blocked_stages(int stages, bool stage_arrays) override;
  bool run_blocked_stages(BlockedStages<Dim>& step) override;

  /// Read-only views for the implicit stepper, which assembles its matrix from the same coefficients:
  /// D B(±Pe)/Δx² of face i (the low face of cell i) at cell i's index, zeros on walls. The explicit
  /// stage does not need these full arrays; the first call builds them (not thread-safe; call it
  /// during set-up) and later calls return the same fields (rebuilt after the drift potential changed).
  const Field<Dim>& c_plus(int axis) const {
    materialise_coefficients();
    return m_c_plus[static_cast<std::size_t>(axis)];
  }
  const Field<Dim>& c_minus(int axis) const {
    materialise_coefficients();
    return m_c_minus[static_cast<std::size_t>(axis)];
  }
  /// With an interaction: sets the drift potential to V + phi (phi on the interior, e.g. implicit
  /// Euler's W*((qⁿ + q^{n+1})/2)) and rebuilds the face coefficients, the limit and, on the next
  /// c_plus()/c_minus() call, the full arrays. prepare() sets it to V + W*q of its state likewise.
  void set_drift_potential(const Field<Dim>& phi);
  /// The potential the coefficients belong to: the energy's V, or V + W*q (V + phi) with an interaction.
  const Field<Dim>& drift_potential() const { return *m_V; }
  /// The forward-Euler positivity limit (what prepare() returns).
  double dt_limit() const { return m_dt_limit; }
  /// True when V is constant, so that the stage is the constant-coefficient Laplacian.
  bool constant_coefficients() const { return m_constant; }

 private:
  /// fn(face_velocity): face_velocity(k, R) is the velocity on the low k-face of cell R (particles).
  template <class Fn>
  void with_face_velocity(const Field<Dim>& in, Fn&& fn) const;
  template <bool Constant>
  void stage_kernel(Field<Dim>& out, const Field<Dim>& in, double dt, double a, const Field<Dim>& base,
                    double b) const;
  template <bool Constant>
  void blocked_kernel(BlockedStages<Dim>& step) const;
  void materialise_coefficients() const;
  /// m_dt_limit, lowered to 1/G for a network's risk (InteractionTerm::step_rate of `in`).
  double interaction_limited(const Field<Dim>& in) const;
  /// s per face and m_dt_limit from the potential *m_V (parallel; no allocation).
  void build_coefficients();

  UniformGrid<Dim> m_grid;
  const Field<Dim>* m_V;              ///< the drift potential, ghosts filled: the energy's V, or m_effective
  const Field<Dim>& m_V_external;     ///< the energy's V
  const InteractionTerm<Dim>* m_interaction = nullptr;
  Field<Dim> m_effective;             ///< with an interaction: V + W*q of the prepared state
  double m_D = 1.0;
  std::array<double, Dim> m_D_dx2{};  ///< D/Δx² per axis
  std::array<double, Dim> m_inv_dx2{};
  bool m_constant = false;
  // s = D B(|Pe|)/Δx² of face i along each axis, stored at cell i's index; face n lives in the first
  // high ghost. Walls hold zeros: no flux crosses them. Empty when m_constant.
  std::array<Field<Dim>, Dim> m_s;
  mutable bool m_materialised = false;
  mutable std::array<Field<Dim>, Dim> m_c_plus;   ///< c⁺ = s + max(−d, 0), built on demand
  mutable std::array<Field<Dim>, Dim> m_c_minus;  ///< c⁻ = s + max(d, 0), built on demand
  double m_dt_limit = 0.0;
  RowObserver* m_row_observer = nullptr;  ///< fused diagnostics of the stage (set_row_observer)
  WavefrontSchedule<Dim> m_wavefront;  ///< temporal blocking (enable_blocked_stages)
  mutable StageStores<Dim> m_stores;   ///< its intermediate stages (written by the const kernel)
  mutable InPlaceSweep<Dim> m_sweep;  ///< scratch of in-place stages (written by the const euler_stage)
};

}  // namespace wgflow
