#pragma once
#include "io/layer_guard.hpp"
/// One writer per output: a run holds an exclusive lock on its output for its whole life, so that a
/// second run (fresh, --overwrite or --restart) on the same output is refused instead of interleaving
/// its files with the first's. Readers (info, --initial file:, the scripts) take no lock.
#include <string>

#include "grids/communicator.hpp"

namespace wgflow {

/// flock(2) on the file `main_path`.lock beside the main file, which names the holder ("wgflow lock:
/// pid N on host H"). The kernel drops the lock when the holder dies in any way, so a killed run
/// never blocks its restart; a lock file left by a killed run is simply taken over.
class OutputLock {
 public:
  /// Takes the lock, or throws ConfigError("OPTION: 'PATH' is being written by pid N on host H; ...").
  /// If the lock file cannot be created at all (no such directory, no permission) no lock is taken:
  /// the output cannot be written either, and the run's own path checks report why.
  /// A run over several `ranks` (a collective call): rank 0 takes the lock for all of them, and every
  /// rank throws a ConfigError if it could not (only rank 0's names the holder).
  OutputLock(const std::string& main_path, const std::string& option, const Communicator& ranks = Communicator());
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  /// Removes the lock file and releases the lock.
  ~OutputLock();

  /// The lock file of an output: "dir/run.h5.lock".
  static std::string path_for(const std::string& main_path);

 private:
  void take(const std::string& main_path, const std::string& option);

  std::string m_path;
  int m_fd = -1;
};

}  // namespace wgflow
