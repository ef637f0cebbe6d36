#pragma once
#include "io/layer_guard.hpp"
/// Thin RAII layer over the HDF5 C API: move-only handles that close themselves, and helpers for the
/// few shapes of data wgflow stores (scalar/vector attributes, float64 arrays, external links).
/// Every failing HDF5 call becomes a std::runtime_error naming the object and HDF5's own reason.
#include <hdf5.h>

#include <exception>
#include <stdexcept>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wgflow::h5 {

/// Turns off HDF5's automatic error-stack printing (errors become exceptions instead) and its atexit
/// clean-up (which closes identifiers leaked by a failed close and crashed with SIGSEGV after a disk
/// filled up; every file wgflow writes is closed explicitly); idempotent. Call it before any other
/// HDF5 function: main() does.
void init();

/// A failed HDF5 call. no_space(): the file system refused to store more (ENOSPC, EDQUOT, EFBIG).
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, bool no_space, std::string reason = "")
      : std::runtime_error(what), m_no_space(no_space), m_reason(std::move(reason)) {}
  bool no_space() const { return m_no_space; }
  /// The cause in plain words ("the file is truncated", ...), without HDF5's own text.
  const std::string& reason() const { return m_reason; }

 private:
  bool m_no_space;
  std::string m_reason;
};

/// How many closes of a handle failed so far in this process: a destructor cannot throw, so it counts
/// the failure, and whoever publishes a file checks that the count did not move while writing it.
unsigned long failed_closes();
/// Called by Handle when its close fails.
void note_failed_close();
/// Throws h5::Error for a failed explicit close (Handle::close).
[[noreturn]] void fail_close(const std::string& what);

/// Owner of one HDF5 identifier, released with `Close` when destroyed; move-only.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : m_id(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : m_id(other.m_id) { other.m_id = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      m_id = other.m_id;
      other.m_id = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Handle() { reset(); }

  hid_t id() const { return m_id; }
  bool valid() const { return m_id >= 0; }
  /// Closes the identifier now; a failure is only counted (see failed_closes(): destructors must not throw).
  void reset() {
    if (m_id >= 0 && Close(m_id) < 0) note_failed_close();
    m_id = H5I_INVALID_HID;
  }
  /// Closes the identifier now and throws h5::Error if that fails (for a file: flushing its data failed).
  void close(const std::string& what) {
    const hid_t id = m_id;
    m_id = H5I_INVALID_HID;
    if (id >= 0 && Close(id) < 0) fail_close(what);
  }

 private:
  hid_t m_id = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Attribute = Handle<H5Aclose>;
using PropList = Handle<H5Pclose>;
using Datatype = Handle<H5Tclose>;

/// Throws h5::Error("HDF5: <what>: <innermost HDF5 error>") and clears the error stack; a write refused
/// for lack of space becomes h5::Error("HDF5: <what>: no space left on the device", true).
[[noreturn]] void fail(const std::string& what);
/// The reason of an error thrown by fail(), in words a user can act on, without HDF5's own text
/// ("the file is truncated", "the file is damaged or not an HDF5 file", ...).
std::string plain_reason(const std::exception& e);
/// Returns `id` if it is valid, else fail(what).
hid_t check(hid_t id, const std::string& what);
/// fail(what) if `status` is negative.
void check_status(herr_t status, const std::string& what);

// ---- files, groups, links ----------------------------------------------------------------------

/// Creates (truncating) an HDF5 file; the handle closes the file completely (H5F_CLOSE_STRONG).
File create_file(const std::string& path);
/// Creates (truncating) an HDF5 file that every rank of the MPI communicator `mpi_comm` (an
/// MPI_Comm*) opens together, through MPI-IO (parallel HDF5 only; a collective call).
File create_file_parallel(const std::string& path, const void* mpi_comm);
/// Opens an existing HDF5 file read-only or read-write.
File open_file(const std::string& path, bool writable);
/// True if `path` is a readable HDF5 file (false for missing or non-HDF5 files; never throws).
bool is_hdf5_file(const std::string& path);
/// True only if `path` could be read and definitely has no HDF5 signature (never throws).
bool is_not_hdf5_file(const std::string& path);
/// Flushes all buffers of the file containing `obj` to the operating system.
void flush(hid_t obj);

Group create_group(hid_t loc, const std::string& name);
Group open_group(hid_t loc, const std::string& name);
Dataset open_dataset(hid_t loc, const std::string& name);
/// Creates the external link `name` below `loc` to `object` in the HDF5 file `file` (a relative
/// `file` is looked up next to the file holding the link first, whatever the reader's directory).
void create_external_link(hid_t loc, const std::string& name, const std::string& file, const std::string& object);
/// The file an external link `name` below `loc` points to, or "" if `name` is not an external link.
std::string external_link_target(hid_t loc, const std::string& name);
/// Removes the link `name` below `loc` (the object goes when nothing else links to it).
void delete_link(hid_t loc, const std::string& name);
/// True if every component of the relative or absolute `path` exists below `loc`.
bool link_exists(hid_t loc, const std::string& path);
/// True if `path` exists below `loc` and is a dataset.
bool is_dataset(hid_t loc, const std::string& path);
/// Names of the direct children of the group `loc`, in HDF5's name order.
std::vector<std::string> child_names(hid_t loc);
/// Human-readable "'/object/path' in 'file.h5'" for messages (never throws).
std::string describe(hid_t loc, const std::string& name = "");

// ---- attributes (created or replaced) -----------------------------------------------------------

void write_attribute(hid_t obj, const std::string& name, const std::string& value);
void write_attribute(hid_t obj, const std::string& name, const char* value);
void write_attribute(hid_t obj, const std::string& name, double value);
void write_attribute(hid_t obj, const std::string& name, long value);
void write_attribute(hid_t obj, const std::string& name, int value);
void write_attribute(hid_t obj, const std::string& name, const std::vector<double>& values);
void write_attribute(hid_t obj, const std::string& name, const std::vector<long>& values);

bool has_attribute(hid_t obj, const std::string& name);
/// Reads a fixed- or variable-length string attribute.
std::string read_string_attribute(hid_t obj, const std::string& name);
/// Reads a one-element numeric attribute (scalar or shape (1,)), converted to double.
double read_double_attribute(hid_t obj, const std::string& name);
/// Reads a one-element integer attribute.
long read_long_attribute(hid_t obj, const std::string& name);
std::vector<double> read_double_vector_attribute(hid_t obj, const std::string& name);
std::vector<long> read_long_vector_attribute(hid_t obj, const std::string& name);

// ---- datasets -----------------------------------------------------------------------------------

/// Creates a contiguous float64 dataset of shape `dims` (row-major, last index fastest) holding `data`.
Dataset write_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                   const double* data);
/// One piece of a virtual 1-D dataset: the whole 1-D dataset `dataset` (of `rows` rows) in `file`
/// (relative paths are looked up next to the file holding the virtual dataset first).
struct VirtualPiece {
  std::string file;
  std::string dataset;
  hsize_t rows = 0;
};
/// Creates a 1-D float64 virtual dataset (HDF5 VDS) that reads as the pieces one after the other;
/// rows whose source cannot be opened read as NaN. No pieces: an empty ordinary dataset.
Dataset write_virtual_1d(hid_t loc, const std::string& name, const std::vector<VirtualPiece>& pieces);
/// The source file names of a virtual dataset's pieces as stored ("." for the file itself); empty for
/// an ordinary dataset.
std::vector<std::string> virtual_source_files(hid_t dataset);
/// Current shape of a dataset.
std::vector<hsize_t> dataset_dims(hid_t dataset);
/// HDF5 type class (H5T_FLOAT, H5T_INTEGER, ...) of a dataset's element type.
H5T_class_t dataset_type_class(hid_t dataset);
/// Reads a whole numeric dataset, converted to double, in row-major order.
std::vector<double> read_dataset(hid_t dataset);
std::vector<double> read_dataset(hid_t loc, const std::string& name);

// ---- one rank's part of a global array (MPI runs: each rank reads and writes its own box) --------

/// A box of a global row-major array (dataset order z, y, x): `start` and `count` per axis of the
/// `global` shape. Empty `global`: the whole array (a single rank). Stored either in the array's own
/// shape or flat (the checkpoint's 1-D /density).
struct Box {
  std::vector<hsize_t> global, start, count;

  bool whole() const;
  /// Elements in the box.
  std::size_t size() const;
  /// Row-major flat index in the global array of the box's element `local` (itself row-major).
  std::size_t global_index(std::size_t local) const;
  /// Selects the box in `space`, a dataspace of the global shape or (flat) of its element count.
  void select(hid_t space, bool flat) const;
};

/// Reads the box of a numeric dataset (global shape, or flat), converted to double, row-major.
/// A whole box reads the whole dataset (read_dataset). Throws if the dataset does not hold the box.
std::vector<double> read_box(hid_t dataset, const Box& box, bool flat);

/// Data every rank holds alike (attributes, diagnostics rows, rank 0's arrays) in a file several
/// ranks write together: HDF5 wants every metadata call on every rank, but raw data once. While a
/// scope made with write_here = false is alive, write_dataset on this thread creates its dataset
/// (collectively) and writes nothing; the box itself is written with write_dataset_box.
class ReplicatedData {
 public:
  explicit ReplicatedData(bool write_here);
  ~ReplicatedData();
  ReplicatedData(const ReplicatedData&) = delete;
  ReplicatedData& operator=(const ReplicatedData&) = delete;

 private:
  bool m_previous;
};

/// Creates the float64 dataset `name` of `box.global` elements (`flat`: 1-D of their count, else the
/// global shape) and writes this rank's `box` from `data` (row-major, box.size() values). In a file
/// opened by several ranks (create_file_parallel) every rank calls it with its own box, and the write
/// is collective; the dataset is never filled first. A failed write is returned (its h5::Error), not
/// thrown, so that every rank still takes part in the collective calls after it.
std::exception_ptr write_dataset_box(hid_t loc, const std::string& name, const Box& box, bool flat,
                                     const double* data, bool collective, Dataset& created);

/// Creates the float64 dataset `name` of shape `dims` and writes this rank's rows of it: `data` holds
/// rows.size() rows of dims[1] × … values, row i going to row rows[i] (a point selection). In a file
/// opened by several ranks every rank calls it with its own rows (any number, 0 too) and together
/// they write every row once; the write is collective. Failures are returned as write_dataset_box's.
std::exception_ptr write_dataset_rows(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                                      const std::vector<std::int64_t>& rows, const double* data, bool collective,
                                      Dataset& created);

}  // namespace wgflow::h5
