#include "io/expression.hpp"

#include <muParser.h>

#include <cmath>

#include "io/run_config.hpp"

namespace wgflow {

namespace {

/// Position of the first assignment operator (=, +=, -=, *=, /=) in a muparser formula, or npos.
/// muparser evaluates `x = 3` as an assignment to the variable x; its only '=' that reads is in the
/// comparisons ==, !=, <=, >=.
std::size_t find_assignment(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') continue;
    if (i + 1 < text.size() && text[i + 1] == '=') {
      ++i;  // "==": skip its second '='
      continue;
    }
    if (i > 0 && (text[i - 1] == '<' || text[i - 1] == '>' || text[i - 1] == '!')) continue;
    return i > 0 && std::string("+-*/").find(text[i - 1]) != std::string::npos ? i - 1 : i;
  }
  return std::string::npos;
}

}  // namespace

Expression::Expression(const std::string& text, const std::string& option)
    : m_parser(std::make_unique<mu::Parser>()), m_xyz(new double[4]{0.0, 0.0, 0.0, 0.0}) {
  const std::size_t assignment = find_assignment(text);
  if (assignment != std::string::npos)
    throw ConfigError("--" + option + ": '" + text + "' assigns to a variable (at position " + std::to_string(assignment + 1) +
                      "); a formula may only read x, y, z and r (compare with ==, <=, >=, !=)");
  try {
    m_parser->DefineVar("x", &m_xyz[0]);
    m_parser->DefineVar("y", &m_xyz[1]);
    m_parser->DefineVar("z", &m_xyz[2]);
    m_parser->DefineVar("r", &m_xyz[3]);  // |x|: radial formulas, e.g. interaction kernels
    m_parser->DefineConst("pi", 3.14159265358979323846);
    m_parser->SetExpr(text);
    m_parser->Eval();  // muparser parses lazily: force it so errors surface here
  } catch (const mu::Parser::exception_type& e) {
    throw ConfigError("--" + option + ": cannot parse '" + text + "': " + e.GetMsg() +
                      " (expected a name listed in --help or a formula in x, y, z)");
  }
}

Expression::~Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

double Expression::operator()(const double* x, int dim) const {
  for (int k = 0; k < 3; ++k) m_xyz[k] = k < dim ? x[k] : 0.0;
  m_xyz[3] = std::sqrt(m_xyz[0] * m_xyz[0] + m_xyz[1] * m_xyz[1] + m_xyz[2] * m_xyz[2]);
  return m_parser->Eval();
}

}  // namespace wgflow
