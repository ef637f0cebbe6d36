#pragma once
#include "io/layer_guard.hpp"
/// Thin RAII layer over the HDF5 C API: move-only handles that close themselves, and helpers for the
/// few shapes of data wgflow stores (scalar/vector attributes, float64 arrays, external links).
/// Every failing HDF5 call becomes a std::runtime_error naming the object and HDF5's own reason.
#include <hdf5.h>

#include <stdexcept>
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

}  // namespace wgflow::h5
