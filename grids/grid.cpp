#include "grids/grid.hpp"
#include "grids/parameter_error.hpp"

#include <stdexcept>

namespace wgflow {

std::string to_string(Boundary b) { return b == Boundary::periodic ? "periodic" : "no-flux"; }

Boundary parse_boundary(const std::string& text) {
  if (text == "no-flux") return Boundary::no_flux;
  if (text == "periodic") return Boundary::periodic;
  throw ParameterError(Parameter::boundary, "unknown boundary '" + text + "' (allowed: no-flux, periodic)");
}

}  // namespace wgflow
