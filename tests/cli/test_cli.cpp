/// End-to-end tests of the `wgflow` executable: every shipped case, bad options, --overwrite,
/// restarts from an output, --help/--version, and --config with command-line overrides.
///
/// Each test runs the real binary (WGFLOW_BINARY) through /bin/sh in a fresh temporary directory,
/// capturing stdout, stderr and the exit code, and reads outputs back with the project's reader.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/initial_file.hpp"

#include "tests/cli/cli_support.hpp"

using namespace wgflow::cli_test;

namespace {

/// A small, fast run: 1D heat, n cells, to t = 0.01 with 2 intervals between snapshots.
std::vector<std::string> small_run(const std::string& out, int n = 32) {
  return {"--n", std::to_string(n), "--t-end", "0.01", "--snapshots", "2", "--out", out};
}

/// The checks every successful run must pass: exit 0, one summary line on stdout, silent stderr.
void check_success(const Result& r) {
  INFO("command: " << r.command);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(count_lines(r.out) == 1);
  CHECK(starts_with(r.out, "wgflow: "));
  CHECK(contains(r.out, "mass drift"));
  CHECK(contains(r.out, "min q"));
}

/// The checks every refused run must pass: exit != 0, nothing on stdout, exactly one stderr line
/// "wgflow: error: ..." containing each of `mentions`.
void check_refused(const Result& r, const std::vector<std::string>& mentions) {
  INFO("command: " << r.command);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  CHECK(r.code != 0);
  CHECK(r.code != -1);  // exited, did not crash
  CHECK(r.out.empty());
  CHECK(count_lines(r.err) == 1);
  CHECK(!r.err.empty());
  CHECK(r.err.back() == '\n');
  CHECK(starts_with(r.err, "wgflow: error: "));
  for (const std::string& m : mentions) {
    INFO("should mention: " << m);
    CHECK(contains(r.err, m));
  }
}

bool finite_rows(const wgflow::DiagnosticsHistory& h) {
  for (const wgflow::DiagnosticsRow& r : h.rows)
    for (double v : {r.time, r.dt, r.mass, r.energy, r.dissipation, r.min, r.max})
      if (!std::isfinite(v)) return false;
  return true;
}

/// The value of `key = value` in INI text (first occurrence, comments and blanks stripped), or "".
std::string ini_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    if (trim(line.substr(0, eq)) == key) return trim(line.substr(eq + 1));
  }
  return "";
}

/// Every `name` set in INI text.
std::vector<std::string> ini_keys(const std::string& text) {
  std::vector<std::string> keys;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    key.erase(std::remove_if(key.begin(), key.end(), [](char c) { return c == ' ' || c == '\t'; }), key.end());
    keys.push_back(key);
  }
  return keys;
}

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(WGFLOW_SOURCE_DIR) / "cases"))
    if (e.is_regular_file() && e.path().extension() == ".ini") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// Every option of `wgflow run` today (the long names, also the INI keys).
const std::vector<std::string> k_run_options = {
    "help", "config", "case", "dim", "n", "domain", "bc", "diffusion", "m", "potential", "gamma",
    "potential-center", "initial", "mass", "gaussian-center", "gaussian-width", "t-end", "stepper",
    "order", "cfl", "snapshots", "threads", "out", "overwrite", "quiet", "kernel", "chi"};

/// The option names `wgflow run --help` lists (lines "  --name ...").
std::vector<std::string> options_in_help(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream lines(help);
  std::string line;
  while (std::getline(lines, line))
    if (starts_with(line, "  --")) names.push_back(line.substr(4, line.find(' ', 4) - 4));
  return names;
}

}  // namespace

// Test names avoid ',' and ';': doctest_discover_tests splits names at ';' and drops the ctest label
// of names with ',' (so `ctest -L cli` would skip them).
TEST_SUITE("cli") {
  TEST_CASE("every case in cases/ runs shortened and writes a readable output") {
    const std::vector<fs::path> files = case_files();
    std::set<std::string> names;
    for (const fs::path& f : files) names.insert(f.filename().string());
    for (const char* expected :
         {"heat.ini", "fokker-planck-ou.ini", "fokker-planck-double-well.ini", "porous-medium-barenblatt.ini",
          "aggregation-diffusion.ini", "keller-segel.ini", "f-divergence-mixture.ini",
          "mean-field-network.ini"}) {
      INFO("missing case: " << expected);
      CHECK(names.count(expected) == 1);
    }

    std::vector<std::string> known_options;
    {
      CliDir dir;
      known_options = options_in_help(run_wgflow(dir, {"run", "--help"}).out);
      REQUIRE(!known_options.empty());
    }

    for (const fs::path& file : files) {
      const std::string name = file.filename().string();
      INFO("case file: " << file.string());
      const std::string text = read_text(file);

      // Documented: a leading comment block with the command that runs it; the output goes to a
      // plain file name in the current directory.
      CHECK(starts_with(text, "#"));
      CHECK(contains(text, "wgflow run --config cases/" + name));
      const std::string out = ini_value(text, "out");
      CHECK(!out.empty());
      CHECK(out.find('/') == std::string::npos);
      CHECK(fs::path(out).extension() == ".h5");
      for (const std::string& key : ini_keys(text)) {
        INFO("INI key: " << key);
        CHECK(std::find(known_options.begin(), known_options.end(), key) != known_options.end());
      }

      CliDir dir;
      const std::string out_path = dir.file("short.h5");
      const Result r = run_run(dir, {"--config", file.string(), "--t-end", "0.01", "--snapshots", "2", "--out", out_path});
      check_success(r);
      CHECK(contains(r.out, "wrote " + out_path));
      // The command line --out won over the file's: nothing else appeared.
      CHECK(dir.listing() == std::vector<std::string>{"short.h5", "short.h5.d", "short.xmf"});
      REQUIRE(fs::exists(out_path));

      const wgflow::OutputSummary s = wgflow::read_output_summary(out_path);
      CHECK(s.case_name == ini_value(text, "case"));
      if (!ini_value(text, "dim").empty()) CHECK(std::to_string(s.dim) == ini_value(text, "dim"));
      if (!ini_value(text, "n").empty())
        for (long len : s.shape_zyx) CHECK(std::to_string(len) == ini_value(text, "n"));
      REQUIRE(s.snapshot_times.size() == 3);
      CHECK(s.snapshot_times[0] == 0.0);
      CHECK(s.snapshot_times[1] == doctest::Approx(0.005));
      CHECK(s.snapshot_times[2] == doctest::Approx(0.01));
      REQUIRE(s.diagnostics.size() >= 3);
      CHECK(finite_rows(s.diagnostics));
      CHECK(s.diagnostics.back().time == doctest::Approx(0.01));
      const double mass0 = s.diagnostics.rows.front().mass;
      for (const wgflow::DiagnosticsRow& row : s.diagnostics.rows) {
        CHECK(row.min >= 0.0);
        CHECK(std::abs(row.mass - mass0) <= 1e-12 * mass0);
      }

      // Per-axis values in a case must not stop the command line from changing the dimension
      // (README: `wgflow run --config cases/heat.ini --n 256 --dim 1`).
      for (const char* dim : {"1", "2", "3"}) {
        INFO("--dim " << dim);
        const std::string other = dir.file(std::string("dim") + dim + ".h5");
        const Result rd = run_run(dir, {"--config", file.string(), "--dim", dim, "--n", "8", "--t-end", "0.001",
                                        "--snapshots", "1", "--out", other});
        check_success(rd);
        if (rd.code == 0) CHECK(wgflow::read_output_summary(other).dim == std::stoi(dim));
      }
    }
  }

  TEST_CASE("bad options exit non-zero with one wgflow: error: line naming the option and write nothing") {
    struct Bad {
      std::vector<std::string> args;
      std::vector<std::string> mentions;
    };
    const std::vector<Bad> bad = {
        {{"--bogus", "1"}, {"--bogus"}},
        {{"--case", "nosuch"}, {"--case", "nosuch"}},
        {{"--dim", "4"}, {"--dim"}},
        {{"--n", "0"}, {"--n"}},
        {{"--n", "100000000", "--dim", "3"}, {"--n"}},
        {{"--n", "20000", "--dim", "3"}, {"--n", "GiB"}},  // within the range of --n, over the memory estimate
        {{"--domain=1,1"}, {"--domain"}},
        {{"--domain=0,abc"}, {"--domain"}},
        {{"--case", "porous-medium", "--m", "1"}, {"--m"}},
        {{"--diffusion", "-1"}, {"--diffusion"}},
        {{"--t-end", "0"}, {"--t-end"}},
        {{"--cfl", "0"}, {"--cfl"}},
        {{"--cfl", "1.5"}, {"--cfl"}},
        {{"--diagnostics-every", "0"}, {"--diagnostics-every", "[1, 1e9]"}},
        {{"--diagnostics-every", "2.5"}, {"--diagnostics-every"}},
        {{"--order", "3"}, {"--order"}},
        {{"--stepper", "rk4"}, {"--stepper", "rk4"}},
        {{"--linear-solver", "lu"}, {"--linear-solver", "multigrid or eigen", "lu"}},
        {{"--bc", "sideways"}, {"--bc", "sideways"}},
        {{"--initial", "nosuch"}, {"--initial", "nosuch"}},
        {{"--initial", "file:/nonexistent.h5"}, {"--initial", "/nonexistent.h5"}},
        {{"--n", "abc"}, {"--n", "abc"}},
        {{"--config", "/nonexistent/wgflow.ini"}, {"--config", "/nonexistent/wgflow.ini"}},
    };
    for (const Bad& b : bad) {
      CliDir dir;
      std::vector<std::string> args = b.args;
      args.insert(args.end(), {"--out", "out.h5"});
      const Result r = run_run(dir, args);
      check_refused(r, b.mentions);
      INFO("command: " << r.command);
      // README: bad input exits 2.
      CHECK(r.code == 2);
      CHECK(dir.listing().empty());  // neither out.h5 nor the default wgflow.h5
    }
  }

  TEST_CASE("other refusals: missing output directory and bad --config contents and unknown command") {
    SUBCASE("an output in a directory that does not exist") {
      CliDir dir;
      const Result r = run_run(dir, small_run("nosuchdir/out.h5"));
      check_refused(r, {"nosuchdir/out.h5"});
      CHECK(dir.listing().empty());
    }

    SUBCASE("an unknown option in a --config file") {
      CliDir dir;
      write_text(dir.root() / "bad.ini", "n = 16\nbogus = 3\n");
      const Result r = run_run(dir, {"--config", (dir.root() / "bad.ini").string(), "--out", "out.h5"});
      check_refused(r, {"bogus"});
      CHECK(dir.listing().empty());
    }

    SUBCASE("a bad value in a --config file") {
      CliDir dir;
      write_text(dir.root() / "bad.ini", "# comment\ncfl = 2\n");
      const Result r = run_run(dir, {"--config", (dir.root() / "bad.ini").string(), "--out", "out.h5"});
      check_refused(r, {"--cfl"});
      CHECK(dir.listing().empty());
    }

    SUBCASE("an unknown command") {
      CliDir dir;
      const Result r = run_wgflow(dir, {"jump"});
      check_refused(r, {"jump"});
      CHECK(dir.listing().empty());
    }
  }

  TEST_CASE("an existing output is kept without --overwrite and replaced with it") {
    CliDir dir;
    check_success(run_run(dir, small_run("out.h5", 32)));
    const std::string h5_before = read_text(dir.file("out.h5"));
    const std::string xmf_before = read_text(dir.file("out.xmf"));
    REQUIRE(!h5_before.empty());

    const Result refused = run_run(dir, small_run("out.h5", 24));
    check_refused(refused, {"out.h5", "--overwrite"});
    CHECK(read_text(dir.file("out.h5")) == h5_before);
    CHECK(read_text(dir.file("out.xmf")) == xmf_before);
    CHECK(wgflow::read_output_summary(dir.file("out.h5")).shape_zyx == std::vector<long>{32});

    std::vector<std::string> args = small_run("out.h5", 24);
    args.push_back("--overwrite");
    check_success(run_run(dir, args));
    const wgflow::OutputSummary s = wgflow::read_output_summary(dir.file("out.h5"));
    CHECK(s.shape_zyx == std::vector<long>{24});
    CHECK(s.snapshot_times.size() == 3);
    CHECK(dir.listing() == std::vector<std::string>{"out.h5", "out.h5.d", "out.xmf"});
  }

  TEST_CASE("--initial file: continues from the last snapshot of an output on the same grid") {
    CliDir dir;
    check_success(run_run(dir, {"--dim", "2", "--n", "16", "--t-end", "0.05", "--snapshots", "2", "--out", "first.h5"}));
    const std::vector<double> last = wgflow::read_snapshot(dir.file("first.h5"), -1);
    const wgflow::OutputSummary first = wgflow::read_output_summary(dir.file("first.h5"));

    check_success(run_run(dir, {"--dim", "2", "--n", "16", "--t-end", "0.05", "--snapshots", "2", "--initial",
                                "file:first.h5", "--out", "second.h5"}));
    const wgflow::OutputSummary second = wgflow::read_output_summary(dir.file("second.h5"));
    CHECK(second.shape_zyx == first.shape_zyx);
    CHECK(second.snapshot_times.size() == 3);
    CHECK(wgflow::read_snapshot(dir.file("second.h5"), 0) == last);  // bitwise: the file's own mass is kept
    CHECK(second.diagnostics.rows.front().mass == doctest::Approx(first.diagnostics.back().mass).epsilon(1e-13));
    CHECK(second.diagnostics.rows.front().energy == doctest::Approx(first.diagnostics.back().energy).epsilon(1e-12));
    CHECK(finite_rows(second.diagnostics));

    SUBCASE("a different --n is refused, naming --initial, and writes nothing") {
      const Result r = run_run(dir, {"--dim", "2", "--n", "20", "--t-end", "0.05", "--initial", "file:first.h5",
                                     "--out", "third.h5"});
      check_refused(r, {"--initial", "first.h5"});
      CHECK(!fs::exists(dir.file("third.h5")));
      CHECK(!fs::exists(dir.file("third.xmf")));
    }
    SUBCASE("a different --dim is refused, naming --initial") {
      const Result r = run_run(dir, {"--dim", "1", "--n", "16", "--t-end", "0.05", "--initial", "file:first.h5",
                                     "--out", "third.h5"});
      check_refused(r, {"--initial"});
      CHECK(!fs::exists(dir.file("third.h5")));
    }
    SUBCASE("a file that is not HDF5 is refused, naming --initial") {
      write_text(dir.work() / "junk.h5", "not hdf5\n");
      const Result r = run_run(dir, {"--dim", "2", "--n", "16", "--initial", "file:junk.h5", "--out", "third.h5"});
      check_refused(r, {"--initial", "junk.h5"});
      CHECK(!fs::exists(dir.file("third.h5")));
    }
    SUBCASE("the output may replace the file it starts from, with --overwrite") {
      const Result r = run_run(dir, {"--dim", "2", "--n", "16", "--t-end", "0.05", "--snapshots", "2", "--initial",
                                     "file:first.h5", "--out", "first.h5", "--overwrite"});
      check_success(r);
      CHECK(wgflow::read_snapshot(dir.file("first.h5"), 0) == last);
    }
  }

  TEST_CASE("wgflow run --help lists every option and no arguments fails and --version works") {
    CliDir dir;
    const Result help = run_wgflow(dir, {"run", "--help"});
    INFO("stdout: " << help.out);
    CHECK(help.code == 0);
    CHECK(help.err.empty());
    for (const std::string& option : k_run_options) {
      INFO("option: --" << option);
      CHECK(contains(help.out, "  --" + option + " "));
    }
    const std::vector<std::string> listed = options_in_help(help.out);
    CHECK(listed.size() >= k_run_options.size());
    CHECK(std::set<std::string>(listed.begin(), listed.end()).size() == listed.size());  // no duplicates
    CHECK(dir.listing().empty());

    const Result none = run_wgflow(dir, {});
    CHECK(none.code != 0);
    CHECK(none.out.empty());
    CHECK(contains(none.err, "usage: wgflow"));

    const Result version = run_wgflow(dir, {"--version"});
    CHECK(version.code == 0);
    CHECK(starts_with(version.out, std::string("wgflow ") + WGFLOW_VERSION));
    CHECK(version.err.empty());
    CHECK(dir.listing().empty());
  }

  TEST_CASE("--config: values from the file apply and the command line wins") {
    CliDir dir;
    write_text(dir.root() / "run.ini",
               "# a comment\n"
               "case = fokker-planck   # trailing comment\n"
               "dim = 2\n"
               "n = 16\n"
               "domain = -4,4\n"
               "gaussian-center = 1,-1\n"
               "t-end = 0.02\n"
               "snapshots = 4\n"
               "out = from-config.h5\n");
    const std::string config = (dir.root() / "run.ini").string();

    SUBCASE("the file alone") {
      check_success(run_run(dir, {"--config", config}));
      CHECK(dir.listing() == std::vector<std::string>{"from-config.h5", "from-config.h5.d", "from-config.xmf"});
      const wgflow::OutputSummary s = wgflow::read_output_summary(dir.file("from-config.h5"));
      CHECK(s.case_name == "fokker-planck");
      CHECK(s.dim == 2);
      CHECK(s.shape_zyx == std::vector<long>{16, 16});
      CHECK(s.lower_zyx == std::vector<double>{-4.0, -4.0});
      CHECK(s.upper_zyx == std::vector<double>{4.0, 4.0});
      CHECK(s.snapshot_times.size() == 5);
    }
    SUBCASE("the command line overrides --n and --out") {
      check_success(run_run(dir, {"--n", "20", "--config", config, "--out", "override.h5"}));
      CHECK(dir.listing() == std::vector<std::string>{"override.h5", "override.h5.d", "override.xmf"});
      const wgflow::OutputSummary s = wgflow::read_output_summary(dir.file("override.h5"));
      CHECK(s.shape_zyx == std::vector<long>{20, 20});
      CHECK(s.dim == 2);  // still from the file
      CHECK(s.snapshot_times.size() == 5);
    }
    SUBCASE("the configuration stored in an output reproduces the run") {
      check_success(run_run(dir, {"--config", config}));
      const wgflow::OutputSummary s = wgflow::read_output_summary(dir.file("from-config.h5"));
      write_text(dir.root() / "stored.ini", s.config_text);
      check_success(run_run(dir, {"--config", (dir.root() / "stored.ini").string(), "--out", "again.h5"}));
      CHECK(wgflow::read_snapshot(dir.file("again.h5"), -1) == wgflow::read_snapshot(dir.file("from-config.h5"), -1));
    }
  }

  // Defects found by this suite and fixed: each stays as a regression test.
  TEST_CASE("a stray positional argument is refused and not ignored") {
    // `wgflow run cases/heat.ini` (a forgotten --config) must not run the defaults.
    CliDir dir;
    write_text(dir.root() / "run.ini", "n = 16\nt-end = 0.01\n");
    const Result r = run_run(dir, {(dir.root() / "run.ini").string(), "--out", "out.h5"});
    check_refused(r, {"run.ini"});
    CHECK(dir.listing().empty());
  }

  TEST_CASE("an output in a missing directory is reported against --out") {
    CliDir dir;
    const Result r = run_run(dir, small_run("nosuchdir/out.h5"));
    check_refused(r, {"--out", "nosuchdir/out.h5"});
  }

  TEST_CASE("bad input found in files also exits 2 as the README says") {
    // README: "Bad input gives one line `wgflow: error: ...` and exit code 2; a failure while running
    // gives exit code 1". These are bad input found in files, before any step is taken.
    CliDir dir;
    check_success(run_run(dir, small_run("out.h5", 16)));
    const std::vector<std::vector<std::string>> bad = {
        {"--initial", "file:/nonexistent.h5", "--out", "new.h5"},
        {"--n", "20", "--initial", "file:out.h5", "--out", "new.h5"},
        {"--out", "nosuchdir/new.h5"},
        {"--n", "16", "--domain=0,100", "--initial", "file:out.h5", "--out", "new.h5"},  // another box
        small_run("out.h5", 16),  // exists, no --overwrite
    };
    for (const auto& args : bad) {
      const Result r = run_run(dir, args);
      INFO("command: " << r.command);
      INFO("stderr: " << r.err);
      CHECK(r.code == 2);
    }
  }

  TEST_CASE("--quiet prints nothing and the default output is wgflow.h5 in the current directory") {
    CliDir dir;
    const Result r = run_run(dir, {"--n", "16", "--t-end", "0.01", "--quiet"});
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
    CHECK(dir.listing() == std::vector<std::string>{"wgflow.h5", "wgflow.h5.d", "wgflow.xmf"});
    CHECK(wgflow::read_output_summary(dir.file("wgflow.h5")).snapshot_times.size() == 11);
  }
}
