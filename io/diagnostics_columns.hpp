#pragma once
#include "io/layer_guard.hpp"
/// The /diagnostics columns of an output: one 1-D float64 dataset per quantity, one row per accepted
/// step. In format 2 the rows live in the files they were written with (pieces: each snapshot file
/// holds the rows since the previous piece, a rows file every 32768 rows between snapshots, the tail
/// file the rows after the last piece), and the main file's columns are HDF5 virtual datasets over
/// those pieces (and over blocks that consolidate every 64 of them), so rebuilding the main file costs
/// O(pieces / 64 + 64), not O(steps).
#include <hdf5.h>

#include <cstddef>
#include <string>
#include <vector>

#include "solver/diagnostics_history.hpp"

namespace wgflow {

/// Column names a run writes: time, dt, mass, energy, dissipation, min, max, plus the columns only
/// f-divergence runs fill (l1_to_target, w2_to_target) when `first_row` has them (they are not NaN).
std::vector<std::string> diagnostics_columns(const DiagnosticsRow& first_row);

/// Writes rows [first, end) of the run (they must be in the history's window) as plain datasets
/// /diagnostics/<column> into `file`.
void write_diagnostics_rows(hid_t file, const DiagnosticsHistory& history, std::size_t first, std::size_t end,
                            const std::vector<std::string>& columns);

/// Writes the given columns (one vector per name in `columns`, equal lengths) as /diagnostics/<column>.
void write_diagnostics_columns(hid_t file, const std::vector<std::vector<double>>& values,
                               const std::vector<std::string>& columns);

/// Appends the /diagnostics/<column> values of an open piece file to `values` (one vector per column).
/// Returns the number of rows appended; throws if the columns' lengths differ.
std::size_t append_diagnostics_columns(hid_t file, const std::vector<std::string>& columns,
                                       std::vector<std::vector<double>>& values);

/// One file holding consecutive rows as /diagnostics/<column>, named relative to the main file.
struct DiagnosticsPiece {
  std::string file;
  std::size_t rows = 0;
};

/// Writes /diagnostics/<column> into the main file as virtual datasets over `pieces`, in order.
void write_diagnostics_view(hid_t file, const std::vector<DiagnosticsPiece>& pieces,
                            const std::vector<std::string>& columns);

}  // namespace wgflow
