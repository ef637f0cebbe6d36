#pragma once
#include "io/layer_guard.hpp"
/// Restart points of an output. A run stopped by SIGINT/SIGTERM writes a checkpoint (the state
/// between snapshots); a run killed outright restarts from its last snapshot, which holds the same
/// information. Either way the continued run repeats the uninterrupted one bit for bit, because the
/// step sizes depend only on the state, the time and the next output time.
#include <cstddef>
#include <string>
#include <vector>

#include "solver/snapshot_arrays.hpp"

namespace wgflow {

struct Checkpoint {
  std::vector<double> density;  ///< interior values in dataset order (x fastest)
  double time = 0.0;
  long step = 0;
  int next_snapshot = 0;        ///< index of the first snapshot not yet written
  std::vector<double> stepper_state;  ///< the time stepper's carried step control (may be empty)
  std::size_t rows = 0;         ///< diagnostics rows up to this state (row 0 included)
  /// The snapshot arrays of the state (SnapshotArraySource: particle positions, ...), so that a restart
  /// continues them: /arrays/<name> in the checkpoint file, /steps/NNNNNN/<name> in a snapshot.
  std::vector<SnapshotArray> arrays;

  /// The array called `name`, or nullptr.
  const SnapshotArray* array(const std::string& name) const {
    for (const SnapshotArray& a : arrays)
      if (a.name == name) return &a;
    return nullptr;
  }
};

/// Writes (or atomically replaces) the checkpoint file of the output `path` (PATH.h5.d/checkpoint.h5).
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// The newest restart point of `path`: its checkpoint if that is newer than the last snapshot, else
/// the last snapshot. Throws std::runtime_error naming --restart if the file has neither or is of
/// another output format.
Checkpoint read_restart_point(const std::string& path);

}  // namespace wgflow
