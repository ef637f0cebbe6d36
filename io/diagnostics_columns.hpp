#pragma once
/// The /diagnostics columns of an output: one 1-D float64 dataset per quantity, one row per accepted
/// step. In format 2 the rows live in the files they were written with (each snapshot file holds the
/// rows since the previous snapshot, the tail file the rows after the last snapshot), and the main
/// file's columns are HDF5 virtual datasets over those pieces, so rebuilding the main file costs
/// O(snapshots), not O(steps).
#include <hdf5.h>

#include <cstddef>
#include <string>
#include <vector>

#include "solver/diagnostics_history.hpp"

namespace wgflow {

/// Column names a run writes: time, dt, mass, energy, dissipation, min, max, plus the columns only
/// f-divergence runs fill (l1_to_target, w2_to_target) when `first_row` has them (they are not NaN).
std::vector<std::string> diagnostics_columns(const DiagnosticsRow& first_row);

/// Writes rows [first, end) of `rows` as plain datasets /diagnostics/<column> into `file`.
void write_diagnostics_rows(hid_t file, const std::vector<DiagnosticsRow>& rows, std::size_t first, std::size_t end,
                            const std::vector<std::string>& columns);

/// One file holding consecutive rows as /diagnostics/<column>, named relative to the main file.
struct DiagnosticsPiece {
  std::string file;
  std::size_t rows = 0;
};

/// Writes /diagnostics/<column> into the main file as virtual datasets over `pieces`, in order.
void write_diagnostics_view(hid_t file, const std::vector<DiagnosticsPiece>& pieces,
                            const std::vector<std::string>& columns);

}  // namespace wgflow
