/// `wgflow pack RUN.h5 OUT.h5`: a finished or interrupted run as one self-contained file that every
/// reader accepts (the scripts and ParaView: tests/scripts, tests/paraview).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "io/initial_file.hpp"
#include "io/output_files.hpp"
#include "tests/cli/cli_support.hpp"
#include "tests/cli/process_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// h5py: every link of `path` is a hard link and no dataset is virtual (nothing points outside).
bool self_contained(const std::string& path) {
  const std::string check =
      "/usr/bin/python3 -c 'import sys, h5py\n"
      "f = h5py.File(sys.argv[1], \"r\")\n"
      "bad = []\n"
      "def visit(name):\n"
      "    parent, _, leaf = name.rpartition(\"/\")\n"
      "    link = (f[parent] if parent else f).get(leaf, getlink=True)\n"
      "    if not isinstance(link, h5py.HardLink): bad.append(name)\n"
      "    obj = f[name]\n"
      "    if isinstance(obj, h5py.Dataset) and obj.is_virtual: bad.append(name)\n"
      "f.visit(visit)\n"
      "sys.exit(1 if bad else 0)' " +
      quote(path);
  return std::system(check.c_str()) == 0;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("pack writes a finished run into one self-contained file that readers take like the run") {
    CliDir dir;
    fs::create_directory(dir.work() / "runs");
    REQUIRE(run_wgflow(dir, {"run", "--case", "fokker-planck", "--dim", "2", "--n", "24", "--t-end", "0.2", "--snapshots",
                             "4", "--out", "runs/r.h5", "--quiet"})
                .code == 0);
    // From another directory than the run's: the snapshot files are found next to the main file.
    const Result packed = run_wgflow(dir, {"pack", "runs/r.h5", "p.h5"});
    INFO("stderr: " << packed.err);
    REQUIRE(packed.code == 0);
    CHECK(packed.out == "wgflow: packed runs/r.h5 (5 snapshots) into p.h5 and p.xmf\n");
    CHECK(dir.listing() == std::vector<std::string>{"p.h5", "p.xmf", "runs"});
    check_identical_outputs(dir.file("runs/r.h5"), dir.file("p.h5"));
    const std::string xmf = read_text(dir.work() / "p.xmf");
    CHECK(contains(xmf, ">p.h5:/steps/000004/density</DataItem>"));
    CHECK(!contains(xmf, ".h5.d"));
    if (std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0) CHECK(self_contained(dir.file("p.h5")));

    // It stands alone: the run moved away, every reader still reads it.
    fs::rename(dir.work() / "runs", dir.work() / "moved");
    const Result info = run_wgflow(dir, {"info", "p.h5"});
    CHECK(info.code == 0);
    CHECK(contains(info.out, "p.h5 (one self-contained file, written by wgflow pack)"));
    CHECK(contains(info.out, "snapshots   5,"));
    const Result initial = run_wgflow(dir, {"run", "--case", "fokker-planck", "--dim", "2", "--n", "24", "--initial",
                                            "file:p.h5", "--t-end", "0.01", "--snapshots", "1", "--out", "i.h5", "--quiet"});
    CHECK(initial.code == 0);
    CHECK(read_snapshot(dir.file("i.h5"), 0) == read_snapshot(dir.file("p.h5"), -1));
    const Result target = run_wgflow(dir, {"run", "--case", "f-divergence", "--dim", "2", "--n", "24", "--target",
                                           "file:p.h5", "--t-end", "0.01", "--snapshots", "1", "--out", "t.h5", "--quiet"});
    INFO("target stderr: " << target.err);
    CHECK(target.code == 0);

    // Refusals, exit 2 and nothing changed: an existing OUT, OUT = RUN, no run, a restart of the copy.
    const std::string before = read_text(dir.work() / "p.h5");
    const Result again = run_wgflow(dir, {"pack", "moved/r.h5", "p.h5"});
    CHECK(again.code == 2);
    CHECK(again.err == "wgflow: error: pack: 'p.h5' (or 'p.h5.d' or 'p.xmf') exists; pass --overwrite to replace it\n");
    CHECK(read_text(dir.work() / "p.h5") == before);
    CHECK(run_wgflow(dir, {"pack", "moved/r.h5", "moved/r.h5", "--overwrite"}).code == 2);
    CHECK(run_wgflow(dir, {"pack", "missing.h5", "q.h5"}).code == 2);
    CHECK(run_wgflow(dir, {"pack", "moved/r.h5"}).code == 2);
    const Result restart = run_wgflow(dir, {"run", "--restart", "p.h5"});
    CHECK(restart.code == 2);
    CHECK(contains(restart.err, "a file written by wgflow pack is a copy to read, not a run to continue"));
    CHECK(read_text(dir.work() / "p.h5") == before);
    CHECK(run_wgflow(dir, {"pack", "moved/r.h5", "p.h5", "--overwrite"}).code == 0);
    check_identical_outputs(dir.file("moved/r.h5"), dir.file("p.h5"));
  }

  TEST_CASE("pack takes an interrupted run with the diagnostics rows after its last snapshot") {
    CliDir dir;
    // SIGINT a while after snapshot 2: the run stops between snapshots, with rows after the last one
    // (a signal landing while a snapshot is written stops it there: then try again).
    OutputSummary stopped;
    std::string name;
    for (int attempt = 0; attempt < 4; ++attempt) {
      name = "s" + std::to_string(attempt) + ".h5";
      const std::vector<std::string> run{"run", "--case", "porous-medium", "--dim", "2", "--n", "192", "--domain=-4,4",
                                         "--t-end", "3", "--snapshots", "12", "--out", name, "--quiet", "--threads", "1"};
      const pid_t pid = spawn_wgflow(dir, run);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (!fs::exists(dir.file(name + ".d/000002.h5")) && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(40 + 80 * attempt));
      ::kill(pid, SIGINT);
      REQUIRE(wait_exit_code(pid) == 128 + SIGINT);
      stopped = read_output_summary(dir.file(name));
      if (stopped.diagnostics.size() > static_cast<std::size_t>(stopped.snapshot_steps.back()) + 1) break;
    }
    REQUIRE(stopped.snapshot_times.size() < 13);
    REQUIRE(stopped.diagnostics.size() > static_cast<std::size_t>(stopped.snapshot_steps.back()) + 1);  // a tail
    REQUIRE(run_wgflow(dir, {"pack", name, "p.h5"}).code == 0);
    check_identical_outputs(dir.file(name), dir.file("p.h5"));
    CHECK(read_output_summary(dir.file("p.h5")).diagnostics.size() == stopped.diagnostics.size());
  }
}
