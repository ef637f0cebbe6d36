/// Problems defined without recompiling (formulas, --mass), the info and cases commands, and runs
/// that cannot finish: they must stop with one line instead of crawling or writing garbage.
#include <doctest/doctest.h>

#include <cmath>

#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

TEST_SUITE("cli") {
  TEST_CASE("formulas for the potential and the initial density run and restart from their stored text") {
    CliDir dir;
    const Result r = run_wgflow(dir, {"run", "--case", "fokker-planck", "--dim", "2", "--n", "24", "--potential",
                                      "(x^2-1)^2/4 + y^2/2", "--initial", "exp(-((x-1)^2+y^2))", "--mass", "2.5",
                                      "--t-end", "0.05", "--snapshots", "2", "--out", "f.h5"});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    const OutputSummary s = read_output_summary(dir.file("f.h5"));
    CHECK(s.config_text.find("potential = (x^2-1)^2/4 + y^2/2") != std::string::npos);
    CHECK(s.diagnostics.rows.front().mass == doctest::Approx(2.5).epsilon(1e-13));  // --mass rescales
    // The initial snapshot is the formula at cell centres, rescaled: its peak sits in the cell at x = 1.
    const std::vector<double> q0 = read_snapshot(dir.file("f.h5"), 0);
    const auto peak = std::max_element(q0.begin(), q0.end()) - q0.begin();
    const double x_peak = -5.0 + (static_cast<double>(peak % 24) + 0.5) * (10.0 / 24);
    CHECK(std::abs(x_peak - 1.0) < 10.0 / 24);
  }

  TEST_CASE("bad formulas are refused with one line naming the option") {
    struct Bad {
      std::vector<std::string> args;
      std::string mention;
    };
    const std::vector<Bad> bad = {
        {{"--potential", "x^^2"}, "--potential: cannot parse"},
        {{"--initial", "nosuch"}, "--initial: cannot parse"},
        {{"--initial", "x"}, "--initial: the formula gives q = -"},        // negative density
        {{"--initial", "sqrt(x)"}, "--initial: the formula gives q = "},   // NaN density
        {{"--case", "fokker-planck", "--n", "2", "--potential", "1/(x-2.5)"}, "--potential: V = inf"},
        {{"--initial", "0*x"}, "--initial: the initial density is zero"},
    };
    for (const Bad& b : bad) {
      CliDir dir;
      std::vector<std::string> args{"run", "--out", "out.h5"};
      args.insert(args.end(), b.args.begin(), b.args.end());
      if (b.mention.find("zero") != std::string::npos) args.insert(args.end(), {"--mass", "1"});
      const Result r = run_wgflow(dir, args);
      INFO("command: " << r.command);
      INFO("stderr: " << r.err);
      CHECK(r.code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK(contains(r.err, b.mention));
      CHECK(dir.listing().empty());
    }
  }

  // Judged on sustained behaviour: the step has not grown between steps 2^16 and 2^17 (see CrawlGuard).
  TEST_CASE("a run whose step limit collapses stops with a message and keeps what it wrote") {
    CliDir dir;
    const Result r = run_wgflow(dir, {"run", "--case", "fokker-planck", "--potential", "1e306*x^2", "--out", "s.h5"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "at step 131072"));
    CHECK(contains(r.err, "would take more than 1e10 steps"));
    CHECK(read_output_summary(dir.file("s.h5")).snapshot_times.size() == 1);  // the initial snapshot
  }

  TEST_CASE("info summarises an output and cases lists every case") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, {"run", "--case", "porous-medium", "--dim", "2", "--n", "20", "--t-end", "0.1", "--snapshots",
                             "4", "--out", "p.h5", "--quiet"})
                .code == 0);
    const Result info = run_wgflow(dir, {"info", "p.h5"});
    CHECK(info.code == 0);
    for (const char* part : {"case        porous-medium", "2D", "20 20", "snapshots   5, t = 0 ... 0.1", "max relative drift",
                             "0 increases", "min q       0", "(format 2,", "files       p.h5, p.h5.d/ (one file per snapshot), p.xmf",
                             "(last snapshot)"})
      CHECK_MESSAGE(contains(info.out, part), "info lacks '" << part << "':\n" << info.out);
    const Result missing = run_wgflow(dir, {"info", "nofile.h5"});
    CHECK(missing.code == 2);
    CHECK(starts_with(missing.err, "wgflow: error: info: "));
    const Result cases = run_wgflow(dir, {"cases"});
    CHECK(cases.code == 0);
    for (const char* name : {"heat", "fokker-planck", "porous-medium", "f-divergence"}) CHECK(contains(cases.out, name));
  }
}


TEST_SUITE("cli") {
  TEST_CASE("a truncated checkpoint is refused by name and deleting it continues from the last snapshot") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, {"run", "--n", "16", "--t-end", "0.02", "--snapshots", "4", "--out", "run.h5", "--quiet"}).code == 0);
    const std::vector<double> last = read_snapshot(dir.file("run.h5"), -1);
    const std::string snapshot = read_text(dir.work() / "run.h5.d" / "000000.h5");
    write_text(dir.work() / "run.h5.d" / "checkpoint.h5", snapshot.substr(0, 1000));  // damaged
    const Result refused = run_wgflow(dir, {"run", "--restart", "run.h5", "--quiet"});
    CHECK(refused.code == 2);
    CHECK(count_lines(refused.err) == 1);
    CHECK(contains(refused.err, "checkpoint 'run.h5.d/checkpoint.h5' cannot be read (the file is truncated)"));
    CHECK(contains(refused.err, "delete it to continue from the last snapshot"));
    fs::remove(dir.work() / "run.h5.d" / "checkpoint.h5");
    const Result resumed = run_wgflow(dir, {"run", "--restart", "run.h5", "--quiet"});
    INFO("stderr: " << resumed.err);
    CHECK(resumed.code == 0);
    CHECK(read_snapshot(dir.file("run.h5"), -1) == last);
    CHECK(read_output_summary(dir.file("run.h5")).snapshot_times.size() == 5u);
  }
}
