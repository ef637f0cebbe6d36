#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "io/checkpoint.hpp"
#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/snapshot_writer.hpp"
#include "tests/io/io_test_util.hpp"

using namespace wgflow;
using wgflow::io_test::error_of;
using wgflow::io_test::same_bits;
using wgflow::io_test::TempDir;

namespace {

/// A density with values that are not round in binary, different for each snapshot.
std::vector<double> make_density(std::size_t n, int snapshot) {
  std::vector<double> q(n);
  for (std::size_t i = 0; i < n; ++i) q[i] = 1.0 + std::sin(0.37 * double(i) + snapshot) / 3.0;
  return q;
}

DiagnosticsRow make_row(int k) {
  const double t = 0.1 * k;
  return {t, k == 0 ? 0.0 : 0.1, 1.0 + 1e-15 * k, -std::log1p(t), 0.5 / (1 + k), 0.01 * k, 2.0 - t};
}

/// An output at `path` holding one snapshot (make_density(cells, 0)) and one diagnostics row.
template <int Dim>
void write_one_snapshot(const std::string& path, const UniformGrid<Dim>& grid, const std::string& case_name) {
  DiagnosticsHistory history;
  history.push_back(make_row(0));
  SnapshotWriter<Dim> writer(path, grid, {case_name, ""}, false);
  writer.write_snapshot(make_density(grid.num_cells(), 0), 0.0, 0, history);
}

/// True if this process holds an open file descriptor on `path`.
bool process_has_open(const std::string& path) {
  const auto target = std::filesystem::canonical(path);
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto link = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && link == target) return true;
  }
  return false;
}

/// Writes 3 snapshots (two accepted steps between them) plus one trailing row, then reads it back.
template <int Dim>
void check_round_trip(const UniformGrid<Dim>& grid, const std::vector<long>& shape_zyx,
                      const std::string& axes, const std::string& boundary) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const RunMetadata meta{"porous-medium", "[run]\ncase = porous-medium\nt_end = 0.4\n"};
  std::vector<std::vector<double>> written;
  DiagnosticsHistory history;
  {
    SnapshotWriter<Dim> writer(path, grid, meta, false);
    CHECK(writer.snapshots_written() == 0);
    for (int s = 0; s < 3; ++s) {
      for (int k = 0; k < (s == 0 ? 1 : 2); ++k) history.push_back(make_row(int(history.size())));
      written.push_back(make_density(grid.num_cells(), s));
      writer.write_snapshot(written.back(), history.back().time, long(history.size()) - 1, history);
      CHECK(writer.snapshots_written() == s + 1);
      CHECK_FALSE(process_has_open(path));
      CHECK_FALSE(process_has_open(dir.file("run.h5.d/" + snapshot_group_name(s) + ".h5")));
    }
    history.push_back(make_row(int(history.size())));
    writer.flush_diagnostics(history);
    CHECK_FALSE(process_has_open(path));
  }

  const OutputSummary s = read_output_summary(path);
  CHECK(s.dim == Dim);
  CHECK(s.shape_zyx == shape_zyx);
  CHECK(s.axes == axes);
  CHECK(s.boundary == boundary);
  CHECK(s.case_name == meta.case_name);
  CHECK(s.config_text == meta.config_text);
  CHECK(s.format_version == 2);
  CHECK(s.version == WGFLOW_VERSION);
  for (int k = 0; k < Dim; ++k) {
    CHECK(same_bits(s.lower_zyx[Dim - 1 - k], grid.lower[k]));
    CHECK(same_bits(s.upper_zyx[Dim - 1 - k], grid.upper[k]));
  }
  REQUIRE(s.snapshot_times.size() == 3);
  CHECK(same_bits(s.snapshot_times, std::vector<double>{0.0, 0.2, 0.4}));
  CHECK(s.snapshot_steps == std::vector<long>{0, 2, 4});
  REQUIRE(s.diagnostics.size() == history.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    const DiagnosticsRow& a = s.diagnostics.rows[i];
    const DiagnosticsRow& b = history.rows[i];
    CHECK(same_bits({a.time, a.dt, a.mass, a.energy, a.dissipation, a.min, a.max},
                    {b.time, b.dt, b.mass, b.energy, b.dissipation, b.min, b.max}));
  }
  for (int i = 0; i < 3; ++i) CHECK(same_bits(read_snapshot(path, i), written[i]));
  CHECK(same_bits(read_snapshot(path, -1), written[2]));
  CHECK(error_of([&] { read_snapshot(path, 3); }).find("out of range (3 snapshots)") != std::string::npos);

  // Raw layout: dataset shape, per-snapshot attributes, grid spacing.
  h5::File file = h5::open_file(path, false);
  h5::Dataset dset = h5::open_dataset(file.id(), "/steps/000001/density");
  CHECK(h5::dataset_dims(dset.id()) == std::vector<hsize_t>(shape_zyx.begin(), shape_zyx.end()));
  CHECK(h5::read_long_attribute(dset.id(), "step") == 2);
  h5::Group step = h5::open_group(file.id(), "/steps/000001");
  CHECK(same_bits(h5::read_double_attribute(step.id(), "mass"), history.rows[2].mass));
  CHECK(same_bits(h5::read_double_attribute(step.id(), "energy"), history.rows[2].energy));
  h5::Group g = h5::open_group(file.id(), "grid");
  const std::vector<double> spacing = h5::read_double_vector_attribute(g.id(), "spacing");
  for (int k = 0; k < Dim; ++k) CHECK(same_bits(spacing[Dim - 1 - k], grid.dx(k)));
  CHECK(h5::read_string_attribute(file.id(), "format") == "wgflow");

  // One file per snapshot, linked from the main file; nothing else, no temporary left behind.
  CHECK(h5::external_link_target(file.id(), "/steps/000001") == "run.h5.d/000001.h5");
  CHECK(dir.listing() == std::vector<std::string>{"run.h5", "run.h5.d", "run.xmf"});
  CHECK(dir.listing("run.h5.d") ==
        std::vector<std::string>{"000000.h5", "000001.h5", "000002.h5", "diagnostics-tail.h5"});
  // Each snapshot file holds the diagnostics rows since the previous snapshot (the tail file the row
  // after the last); the main file's columns are views of those pieces, rebuilt in O(snapshots).
  const std::vector<std::size_t> piece_rows{1, 2, 2};
  std::size_t row = 0;
  for (int k = 0; k < 3; ++k) {
    h5::Dataset piece = h5::open_dataset(file.id(), "/steps/" + snapshot_group_name(k) + "/diagnostics/mass");
    const std::vector<double> values = h5::read_dataset(piece.id());
    REQUIRE(values.size() == piece_rows[k]);
    for (double v : values) CHECK(same_bits(v, history.rows[row++].mass));
  }

  // Sidecar: three grids pointing at the three snapshot files.
  const std::string xmf = wgflow::io_test::read_text(dir.file("run.xmf"));
  CHECK(xmf.find("run.h5.d/000002.h5:/density") != std::string::npos);
  CHECK(xmf.find("snapshot_000003") == std::string::npos);
  if (std::system("python3 -c 'import xml.dom.minidom' > /dev/null 2>&1") == 0) {
    const std::string cmd = "python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' '" +
                            dir.file("run.xmf") + "'";
    CHECK_MESSAGE(std::system(cmd.c_str()) == 0, "run.xmf is not well-formed XML");
  }
}

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("snapshot writer: 2D run with 3 snapshots reads back bitwise") {
    UniformGrid<2> g;
    g.shape = {8, 4};
    g.lower = {-1.0, 0.0};
    g.upper = {1.0, 0.3};
    g.boundary = {Boundary::periodic, Boundary::no_flux};
    check_round_trip(g, {4, 8}, "y,x", "no-flux,periodic");
  }

  TEST_CASE("snapshot writer: 3D run with 3 snapshots reads back bitwise") {
    UniformGrid<3> g;
    g.shape = {5, 4, 3};
    g.lower = {0.0, -0.5, 0.1};
    g.upper = {1.0, 0.5, 0.7};
    g.boundary = {Boundary::no_flux, Boundary::no_flux, Boundary::periodic};
    check_round_trip(g, {3, 4, 5}, "z,y,x", "periodic,no-flux,no-flux");
  }

  TEST_CASE("snapshot writer: 1D run reads back bitwise") {
    check_round_trip(make_cube_grid<1>(7, 0.0, 1.0, Boundary::no_flux), {7}, "x", "no-flux");
  }

  TEST_CASE("snapshot writer refuses to replace an output unless told to") {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const auto grid = make_cube_grid<2>(4, 0.0, 1.0, Boundary::periodic);
    write_one_snapshot(path, grid, "a");
    REQUIRE(std::filesystem::exists(dir.file("run.xmf")));
    const std::string msg = error_of([&] { SnapshotWriter<2>(path, grid, {"b", ""}, false); });
    CHECK(msg == "output " + path + " exists; pass --overwrite to replace it");
    CHECK(read_output_summary(path).case_name == "a");

    SnapshotWriter<2> writer(path, grid, {"b", ""}, true);
    const OutputSummary s = read_output_summary(path);
    CHECK(s.case_name == "b");
    CHECK(s.snapshot_times.empty());
    CHECK(s.diagnostics.size() == 0);
    CHECK_FALSE(std::filesystem::exists(dir.file("run.xmf")));  // stale sidecar removed
  }

  TEST_CASE("snapshot writer never writes a NaN or Inf density") {
    TempDir dir;
    const std::string path = dir.file("nan");  // no .h5 suffix: sidecar is nan.xmf
    SnapshotWriter<1> writer(path, make_cube_grid<1>(5, 0.0, 1.0, Boundary::no_flux), {"c", ""}, false);
    CHECK(writer.xdmf_path() == path + ".xmf");
    DiagnosticsHistory history;
    history.push_back(make_row(0));
    std::vector<double> q = make_density(5, 0);
    q[3] = std::numeric_limits<double>::quiet_NaN();
    q[4] = std::numeric_limits<double>::infinity();
    const std::string msg = error_of([&] { writer.write_snapshot(q, 0.0, 0, history); });
    CHECK(msg.find("refusing to write snapshot at step 0") == 0);
    CHECK(msg.find("2 non-finite values, first at flat index 3") != std::string::npos);
    CHECK(writer.snapshots_written() == 0);
    CHECK(read_output_summary(path).snapshot_times.empty());
    CHECK_FALSE(std::filesystem::exists(path + ".xmf"));

    CHECK_THROWS_AS(writer.write_snapshot(std::vector<double>(4, 1.0), 0.0, 0, history),
                    std::invalid_argument);
    CHECK_THROWS_AS(writer.write_snapshot(make_density(5, 0), 0.0, 0, DiagnosticsHistory{}),
                    std::logic_error);

    writer.write_snapshot(make_density(5, 0), 0.0, 0, history);  // the writer is still usable
    CHECK(writer.snapshots_written() == 1);
    CHECK(same_bits(read_snapshot(path, 0), make_density(5, 0)));
    CHECK(std::filesystem::exists(path + ".xmf"));
  }

  TEST_CASE("snapshot writer: a restart drops the files a killed run left after its last linked snapshot") {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const auto grid = make_cube_grid<1>(6, 0.0, 1.0, Boundary::no_flux);
    DiagnosticsHistory history;
    {
      SnapshotWriter<1> writer(path, grid, {"heat", "[run]\n"}, false);
      for (int s = 0; s < 3; ++s) {
        history.push_back(make_row(s));
        writer.write_snapshot(make_density(6, s), history.back().time, s, history);
      }
    }
    // What a kill between two renames, or in the middle of writing, leaves behind.
    std::filesystem::copy_file(dir.file("run.h5.d/000002.h5"), dir.file("run.h5.d/000003.h5"));
    std::filesystem::copy_file(dir.file("run.h5.d/000002.h5"), dir.file("run.h5.d/000004.h5.tmp"));
    std::filesystem::copy_file(path, path + ".tmp");
    {
      SnapshotWriter<1> writer(path, grid, SnapshotWriter<1>::Resume{2, 2});
      CHECK(writer.snapshots_written() == 2);
    }
    CHECK(dir.listing() == std::vector<std::string>{"run.h5", "run.h5.d", "run.xmf"});
    CHECK(dir.listing("run.h5.d") == std::vector<std::string>{"000000.h5", "000001.h5"});
    const OutputSummary s = read_output_summary(path);
    CHECK(s.snapshot_times.size() == 2);
    CHECK(s.diagnostics.size() == 2);
    CHECK(s.case_name == "heat");
    const std::string xmf = wgflow::io_test::read_text(dir.file("run.xmf"));
    CHECK(xmf.find("snapshot_000001") != std::string::npos);
    CHECK(xmf.find("snapshot_000002") == std::string::npos);
  }

  TEST_CASE("snapshot writer: --overwrite deletes only what wgflow wrote") {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const auto grid = make_cube_grid<1>(4, 0.0, 1.0, Boundary::no_flux);
    write_one_snapshot(path, grid, "a");
    std::ofstream(dir.file("run.h5.d/notes.txt")) << "mine";
    const std::string msg = error_of([&] { SnapshotWriter<1>(path, grid, {"b", ""}, true); });
    CHECK(msg.find("holds 'notes.txt', which wgflow did not write") != std::string::npos);
    CHECK(read_output_summary(path).case_name == "a");  // nothing was deleted
    CHECK(same_bits(read_snapshot(path, 0), make_density(4, 0)));

    // A snapshot directory without its main file (a kill while a run was being created) is an
    // output too: kept unless --overwrite.
    std::filesystem::remove(dir.file("run.h5.d/notes.txt"));
    std::filesystem::remove(path);
    CHECK(error_of([&] { SnapshotWriter<1>(path, grid, {"b", ""}, false); }).find("exists") != std::string::npos);
    SnapshotWriter<1> writer(path, grid, {"b", ""}, true);
    CHECK(dir.listing("run.h5.d").empty());
  }

  TEST_CASE("snapshot writer: a main file moved without its snapshot directory says what is missing") {
    TempDir dir;
    std::filesystem::create_directory(dir.file("a"));
    const std::string path = dir.file("a/run.h5");
    write_one_snapshot(path, make_cube_grid<1>(4, 0.0, 1.0, Boundary::no_flux), "a");
    std::filesystem::copy_file(path, dir.file("moved.h5"));
    const std::string msg = error_of([&] { read_output_summary(dir.file("moved.h5")); });
    CHECK(msg.find("snapshot 000000 is stored in") != std::string::npos);
    CHECK(msg.find("which does not exist (keep the directory run.h5.d/ next to moved.h5)") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }

  TEST_CASE("restart refuses an output of another format version") {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    write_one_snapshot(path, make_cube_grid<1>(4, 0.0, 1.0, Boundary::no_flux), "heat");
    CHECK(read_restart_point(path).step == 0);
    {
      h5::File file = h5::open_file(path, true);
      h5::write_attribute(file.id(), "format_version", 1);
    }
    const std::string msg = error_of([&] { read_restart_point(path); });
    CHECK(msg.find("written in output format 1 by wgflow") != std::string::npos);
  }

  TEST_CASE("snapshot writer: 130 snapshots read back through diagnostics blocks and survive a restart in between") {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const auto grid = make_cube_grid<1>(4, 0.0, 1.0, Boundary::no_flux);
    DiagnosticsHistory history;
    std::vector<std::size_t> rows_at;  // history size at each snapshot
    const auto write = [&](SnapshotWriter<1>& writer, int s) {
      for (int k = 0; k < (s == 0 ? 1 : 1 + s % 3); ++k) history.push_back(make_row(int(history.size())));
      writer.write_snapshot(make_density(4, s), history.back().time, long(history.size()) - 1, history);
    };
    {
      SnapshotWriter<1> writer(path, grid, {"heat", ""}, false);
      for (int s = 0; s < 130; ++s) {
        write(writer, s);
        rows_at.push_back(history.size());
      }
      writer.flush_diagnostics(history);  // the run loop's last call: the main file lists all 130
    }
    const auto check_all = [&] {
      const OutputSummary summary = read_output_summary(path);
      REQUIRE(summary.snapshot_times.size() == 130);
      REQUIRE(summary.diagnostics.size() == history.size());
      for (std::size_t r = 0; r < history.size(); ++r) CHECK(same_bits(summary.diagnostics.rows[r].time, history.rows[r].time));
      CHECK(same_bits(read_snapshot(path, 129), make_density(4, 129)));
    };
    check_all();
    const std::vector<std::string> files = dir.listing("run.h5.d");
    CHECK(std::count(files.begin(), files.end(), "diagnostics-block-000000.h5") == 1);
    CHECK(std::count(files.begin(), files.end(), "diagnostics-block-000001.h5") == 1);
    CHECK(std::count(files.begin(), files.end(), "diagnostics-block-000002.h5") == 0);

    // Continue from snapshot 99 (block 1 now lies beyond it and goes), then write 100..129 again.
    history.rows.resize(rows_at[99]);
    {
      SnapshotWriter<1> writer(path, grid, SnapshotWriter<1>::Resume{100, rows_at[99]});
      const std::vector<std::string> kept = dir.listing("run.h5.d");
      CHECK(std::count(kept.begin(), kept.end(), "diagnostics-block-000001.h5") == 0);
      CHECK(read_output_summary(path).diagnostics.size() == rows_at[99]);
      for (int s = 100; s < 130; ++s) write(writer, s);
      writer.flush_diagnostics(history);
    }
    check_all();
  }
}

TEST_SUITE("io") {
TEST_CASE("snapshot arrays are written beside the density and read through the main file") {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  UniformGrid<2> grid;
  grid.shape = {4, 3};
  grid.lower = {0.0, 0.0};
  grid.upper = {1.0, 1.0};
  DiagnosticsHistory history;
  history.push_back(make_row(0));
  const SnapshotArray positions{"particles", {3, 2}, {0.1, 0.2, 0.3, 0.4, 0.5, 1.0 / 3.0}};
  {
    SnapshotWriter<2> writer(path, grid, {"heat", ""}, false);
    writer.write_snapshot(make_density(grid.num_cells(), 0), 0.0, 0, history, {}, {positions});
    // Nothing non-finite is ever written as a result: the snapshot is refused whole.
    SnapshotArray bad = positions;
    bad.values[4] = std::numeric_limits<double>::quiet_NaN();
    history.push_back(make_row(1));
    CHECK(error_of([&] { writer.write_snapshot(make_density(grid.num_cells(), 1), 0.1, 1, history, {}, {bad}); })
              .find("particles has a non-finite value at flat index 4") != std::string::npos);
    CHECK(writer.snapshots_written() == 1);
  }
  h5::File file = h5::open_file(path, false);
  h5::Dataset dset = h5::open_dataset(file.id(), "/steps/000000/particles");
  CHECK(h5::dataset_dims(dset.id()) == std::vector<hsize_t>{3, 2});
  CHECK(same_bits(h5::read_dataset(dset.id()), positions.values));
}
}

TEST_SUITE("io") {
// A run's memory must not grow with its steps: the run loop forgets the rows the writer has put in files
// (rows files every k_rows_per_file rows between snapshots), and a restart continues from the pieces.
TEST_CASE("snapshot writer: rows files between snapshots let the history forget its rows and survive a restart") {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const auto grid = make_cube_grid<1>(4, 0.0, 1.0, Boundary::no_flux);
  constexpr std::size_t per_file = SnapshotWriter<1>::k_rows_per_file;
  std::vector<DiagnosticsRow> all;  // every row, to compare with what the files hold
  DiagnosticsHistory history;       // the window the run loop keeps
  std::size_t largest_window = 0;
  const auto step = [&](SnapshotWriter<1>& writer) {
    all.push_back(make_row(int(all.size())));
    history.push_back(all.back());
    writer.write_rows_if_due(history);
    history.forget_before(writer.rows_written());
    largest_window = std::max(largest_window, history.rows.size());
  };
  std::vector<std::size_t> rows_at;  // rows when each snapshot was written
  const auto snapshot = [&](SnapshotWriter<1>& writer, int s) {
    writer.write_snapshot(make_density(4, s), history.back().time, long(all.size()) - 1, history);
    history.forget_before(writer.rows_written());
    rows_at.push_back(all.size());
  };
  {
    SnapshotWriter<1> writer(path, grid, {"heat", ""}, false);
    step(writer);
    snapshot(writer, 0);
    // 2.5 rows files' worth before snapshot 1, then 66 snapshots a few rows apart: 70 pieces, one block.
    for (std::size_t k = 0; k < 5 * per_file / 2; ++k) step(writer);
    snapshot(writer, 1);
    for (int s = 2; s < 68; ++s) {
      for (int k = 0; k < 3; ++k) step(writer);
      snapshot(writer, s);
    }
    for (int k = 0; k < 5; ++k) step(writer);  // rows after the last snapshot go to the tail file
    writer.flush_diagnostics(history);
  }
  CHECK(largest_window <= per_file);
  const std::vector<std::string> files = dir.listing("run.h5.d");
  CHECK(std::count_if(files.begin(), files.end(), [](const std::string& f) { return f.rfind("diagnostics-rows-", 0) == 0; }) == 2);
  CHECK(std::count(files.begin(), files.end(), "diagnostics-block-000000.h5") == 1);
  const auto check_rows = [&](std::size_t count) {
    const OutputSummary summary = read_output_summary(path);
    REQUIRE(summary.diagnostics.size() == count);
    bool same = true;
    for (std::size_t r = 0; r < count; ++r) same = same && same_bits(summary.diagnostics.rows[r].energy, all[r].energy);
    CHECK(same);
  };
  check_rows(all.size());

  // Killed after snapshot 1 (rows files before it stay, none after it existed): continue from it.
  all.resize(rows_at[1]);
  history = DiagnosticsHistory{};
  {
    SnapshotWriter<1> writer(path, grid, SnapshotWriter<1>::Resume{2, rows_at[1]});
    CHECK(writer.rows_written() == rows_at[1]);
    const std::vector<std::string> kept = dir.listing("run.h5.d");
    CHECK(std::count(kept.begin(), kept.end(), "diagnostics-block-000000.h5") == 0);
    history.initial = all.front();
    history.first = rows_at[1] - 1;
    history.rows = {all.back()};
    for (std::size_t k = 0; k < per_file + 10; ++k) step(writer);  // one more rows file, then a snapshot
    snapshot(writer, 2);
    writer.flush_diagnostics(history);
  }
  check_rows(all.size());
  CHECK(read_output_summary(path).snapshot_times.size() == 3);
  const auto rows_files = [&] {
    const std::vector<std::string> names = dir.listing("run.h5.d");
    return std::count_if(names.begin(), names.end(), [](const std::string& f) { return f.rfind("diagnostics-rows-", 0) == 0; });
  };
  CHECK(rows_files() == 3);
  // Back to snapshot 0: every rows file lies beyond it and goes.
  { SnapshotWriter<1> writer(path, grid, SnapshotWriter<1>::Resume{1, rows_at[0]}); }
  CHECK(rows_files() == 0);
  check_rows(rows_at[0]);
}
}
