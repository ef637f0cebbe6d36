#pragma once
#include "io/layer_guard.hpp"
/// `wgflow run` options: Boost.Program_options on the command line and in an INI file given with
/// --config FILE (the same long names, `name = value`); the command line wins.
#include <string>
#include <vector>

#include "io/run_config.hpp"

namespace wgflow {

struct ParsedRunOptions {
  RunConfig config;
  std::string restart;     ///< --restart PATH.h5: continue that run (its stored configuration is used)
  bool help = false;       ///< --help was given: print help_text and do nothing else
  std::string help_text;
};

/// Parses the arguments after `wgflow run`; throws ConfigError with a one-line message on bad input
/// (unknown option, unparsable value, unreadable --config file) and validates the result.
ParsedRunOptions parse_run_options(const std::vector<std::string>& args);

/// The configuration stored in an output file (its resolved INI text), validated.
RunConfig parse_config_text(const std::string& ini_text);

}  // namespace wgflow
