#include "io/parameter_flags.hpp"

namespace wgflow {

std::string flag_of(Parameter p) {
  switch (p) {
    case Parameter::boundary: return "--bc";
    case Parameter::kernel: return "--kernel";
    case Parameter::activation: return "--activation";
    case Parameter::target: return "--target";
    case Parameter::target_mass: return "--target-mass";
    case Parameter::target_epsilon: return "--target-epsilon";
    case Parameter::potential: return "--potential";
    case Parameter::divergence: return "--divergence";
    case Parameter::stepper: return "--stepper";
    case Parameter::order: return "--order";
    case Parameter::initial: return "--initial";
    case Parameter::mass: return "--mass";
  }
  return "--?";
}

std::string user_message(const std::exception& e) {
  if (const auto* p = dynamic_cast<const ParameterError*>(&e))
    return render_parameter_message(p->parameter(), p->qualifier(), p->message(), flag_of);
  return e.what();
}

}  // namespace wgflow
