#include "solver/energy/target.hpp"
#include "grids/parameter_error.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/chunk_sums.hpp"
#include "solver/energy/parse_number.hpp"

namespace wgflow {

namespace {

const char* const k_syntax =
    " (expected gaussian[:mean=X,Y][:width=S] or mixture:means=X,Y;X,Y;...[:weights=W,...][:widths=S,...])";

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw ParameterError(Parameter::target, "'" + text + "': " + why + k_syntax);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::vector<double> numbers(const std::string& text, const std::string& list, const std::string& key) {
  std::vector<double> values;
  for (const std::string& part : split(list, ',')) {
    const std::optional<double> v = parse_finite(part);
    if (!v) bad(text, key + " needs finite numbers, got '" + list + "'");
    values.push_back(*v);
  }
  return values;
}

/// A mean: 1 to 3 coordinates (x, y, z), the missing ones 0.
std::array<double, 3> point(const std::string& text, const std::string& list) {
  const std::vector<double> v = numbers(text, list, "a mean");
  if (v.size() > 3) bad(text, "a mean has 1 to 3 coordinates (x,y,z), got '" + list + "'");
  std::array<double, 3> m{};
  for (std::size_t k = 0; k < v.size(); ++k) m[k] = v[k];
  return m;
}

}  // namespace

bool is_builtin_target(const std::string& text) {
  return text == "gaussian" || text.rfind("gaussian:", 0) == 0 || text.rfind("mixture:", 0) == 0;
}

TargetSpec parse_target_text(const std::string& text) {
  TargetSpec s;
  const std::vector<std::string> fields = split(text, ':');
  const bool mixture = fields.front() == "mixture";
  if (!mixture && fields.front() != "gaussian") bad(text, "unknown target");
  bool have_means = false, have_weights = false, have_widths = false;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const std::size_t eq = fields[i].find('=');
    if (eq == std::string::npos) bad(text, "'" + fields[i] + "' is not key=value");
    const std::string key = fields[i].substr(0, eq), value = fields[i].substr(eq + 1);
    if (!mixture && key == "mean") {
      s.means = {point(text, value)};
    } else if (!mixture && key == "width") {
      s.widths = numbers(text, value, "width");
      if (s.widths.size() != 1) bad(text, "width takes one value");
    } else if (mixture && key == "means") {
      s.means.clear();
      for (const std::string& m : split(value, ';')) s.means.push_back(point(text, m));
      have_means = true;
    } else if (mixture && key == "weights") {
      s.weights = numbers(text, value, "weights");
      have_weights = true;
    } else if (mixture && key == "widths") {
      s.widths = numbers(text, value, "widths");
      have_widths = true;
    } else {
      bad(text, "unknown key '" + key + "'");
    }
  }
  if (mixture && !have_means) bad(text, "a mixture needs means=...");
  const std::size_t n = s.means.size();
  if (!have_weights) s.weights.assign(n, 1.0);
  if (!have_widths || s.widths.size() == 1) s.widths.assign(n, s.widths.front());
  if (s.weights.size() != n) bad(text, std::to_string(n) + " means but " + std::to_string(s.weights.size()) + " weights");
  if (s.widths.size() != n) bad(text, std::to_string(n) + " means but " + std::to_string(s.widths.size()) + " widths");
  for (double w : s.weights)
    if (!(w > 0.0)) bad(text, "weights must be > 0");
  for (double w : s.widths)
    if (!(w > 0.0)) bad(text, "widths must be > 0");
  return s;
}

double target_value(const TargetSpec& spec, const double* x, int dim) {
  if (spec.kind == TargetSpec::Kind::function) return spec.function(x);
  // Σ_k w_k (2π s_k²)^{−d/2} exp(−|x − m_k|²/(2 s_k²)) at (x, y, z) with the coordinates beyond the
  // grid's dimension 0 (as for formulas); the global scale is fixed by the normalisation.
  const double two_pi = 2.0 * std::acos(-1.0);
  double p = 0.0;
  for (std::size_t k = 0; k < spec.means.size(); ++k) {
    double d2 = 0.0;
    for (int a = 0; a < 3; ++a) {
      const double d = (a < dim ? x[a] : 0.0) - spec.means[k][static_cast<std::size_t>(a)];
      d2 += d * d;
    }
    const double s2 = spec.widths[k] * spec.widths[k];
    p += spec.weights[k] * std::pow(two_pi * s2, -0.5 * dim) * std::exp(-0.5 * d2 / s2);
  }
  return p;
}

template <int Dim>
Field<Dim> sample_target(const TargetSpec& spec, const UniformGrid<Dim>& grid, double mass) {
  Field<Dim> p(FieldLayout<Dim>(grid.shape));
  // The first problem of this rank's box; then the lowest rank's problem on every rank, so that a
  // decomposed run stops on every rank alike (Communicator::first_message).
  std::string problem;
  if (spec.kind == TargetSpec::Kind::values && spec.values.size() != grid.num_cells())
    problem = std::to_string(spec.values.size()) + " values for " + std::to_string(grid.num_cells()) + " cells";
  std::size_t i = 0;
  if (problem.empty())
    for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
      const double v = spec.kind == TargetSpec::Kind::values ? spec.values[i++] : target_value(spec, x.data(), Dim);
      if ((!std::isfinite(v) || v < 0.0) && problem.empty()) {
        std::ostringstream where;
        for (int k = 0; k < Dim; ++k) where << (k ? ", " : "") << x[k];
        problem = "p = " + std::to_string(v) + " at x = (" + where.str() + "); a target density must be finite and >= 0";
      }
      p[idx] = v;
    });
  problem = grid.ranks.first_message(problem);
  if (!problem.empty()) throw ParameterError(Parameter::target, problem);
  const double total = sum_cells(p, grid) * grid.cell_volume();  // fixed chunks, exact: the same for any split
  if (!(total > 0.0) || !std::isfinite(total))
    throw ParameterError(Parameter::target, "the target has total mass " + std::to_string(total) +
                                " on this grid; it must be finite and > 0");
  if (!(mass > 0.0)) throw ParameterError(Parameter::target_mass, "must be > 0");
  const double scale = mass / total;
  for_each_cell(grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    p[idx] *= scale;
  });
  fill_ghosts(p, grid);
  return p;
}

template Field<1> sample_target(const TargetSpec&, const UniformGrid<1>&, double);
template Field<2> sample_target(const TargetSpec&, const UniformGrid<2>&, double);
template Field<3> sample_target(const TargetSpec&, const UniformGrid<3>&, double);

}  // namespace wgflow
