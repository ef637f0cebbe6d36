#pragma once
#include "io/layer_guard.hpp"
/// The one error a failed write of an output file becomes, whatever failed (HDF5, fsync, rename,
/// the XDMF text), so that the run can say in one line what is lost and what is kept.
#include <cerrno>
#include <stdexcept>
#include <string>

namespace wgflow {

/// A file of the output could not be written. The file it would have replaced, and everything
/// published before it, are intact; its temporary file is removed.
class OutputWriteError : public std::runtime_error {
 public:
  /// `disk_full`: the file system refused more data (ENOSPC, EDQUOT, EFBIG); `reason` is the detail
  /// for any other failure.
  OutputWriteError(const std::string& path, bool disk_full, const std::string& reason)
      : std::runtime_error(disk_full ? "disk full while writing " + path : "cannot write " + path + ": " + reason),
        m_path(path),
        m_disk_full(disk_full) {}
  const std::string& path() const { return m_path; }
  bool disk_full() const { return m_disk_full; }

 private:
  std::string m_path;
  bool m_disk_full;
};

/// True if errno value `code` means the file system is full (or the quota or file size limit is hit).
inline bool is_no_space_errno(int code) { return code == ENOSPC || code == EDQUOT || code == EFBIG; }

}  // namespace wgflow
