#pragma once
/// Harness for end-to-end tests of the `wgflow` executable: a temporary working directory and a way
/// to run the real binary (WGFLOW_BINARY) through /bin/sh, capturing stdout, stderr and the exit code.
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace wgflow::cli_test {

namespace fs = std::filesystem;

/// A fresh directory under temp_directory_path(), removed with its contents on destruction. Runs
/// happen in work() (the child's current directory), so that a stray output shows up there; the
/// captured stdout/stderr live next to it, not in it.
class CliDir {
 public:
  CliDir() {
    std::string templ = (fs::temp_directory_path() / "wgflow_cli_XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_root = templ;
    fs::create_directory(work());
  }
  CliDir(const CliDir&) = delete;
  CliDir& operator=(const CliDir&) = delete;
  ~CliDir() {
    std::error_code ec;
    fs::remove_all(m_root, ec);
  }
  fs::path root() const { return m_root; }
  fs::path work() const { return m_root / "work"; }
  /// Absolute path of `name` in work().
  std::string file(const std::string& name) const { return (work() / name).string(); }
  /// Names of everything in work(), sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(work())) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path m_root;
};

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// `s` single-quoted for /bin/sh.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

struct Result {
  int code = -1;     ///< exit status, or -1 if the process did not exit normally
  std::string out;   ///< stdout
  std::string err;   ///< stderr
  std::string command;
};

/// Runs `wgflow ARGS...` with its current directory dir.work().
inline Result run_wgflow(const CliDir& dir, const std::vector<std::string>& args) {
  Result r;
  std::string command = "cd " + quote(dir.work().string()) + " && exec " + quote(WGFLOW_BINARY);
  for (const std::string& a : args) command += " " + quote(a);
  r.command = command;
  command += " >" + quote((dir.root() / "stdout.txt").string()) + " 2>" + quote((dir.root() / "stderr.txt").string());
  const int status = std::system(command.c_str());
  r.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(dir.root() / "stdout.txt");
  r.err = read_text(dir.root() / "stderr.txt");
  return r;
}

/// `wgflow run ARGS...`
inline Result run_run(const CliDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  return run_wgflow(dir, args);
}

}  // namespace wgflow::cli_test
