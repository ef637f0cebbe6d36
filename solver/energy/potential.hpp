#pragma once
#include "solver/layer_guard.hpp"
/// External potentials V(x), sampled once at cell centres into a field with ghosts filled.
#include <array>
#include <functional>
#include <string>

#include "grids/field.hpp"

namespace wgflow {

struct PotentialSpec {
  enum class Kind { none, quadratic, double_well, function };
  Kind kind = Kind::none;
  std::function<double(const double* x)> function;  ///< kind function: V(x), e.g. a parsed formula
  double gamma = 1.0;                 ///< quadratic: V = γ|x − c|²/2
  std::array<double, 3> centre{};     ///< quadratic: c, per axis (x, y, z)
};

/// Parses "none", "quadratic" or "double-well"; throws naming --potential and the allowed values.
PotentialSpec::Kind parse_potential_kind(const std::string& text);
std::string to_string(PotentialSpec::Kind kind);

/// V at a point: none 0; quadratic γ|x−c|²/2; double well Σ_k (x_k² − 1)²/4; or the given function.
double potential_value(const PotentialSpec& spec, const double* x, int dim);

/// V sampled at cell centres (point values; V is smooth, so this is second-order accurate).
template <int Dim>
Field<Dim> sample_potential(const PotentialSpec& spec, const UniformGrid<Dim>& grid);

}  // namespace wgflow
