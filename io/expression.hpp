#pragma once
#include "io/layer_guard.hpp"
/// User formulas in x, y, z and r = |x| (muparser syntax: ^ for powers, exp, sin, sqrt, abs, pi, ...), parsed
/// once at set-up, e.g. --potential "(x^2-1)^2/4 + y^2/2". Evaluation is serial: set-up only.
#include <memory>
#include <string>

namespace mu {
class Parser;
}

namespace wgflow {

class Expression {
 public:
  /// Parses `text`; throws ConfigError "--OPTION: cannot parse 'text': <reason>" naming `option`.
  Expression(const std::string& text, const std::string& option);
  ~Expression();
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;

  /// The value at x = (x, y, z); coordinates beyond the grid's dimension are 0.
  double operator()(const double* x, int dim) const;

 private:
  std::unique_ptr<mu::Parser> m_parser;
  std::unique_ptr<double[]> m_xyz;  ///< the variables the parser reads: x, y, z, r = |x| (stable addresses)
};

}  // namespace wgflow
