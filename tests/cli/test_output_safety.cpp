/// Outputs that survive a full disk, a second writer and files that are not wgflow's (issue 17,
/// "Data lost"): a failed write stops the run with one line and keeps every published snapshot, and
/// --restart after freeing space finishes bit for bit.
#include <doctest/doctest.h>
#include <sys/mount.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"
#include "tests/cli/process_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// The run of issue 17: 20 snapshots of 137 KB, more than a 2 MiB disk holding a 100 KB file takes.
std::vector<std::string> disk_filling_run(const std::string& out) {
  return {"run",         "--case", "porous-medium", "--dim", "2",     "--n",     "128",       "--domain=-4,4",
          "--t-end",     "0.5",    "--snapshots",   "20",    "--out", out,       "--quiet",   "--threads",
          "1"};
}

/// A small disk for one test: a 2 MiB tmpfs mounted at `dir` if this process may mount (root, as in
/// CI), else an LD_PRELOAD library that fails writes with ENOSPC after as many bytes (set for the
/// children this process starts). free_space() then enlarges the disk or lifts the limit.
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir) : m_dir(dir) {
    fs::create_directories(dir);
    m_mounted = std::getenv("WGFLOW_TEST_NO_MOUNT") == nullptr &&
                ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=2m") == 0;
    if (!m_mounted) {
      ::setenv("LD_PRELOAD", WGFLOW_FAIL_WRITES_LIBRARY, 1);
      ::setenv("WGFLOW_FAIL_WRITE_AFTER_BYTES", "2000000", 1);
    }
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  ~SmallDisk() {
    free_space();
    if (m_mounted) ::umount2(m_dir.c_str(), MNT_DETACH);
  }
  bool mounted() const { return m_mounted; }
  void free_space() {
    if (m_mounted) {
      REQUIRE(::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_REMOUNT, "size=16m") == 0);
    } else {
      ::unsetenv("LD_PRELOAD");
      ::unsetenv("WGFLOW_FAIL_WRITE_AFTER_BYTES");
    }
  }

 private:
  fs::path m_dir;
  bool m_mounted = false;
};

/// Names of the temporary files in `dir`.
std::vector<std::string> temporaries_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".tmp") names.push_back(entry.path().string());
  return names;
}

/// A 2D porous-medium run of about 1.3 s (one thread), long enough for other commands to meet it.
std::vector<std::string> long_run(const std::string& out) {
  return {"run", "--case", "porous-medium", "--dim", "2",       "--n",     "192",       "--domain=-4,4", "--t-end",
          "3",   "--snapshots", "12",       "--out", out,       "--quiet", "--threads", "1"};
}

/// Waits (at most 120 s) until `path` exists while `pid` runs; false if it ended first.
bool wait_for_file_while_running(pid_t pid, const fs::path& path) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(path) && std::chrono::steady_clock::now() < give_up) {
    if (::kill(pid, 0) != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return fs::exists(path);
}

/// True if the child `pid` has not exited yet.
bool still_running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("a full disk stops the run with one line and keeps every snapshot and --restart finishes bit for bit") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, disk_filling_run("reference.h5")).code == 0);
    SmallDisk disk(dir.work() / "disk");
    const std::string kind = disk.mounted() ? "a 2 MiB tmpfs" : "an LD_PRELOAD write limit of 2000000 bytes";
    MESSAGE("small disk: " << kind);
    write_text(dir.work() / "disk/filler", std::string(100000, 'x'));

    const Result full = run_wgflow(dir, disk_filling_run("disk/full.h5"));
    INFO("stderr: " << full.err);
    REQUIRE(full.code == 1);  // the failure happened, and no signal ended the run
    CHECK(count_lines(full.err) == 1);
    CHECK(starts_with(full.err, "wgflow: error: disk full while writing disk/full.h5"));
    CHECK(contains(full.err, " kept; free space and run with --restart disk/full.h5\n"));
    CHECK(!contains(full.err, "HDF5"));
    CHECK(temporaries_in(dir.work() / "disk").empty());
    CHECK(temporaries_in(dir.work() / "disk/full.h5.d").empty());

    // What the message says is kept is what the output holds, every snapshot as the reference's.
    const OutputSummary kept = read_output_summary(dir.file("disk/full.h5"));
    const std::size_t n = kept.snapshot_times.size();
    REQUIRE(n >= 2);
    REQUIRE(n < 21);
    CHECK(contains(full.err, "; snapshots 0-" + std::to_string(n - 1) + " kept;"));
    for (int k = 0; k < static_cast<int>(n); ++k)
      CHECK(read_snapshot(dir.file("disk/full.h5"), k) == read_snapshot(dir.file("reference.h5"), k));
    if (std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0) {
      const std::string check = "/usr/bin/python3 -c 'import sys, h5py; f = h5py.File(sys.argv[1], \"r\"); "
                                "[f[\"steps\"][k][\"density\"][()] for k in f[\"steps\"]]; f[\"diagnostics/time\"][()]' " +
                                quote(dir.file("disk/full.h5"));
      CHECK(std::system(check.c_str()) == 0);
    }

    disk.free_space();
    const Result restarted = run_wgflow(dir, {"run", "--restart", "disk/full.h5", "--quiet", "--threads", "1"});
    INFO("restart stderr: " << restarted.err);
    REQUIRE(restarted.code == 0);
    check_identical_outputs(dir.file("reference.h5"), dir.file("disk/full.h5"));
  }

  TEST_CASE("a file size limit stops the run with one line and not with SIGXFSZ") {
    CliDir dir;
    std::string command = "cd " + quote(dir.work().string()) + " && ulimit -f 100 && exec " + quote(WGFLOW_BINARY);
    for (const std::string& a : disk_filling_run("f.h5")) command += " " + quote(a);
    command += " 2> " + quote((dir.root() / "limited.txt").string());
    const int status = std::system(command.c_str());
    const std::string err = read_text(dir.root() / "limited.txt");
    INFO("stderr: " << err);
    REQUIRE(WIFEXITED(status));  // 137 KB snapshot files against a 100 KiB limit: the first one fails
    CHECK(WEXITSTATUS(status) == 1);
    CHECK(err == "wgflow: error: disk full while writing f.h5.d/000000.h5; no snapshot kept; free space and run with "
                 "--restart f.h5\n");
    const Result restarted = run_wgflow(dir, {"run", "--restart", "f.h5", "--quiet"});
    CHECK(restarted.code == 0);
    CHECK(read_output_summary(dir.file("f.h5")).snapshot_times.size() == 21);
  }

  TEST_CASE("a second writer on a running output is refused with exit 2 naming the holder and the first run finishes intact") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, long_run("reference.h5")).code == 0);
    CHECK(!fs::exists(dir.file("reference.h5.lock")));  // gone with its run
    const pid_t first = spawn_wgflow(dir, long_run("s.h5"));
    REQUIRE(wait_for_file_while_running(first, dir.file("s.h5.d/000001.h5")));
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string holder = "is being written by pid " + std::to_string(first) + " on host " + host + ";";

    const Result fresh = run_wgflow(dir, long_run("s.h5"));
    std::vector<std::string> overwrite = long_run("s.h5");
    overwrite.push_back("--overwrite");
    const Result replacing = run_wgflow(dir, overwrite);
    const Result restart = run_wgflow(dir, {"run", "--restart", "s.h5", "--quiet"});
    const Result info = run_wgflow(dir, {"info", "s.h5"});  // readers take no lock
    const Result reader = run_wgflow(dir, {"run", "--initial", "file:s.h5", "--case", "porous-medium", "--dim", "2",
                                           "--n", "192", "--domain=-4,4", "--t-end", "0.001", "--out", "r.h5", "--quiet"});
    REQUIRE(still_running(first));  // the refusals met a live writer
    for (const Result& r : {fresh, replacing, restart}) {
      INFO(r.command << "\nstderr: " << r.err);
      CHECK(r.code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK(contains(r.err, holder));
    }
    CHECK(starts_with(fresh.err, "wgflow: error: --out: 's.h5' is being written by"));
    CHECK(starts_with(restart.err, "wgflow: error: --restart: 's.h5' is being written by"));
    CHECK(info.code == 0);
    CHECK(reader.code == 0);

    REQUIRE(wait_exit_code(first) == 0);
    check_identical_outputs(dir.file("reference.h5"), dir.file("s.h5"));
    CHECK(!fs::exists(dir.file("s.h5.lock")));
  }

  TEST_CASE("a SIGKILLed run leaves its lock file but never blocks its restart") {
    CliDir dir;
    const pid_t killed = spawn_wgflow(dir, long_run("k.h5"));
    REQUIRE(wait_for_file_while_running(killed, dir.file("k.h5.d/000001.h5")));
    ::kill(killed, SIGKILL);
    REQUIRE(wait_exit_code(killed) == 128 + SIGKILL);
    CHECK(contains(read_text(dir.file("k.h5.lock")), "pid " + std::to_string(killed)));
    const Result restarted = run_wgflow(dir, {"run", "--restart", "k.h5", "--quiet"});
    INFO("stderr: " << restarted.err);
    CHECK(restarted.code == 0);
    CHECK(read_output_summary(dir.file("k.h5")).snapshot_times.size() == 13);
    CHECK(!fs::exists(dir.file("k.h5.lock")));
  }

  TEST_CASE("a lock file wgflow did not write is not taken over") {
    CliDir dir;
    write_text(dir.work() / "u.h5.lock", "user notes\n");
    const Result r = run_wgflow(dir, {"run", "--n", "16", "--t-end", "0.01", "--out", "u.h5", "--quiet"});
    CHECK(r.code == 2);
    CHECK(r.err == "wgflow: error: --out: 'u.h5.lock' exists and is not a wgflow lock file; move it away first\n");
    CHECK(read_text(dir.work() / "u.h5.lock") == "user notes\n");
    CHECK(!fs::exists(dir.file("u.h5")));
  }

  TEST_CASE("an XDMF file of the output's name is an output file: kept without --overwrite and never replaced if not wgflow's") {
    CliDir dir;
    const std::string mine = "<?xml version=\"1.0\" ?>\n<Xdmf><Domain><Grid Name=\"mine\"/></Domain></Xdmf>\n";
    write_text(dir.work() / "keep.xmf", mine);
    const std::vector<std::string> run{"run", "--n", "16", "--t-end", "0.01", "--out", "keep.h5", "--quiet"};
    const Result refused = run_wgflow(dir, run);
    CHECK(refused.code == 2);
    CHECK(refused.err == "wgflow: error: --out: 'keep.h5' (or its snapshot directory 'keep.h5.d' or its sidecar "
                         "'keep.xmf') exists; pass --overwrite to replace it\n");
    std::vector<std::string> overwrite = run;
    overwrite.push_back("--overwrite");
    const Result not_ours = run_wgflow(dir, overwrite);
    CHECK(not_ours.code == 2);
    CHECK(contains(not_ours.err, "'keep.xmf' is not an XDMF file wgflow wrote; move it away first"));
    CHECK(read_text(dir.work() / "keep.xmf") == mine);
    CHECK(dir.listing() == std::vector<std::string>{"keep.xmf"});

    // wgflow's own sidecar left without its run is replaced with --overwrite only.
    REQUIRE(run_wgflow(dir, {"run", "--n", "16", "--t-end", "0.01", "--out", "own.h5", "--quiet"}).code == 0);
    fs::remove(dir.work() / "own.h5");
    fs::remove_all(dir.work() / "own.h5.d");
    std::vector<std::string> again{"run", "--n", "16", "--t-end", "0.01", "--out", "own.h5", "--quiet"};
    CHECK(run_wgflow(dir, again).code == 2);
    again.push_back("--overwrite");
    CHECK(run_wgflow(dir, again).code == 0);
    CHECK(read_output_summary(dir.file("own.h5")).snapshot_times.size() == 11);
  }
}
