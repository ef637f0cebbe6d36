#include "io/output_files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <vector>

#include "io/h5.hpp"
#include "io/rank_agreement.hpp"
#include "io/xdmf.hpp"

namespace wgflow {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Index of a snapshot file name "NNNNNN.h5" (any number of digits), or -1 for other names.
long snapshot_index_of(const std::string& name) {
  if (!ends_with(name, ".h5") || name.size() == 3) return -1;
  const std::string digits = name.substr(0, name.size() - 3);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return -1;
  return std::stol(digits);
}

/// Index of a block file name "diagnostics-block-NNNNNN.h5", or -1 for other names.
long block_index_of(const std::string& name) {
  const std::string prefix = "diagnostics-block-";
  return name.rfind(prefix, 0) == 0 ? snapshot_index_of(name.substr(prefix.size())) : -1;
}

/// First row of a rows file name "diagnostics-rows-RRRRRRRRRRRR.h5", or -1 for other names.
long long rows_file_first_row(const std::string& name) {
  const std::string prefix = "diagnostics-rows-";
  if (name.rfind(prefix, 0) != 0 || !ends_with(name, ".h5")) return -1;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 3);
  if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

/// Names wgflow writes into the snapshot directory.
bool is_ours(const std::string& name) {
  const std::string base = ends_with(name, ".tmp") ? name.substr(0, name.size() - 4) : name;
  return snapshot_index_of(base) >= 0 || block_index_of(base) >= 0 || rows_file_first_row(base) >= 0 ||
         base == "checkpoint.h5" || base == "diagnostics-tail.h5";
}

/// fsync of a file or directory; failures are errors only for files (some file systems refuse
/// directory syncs, and the rename has happened by then). `final` names the file in errors.
void sync_path(const std::string& path, bool directory, const std::string& final = "") {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) {
    if (directory) return;
    throw OutputWriteError(final, false, "cannot open '" + path + "' to sync it");
  }
  const int status = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (status != 0 && !directory)
    throw OutputWriteError(final, is_no_space_errno(error), "cannot sync '" + path + "' to disk: " + std::strerror(error));
}

/// True if the file system holding `path` has no block left for an unprivileged writer: HDF5 does not
/// always pass the errno of a failed write up its error stack.
bool no_space_left_near(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  struct statvfs stats {};
  return ::statvfs(parent.empty() ? "." : parent.c_str(), &stats) == 0 && stats.f_bavail == 0;
}

}  // namespace

std::string snapshot_group_name(int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06d", index);
  return buf;
}

std::string OutputPaths::snapshot(int index) const { return directory + "/" + snapshot_group_name(index) + ".h5"; }

std::string OutputPaths::checkpoint() const { return directory + "/checkpoint.h5"; }

std::string OutputPaths::diagnostics_tail() const { return directory + "/diagnostics-tail.h5"; }

std::string OutputPaths::diagnostics_block(int index) const {
  return directory + "/diagnostics-block-" + snapshot_group_name(index) + ".h5";
}

std::string OutputPaths::diagnostics_rows(std::size_t first_row) const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "/diagnostics-rows-%012zu.h5", first_row);
  return directory + buf;
}

std::string OutputPaths::relative(const std::string& path_in_directory) const {
  if (path_in_directory.compare(0, directory.size(), directory) != 0)
    throw std::logic_error("'" + path_in_directory + "' is not in '" + directory + "'");
  return fs::path(directory).filename().string() + path_in_directory.substr(directory.size());
}

OutputPaths output_paths(const std::string& main_path) {
  OutputPaths p;
  p.main = main_path;
  p.directory = main_path + ".d";
  p.xdmf = xdmf_path_for(main_path);
  return p;
}

bool output_exists(const OutputPaths& paths) {
  std::error_code ec;
  return fs::exists(paths.main, ec) || fs::exists(paths.directory, ec) || fs::exists(paths.xdmf, ec);
}

void remove_output(const OutputPaths& paths) {
  std::error_code ec;
  if (fs::exists(paths.xdmf, ec) && !is_wgflow_xdmf(paths.xdmf))
    throw std::runtime_error("cannot replace output: '" + paths.xdmf + "' is not an XDMF file wgflow wrote; move it away first");
  std::vector<fs::path> ours;
  if (fs::exists(paths.directory, ec)) {
    if (!fs::is_directory(paths.directory, ec))
      throw std::runtime_error("cannot replace output: '" + paths.directory + "' is not a directory");
    for (const fs::directory_entry& entry : fs::directory_iterator(paths.directory, ec)) {
      const std::string name = entry.path().filename().string();
      if (!is_ours(name) || !entry.is_regular_file(ec))
        throw std::runtime_error("cannot replace output: '" + paths.directory + "' holds '" + name +
                                 "', which wgflow did not write; move it away first");
      ours.push_back(entry.path());
    }
    if (ec) throw std::runtime_error("cannot list '" + paths.directory + "': " + ec.message());
  }
  for (const fs::path& file : ours) fs::remove(file, ec);
  fs::remove(paths.directory, ec);
  if (ec) throw std::runtime_error("cannot remove '" + paths.directory + "': " + ec.message());
  fs::remove(paths.main, ec);
  if (ec) throw std::runtime_error("cannot remove '" + paths.main + "': " + ec.message());
  fs::remove(paths.xdmf, ec);
}

void remove_leftovers(const OutputPaths& paths, int first_unlisted, int first_unlisted_block,
                      std::size_t first_unlisted_row) {
  std::error_code ec;
  fs::remove(paths.main + ".tmp", ec);
  fs::remove(paths.xdmf + ".tmp", ec);
  std::vector<fs::path> doomed;
  for (const fs::directory_entry& entry : fs::directory_iterator(paths.directory, ec)) {
    const std::string name = entry.path().filename().string();
    if ((ends_with(name, ".tmp") && is_ours(name)) || snapshot_index_of(name) >= first_unlisted ||
        block_index_of(name) >= first_unlisted_block ||
        rows_file_first_row(name) >= static_cast<long long>(first_unlisted_row))
      doomed.push_back(entry.path());
  }
  for (const fs::path& file : doomed) fs::remove(file, ec);
}

std::vector<std::size_t> diagnostics_rows_files(const OutputPaths& paths) {
  std::vector<std::size_t> first_rows;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(paths.directory, ec)) {
    const long long first = rows_file_first_row(entry.path().filename().string());
    if (first >= 0) first_rows.push_back(static_cast<std::size_t>(first));
  }
  std::sort(first_rows.begin(), first_rows.end());
  return first_rows;
}

void publish_file(const std::string& temporary, const std::string& final) {
  try {
    sync_path(temporary, false, final);
    std::error_code ec;
    fs::rename(temporary, final, ec);
    if (ec) throw OutputWriteError(final, false, "cannot rename '" + temporary + "' to it: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  const fs::path parent = fs::path(final).parent_path();
  sync_path(parent.empty() ? "." : parent.string(), true);
}

namespace {

/// Address space HDF5 may need to create and fill one file (its metadata cache, chunk and conversion
/// buffers): probed before every HDF5 write.
constexpr std::size_t k_hdf5_headroom = 8u << 20;

/// Throws std::bad_alloc unless `bytes` more of address space can be mapped. HDF5 1.10 does not survive
/// a failed allocation inside H5Fcreate (it dereferences the null result: signal 11, seen under an
/// RLIMIT_AS limit reached mid-run), so a run that is out of memory must find out before calling it and
/// stop with its clean "out of memory" line, every snapshot kept. mmap, not malloc: malloc may serve the
/// probe from memory it already holds and prove nothing; MAP_NORESERVE: only the limit is probed.
void ensure_address_space(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  ::munmap(p, bytes);
}

}  // namespace

AddressSpaceReserve::AddressSpaceReserve(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {  // no reserve is no worse than before: the run itself does not need it
    m_start = p;
    m_bytes = bytes;
  }
}

void AddressSpaceReserve::release() {
  if (m_start != nullptr) ::munmap(m_start, m_bytes);
  m_start = nullptr;
}

void publish_h5_file(const std::string& final, const std::function<void(hid_t file)>& fill) {
  ensure_address_space(k_hdf5_headroom);
  const std::string temporary = final + ".tmp";
  const unsigned long failed_closes_before = h5::failed_closes();
  try {
    h5::File file = h5::create_file(temporary);
    fill(file.id());
    file.close("'" + temporary + "'");
    if (h5::failed_closes() != failed_closes_before)
      throw h5::Error("HDF5: an object in '" + temporary + "' could not be closed", false);
  } catch (const h5::Error& e) {
    const bool full = e.no_space() || no_space_left_near(temporary);
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw OutputWriteError(final, full, e.what());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  publish_file(temporary, final);
}

void publish_h5_file(const std::string& final, const Communicator& ranks,
                     const std::function<std::exception_ptr(hid_t file)>& fill) {
  if (ranks.size() == 1) {
    publish_h5_file(final, [&](hid_t file) {
      if (const std::exception_ptr failed = fill(file)) std::rethrow_exception(failed);
    });
    return;
  }
  // Its own step: a rank that found no room must not leave the others waiting in H5Fcreate.
  on_every_rank(ranks, final, [] { ensure_address_space(k_hdf5_headroom); });
  const std::string temporary = final + ".tmp";
  try {
    on_every_rank(ranks, final, [&] {
      const unsigned long failed_closes_before = h5::failed_closes();
      try {
        h5::File file = h5::create_file_parallel(temporary, ranks.mpi_handle());
        std::exception_ptr failed = fill(file.id());
        // MPI_File_sync on every rank (H5Fclose alone does not sync through MPI-IO): every rank's data
        // is on disk before rank 0 renames the file into place. A failure is kept for after the close,
        // the last collective call, which every rank must make.
        try {
          h5::flush(file.id());
        } catch (...) {
          if (!failed) failed = std::current_exception();
        }
        file.close("'" + temporary + "'");
        if (failed) std::rethrow_exception(failed);
        if (h5::failed_closes() != failed_closes_before)
          throw h5::Error("HDF5: an object in '" + temporary + "' could not be closed", false);
      } catch (const h5::Error& e) {
        throw OutputWriteError(final, e.no_space() || no_space_left_near(temporary), e.what());
      }
    });
  } catch (...) {
    if (ranks.rank() == 0) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
    }
    throw;
  }
  on_rank0(ranks, final, [&] { publish_file(temporary, final); });
}

}  // namespace wgflow
