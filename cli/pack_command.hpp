#pragma once
#include "cli/layer_guard.hpp"
#include <string>
#include <vector>

namespace wgflow {

/// `wgflow pack RUN.h5 OUT.h5 [--overwrite]`: the run as one self-contained HDF5 file (io/pack.hpp).
int pack_command(const std::vector<std::string>& args);

}  // namespace wgflow
