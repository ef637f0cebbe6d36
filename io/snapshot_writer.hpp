#pragma once
#include "io/layer_guard.hpp"
/// Writes a run's output (layout in io/output_files.hpp and the README, "Output format") and keeps
/// its XDMF sidecar current. Each snapshot goes to a file of its own (with the diagnostics rows since
/// the previous piece), rows between snapshots go to rows files every 32768 rows, and the main file is
/// rebuilt from memory and renamed into place, so a run killed at any moment leaves a main file that
/// lists snapshots completed before the kill, and readers never see a partial file. A rebuild costs
/// O(snapshots); it is done after a snapshot only once the snapshots it does not list are at least
/// 1/32 of those it lists (and always by flush_diagnostics), so a snapshot costs O(1) amortised and a
/// kill loses at most ~3 % of the snapshots, which a restart computes again bit for bit.
#include <cstddef>
#include <string>
#include <vector>

#include <hdf5.h>

#include "grids/communicator.hpp"
#include "grids/grid.hpp"
#include "io/diagnostics_columns.hpp"
#include "io/h5.hpp"
#include "io/output_files.hpp"
#include "io/xdmf.hpp"
#include "solver/diagnostics_history.hpp"
#include "solver/snapshot_arrays.hpp"

namespace wgflow {

/// A float64 array attribute of the main file's root, e.g. a network's data (data_x, data_y).
struct RootArray {
  std::string name;
  std::vector<double> values;
};
/// Root arrays a restart carries over from the file it continues (the names a run may write).
inline const char* const k_root_array_names[] = {"data_x", "data_y"};

/// 1D particles as points for the XDMF sidecar: ParaView 5.11's Xdmf3 readers show points only from one
/// N x 2 or N x 3 array (they leave X_Y_Z geometries empty and crash on Function items), so a 1D
/// snapshot with particles also holds "particle_points" (N x 2: x and a zero y). 2D and 3D list
/// "particles" itself.
inline const char k_particle_points_1d[] = "particle_points";
std::vector<double> particle_points_1d(const std::vector<double>& x);

/// Sets the particle fields of `snapshot` from the datasets of the snapshot group `group` of a
/// Dim-dimensional run (nothing when it holds no particles, or 1D ones without particle_points).
void list_particles(hid_t group, int dim, XdmfSnapshot& snapshot);

/// This rank's box of the grid's arrays, in dataset order (z, y, x): the whole grid on one rank.
template <int Dim>
h5::Box array_box(const UniformGrid<Dim>& grid) {
  h5::Box box;
  for (int k = Dim - 1; k >= 0; --k) {
    box.global.push_back(static_cast<hsize_t>(grid.global_shape(k)));
    box.start.push_back(static_cast<hsize_t>(grid.offset[k]));
    box.count.push_back(static_cast<hsize_t>(grid.shape[k]));
  }
  return box;
}

/// What the output records about where a run came from.
struct RunMetadata {
  std::string case_name;
  std::string config_text;  ///< resolved INI text
  std::vector<RootArray> root_arrays{};  ///< written as root attributes; names from k_root_array_names
};

/// In a run decomposed over ranks, `grid` is this rank's box of it (grids/decomposition.hpp) and
/// `ranks` the run's ranks; every rank constructs the writer and makes every call, together. Each
/// snapshot file is then written by all ranks at once (parallel HDF5: each rank its own hyperslab of
/// /density, collectively; nothing is gathered), and everything else (the main file, the sidecar,
/// diagnostics rows, block and tail files, removals) by rank 0 alone, with the bytes a single rank
/// writes. If a step fails on any rank, every rank throws (io/rank_agreement.hpp). One rank: the
/// serial writer, no MPI-IO.
template <int Dim>
class SnapshotWriter {
 public:
  /// Creates the output of a new run (main file without snapshots, empty snapshot directory).
  /// Throws std::runtime_error if the main file or its snapshot directory exists and !overwrite.
  SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const RunMetadata& meta,
                 bool overwrite, const Communicator& ranks = Communicator());

  /// Reopens an existing output to continue it after a restart: keeps its first `keep_snapshots`
  /// snapshots and `keep_rows` diagnostics rows and drops anything a killed run left after them.
  struct Resume {
    int keep_snapshots;
    std::size_t keep_rows;
  };
  SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const Resume& resume,
                 const Communicator& ranks = Communicator());

  /// Writes snapshot NNNNNN (`density`: this rank's box in dataset order, x fastest; attributes time, step, mass and
  /// energy, the last two from history.back(); the diagnostics rows since the previous snapshot;
  /// each of `arrays` as a dataset beside the density), then the main file, then the .xmf. Throws on
  /// NaN/Inf in `density` or an array (writing nothing), a size mismatch or an empty history.
  void write_snapshot(const std::vector<double>& density, double time, long step,
                      const DiagnosticsHistory& history, const std::vector<double>& stepper_state = {},
                      const std::vector<SnapshotArray>& arrays = {});
  /// Writes the rows not yet in a file to a rows file once there are k_rows_per_file of them, so that
  /// the history can forget them (called after every step).
  void write_rows_if_due(const DiagnosticsHistory& history);
  /// Makes the rows after the last piece part of the output (the tail file) and brings the main file
  /// and the sidecar up to date with every snapshot written.
  void flush_diagnostics(const DiagnosticsHistory& history);
  /// The run reached t-end and flush_diagnostics listed everything: a checkpoint and the tail file
  /// left by an earlier stop are no longer part of the output (a finished output holds only what it lists).
  void remove_stop_files();
  /// Rows of the run that are in files: the history may forget the rows before this one.
  std::size_t rows_written() const { return m_rows_in_pieces; }

  static constexpr std::size_t k_rows_per_file = 32768;

  int snapshots_written() const { return static_cast<int>(m_snapshots.size()); }
  const std::string& path() const { return m_paths.main; }
  const OutputPaths& paths() const { return m_paths; }
  const std::string& xdmf_path() const { return m_paths.xdmf; }
  /// This rank's box of the grid and the ranks writing together (for the checkpoint).
  const h5::Box& box() const { return m_box; }
  const Communicator& ranks() const { return m_ranks; }

 private:
  /// Root attributes of the main file, kept as first written (a restart by a newer binary keeps them).
  struct Header {
    std::string case_name, config_text, version, git_hash;
    std::vector<RootArray> root_arrays;
    int ranks = 1, threads = 1;  ///< of the run that last wrote the output (a restart may use others)
  };
  /// The Resume constructor's reading of what the output keeps (on every rank).
  void resume_from(const std::string& path, const Resume& resume);
  /// The main file: metadata, grid, links to the snapshots, diagnostics as views of their pieces.
  void write_main_file() const;
  /// The main file and the sidecar, now.
  void publish_index();
  void check_history(const DiagnosticsHistory& history) const;
  /// A file of diagnostics pieces was written: record it (and write a block after every 64th).
  void add_piece(const std::string& file, std::size_t rows);
  /// The diagnostics rows of the last 64 pieces again, in one block file, read back from them.
  void write_block();

  OutputPaths m_paths;
  UniformGrid<Dim> m_grid;
  Communicator m_ranks;
  h5::Box m_box;
  Header m_header;
  std::vector<XdmfSnapshot> m_snapshots;
  std::vector<std::string> m_columns;        ///< diagnostics columns, fixed by the run's first row
  std::vector<DiagnosticsPiece> m_pieces;    ///< snapshot and rows files holding rows, in row order
  std::size_t m_rows_in_pieces = 0;         ///< their rows
  std::vector<std::size_t> m_block_rows;     ///< rows in each block file (64 pieces each)
  std::size_t m_tail_rows = 0;               ///< rows after the last piece, in the tail file
  int m_listed_snapshots = 0;                ///< snapshots the main file lists
  bool m_index_current = false;              ///< the main file and sidecar list everything written
};

}  // namespace wgflow
