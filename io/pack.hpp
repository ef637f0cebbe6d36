#pragma once
#include "io/layer_guard.hpp"
/// `wgflow pack`: a run's output (main file + snapshot directory, io/output_files.hpp) as one
/// self-contained HDF5 file with the same paths, so that it can be mailed or archived as one file.
///
///     OUT.h5   root attributes of the run (+ packed_from), /grid, /steps/NNNNNN/density with its
///              attributes (and the group's mass, energy, stepper_state), /diagnostics/* as ordinary
///              datasets holding every row
///     OUT.xmf  the XDMF sidecar, pointing into OUT.h5
///
/// Every reader of outputs (--initial file:, --target file:, info, the scripts, ParaView) reads it as
/// it reads the run. A packed file is a copy to read, not to continue: --restart refuses it.
#include <string>

namespace wgflow {

/// Writes the packed copy of the output `run` to `out` (atomically) and its sidecar. Throws
/// ConfigError for a `run` that is not a wgflow output, an `out` that exists without `overwrite`, or
/// `out` naming `run` itself; OutputWriteError if writing fails.
void pack_output(const std::string& run, const std::string& out, bool overwrite);

/// True if `path` is a file written by pack_output (root attribute packed_from); never throws.
bool is_packed_output(const std::string& path);

}  // namespace wgflow
