#pragma once
#include "io/layer_guard.hpp"
/// The files of one run's output and how they change without ever being half-written.
///
///     run.h5                 main file: metadata, /grid, /steps/NNNNNN = external links, and
///                            /diagnostics as virtual datasets over the pieces below
///     run.h5.d/NNNNNN.h5     one file per snapshot (and the diagnostics rows since the previous one),
///                            written once and never opened for writing again
///     run.h5.d/diagnostics-rows-RRRRRRRRRRRR.h5  32768 diagnostics rows from row R on, written
///                            between snapshots so that a run's memory does not grow with its steps
///     run.h5.d/diagnostics-block-NNNNNN.h5  the diagnostics rows of 64 pieces (snapshot or rows
///                            files) together, so the main file's views need O(pieces/64 + 64) pieces
///     run.h5.d/checkpoint.h5 the state at a SIGINT/SIGTERM
///     run.h5.d/diagnostics-tail.h5  diagnostics rows after the last snapshot (at a stop)
///     run.xmf                XDMF sidecar pointing at the snapshot files
///
/// Every file is written under a temporary name, synced and renamed into place, so a reader (or a
/// restart after SIGKILL, or after a crash of the machine) sees either the old or the new version.
/// HDF5 updates metadata in place when a file is appended to; that is why nothing is appended.
#include <cstddef>
#include <hdf5.h>

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "grids/communicator.hpp"
#include "io/write_error.hpp"

namespace wgflow {

/// Snapshot group name of counter `index`: 6-digit zero-padded ("000042").
std::string snapshot_group_name(int index);

struct OutputPaths {
  std::string main;       ///< "dir/run.h5"
  std::string directory;  ///< "dir/run.h5.d"
  std::string xdmf;       ///< "dir/run.xmf"

  /// "dir/run.h5.d/000003.h5".
  std::string snapshot(int index) const;
  std::string checkpoint() const;
  std::string diagnostics_tail() const;
  std::string diagnostics_block(int index) const;
  std::string diagnostics_rows(std::size_t first_row) const;
  /// A file of the snapshot directory as the main file and the sidecar name it, relative to the
  /// directory both sit in: relative(snapshot(3)) == "run.h5.d/000003.h5".
  std::string relative(const std::string& path_in_directory) const;
};

OutputPaths output_paths(const std::string& main_path);

/// True if the main file, the snapshot directory or the XDMF sidecar exists.
bool output_exists(const OutputPaths& paths);

/// Deletes an output for --overwrite: the main file, the sidecar and the snapshot directory. Throws
/// std::runtime_error, deleting nothing, if the directory holds a file wgflow does not write there or
/// the sidecar is not an XDMF file wgflow wrote.
void remove_output(const OutputPaths& paths);

/// Removes what a killed run can leave behind: temporary files, snapshot files numbered
/// `first_unlisted` or higher (written but never linked from the main file), diagnostics block
/// files numbered `first_unlisted_block` or higher and rows files from row `first_unlisted_row` on.
void remove_leftovers(const OutputPaths& paths, int first_unlisted, int first_unlisted_block,
                      std::size_t first_unlisted_row);

/// First rows of the diagnostics rows files in the snapshot directory, ascending.
std::vector<std::size_t> diagnostics_rows_files(const OutputPaths& paths);

/// Makes the finished file `temporary` durable (fsync) and renames it to `final`, then syncs the
/// directory. Throws OutputWriteError naming `final` on failure (and removes `temporary`).
void publish_file(const std::string& temporary, const std::string& final);

/// Writes the HDF5 file `final` atomically: `fill` writes into a new file `final`.tmp, which is closed
/// (a failed close of any object while it was open counts as a failed write: HDF5 writes metadata on
/// close) and published. On any failure the temporary file is removed and `final` is untouched;
/// HDF5 failures become OutputWriteError naming `final`. Throws std::bad_alloc, before touching any
/// file, if the address space HDF5 may need is not there (an RLIMIT_AS reached mid-run).
void publish_h5_file(const std::string& final, const std::function<void(hid_t file)>& fill);

/// publish_h5_file for a file all `ranks` write together (a snapshot or checkpoint of a decomposed
/// run; a collective call): every rank opens `final`.tmp through MPI-IO and runs `fill`, which makes
/// the same metadata calls on every rank and writes its own part of the data; a raw-data write that
/// failed is returned by `fill` (h5::write_dataset_box), not thrown, so that every rank still closes
/// the file with the others. Once every rank has synced its data (MPI_File_sync) and closed the file,
/// rank 0 syncs and renames it. Every rank throws if any failed (io/rank_agreement.hpp). On one rank:
/// exactly publish_h5_file(final, fill) (no MPI-IO).
void publish_h5_file(const std::string& final, const Communicator& ranks,
                     const std::function<std::exception_ptr(hid_t file)>& fill);

/// Address space held back for a clean stop: mapped (never touched, so it costs no memory) while a
/// run steps, released when an allocation fails so that the final diagnostics and the main file that
/// lists every snapshot can still be written (publish_h5_file probes for its headroom first).
class AddressSpaceReserve {
 public:
  explicit AddressSpaceReserve(std::size_t bytes);
  ~AddressSpaceReserve() { release(); }
  AddressSpaceReserve(const AddressSpaceReserve&) = delete;
  AddressSpaceReserve& operator=(const AddressSpaceReserve&) = delete;
  void release();

 private:
  void* m_start = nullptr;
  std::size_t m_bytes = 0;
};

}  // namespace wgflow
