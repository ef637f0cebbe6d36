/// --case f-divergence from the command line: the outputs carry the divergence in the energy column and
/// the distances to the target, kl runs implicitly, and every bad f-divergence input is refused with
/// one line naming its option, exit code 2 and no output.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// The largest peak RSS of the child processes waited for so far (ru_maxrss of RUSAGE_CHILDREN).
long peak_rss_of_children_kib() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return usage.ru_maxrss;
}

const char* const k_mixture = "mixture:means=-1.5,0;1.5,0;0,1.5:widths=0.6";

}  // namespace

TEST_SUITE("cli") {
  // 1.66 million SSP-RK3 steps whose size grows 20 000-fold after a stiff start: the run was once refused at
  // step 1 by a guard that extrapolated the first step to t-end (issue 14). Near the steady state, stages
  // written as a·base + b·x rounded the same way step after step and drifted 1.2e-12 in mass over 280 000
  // steps; the increment form (stage_update) keeps the drift at round-off.
  // Its memory must not grow with the steps (rows leave memory once written, issue 14): its peak RSS is
  // compared with a 10 000-step run of the same case.
  TEST_CASE("a 1.6-million-step chi2 run to t = 200 is not refused and keeps mass and energy and memory") {
    CliDir dir;
    const auto chi2_run = [&](const char* t_end, const char* out) {
      return run_wgflow(dir, {"run", "--case", "f-divergence", "--divergence", "chi2", "--target",
                              "exp(-(x-1)^2/0.3)+0.6*exp(-(x+1.2)^2/0.2)", "--dim", "1", "--n", "256", "--domain=-4,4",
                              "--t-end", t_end, "--snapshots", "2", "--threads", "1", "--quiet", "--out", out});
    };
    REQUIRE(chi2_run("0.045", "short.h5").code == 0);
    REQUIRE(read_output_summary(dir.file("short.h5")).diagnostics.size() > 10000);
    const long short_rss_kib = peak_rss_of_children_kib();
    const Result r = chi2_run("200", "long.h5");
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    const long long_rss_kib = peak_rss_of_children_kib();
    MESSAGE("peak RSS: 10^4 steps ", short_rss_kib, " KiB, 1.66 million steps ", long_rss_kib, " KiB");
    CHECK(long_rss_kib - short_rss_kib <= 10 * 1024);
    const OutputSummary out = read_output_summary(dir.file("long.h5"));
    REQUIRE(out.diagnostics.size() > 1500000);
    CHECK(out.diagnostics.back().time == 200.0);
    CHECK(out.diagnostics.rows[1].dt * 1e4 < out.diagnostics.back().dt);  // the step grew by orders of magnitude
    const double mass0 = out.diagnostics.rows.front().mass;
    double worst = 0.0;
    long increases = 0;
    for (std::size_t k = 0; k < out.diagnostics.size(); ++k) {
      const DiagnosticsRow& row = out.diagnostics.rows[k];
      worst = std::max(worst, std::abs(row.mass - mass0) / mass0);
      if (k > 0 && row.energy > out.diagnostics.rows[k - 1].energy + 1e-14 * std::abs(out.diagnostics.rows[k - 1].energy))
        ++increases;
      if (row.min < 0.0) ++increases;
    }
    MESSAGE("max relative mass drift over ", out.diagnostics.size(), " rows: ", worst);
    CHECK(worst <= 1e-12);
    CHECK(increases == 0);
  }

  TEST_CASE("f-divergence runs write the divergence and the distances to the target") {
    CliDir dir;
    int index = 0;
    for (const char* d : {"kl", "reverse-kl", "chi2", "hellinger", "jensen-shannon", "alpha:0.5"}) {
      const std::string out = "d" + std::to_string(index++) + ".h5";
      const Result r = run_wgflow(dir, {"run", "--case", "f-divergence", "--dim", "2", "--n", "24", "--domain=-4,4",
                                        "--divergence", d, "--target", k_mixture, "--t-end", "0.5", "--snapshots", "2",
                                        "--out", out});
      INFO("divergence " << std::string(d) << ": " << r.err);
      REQUIRE(r.code == 0);
      const OutputSummary s = read_output_summary(dir.file(out));
      CHECK(contains(s.config_text, std::string("divergence = ") + d));
      CHECK(contains(s.config_text, std::string("target = ") + k_mixture));
      CHECK(contains(s.config_text, "target-mass = "));
      const auto& rows = s.diagnostics.rows;
      REQUIRE(rows.size() > 2);
      for (std::size_t i = 1; i < rows.size(); ++i) {
        CHECK(rows[i].energy <= rows[i - 1].energy + 1e-14 * rows[0].mass);  // the divergence never rises
        CHECK(rows[i].min >= 0.0);
      }
      CHECK(rows.front().energy > 0.0);  // D_f(p‖q0) > 0 for q0 ≠ p
      CHECK(rows.back().l1_to_target < rows.front().l1_to_target);
      CHECK(std::isnan(rows.back().w2_to_target));  // 2D: no W2 column
      h5::File f = h5::open_file(dir.file(out), false);
      CHECK(h5::is_dataset(f.id(), "/diagnostics/l1_to_target"));
      CHECK(!h5::is_dataset(f.id(), "/diagnostics/w2_to_target"));
    }
    // Other cases keep their columns.
    REQUIRE(run_wgflow(dir, {"run", "--n", "16", "--t-end", "0.01", "--out", "heat.h5", "--quiet"}).code == 0);
    h5::File f = h5::open_file(dir.file("heat.h5"), false);
    CHECK(!h5::is_dataset(f.id(), "/diagnostics/l1_to_target"));
  }

  TEST_CASE("f-divergence kl runs with implicit-euler and reaches the target") {
    CliDir dir;
    const Result r = run_wgflow(dir, {"run", "--case", "f-divergence", "--dim", "1", "--n", "64", "--domain=-4,4",
                                      "--target", "gaussian:mean=1:width=0.5", "--stepper", "implicit-euler",
                                      "--t-end", "100", "--out", "i.h5"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const OutputSummary s = read_output_summary(dir.file("i.h5"));
    CHECK(s.diagnostics.rows.back().l1_to_target <= 1e-10);
    CHECK(s.diagnostics.rows.back().w2_to_target <= 1e-8);
    CHECK(std::abs(s.diagnostics.rows.back().energy) <= 1e-12);  // KL(p‖p) = 0
  }

  // --target file:PATH.h5 reads the last snapshot of an output (here a heat run) and rescales it.
  TEST_CASE("f-divergence target from a file and from a formula") {
    CliDir dir;
    REQUIRE(run_wgflow(dir, {"run", "--dim", "1", "--n", "40", "--t-end", "0.2", "--mass", "3", "--out", "heat.h5",
                             "--quiet"}).code == 0);
    for (const std::string target : {"file:heat.h5", "exp(-x^2)"}) {
      const Result r = run_wgflow(dir, {"run", "--case", "f-divergence", "--dim", "1", "--n", "40", "--divergence",
                                        "hellinger", "--target", target, "--t-end", "0.1", "--out", "t.h5",
                                        "--overwrite", "--quiet"});
      INFO(target << ": " << r.err);
      REQUIRE(r.code == 0);
      const OutputSummary s = read_output_summary(dir.file("t.h5"));
      const std::size_t at = s.config_text.find("target-mass = ");
      REQUIRE(at != std::string::npos);
      // The default initial mass 1 (to round-off), not the file's 3: p is rescaled to q's mass.
      CHECK(std::stod(s.config_text.substr(at + 14)) == doctest::Approx(1.0).epsilon(1e-12));
      CHECK(s.diagnostics.rows.back().l1_to_target < s.diagnostics.rows.front().l1_to_target);
      CHECK(s.diagnostics.rows.back().w2_to_target < s.diagnostics.rows.front().w2_to_target);
    }
  }

  TEST_CASE("bad f-divergence options exit 2 with one line naming the option and write nothing") {
    struct Bad {
      std::vector<std::string> args;
      std::string mention;
    };
    const std::vector<Bad> bad = {
        {{"--divergence", "kullback"}, "--divergence: unknown divergence 'kullback'"},
        {{"--divergence", "alpha:20"}, "--divergence: 'alpha:20' needs a number A in [-10, 10]"},
        {{"--target", "mixture:means=1,2,3,4"}, "--target: 'mixture:means=1,2,3,4': a mean has 1 to 3 coordinates"},
        {{"--target", "mixture:means=0,0;1,1:weights=1"}, "2 means but 1 weights"},
        {{"--target", "gaussian:width=-1"}, "--target: 'gaussian:width=-1': widths must be > 0"},
        {{"--target", "x"}, "--target: p = -"},
        {{"--target", "0*x"}, "--target: the target has total mass 0"},
        {{"--target", "x^^2"}, "--target: cannot parse"},
        {{"--target", "file:missing.h5"}, "--target file:missing.h5"},
        {{"--target-epsilon", "0"}, "--target-epsilon: must be in (0, 0.1]"},
        {{"--target-mass", "-1"}, "--target-mass: must be >= 0"},
        {{"--potential", "quadratic"}, "--potential: does not apply to --case f-divergence"},
        {{"--kernel", "gaussian:sigma=1"}, "--kernel: does not apply to --case f-divergence"},
    };
    for (const Bad& b : bad) {
      CliDir dir;
      std::vector<std::string> args{"run", "--case", "f-divergence", "--dim", "2", "--n", "16", "--out", "out.h5"};
      args.insert(args.end(), b.args.begin(), b.args.end());
      const Result r = run_wgflow(dir, args);
      INFO("command: " << r.command);
      INFO("stderr: " << r.err);
      CHECK(r.code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK(starts_with(r.err, "wgflow: error: "));
      CHECK(contains(r.err, b.mention));
      CHECK(dir.listing().empty());
    }
  }
}
