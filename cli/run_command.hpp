#pragma once
#include "cli/layer_guard.hpp"
#include <string>
#include <vector>

namespace wgflow {

/// `wgflow run [options]`: solves one problem and writes its HDF5 output. Returns the exit code.
int run_command(const std::vector<std::string>& args);

}  // namespace wgflow
