#pragma once
/// L(q) with the positivity-preserving upwind flux (Carrillo–Chertock–Huang 2015) for a general
/// free energy: ξ = δF/δq is computed once per stage, then one fused pass forms the face fluxes
/// and the stage update. The kernel is a template on the reconstruction order, chosen per pass.
#include <array>

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

 private:
  template <int Order>
  void euler_stage_kernel(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                          const Field<Dim>& base, double b) const;

  const FreeEnergy<Dim>& m_energy;
  FluxSpec m_flux;
  UniformGrid<Dim> m_grid;
  Field<Dim> m_xi;  ///< ξ of the prepared state
};

}  // namespace wgflow
