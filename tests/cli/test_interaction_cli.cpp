/// The interaction options of `wgflow run` end to end: --kernel and --chi refusals, the expression
/// kernel, the resolved configuration in the output, and `wgflow cases`.
#include <doctest/doctest.h>

#include <cstdlib>

#include "io/initial_file.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// The "final energy X" of a run's summary line.
double final_energy(const std::string& out) {
  const std::string key = "final energy ";
  const std::size_t at = out.find(key);
  REQUIRE(at != std::string::npos);
  return std::strtod(out.c_str() + at + key.size(), nullptr);
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("bad interaction options exit 2 with one line naming the option and write nothing") {
    struct Bad {
      std::vector<std::string> args;
      std::vector<std::string> mentions;
    };
    const std::vector<Bad> bad = {
        {{"--case", "aggregation-diffusion", "--kernel", "nosuch"}, {"--kernel", "nosuch", "newtonian"}},
        {{"--kernel", "gaussian:sigma=0"}, {"--kernel", "sigma"}},
        {{"--kernel", "gaussian:width=1"}, {"--kernel", "width"}},
        {{"--kernel", "gaussian:"}, {"--kernel"}},
        {{"--kernel", "power:a=abc"}, {"--kernel", "abc"}},
        {{"--dim", "2", "--kernel", "power:a=-2"}, {"--kernel", "> -dim"}},
        {{"--kernel", "morse:la=-1"}, {"--kernel", "la"}},
        {{"--kernel", "newtonian:chi=2"}, {"--kernel", "chi"}},
        {{"--kernel", "expr:"}, {"--kernel", "formula"}},
        {{"--kernel", "expr:1/r"}, {"--kernel", "smooth"}},
        {{"--kernel", "expr:exp(-r^2"}, {"--kernel", "cannot parse"}},
        {{"--case", "keller-segel", "--chi", "0"}, {"--chi", "> 0"}},
        {{"--case", "keller-segel", "--chi", "-1"}, {"--chi", "> 0"}},
        {{"--case", "keller-segel", "--kernel", "gaussian"}, {"--kernel", "aggregation-diffusion"}},
        {{"--case", "aggregation-diffusion", "--chi", "0"}, {"--chi", "!= 0"}},
        {{"--case", "aggregation-diffusion", "--chi", "inf"}, {"--chi"}},
        {{"--case", "aggregation-diffusion", "--diffusion", "-1"}, {"--diffusion", ">= 0"}},
        {{"--case", "heat", "--diffusion", "0"}, {"--diffusion", "> 0"}},
    };
    for (const Bad& b : bad) {
      CliDir dir;
      std::vector<std::string> args = b.args;
      args.insert(args.end(), {"--out", "out.h5"});
      const Result r = run_run(dir, args);
      INFO("command: " << r.command);
      INFO("stderr: " << r.err);
      CHECK(r.code == 2);
      CHECK(r.out.empty());
      CHECK(count_lines(r.err) == 1);
      CHECK(starts_with(r.err, "wgflow: error: "));
      for (const std::string& m : b.mentions) CHECK(contains(r.err, m));
      CHECK(dir.listing().empty());
    }
  }

  TEST_CASE("an expr kernel runs the same flow as the named kernel it spells out") {
    CliDir dir;
    const std::vector<std::string> common{"--case", "aggregation-diffusion", "--dim", "1", "--n", "64",
                                          "--domain=-3,3", "--diffusion", "0.1", "--t-end", "0.5", "--snapshots", "1"};
    std::vector<std::string> named = common, formula = common;
    named.insert(named.end(), {"--kernel", "gaussian:sigma=0.5", "--chi", "2", "--out", "named.h5"});
    formula.insert(formula.end(), {"--kernel", "expr:-exp(-r^2/(2*0.25))/sqrt(2*pi*0.25)", "--chi", "2", "--out", "expr.h5"});
    const Result a = run_run(dir, named), b = run_run(dir, formula);
    INFO(a.err << b.err);
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    const double ea = final_energy(a.out), eb = final_energy(b.out);
    MESSAGE("final energy: named ", ea, ", expr ", eb);
    CHECK(eb == doctest::Approx(ea).epsilon(1e-9));
    const std::vector<double> qa = read_snapshot(dir.file("named.h5"), -1), qb = read_snapshot(dir.file("expr.h5"), -1);
    REQUIRE(qa.size() == qb.size());
    for (std::size_t i = 0; i < qa.size(); ++i) CHECK(qb[i] == doctest::Approx(qa[i]).epsilon(1e-9).scale(1e-6));
  }

  TEST_CASE("the output's resolved configuration names the kernel and chi and cases lists the new cases") {
    CliDir dir;
    REQUIRE(run_run(dir, {"--case", "keller-segel", "--dim", "2", "--n", "16", "--chi", "2.5", "--t-end", "0.001",
                          "--snapshots", "1", "--out", "ks.h5", "--quiet"})
                .code == 0);
    const std::string config = read_output_summary(dir.file("ks.h5")).config_text;
    CHECK(contains(config, "kernel = newtonian\n"));
    CHECK(contains(config, "chi = 2.5\n"));
    REQUIRE(run_run(dir, {"--n", "16", "--t-end", "0.001", "--snapshots", "1", "--out", "heat.h5", "--quiet"}).code == 0);
    CHECK(!contains(read_output_summary(dir.file("heat.h5")).config_text, "kernel"));  // no interaction: unchanged
    const Result cases = run_wgflow(dir, {"cases"});
    CHECK(cases.code == 0);
    for (const char* part : {"aggregation-", "keller-segel", "8pi/chi", "attractive-repulsive"})
      CHECK(contains(cases.out, part));
  }
}

TEST_SUITE("cli") {
  TEST_CASE("implicit-euler runs interaction cases through Newton (no diffusion) and the SG solve (Keller-Segel)") {
    CliDir dir;
    const std::vector<std::vector<std::string>> runs{
        {"--case", "aggregation-diffusion", "--diffusion", "0", "--dim", "1", "--n", "64", "--domain=-2,2"},
        {"--case", "keller-segel", "--dim", "2", "--n", "24", "--domain=-4,4", "--mass", "10", "--gaussian-width", "0.5"}};
    const char* schemes[] = {"implicit-euler + upwind-1", "implicit-euler + scharfetter-gummel"};
    for (std::size_t k = 0; k < runs.size(); ++k) {
      std::vector<std::string> args = runs[k];
      const std::string out = "implicit" + std::to_string(k) + ".h5";
      args.insert(args.end(), {"--stepper", "implicit-euler", "--t-end", "0.5", "--snapshots", "1", "--out", out});
      const Result r = run_run(dir, args);
      INFO(r.command << "\n" << r.err);
      REQUIRE(r.code == 0);
      CHECK(contains(r.out, schemes[k]));
      const OutputSummary s = read_output_summary(dir.file(out));
      REQUIRE(s.diagnostics.size() >= 2);
      for (std::size_t i = 1; i < s.diagnostics.size(); ++i) {
        const DiagnosticsRow &row = s.diagnostics.rows[i], &prev = s.diagnostics.rows[i - 1];
        CHECK(std::abs(row.mass - s.diagnostics.rows.front().mass) <= 1e-12 * s.diagnostics.rows.front().mass);
        CHECK(row.min >= 0.0);
        CHECK(row.energy - prev.energy <= 1e-14 * std::abs(prev.energy));
      }
    }
  }
}
