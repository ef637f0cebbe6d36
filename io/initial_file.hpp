#pragma once
#include "io/layer_guard.hpp"
/// Reading HDF5 files back: an initial density for `--initial file:PATH`, and summaries/snapshots of
/// a wgflow output (for `wgflow info`, restarts and tests).
#include <string>
#include <vector>

#include "grids/communicator.hpp"
#include "io/h5.hpp"
#include "solver/diagnostics_history.hpp"

namespace wgflow {

/// Reads an initial density for a grid of `shape_zyx` (dataset order, x fastest): the dataset
/// "/density" if present, else the last /steps/NNNNNN/density of a wgflow output. Throws
/// std::runtime_error with a one-line message starting "--initial file:PATH: " for a missing file,
/// a non-HDF5 file, no density dataset, a wrong rank/shape, or negative/non-finite values
/// (`option` names the option the path came from: "--target file:PATH: ..." for a target).
/// A decomposed run: every rank of `ranks` calls it with its `box` (array_box of its grid) and gets
/// that part (read independently); the values are checked over the whole grid, so every rank
/// refuses the same file with the same message (a collective call).
std::vector<double> read_initial_density(const std::string& path, const std::vector<long>& shape_zyx,
                                         const std::string& option = "--initial", const h5::Box& box = {},
                                         const Communicator& ranks = Communicator());

/// The output format this wgflow writes (root attribute format_version). 1: one file, snapshots
/// appended in place; 2: one file per snapshot, linked from the main file (io/output_files.hpp).
constexpr int k_output_format_version = 2;

/// What a wgflow output holds, without the density arrays.
struct OutputSummary {
  int dim = 0;
  std::vector<long> shape_zyx;
  std::vector<double> lower_zyx, upper_zyx;
  std::string case_name, config_text;
  std::vector<double> snapshot_times;
  std::vector<long> snapshot_steps;
  DiagnosticsHistory diagnostics;
  int format_version = 0;
  std::string version;   ///< wgflow version that wrote the file
  std::string git_hash;  ///< its git commit, if it was built from a checkout
  int ranks = 0, threads = 0;  ///< MPI ranks × OpenMP threads of the run that last wrote it; 0: not stored
  std::string axes;      ///< e.g. "z,y,x"
  std::string boundary;  ///< one kind per axis in z,y,x order, comma-separated
};

/// Reads the metadata, snapshot times/steps and diagnostics of a wgflow output; throws
/// std::runtime_error("PATH: ...") if the file is missing or is not a wgflow output.
OutputSummary read_output_summary(const std::string& path);

/// Density of snapshot `index` in dataset order (negative counts from the end: -1 = last); only the
/// part in `box` (array_box of a rank's grid; default the whole grid).
std::vector<double> read_snapshot(const std::string& path, int index, const h5::Box& box = {});

}  // namespace wgflow
