/// --case mean-field-network end to end: bad data files and options exit 2 with one line; a run writes
/// /steps/NNNNNN/network_output and the data as root attributes, with per-axis --domain boxes; the
/// implicit stepper runs; a restart keeps the data attributes.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "io/h5.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

void write_data(const std::string& path, const std::vector<double>* x, const std::vector<double>* y) {
  h5::File file = h5::create_file(path);
  if (x != nullptr) h5::write_dataset(file.id(), "x", {x->size()}, x->data());
  if (y != nullptr) h5::write_dataset(file.id(), "y", {y->size()}, y->data());
}

const std::vector<std::string> small_run = {"--case", "mean-field-network", "--dim", "2", "--n", "16",
                                            "--gaussian-center", "0", "--gaussian-width", "1", "--t-end", "0.5",
                                            "--snapshots", "2", "--quiet"};

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("mean-field-network: bad data files and options exit 2 with one line and write nothing") {
    const std::vector<double> x{-1.0, 0.0, 1.0}, y{1.0, 0.0, 1.0}, short_y{1.0, 0.0};
    const std::vector<double> nan_y{1.0, std::numeric_limits<double>::quiet_NaN(), 1.0};
    struct Bad {
      std::string file;  ///< written into the work directory first ("" for none)
      const std::vector<double>* x;
      const std::vector<double>* y;
      std::vector<std::string> args;
      std::vector<std::string> mentions;
    };
    const std::vector<Bad> bad = {
        {"no_y.h5", &x, nullptr, {"--data", "file:no_y.h5"}, {"--data", "/y"}},
        {"no_x.h5", nullptr, &y, {"--data", "file:no_x.h5"}, {"--data", "/x"}},
        {"short.h5", &x, &short_y, {"--data", "file:short.h5"}, {"--data", "3", "2"}},
        {"nan.h5", &x, &nan_y, {"--data", "file:nan.h5"}, {"--data", "/y[1]", "finite"}},
        {"", nullptr, nullptr, {"--data", "file:missing.h5"}, {"--data", "missing.h5"}},
        {"", nullptr, nullptr, {"--data", "1/(x-x)"}, {"--data", "finite"}},
        {"", nullptr, nullptr, {"--data", "x^"}, {"--data", "cannot parse"}},
        {"", nullptr, nullptr, {"--data-points", "1"}, {"--data-points", "[2, 2000]"}},
        {"", nullptr, nullptr, {"--data-range", "1,-1"}, {"--data-range", "A < B"}},
        {"", nullptr, nullptr, {"--activation", "gelu"}, {"--activation", "relu"}},
        {"", nullptr, nullptr, {"--diffusion", "-0.1"}, {"--diffusion", ">= 0"}},
        {"", nullptr, nullptr, {"--kernel", "gaussian"}, {"--kernel", "mean-field-network"}},
        {"", nullptr, nullptr, {"--potential", "quadratic"}, {"--potential", "mean-field-network"}},
        {"", nullptr, nullptr, {"--domain=-1,1:-2,2:-3,3"}, {"--domain", "2 axes"}},
        {"", nullptr, nullptr, {"--domain=-1,1:2"}, {"--domain", "A,B"}},
        {"", nullptr, nullptr, {"--output-weight", "nan"}, {"--output-weight"}},
    };
    for (const Bad& b : bad) {
      CliDir dir;
      if (!b.file.empty()) write_data(dir.file(b.file), b.x, b.y);
      std::vector<std::string> args = small_run;
      args.insert(args.end(), b.args.begin(), b.args.end());
      args.insert(args.end(), {"--out", "out.h5"});
      const Result r = run_run(dir, args);
      INFO("command: " << r.command);
      INFO("stderr: " << r.err);
      CHECK(r.code == 2);
      CHECK(count_lines(r.err) == 1);
      CHECK(starts_with(r.err, "wgflow: error: "));
      for (const std::string& m : b.mentions) CHECK(contains(r.err, m));
      CHECK(!std::filesystem::exists(dir.file("out.h5")));
    }
  }

  TEST_CASE("mean-field-network: network output per snapshot and the data as root attributes") {
    CliDir dir;
    const std::vector<double> x{-1.0, -0.5, 0.25, 1.0}, y{0.5, 0.1, 0.0, 0.7};
    write_data(dir.file("data.h5"), &x, &y);
    for (const char* stepper : {"ssp-rk3", "implicit-euler"}) {
      std::vector<std::string> args = small_run;
      args.insert(args.end(), {"--data", "file:data.h5", "--domain=-3,3:-2,2", "--stepper", stepper, "--out",
                               "out.h5", "--overwrite"});
      const Result r = run_run(dir, args);
      INFO("stderr: " << r.err);
      REQUIRE(r.code == 0);
      h5::File file = h5::open_file(dir.file("out.h5"), false);
      CHECK(h5::read_double_vector_attribute(file.id(), "data_x") == x);
      CHECK(h5::read_double_vector_attribute(file.id(), "data_y") == y);
      h5::Group grid = h5::open_group(file.id(), "/grid");
      CHECK(h5::read_double_vector_attribute(grid.id(), "lower") == std::vector<double>{-2.0, -3.0});  // z, y, x order
      CHECK(h5::read_double_vector_attribute(grid.id(), "upper") == std::vector<double>{2.0, 3.0});
      const std::vector<double> energy = h5::read_dataset(file.id(), "/diagnostics/energy");
      for (int s = 0; s <= 2; ++s) {
        const std::string path = "/steps/00000" + std::to_string(s) + "/network_output";
        REQUIRE(h5::is_dataset(file.id(), path));
        const std::vector<double> f = h5::read_dataset(file.id(), path);
        REQUIRE(f.size() == x.size());
        if (s == 2) {  // the last snapshot's risk is the last energy row: ½ mean (f − y)²
          double risk = 0.0;
          for (std::size_t j = 0; j < f.size(); ++j) risk += 0.5 * (f[j] - y[j]) * (f[j] - y[j]) / f.size();
          CHECK(std::abs(risk - energy.back()) <= 1e-14);
        }
      }
      for (std::size_t k = 1; k < energy.size(); ++k) CHECK(energy[k] <= energy[k - 1]);
    }
  }

  TEST_CASE("mean-field-network: the initial density has mass 1 and the resolved options are stored") {
    CliDir dir;
    std::vector<std::string> args = small_run;
    args.insert(args.end(), {"--initial", "exp(-x^2-y^2)", "--activation", "tanh", "--output-weight", "2",
                             "--domain=-3,3:-2,2", "--out", "out.h5"});
    const Result r = run_run(dir, args);
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    h5::File file = h5::open_file(dir.file("out.h5"), false);
    const std::vector<double> mass = h5::read_dataset(file.id(), "/diagnostics/mass");
    CHECK(std::abs(mass.front() - 1.0) <= 1e-14);
    const std::string config = h5::read_string_attribute(file.id(), "config");
    CHECK(contains(config, "domain = -3,3:-2,2\n"));
    CHECK(contains(config, "activation = tanh\n"));
    CHECK(contains(config, "output-weight = 2\n"));
    CHECK(contains(config, "data = x^2\n"));
    CHECK(h5::read_double_vector_attribute(file.id(), "data_x").size() == 50);
  }
}
