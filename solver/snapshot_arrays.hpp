#pragma once
#include "solver/layer_guard.hpp"
/// Arrays that a run writes beside the density in every snapshot (/steps/NNNNNN/<name>): particle
/// positions, a network's output at its data points, ... Whatever produces them implements
/// SnapshotArraySource; the output tracker asks each source once per snapshot, never per step.
#include <cstddef>
#include <string>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

/// One named float64 array, row-major (last index fastest), `values.size()` = product of `shape`.
struct SnapshotArray {
  std::string name;                ///< dataset name inside the snapshot group, e.g. "particles"
  std::vector<std::size_t> shape;  ///< e.g. {N, dim}
  std::vector<double> values;
};

template <int Dim>
class SnapshotArraySource {
 public:
  virtual ~SnapshotArraySource() = default;
  /// Appends this source's arrays for the state q (called at each snapshot).
  virtual void append_snapshot_arrays(const Field<Dim>& q, std::vector<SnapshotArray>& out) const = 0;
};

}  // namespace wgflow
