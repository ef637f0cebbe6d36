#pragma once
#include "io/layer_guard.hpp"
/// Initial particle positions from a file (--particles file:PATH.h5).
#include <string>
#include <vector>

namespace wgflow {

/// The dataset /positions of `path`, N x dim (N rows of x, y, z; a plain vector of N in 1D), as a
/// row-major vector. Throws std::runtime_error with a one-line reason: missing or unreadable file, no
/// /positions, not a float or integer dataset, a wrong shape. Finiteness and the box are checked by
/// check_positions.
std::vector<double> read_particle_positions(const std::string& path, int dim);

}  // namespace wgflow
