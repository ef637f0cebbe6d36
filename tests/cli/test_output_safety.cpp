/// Outputs that survive a full disk, a second writer and files that are not wgflow's (issue 17,
/// "Data lost"): a failed write stops the run with one line and keeps every published snapshot, and
/// --restart after freeing space finishes bit for bit.
#include <doctest/doctest.h>
#include <sys/mount.h>

#include <cstdlib>
#include <fstream>

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
}
