#pragma once
#include "solver/layer_guard.hpp"
/// Target densities p of the f-divergence flows: a Gaussian, a Gaussian mixture, a formula in x, y, z
/// or values read from a file, sampled at cell centres and normalised to a given mass.
///
/// Text forms of --target (parse_target_text handles the first two; problem_setup the others):
///   gaussian[:mean=X,Y,Z][:width=S]                 one isotropic Gaussian (mean 0, width 1 by default)
///   mixture:means=X,Y;X,Y;...[:weights=W,...][:widths=S,...]
///                                                   Σ_k w_k N(x; m_k, s_k² I), weights default equal,
///                                                   widths default 1 (one value applies to every bump)
/// A mean has 1 to 3 coordinates (missing ones 0); p is evaluated at (x, y, z) with the coordinates
/// beyond the grid's dimension 0, as formulas are: a 1D run of a 2D mixture sees its slice y = 0.
///   file:PATH.h5 | a formula in x, y, z
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

struct TargetSpec {
  enum class Kind { mixture, function, values };
  Kind kind = Kind::mixture;
  std::vector<std::array<double, 3>> means{{0.0, 0.0, 0.0}};  ///< mixture: the bump centres (x, y, z)
  std::vector<double> weights{1.0};                           ///< mixture: relative weights (> 0)
  std::vector<double> widths{1.0};                            ///< mixture: standard deviations (> 0)
  std::function<double(const double* x)> function;            ///< kind function: p(x), e.g. a formula
  std::vector<double> values;                                 ///< kind values: dataset order (x fastest)
};

/// True for the forms parse_target_text handles ("gaussian...", "mixture:...").
bool is_builtin_target(const std::string& text);

/// Parses the gaussian/mixture forms; throws std::invalid_argument naming --target and the syntax.
TargetSpec parse_target_text(const std::string& text);

/// p at a point (mixture or function kinds).
double target_value(const TargetSpec& spec, const double* x, int dim);

/// p at the cell centres, scaled so that Δx^d Σ p = mass, ghosts filled. Throws std::invalid_argument
/// naming --target for a negative or non-finite value (with its cell) or a zero total.
template <int Dim>
Field<Dim> sample_target(const TargetSpec& spec, const UniformGrid<Dim>& grid, double mass);

}  // namespace wgflow
