#pragma once
#include "io/layer_guard.hpp"
/// Restart points of an output. A run stopped by SIGINT/SIGTERM writes a checkpoint (the state
/// between snapshots); a run killed outright restarts from its last snapshot, which holds the same
/// information. Either way the continued run repeats the uninterrupted one bit for bit, because the
/// step sizes depend only on the state, the time and the next output time.
#include <cstddef>
#include <string>
#include <vector>

#include "grids/communicator.hpp"
#include "io/h5.hpp"
#include "solver/snapshot_arrays.hpp"

namespace wgflow {

struct Checkpoint {
  std::vector<double> density;  ///< interior values of this rank's box in dataset order (x fastest)
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
/// A decomposed run: every rank of `ranks` calls it with its `box` of the grid (SnapshotWriter::box())
/// and writes that part of the flat global /density, collectively; the rest (attributes, arrays) is
/// rank 0's. The file holds the global field only, so any number of ranks can continue from it.
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint, const h5::Box& box = {},
                      const Communicator& ranks = Communicator());

/// The newest restart point of `path`: its checkpoint if that is newer than the last snapshot, else
/// the last snapshot. Throws std::runtime_error naming --restart if the file has neither or is of
/// another output format. `box` (array_box of this rank's grid; default the whole grid) is the part
/// of the density read: each rank of a decomposed run reads its own, whatever the rank count that
/// wrote the file.
Checkpoint read_restart_point(const std::string& path, const h5::Box& box = {});

}  // namespace wgflow
