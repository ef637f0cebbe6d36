#pragma once
#include "io/layer_guard.hpp"
/// The options of --case mean-field-network (--output-weight, --data, --data-points, --data-range,
/// --activation): validation, INI text, memory, and the data set they define.
#include <string>

#include "io/run_config.hpp"
#include "solver/energy/network.hpp"

namespace wgflow {

/// Most data points a run takes: /data_x and /data_y are root attributes (HDF5 keeps an object's
/// attributes within 64 KiB), and S costs cells × n.
inline constexpr long k_max_data_points = 2000;

/// Throws ConfigError naming the option for a bad value or combination (called by RunConfig::validate).
void validate_network(const RunConfig& c);

/// The network options as INI lines for a mean-field-network run, "" otherwise (part of to_ini()).
std::string network_ini(const RunConfig& c);

/// Bytes of the feature matrix S (cells × n) and its buffers; n of a file is not known yet: 0 then.
double network_memory_bytes(const RunConfig& c);

/// The data (read from the file of --data file:PATH.h5, or the formula at --data-points points of
/// --data-range) with the activation and output weight. Throws ConfigError "--data: ..." for a file
/// without /x or /y, of different lengths, with non-finite values, or S too large for this machine.
NetworkSpec network_spec_of(const RunConfig& c);

}  // namespace wgflow
