#include "io/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "io/rank_agreement.hpp"
#include "io/run_config.hpp"

namespace wgflow {

namespace {

const char k_signature[] = "wgflow lock: ";

/// The whole (small) content of an open file, read from its start.
std::string read_all(int fd) {
  std::string text;
  char buf[256];
  ssize_t n = 0;
  off_t offset = 0;
  while ((n = ::pread(fd, buf, sizeof buf, offset)) > 0 && text.size() < 4096) {
    text.append(buf, static_cast<std::size_t>(n));
    offset += n;
  }
  return text;
}

/// True if `fd` is still the file at `path` (a holder that finished removed the file it locked, and
/// a lock on that removed file would lock nothing anyone else sees).
bool still_at_path(int fd, const std::string& path) {
  struct stat open_file {}, named {};
  return ::fstat(fd, &open_file) == 0 && ::stat(path.c_str(), &named) == 0 && open_file.st_dev == named.st_dev &&
         open_file.st_ino == named.st_ino;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

}  // namespace

std::string OutputLock::path_for(const std::string& main_path) { return main_path + ".lock"; }

OutputLock::OutputLock(const std::string& main_path, const std::string& option, const Communicator& ranks)
    : m_path(path_for(main_path)) {
  // Rank 0 takes it for the whole job; the other ranks learn whether it could (and refuse with it).
  on_rank0(ranks, main_path, [&] { take(main_path, option); });
}

void OutputLock::take(const std::string& main_path, const std::string& option) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;  // see the header: the path checks that follow say why nothing can be written here
    const std::string content = read_all(fd);
    if (!content.empty() && content.rfind(k_signature, 0) != 0) {
      ::close(fd);
      throw ConfigError(option + ": '" + m_path + "' exists and is not a wgflow lock file; move it away first");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      // Held: name the holder (who writes its name right after taking the lock; give it a moment).
      std::string holder = content;
      for (int wait = 0; wait < 50 && holder.size() <= sizeof k_signature; ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        holder = read_all(fd);
      }
      ::close(fd);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\r')) holder.pop_back();
      holder = holder.size() > sizeof k_signature - 1 ? holder.substr(sizeof k_signature - 1) : "another process";
      throw ConfigError(option + ": '" + main_path + "' is being written by " + holder +
                        "; wait for that run to finish or stop it (the lock goes with the process)");
    }
    if (!still_at_path(fd, m_path)) {  // locked a file its holder had just removed: take the new one
      ::close(fd);
      continue;
    }
    const std::string me = std::string(k_signature) + "pid " + std::to_string(::getpid()) + " on host " + host_name() + "\n";
    // Best effort: on a full disk the lock holds without its text, and a refused writer says "another process".
    if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, me.data(), me.size(), 0) < 0) (void)::ftruncate(fd, 0);
    m_fd = fd;
    return;
  }
  throw ConfigError(option + ": cannot take the lock '" + m_path + "' (it keeps being replaced)");
}

OutputLock::~OutputLock() {
  if (m_fd < 0) return;
  ::unlink(m_path.c_str());  // while still holding it: a waiting writer then sees the file is gone
  ::close(m_fd);
}

}  // namespace wgflow
