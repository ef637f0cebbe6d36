#pragma once
/// L(q) with the Scharfetter–Gummel flux for U = D q log q plus a potential V.
/// The face coefficients depend on V only, so they and the explicit step limit are computed once.
#include <array>

#include "solver/spatial_operator.hpp"

namespace wgflow {

template <int Dim>
class SgOperator final : public SpatialOperator<Dim> {
 public:
  explicit SgOperator(const FreeEnergy<Dim>& energy);
  std::string name() const override { return "scharfetter-gummel"; }
  double prepare(Field<Dim>& in) override;
  void euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a, const Field<Dim>& base,
                   double b) const override;

  /// Read-only views for the implicit stepper, which assembles its matrix from the same coefficients.
  const Field<Dim>& c_plus(int axis) const { return m_c_plus[static_cast<std::size_t>(axis)]; }
  const Field<Dim>& c_minus(int axis) const { return m_c_minus[static_cast<std::size_t>(axis)]; }
  /// The forward-Euler positivity limit (what prepare() returns).
  double dt_limit() const { return m_dt_limit; }

 private:
  UniformGrid<Dim> m_grid;
  // Coefficients of face i (the low face of cell i) along each axis, stored at cell i's index;
  // face n lives in the first high ghost. Walls hold zeros: no flux crosses them.
  std::array<Field<Dim>, Dim> m_c_plus;   ///< D B(Pe)/Δx²
  std::array<Field<Dim>, Dim> m_c_minus;  ///< D B(−Pe)/Δx²
  double m_dt_limit = 0.0;
};

}  // namespace wgflow
