#pragma once
#include "io/layer_guard.hpp"
/// The option layer's half of grids/parameter_error.hpp: which command-line flag sets each run
/// parameter, and the user's one-line message for any error (a ParameterError names its flag).
#include <exception>
#include <string>

#include "grids/parameter_error.hpp"

namespace wgflow {

/// "--bc", "--potential", ...: the flag of `wgflow run` (and the INI key, without the dashes).
std::string flag_of(Parameter p);

/// The message a user sees for e: a ParameterError rendered with flag names ("--potential: ..."),
/// anything else its what().
std::string user_message(const std::exception& e);

}  // namespace wgflow
