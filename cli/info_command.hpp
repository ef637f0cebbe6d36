#pragma once
#include "cli/layer_guard.hpp"
#include <string>
#include <vector>

namespace wgflow {

/// `wgflow info PATH.h5`: grid, case, snapshots, time range, mass drift and energy of an output.
int info_command(const std::vector<std::string>& args);

/// `wgflow cases`: the built-in cases with their equations, defaults and example commands.
int cases_command(const std::vector<std::string>& args);

}  // namespace wgflow
