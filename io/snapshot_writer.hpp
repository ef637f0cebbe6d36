#pragma once
/// Writes a run's HDF5 output (layout in the README, "Output format") and keeps its XDMF sidecar
/// current. The file is opened only while a snapshot is written, so ParaView can read it mid-run and
/// a killed run leaves a valid file whose last snapshot is complete.
#include <cstddef>
#include <string>
#include <vector>

#include "grids/grid.hpp"
#include "io/xdmf.hpp"
#include "solver/diagnostics_history.hpp"

namespace wgflow {

/// What the output records about where a run came from.
struct RunMetadata {
  std::string case_name;
  std::string config_text;  ///< resolved INI text
};

/// Snapshot group name of counter `index`: 6-digit zero-padded ("000042").
std::string snapshot_group_name(int index);

template <int Dim>
class SnapshotWriter {
 public:
  /// Creates `path` with root and /grid attributes, /steps and empty /diagnostics columns, then
  /// closes it. Throws std::runtime_error if `path` exists and !overwrite.
  SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const RunMetadata& meta,
                 bool overwrite);

  /// Writes /steps/NNNNNN/density (dataset order, x fastest) with attributes time, step, mass and
  /// energy (the last two from history.back()), appends unwritten diagnostics rows, closes the file
  /// and rewrites the .xmf. Throws on NaN/Inf in `density`, a size mismatch or an empty history.
  /// Reopens an existing output to continue it after a restart: keeps its first `keep_snapshots`
  /// snapshots and `keep_rows` diagnostics rows and drops anything a killed run left after them.
  struct Resume {
    int keep_snapshots;
    std::size_t keep_rows;
  };
  SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const Resume& resume);

  void write_snapshot(const std::vector<double>& density, double time, long step,
                      const DiagnosticsHistory& history, const std::vector<double>& stepper_state = {});
  /// Appends the diagnostics rows not yet written (history.rows[written..]).
  void flush_diagnostics(const DiagnosticsHistory& history);

  int snapshots_written() const { return static_cast<int>(m_snapshots.size()); }
  const std::string& path() const { return m_path; }
  const std::string& xdmf_path() const { return m_xdmf_path; }

 private:
  std::string m_path;
  std::string m_xdmf_path;
  UniformGrid<Dim> m_grid;
  std::vector<XdmfSnapshot> m_snapshots;
  std::size_t m_diagnostics_written = 0;
};

}  // namespace wgflow
