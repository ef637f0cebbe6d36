/// A run that concentrates its mass into one cell while its step falls (a blow-up the grid cannot
/// resolve) stops with one line naming time, cell and mass fraction, keeping every snapshot; a
/// legitimate collapse at a steady step does not.
#include <doctest/doctest.h>

#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

TEST_SUITE("cli") {
  TEST_CASE("a supercritical aggregation-diffusion run that concentrates stops with exit 1 naming where") {
    // Issue 17's example (porous medium m = 1.5 with the attractive singular kernel -2|x|^-1/2),
    // coarser and heavier so that it concentrates at t ~ 124 (step 1259) within a second. The exact step depends on the last bits
    // of the mass (it moved from 1258 when sums became exact sums of fixed chunks).
    CliDir dir;
    const std::vector<std::string> args = {"run", "--threads", "1", "--case", "porous-medium", "--m", "1.5", "--diffusion",
                                           "0.3333", "--kernel", "power:a=-0.5", "--domain=-15,15", "--n", "100",
                                           "--mass", "0.08", "--t-end", "200", "--snapshots", "4", "--out", "ks.h5", "--quiet"};
    const Result r = run_wgflow(dir, args);
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK(starts_with(r.err, "wgflow: error: the mass concentrated in one cell: at t = 123.968 (step 1259)"));
    CHECK(contains(r.err, "cell (50) at x = (0.15) holds 99.99% of the mass"));
    const OutputSummary s = read_output_summary(dir.file("ks.h5"));
    CHECK(s.snapshot_times == std::vector<double>{0.0, 50.0, 100.0});  // every snapshot before the stop
    REQUIRE(s.diagnostics.size() > 1000);
    CHECK(s.diagnostics.size() == 1260u);  // the rows up to the stop step are kept too
    CHECK(s.diagnostics.back().max * 0.3 / s.diagnostics.back().mass > 0.99);

    // A restart continues from the last snapshot and stops at the same step, with the same line.
    const Result again = run_wgflow(dir, {"run", "--restart", "ks.h5", "--quiet"});
    CHECK(again.code == 1);
    CHECK(again.err == r.err);
  }

  TEST_CASE("a collapse to one cell at a steady step is not stopped") {
    // W = |x|^2/2 without diffusion contracts everything into the centre cell; the step stays at its
    // CFL limit: mass in one cell alone is not a blow-up.
    CliDir dir;
    const Result r = run_wgflow(dir, {"run", "--case", "aggregation-diffusion", "--diffusion", "0", "--kernel", "expr:r^2/2",
                                      "--n", "63", "--t-end", "20", "--snapshots", "2", "--out", "agg.h5", "--quiet"});
    INFO("stderr: " << r.err);
    CHECK(r.code == 0);
    const OutputSummary s = read_output_summary(dir.file("agg.h5"));
    CHECK(s.diagnostics.back().max * (10.0 / 63) / s.diagnostics.back().mass > 0.999);
  }
}
