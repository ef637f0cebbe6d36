#include "solver/spatial_operator.hpp"
#include "grids/parameter_error.hpp"

#include <stdexcept>

#include "solver/sg_operator.hpp"
#include "solver/upwind_operator.hpp"

namespace wgflow {

FluxKind default_flux_for(const InternalEnergySpec& internal) {
  return internal.kind == InternalEnergySpec::Kind::entropy ? FluxKind::scharfetter_gummel : FluxKind::upwind;
}

template <int Dim>
std::unique_ptr<SpatialOperator<Dim>> make_spatial_operator(const FreeEnergy<Dim>& energy, const FluxSpec& flux) {
  if (flux.kind == FluxKind::scharfetter_gummel) {
    if (energy.internal().kind != InternalEnergySpec::Kind::entropy)
      throw std::invalid_argument("the Scharfetter-Gummel flux needs linear diffusion (U = D q log q)");
    return std::make_unique<SgOperator<Dim>>(energy);
  }
  if (flux.order != 1 && flux.order != 2) throw ParameterError(Parameter::order, "must be 1 or 2");
  return std::make_unique<UpwindOperator<Dim>>(energy, flux);
}

template std::unique_ptr<SpatialOperator<1>> make_spatial_operator(const FreeEnergy<1>&, const FluxSpec&);
template std::unique_ptr<SpatialOperator<2>> make_spatial_operator(const FreeEnergy<2>&, const FluxSpec&);
template std::unique_ptr<SpatialOperator<3>> make_spatial_operator(const FreeEnergy<3>&, const FluxSpec&);

}  // namespace wgflow
