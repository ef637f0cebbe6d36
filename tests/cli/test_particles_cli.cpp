/// `wgflow run --particles`: positions written beside the density, read from a file, refused when bad,
/// reported by `wgflow info`, and without any effect on the density's output.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/output_files.hpp"
#include "tests/cli/cli_support.hpp"

using namespace wgflow;
using namespace wgflow::cli_test;

namespace {

/// /steps/<snapshot>/particles of an output, row-major, with its shape.
std::vector<double> read_particles(const std::string& path, int snapshot, std::vector<hsize_t>* dims = nullptr) {
  h5::File file = h5::open_file(path, false);
  h5::Dataset d = h5::open_dataset(file.id(), "/steps/" + snapshot_group_name(snapshot) + "/particles");
  if (dims != nullptr) *dims = h5::dataset_dims(d.id());
  return h5::read_dataset(d.id());
}

void write_positions(const std::string& path, const std::vector<hsize_t>& dims, const std::vector<double>& values) {
  h5::File file = h5::create_file(path);
  h5::write_dataset(file.id(), "positions", dims, values.data());
}

const std::vector<std::string> k_fp_2d{"--case", "fokker-planck", "--dim", "2", "--n", "32", "--gaussian-center",
                                       "1.5", "--t-end", "0.5", "--snapshots", "4", "--quiet"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("--particles writes N x dim positions per snapshot and changes no bit of the density output") {
    CliDir dir;
    REQUIRE(run_run(dir, with(k_fp_2d, {"--out", "none.h5"})).code == 0);
    REQUIRE(run_run(dir, with(k_fp_2d, {"--out", "some.h5", "--particles", "3000", "--particles-seed", "5"})).code == 0);
    const OutputSummary a = read_output_summary(dir.file("none.h5"));
    const OutputSummary b = read_output_summary(dir.file("some.h5"));
    REQUIRE(a.snapshot_times.size() == b.snapshot_times.size());
    for (int k = 0; k < static_cast<int>(a.snapshot_times.size()); ++k) {
      CHECK(read_snapshot(dir.file("none.h5"), k) == read_snapshot(dir.file("some.h5"), k));
      std::vector<hsize_t> dims;
      const std::vector<double> x = read_particles(dir.file("some.h5"), k, &dims);
      CHECK(dims == std::vector<hsize_t>{3000, 2});
      for (double v : x) CHECK((v >= -5.0 && v <= 5.0));
    }
    REQUIRE(a.diagnostics.size() == b.diagnostics.size());
    for (std::size_t r = 0; r < a.diagnostics.size(); ++r) {
      CHECK(a.diagnostics.rows[r].mass == b.diagnostics.rows[r].mass);
      CHECK(a.diagnostics.rows[r].energy == b.diagnostics.rows[r].energy);
    }
    // The mean moves toward the potential's minimum at 0 like the density's.
    double mean0 = 0.0, mean1 = 0.0;
    const std::vector<double> x0 = read_particles(dir.file("some.h5"), 0), x1 = read_particles(dir.file("some.h5"), 4);
    for (std::size_t p = 0; p < 3000; ++p) {
      mean0 += x0[2 * p] / 3000;
      mean1 += x1[2 * p] / 3000;
    }
    CHECK(mean0 == doctest::Approx(1.5).epsilon(0.02));
    CHECK(mean1 == doctest::Approx(1.5 * std::exp(-0.5)).epsilon(0.03));
    const Result info = run_wgflow(dir, {"info", "some.h5"});
    CHECK(contains(info.out, "particles   3000"));
    CHECK(!contains(run_wgflow(dir, {"info", "none.h5"}).out, "particles"));
    // The same seed gives the same particles.
    REQUIRE(run_run(dir, with(k_fp_2d, {"--out", "again.h5", "--particles", "3000", "--particles-seed", "5"})).code == 0);
    CHECK(read_particles(dir.file("again.h5"), 4) == x1);
  }

  TEST_CASE("the sidecar lists the particles as points in 1D and 2D and after wgflow pack") {
    CliDir dir;
    const std::vector<std::string> fp_1d{"--case", "fokker-planck", "--dim", "1", "--n", "32", "--gaussian-center",
                                         "1.5", "--t-end", "0.5", "--snapshots", "2", "--quiet", "--particles", "7"};
    REQUIRE(run_run(dir, with(fp_1d, {"--out", "one.h5"})).code == 0);
    REQUIRE(run_run(dir, with(k_fp_2d, {"--out", "two.h5", "--particles", "5"})).code == 0);
    // 1D: ParaView's Xdmf3 readers need one N x 2 array, so the snapshot also holds (x, 0) rows.
    for (int k = 0; k < 3; ++k) {
      h5::File file = h5::open_file(dir.file("one.h5"), false);
      h5::Dataset points = h5::open_dataset(file.id(), "/steps/" + snapshot_group_name(k) + "/particle_points");
      CHECK(h5::dataset_dims(points.id()) == std::vector<hsize_t>{7, 2});
      const std::vector<double> xy = h5::read_dataset(points.id()), x = read_particles(dir.file("one.h5"), k);
      REQUIRE(x.size() == 7);
      for (std::size_t p = 0; p < 7; ++p) CHECK((xy[2 * p] == x[p] && xy[2 * p + 1] == 0.0));
    }
    const std::string one = read_text(dir.work() / "one.xmf");
    CHECK(contains(one, "<Topology TopologyType=\"Polyvertex\" NumberOfElements=\"7\" NodesPerElement=\"1\"/>"));
    CHECK(contains(one, ">one.h5.d/000002.h5:/particle_points</DataItem>"));
    CHECK(contains(one, "<DataItem Dimensions=\"7 2\""));
    // Packed: the points are listed inside the one file, as the run's sidecar lists them.
    REQUIRE(run_wgflow(dir, {"pack", "one.h5", "one_packed.h5"}).code == 0);
    REQUIRE(run_wgflow(dir, {"pack", "two.h5", "two_packed.h5"}).code == 0);
    const std::string one_packed = read_text(dir.work() / "one_packed.xmf");
    const std::string two_packed = read_text(dir.work() / "two_packed.xmf");
    CHECK(contains(one_packed, ">one_packed.h5:/steps/000002/particle_points</DataItem>"));
    CHECK(contains(two_packed, "<Topology TopologyType=\"Polyvertex\" NumberOfElements=\"5\" NodesPerElement=\"1\"/>"));
    for (int k = 0; k < 5; ++k)
      CHECK(contains(two_packed, ">two_packed.h5:/steps/" + snapshot_group_name(k) + "/particles</DataItem>"));
    CHECK(!contains(two_packed, ".h5.d"));
    // The packed sidecar is the run's, with the paths inside the one file.
    std::string two = read_text(dir.work() / "two.xmf");
    for (int k = 0; k < 5; ++k) {
      const std::string from = "two.h5.d/" + snapshot_group_name(k) + ".h5:/", to = "two_packed.h5:/steps/" + snapshot_group_name(k) + "/";
      for (std::size_t at = two.find(from); at != std::string::npos; at = two.find(from, at)) two.replace(at, from.size(), to);
    }
    CHECK(two == two_packed);
  }

  TEST_CASE("--particles file: starts from the given positions") {
    CliDir dir;
    const std::vector<double> start{0.5, -0.25, -4.0, 4.0, 5.0, -5.0};  // on the walls too
    write_positions(dir.file("p.h5"), {3, 2}, start);
    const Result r = run_run(dir, with(k_fp_2d, {"--out", "f.h5", "--particles", "file:p.h5"}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(read_particles(dir.file("f.h5"), 0) == start);
  }

  TEST_CASE("bad --particles input exits 2 with one line and writes nothing") {
    CliDir dir;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    write_positions(dir.file("shape.h5"), {2, 3}, {0, 0, 0, 0, 0, 0});
    write_positions(dir.file("nan.h5"), {2, 2}, {0.0, 0.0, nan, 1.0});
    write_positions(dir.file("outside.h5"), {2, 2}, {0.0, 0.0, 5.5, 1.0});
    write_positions(dir.file("empty.h5"), {0, 2}, {});
    for (const std::string bad : {"-3", "many", "1e3", "file:", "file:missing.h5", "file:shape.h5", "file:nan.h5",
                                   "file:outside.h5", "file:empty.h5"}) {
      const Result r = run_run(dir, with(k_fp_2d, {"--out", "bad.h5", "--particles", bad}));
      INFO(bad << ": " << r.err);
      CHECK(r.code == 2);
      CHECK(starts_with(r.err, "wgflow: error: --particles: "));
      CHECK(count_lines(r.err) == 1);
      CHECK(!fs::exists(dir.file("bad.h5")));
    }
    for (const std::string bad : {"-1", "x"}) {
      const Result r = run_run(dir, with(k_fp_2d, {"--out", "bad.h5", "--particles", "10", "--particles-seed", bad}));
      CHECK(r.code == 2);
      CHECK(contains(r.err, "particles-seed"));
    }
  }
}
