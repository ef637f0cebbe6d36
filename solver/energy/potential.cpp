#include "solver/energy/potential.hpp"
#include "grids/parameter_error.hpp"

#include <cmath>
#include <stdexcept>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

PotentialSpec::Kind parse_potential_kind(const std::string& text) {
  if (text == "none") return PotentialSpec::Kind::none;
  if (text == "quadratic") return PotentialSpec::Kind::quadratic;
  if (text == "double-well") return PotentialSpec::Kind::double_well;
  throw ParameterError(Parameter::potential, "unknown potential '" + text +
                              "' (allowed: none, quadratic, double-well)");
}

std::string to_string(PotentialSpec::Kind kind) {
  switch (kind) {
    case PotentialSpec::Kind::quadratic: return "quadratic";
    case PotentialSpec::Kind::double_well: return "double-well";
    case PotentialSpec::Kind::function: return "function";
    case PotentialSpec::Kind::none: break;
  }
  return "none";
}

double potential_value(const PotentialSpec& spec, const double* x, int dim) {
  if (spec.kind == PotentialSpec::Kind::function) return spec.function(x);
  double v = 0.0;
  for (int k = 0; k < dim; ++k) {
    switch (spec.kind) {
      case PotentialSpec::Kind::none:
      case PotentialSpec::Kind::function: break;
      case PotentialSpec::Kind::quadratic: {
        const double d = x[k] - spec.centre[static_cast<std::size_t>(k)];
        v += 0.5 * spec.gamma * d * d;
        break;
      }
      case PotentialSpec::Kind::double_well: {
        const double w = x[k] * x[k] - 1.0;
        v += 0.25 * w * w;
        break;
      }
    }
  }
  return v;
}

template <int Dim>
Field<Dim> sample_potential(const PotentialSpec& spec, const UniformGrid<Dim>& grid) {
  Field<Dim> V(FieldLayout<Dim>(grid.shape));
  if (spec.kind != PotentialSpec::Kind::function) {
    // Built-in potentials are pure functions of x: rows in parallel (first touch by the stepping thread).
    // A formula stays serial below (its evaluator is not known to be thread-safe).
    parallel_for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
      V[idx] = potential_value(spec, x.data(), Dim);
    });
    const bool all_finite = parallel_max_rows(V.layout(), [&](std::ptrdiff_t begin, int count) {
      bool bad = false;
      for (int i = 0; i < count; ++i) bad = bad || !std::isfinite(V[begin + i]);
      return bad ? 1.0 : 0.0;
    }) == 0.0;
    if (grid.ranks.min(all_finite ? 1.0 : 0.0) == 1.0) {  // on every rank: all ranks go on alike
      fill_ghosts(V, grid);
      return V;
    }
  }
  // (Again, if not finite above: the first bad cell is named; on a decomposed grid, the lowest
  // rank's first bad cell, on every rank, so that every rank stops alike.)
  std::string problem;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    V[idx] = potential_value(spec, x.data(), Dim);
    if (!std::isfinite(V[idx]) && problem.empty()) {
      std::string where;
      for (int k = 0; k < Dim; ++k) where += (k ? ", " : "") + std::to_string(x[k]);
      problem = "V = " + std::to_string(V[idx]) + " at x = (" + where + "); a potential must be finite on the grid";
    }
  });
  problem = grid.ranks.first_message(problem);
  if (!problem.empty()) throw ParameterError(Parameter::potential, problem);
  fill_ghosts(V, grid);
  return V;
}

template Field<1> sample_potential(const PotentialSpec&, const UniformGrid<1>&);
template Field<2> sample_potential(const PotentialSpec&, const UniformGrid<2>&);
template Field<3> sample_potential(const PotentialSpec&, const UniformGrid<3>&);

}  // namespace wgflow
