#include "io/interaction_config.hpp"

#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "io/expression.hpp"
#include "io/parameter_flags.hpp"
#include "solver/energy/parse_number.hpp"

namespace wgflow {

namespace {

bool is_expression(const std::string& kernel) { return kernel.rfind("expr:", 0) == 0; }

std::string show(double v) { return format_exact(v); }

}  // namespace

std::string resolved_kernel(const RunConfig& c) {
  if (c.kernel != "auto") return c.kernel;
  if (c.case_name == "keller-segel") return "newtonian";
  if (c.case_name == "aggregation-diffusion") return "attractive-repulsive";
  return "none";
}

InteractionSpec interaction_of(const RunConfig& c) {
  const std::string kernel = resolved_kernel(c);
  InteractionSpec s;
  if (is_expression(kernel)) {
    auto formula = std::make_shared<Expression>(kernel.substr(5), "kernel");
    s.kind = InteractionSpec::Kind::expression;
    s.function = [formula](double r) {
      const double x[1] = {r};
      return (*formula)(x, 1);  // r = |x| = x on the axis
    };
  } else {
    try {
      s = parse_kernel(kernel, c.dim);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(user_message(e));
    }
  }
  s.chi = c.chi;
  return s;
}

void validate_interaction(const RunConfig& c) {
  const std::string kernel = resolved_kernel(c);
  if (is_expression(kernel)) {
    if (kernel.size() == 5) throw ConfigError("--kernel: expr: needs a formula in r, as in expr:exp(-r^2)");
    const InteractionSpec s = interaction_of(c);
    for (double r : {0.0, 0.5, 1.0})
      if (!std::isfinite(s.function(r)))
        throw ConfigError("--kernel: the formula gives W(" + show(r) + ") = " + show(s.function(r)) +
                          "; expr: is for smooth kernels, finite at r = 0 (use a named kernel for singular ones)");
  } else {
    interaction_of(c);  // names and parameters
  }
  if (!std::isfinite(c.chi)) throw ConfigError("--chi: must be a finite number (got " + show(c.chi) + ")");
  if (c.case_name == "keller-segel") {
    if (kernel != "newtonian")
      throw ConfigError("--kernel: keller-segel is the newtonian kernel (use --case aggregation-diffusion for '" +
                        kernel + "')");
    if (!(c.chi > 0.0)) throw ConfigError("--chi: the Keller-Segel sensitivity must be > 0 (got " + show(c.chi) + ")");
  } else if (kernel != "none" && c.chi == 0.0) {
    throw ConfigError("--chi: the interaction strength must be != 0 (got 0; use --kernel none for no interaction)");
  }
}

std::string interaction_ini(const RunConfig& c) {
  const std::string kernel = resolved_kernel(c);
  if (kernel == "none" && c.kernel == "auto") return "";
  return "kernel = " + kernel + "\nchi = " + show(c.chi) + "\n";
}

double interaction_memory_bytes(const RunConfig& c) {
  if (resolved_kernel(c) == "none") return 0.0;
  const std::vector<std::string> bc = c.boundary_per_axis();
  double real = 1.0, complex = 1.0;
  for (int k = 0; k < c.dim; ++k) {
    const bool periodic = static_cast<std::size_t>(k) < bc.size() && bc[static_cast<std::size_t>(k)] == "periodic";
    const double P = periodic ? static_cast<double>(c.n) : 2.0 * static_cast<double>(c.n);
    real *= P;
    complex *= k == 0 ? std::floor(P / 2.0) + 1.0 : P;
  }
  const double phi = std::pow(static_cast<double>(c.n) + 4.0, c.dim) * 8.0;
  return real * 8.0 + 2.0 * complex * 16.0 + 2.0 * phi;  // buffers, Φ and the SG drift V + W*q
}

}  // namespace wgflow
