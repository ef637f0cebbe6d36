#include "io/expression.hpp"

#include <muParser.h>

#include <cmath>

#include "io/run_config.hpp"

namespace wgflow {

Expression::Expression(const std::string& text, const std::string& option)
    : m_parser(std::make_unique<mu::Parser>()), m_xyz(new double[4]{0.0, 0.0, 0.0, 0.0}) {
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
