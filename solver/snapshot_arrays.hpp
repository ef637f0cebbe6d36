#pragma once
#include "solver/layer_guard.hpp"
/// Arrays that a run writes beside the density in every snapshot (/steps/NNNNNN/<name>): particle
/// positions, a network's output at its data points, ... Whatever produces them implements
/// SnapshotArraySource; the output tracker asks each source once per snapshot, never per step.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

/// One named float64 array, row-major (last index fastest), `values.size()` = product of `shape`.
/// Distributed (decomposed runs): each rank holds some rows of the array, `values` holds rows.size()
/// rows of the row length shape[1] × …, row i going to row rows[i] of the `shape`-shaped dataset; all
/// ranks write their rows together. Otherwise every rank holds the whole array alike.
struct SnapshotArray {
  SnapshotArray() = default;
  SnapshotArray(std::string name_, std::vector<std::size_t> shape_, std::vector<double> values_)
      : name(std::move(name_)), shape(std::move(shape_)), values(std::move(values_)) {}

  std::string name;                ///< dataset name inside the snapshot group, e.g. "particles"
  std::vector<std::size_t> shape;  ///< e.g. {N, dim}
  std::vector<double> values;
  bool distributed = false;
  std::vector<std::int64_t> rows;  ///< distributed: the global row of each row of values
};

template <int Dim>
class SnapshotArraySource {
 public:
  virtual ~SnapshotArraySource() = default;
  /// Appends this source's arrays for the state q (called at each snapshot).
  virtual void append_snapshot_arrays(const Field<Dim>& q, std::vector<SnapshotArray>& out) const = 0;
};

}  // namespace wgflow
