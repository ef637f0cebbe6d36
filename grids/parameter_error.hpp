#pragma once
/// Bad value of a run parameter, found below the option layer (grids/, solver/). Those layers do not
/// know the command line: the error names its parameter by a key, its message carries no flag name,
/// and a mention of another parameter inside the message is written {key}. The option layer
/// (io/options.hpp, user_message) renders it as the user's one line, "--potential: unknown ...".
/// what() is the same line with the bare keys, for callers below the option layer (tests, logs).
#include <stdexcept>
#include <string>

namespace wgflow {

/// The run parameters grids/ and solver/ validate. io/options.cpp maps each to its flag.
enum class Parameter {
  boundary, kernel, activation, target, target_mass, target_epsilon, potential, divergence,
  stepper, order, initial, mass
};
constexpr Parameter all_parameters[] = {
    Parameter::boundary,       Parameter::kernel,    Parameter::activation, Parameter::target,
    Parameter::target_mass,    Parameter::target_epsilon, Parameter::potential, Parameter::divergence,
    Parameter::stepper,        Parameter::order,     Parameter::initial,    Parameter::mass};

/// The key a message writes as {key}: "boundary", "target-mass", ...
inline const char* parameter_key(Parameter p) {
  switch (p) {
    case Parameter::boundary: return "boundary";
    case Parameter::kernel: return "kernel";
    case Parameter::activation: return "activation";
    case Parameter::target: return "target";
    case Parameter::target_mass: return "target-mass";
    case Parameter::target_epsilon: return "target-epsilon";
    case Parameter::potential: return "potential";
    case Parameter::divergence: return "divergence";
    case Parameter::stepper: return "stepper";
    case Parameter::order: return "order";
    case Parameter::initial: return "initial";
    case Parameter::mass: return "mass";
  }
  return "?";
}

/// Renders "NAME[ QUALIFIER]: message" with each {key} replaced by name_of(parameter).
template <class NameOf>
std::string render_parameter_message(Parameter p, const std::string& qualifier, const std::string& message,
                                     NameOf&& name_of) {
  std::string out = name_of(p);
  if (!qualifier.empty()) out += " " + qualifier;
  out += ": ";
  for (std::size_t i = 0; i < message.size(); ++i) {
    bool replaced = false;
    if (message[i] == '{')
      for (Parameter q : all_parameters) {
        const std::string token = std::string("{") + parameter_key(q) + "}";
        if (message.compare(i, token.size(), token) == 0) {
          out += name_of(q);
          i += token.size() - 1;
          replaced = true;
          break;
        }
      }
    if (!replaced) out += message[i];
  }
  return out;
}

class ParameterError : public std::invalid_argument {
 public:
  /// qualifier: the value the error is about when it belongs before the colon ("barenblatt" in
  /// "--initial barenblatt: ..."); usually empty.
  ParameterError(Parameter parameter, std::string message, std::string qualifier = {})
      : std::invalid_argument(render_parameter_message(parameter, qualifier, message,
                                                       [](Parameter q) { return std::string(parameter_key(q)); })),
        m_parameter(parameter), m_message(std::move(message)), m_qualifier(std::move(qualifier)) {}

  Parameter parameter() const { return m_parameter; }
  const std::string& message() const { return m_message; }
  const std::string& qualifier() const { return m_qualifier; }

 private:
  Parameter m_parameter;
  std::string m_message, m_qualifier;
};

}  // namespace wgflow
