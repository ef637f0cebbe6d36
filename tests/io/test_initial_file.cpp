#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/snapshot_writer.hpp"
#include "tests/io/io_test_util.hpp"

using namespace wgflow;
using wgflow::io_test::error_of;
using wgflow::io_test::same_bits;
using wgflow::io_test::starts_with;
using wgflow::io_test::TempDir;

namespace {

/// Writes a file holding only "/density" of the given shape and values.
std::string write_density_file(const TempDir& dir, const std::string& name, const std::vector<hsize_t>& dims,
                               const std::vector<double>& values) {
  const std::string path = dir.file(name);
  h5::File file = h5::create_file(path);
  h5::write_dataset(file.id(), "density", dims, values.data());
  return path;
}

std::vector<double> ramp(std::size_t n) {
  std::vector<double> q(n);
  for (std::size_t i = 0; i < n; ++i) q[i] = 0.1 * double(i);
  return q;
}

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("read_initial_density reads /density") {
    TempDir dir;
    const std::string path = write_density_file(dir, "init.h5", {4, 8}, ramp(32));
    CHECK(same_bits(read_initial_density(path, {4, 8}), ramp(32)));
  }

  TEST_CASE("read_initial_density takes the last snapshot of a wgflow output") {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    SnapshotWriter<2> writer(path, make_cube_grid<2>(3, 0.0, 1.0, Boundary::no_flux), {"x", ""}, false);
    DiagnosticsHistory history;
    history.push_back({});
    std::vector<double> last;
    for (int s = 0; s < 3; ++s) {
      last = ramp(9);
      last[0] = s;
      writer.write_snapshot(last, 0.1 * s, s, history);
    }
    CHECK(same_bits(read_initial_density(path, {3, 3}), last));
  }

  TEST_CASE("read_initial_density reports each problem on one line starting with --initial file:") {
    TempDir dir;
    const std::vector<long> shape{4, 8};
    auto message = [&](const std::string& path) {
      const std::string msg = error_of([&] { read_initial_density(path, shape); });
      CHECK(starts_with(msg, "--initial file:" + path + ": "));
      CHECK(msg.find('\n') == std::string::npos);
      return msg;
    };

    SUBCASE("missing file") { CHECK(message(dir.file("nope.h5")).find("no such file") != std::string::npos); }

    SUBCASE("a text file that is not HDF5") {
      const std::string path = dir.file("notes.h5");
      std::ofstream(path) << "density = 1\n";
      CHECK(message(path).find("not an HDF5 file") != std::string::npos);
    }

    SUBCASE("an HDF5 file without a density") {
      const std::string path = dir.file("empty.h5");
      h5::create_file(path);
      CHECK(message(path).find("no density dataset") != std::string::npos);
    }

    SUBCASE("wrong shape") {
      const std::string msg = message(write_density_file(dir, "t.h5", {8, 4}, ramp(32)));
      CHECK(msg.find("has shape (8, 4), expected (4, 8)") != std::string::npos);
    }

    SUBCASE("wrong rank") {
      const std::string msg = message(write_density_file(dir, "r.h5", {32}, ramp(32)));
      CHECK(msg.find("has shape (32,), expected (4, 8)") != std::string::npos);
    }

    SUBCASE("negative value") {
      std::vector<double> q = ramp(32);
      q[11] = -1e-3;
      q[20] = -2.0;
      const std::string msg = message(write_density_file(dir, "n.h5", {4, 8}, q));
      CHECK(msg.find("2 negative values (first at index (1, 3))") != std::string::npos);
    }

    SUBCASE("NaN") {
      std::vector<double> q = ramp(32);
      q[9] = std::numeric_limits<double>::quiet_NaN();
      const std::string msg = message(write_density_file(dir, "nan.h5", {4, 8}, q));
      CHECK(msg.find("1 non-finite value (first at index (1, 1))") != std::string::npos);
    }
  }

  TEST_CASE("read_output_summary rejects files that are not wgflow outputs") {
    TempDir dir;
    const std::string path = write_density_file(dir, "plain.h5", {2}, {1.0, 2.0});
    const std::string msg = error_of([&] { read_output_summary(path); });
    CHECK(msg == path + ": not a wgflow output (no root attribute format=\"wgflow\")");
    CHECK(starts_with(error_of([&] { read_snapshot(dir.file("none.h5"), -1); }),
                      dir.file("none.h5") + ": no such file"));
  }
}
