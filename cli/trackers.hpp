#pragma once
/// Trackers the command line hangs off the run loop: HDF5 snapshots.
#include "grids/field.hpp"
#include "io/snapshot_writer.hpp"
#include "solver/simulation.hpp"

namespace wgflow {

/// Writes every snapshot (and the diagnostics rows so far) to the output file.
template <int Dim>
class SnapshotTracker final : public Tracker<Dim> {
 public:
  explicit SnapshotTracker(SnapshotWriter<Dim>& writer) : m_writer(writer) {}
  void on_snapshot(const Field<Dim>& q, const DiagnosticsHistory& history, long step, int) override {
    m_writer.write_snapshot(interior_values(q), history.back().time, step, history);
  }

 private:
  SnapshotWriter<Dim>& m_writer;
};

}  // namespace wgflow
