#include "io/snapshot_writer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "io/h5.hpp"

namespace wgflow {

namespace {

constexpr const char* k_diagnostics_columns[] = {"time", "dt", "mass", "energy", "dissipation", "min",
                                                 "max"};

/// Columns only f-divergence runs write (their rows are not NaN): created with the run's first row.
struct OptionalColumn {
  const char* name;
  double DiagnosticsRow::*field;
};
constexpr OptionalColumn k_optional_columns[] = {{"l1_to_target", &DiagnosticsRow::l1_to_target},
                                                 {"w2_to_target", &DiagnosticsRow::w2_to_target}};

/// Reopens the output for writing. A reader (ParaView, h5py) holding the file open makes HDF5's
/// file lock fail; such reads are short, so retry for about two seconds before giving up.
h5::File reopen_for_writing(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    try {
      return h5::open_file(path, true);
    } catch (const std::runtime_error& e) {
      if (attempt >= 20)
        throw std::runtime_error(std::string(e.what()) +
                                 " (waited 2 s; is another program holding the file open?)");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

/// Appends history.rows[first..] to the /diagnostics columns; returns the new row count.
std::size_t append_diagnostics(hid_t file, const DiagnosticsHistory& history, std::size_t first) {
  if (history.size() < first)
    throw std::logic_error("SnapshotWriter: diagnostics history shrank from " + std::to_string(first) +
                           " to " + std::to_string(history.size()) + " rows");
  if (history.size() == first) return first;
  const std::size_t n = history.size() - first;
  std::vector<std::vector<double>> columns(7, std::vector<double>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const DiagnosticsRow& r = history.rows[first + i];
    const double values[7] = {r.time, r.dt, r.mass, r.energy, r.dissipation, r.min, r.max};
    for (std::size_t c = 0; c < 7; ++c) columns[c][i] = values[c];
  }
  h5::Group group = h5::open_group(file, "diagnostics");
  for (std::size_t c = 0; c < 7; ++c) h5::append_1d(group.id(), k_diagnostics_columns[c], columns[c]);
  for (const OptionalColumn& column : k_optional_columns) {
    const bool exists = h5::link_exists(group.id(), column.name);
    if (!exists && !(first == 0 && !std::isnan(history.rows.front().*column.field))) continue;
    if (!exists) h5::create_extendible_1d(group.id(), column.name);
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = history.rows[first + i].*column.field;
    h5::append_1d(group.id(), column.name, values);
  }
  return history.size();
}

template <class T, std::size_t N>
std::vector<T> reversed(const std::array<T, N>& a) {
  return std::vector<T>(a.rbegin(), a.rend());
}

}  // namespace

std::string snapshot_group_name(int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06d", index);
  return buf;
}

template <int Dim>
SnapshotWriter<Dim>::SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid,
                                    const RunMetadata& meta, bool overwrite)
    : m_path(path), m_xdmf_path(xdmf_path_for(path)), m_grid(grid) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !overwrite)
    throw std::runtime_error("output " + path + " exists; pass --overwrite to replace it");
  // A sidecar left from an earlier run would point at snapshots this run has not written yet.
  std::filesystem::remove(m_xdmf_path, ec);

  // Built under a temporary name and renamed into place, so that a run killed while creating its
  // output never leaves a half-written file under the real name.
  const std::string temporary = path + ".creating";
  {
  h5::File file = h5::create_file(temporary);
  h5::write_attribute(file.id(), "format", "wgflow");
  h5::write_attribute(file.id(), "format_version", 1);
  h5::write_attribute(file.id(), "case", meta.case_name);
  h5::write_attribute(file.id(), "config", meta.config_text);
  h5::write_attribute(file.id(), "version", WGFLOW_VERSION);
#ifdef WGFLOW_GIT_HASH
  h5::write_attribute(file.id(), "git_hash", WGFLOW_GIT_HASH);
#endif

  std::array<long, Dim> shape{};
  std::array<double, Dim> spacing{};
  std::array<std::string, Dim> boundary{};
  for (int k = 0; k < Dim; ++k) {
    shape[k] = grid.shape[k];
    spacing[k] = grid.dx(k);
    boundary[k] = to_string(grid.boundary[k]);
  }
  std::string axes;
  std::string boundaries;
  static const char* axis_names[] = {"x", "y", "z"};
  for (int k = Dim - 1; k >= 0; --k) {
    axes += axis_names[k];
    boundaries += boundary[k];
    if (k > 0) {
      axes += ',';
      boundaries += ',';
    }
  }
  h5::Group grid_group = h5::create_group(file.id(), "grid");
  h5::write_attribute(grid_group.id(), "dim", Dim);
  h5::write_attribute(grid_group.id(), "shape", reversed(shape));
  h5::write_attribute(grid_group.id(), "lower", reversed(grid.lower));
  h5::write_attribute(grid_group.id(), "upper", reversed(grid.upper));
  h5::write_attribute(grid_group.id(), "spacing", reversed(spacing));
  h5::write_attribute(grid_group.id(), "axes", axes);
  h5::write_attribute(grid_group.id(), "boundary", boundaries);

  h5::create_group(file.id(), "steps");
  h5::Group diagnostics = h5::create_group(file.id(), "diagnostics");
  for (const char* column : k_diagnostics_columns) h5::create_extendible_1d(diagnostics.id(), column);
  h5::flush(file.id());
  }
  std::filesystem::rename(temporary, path);
}

template <int Dim>
SnapshotWriter<Dim>::SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const Resume& resume)
    : m_path(path), m_xdmf_path(xdmf_path_for(path)), m_grid(grid), m_diagnostics_written(resume.keep_rows) {
  {
    h5::File file = reopen_for_writing(path);
    h5::Group steps = h5::open_group(file.id(), "steps");
    for (const std::string& name : h5::child_names(steps.id())) {
      if (std::stoi(name) >= resume.keep_snapshots) {
        h5::delete_link(steps.id(), name);
        continue;
      }
      h5::Group group = h5::open_group(steps.id(), name);
      h5::Dataset density = h5::open_dataset(group.id(), "density");
      m_snapshots.push_back({"/steps/" + name + "/density", h5::read_double_attribute(density.id(), "time"),
                             h5::read_double_attribute(group.id(), "mass"),
                             h5::read_double_attribute(group.id(), "energy")});
    }
    h5::Group diagnostics = h5::open_group(file.id(), "diagnostics");
    for (const char* column : k_diagnostics_columns) h5::truncate_1d(diagnostics.id(), column, resume.keep_rows);
    for (const OptionalColumn& column : k_optional_columns)
      if (h5::link_exists(diagnostics.id(), column.name))
        h5::truncate_1d(diagnostics.id(), column.name, resume.keep_rows);
    h5::flush(file.id());
  }
  write_xdmf(m_xdmf_path, std::filesystem::path(m_path).filename().string(), xdmf_geometry(m_grid), m_snapshots);
}

template <int Dim>
void SnapshotWriter<Dim>::write_snapshot(const std::vector<double>& density, double time, long step,
                                         const DiagnosticsHistory& history,
                                         const std::vector<double>& stepper_state) {
  if (density.size() != m_grid.num_cells())
    throw std::invalid_argument("SnapshotWriter: density has " + std::to_string(density.size()) +
                                " values, the grid has " + std::to_string(m_grid.num_cells()) +
                                " cells");
  std::size_t bad = 0;
  std::size_t first_bad = 0;
  for (std::size_t i = 0; i < density.size(); ++i) {
    if (!std::isfinite(density[i]) && bad++ == 0) first_bad = i;
  }
  if (bad > 0)
    throw std::runtime_error("refusing to write snapshot at step " + std::to_string(step) + " (t = " +
                             format_double(time) + "): density has " + std::to_string(bad) +
                             " non-finite values, first at flat index " + std::to_string(first_bad));
  if (history.size() == 0)
    throw std::logic_error("SnapshotWriter: write_snapshot needs the diagnostics row of this state");

  const std::string name = snapshot_group_name(snapshots_written());
  const DiagnosticsRow& row = history.back();
  {
    h5::File file = reopen_for_writing(m_path);
    h5::Group steps = h5::open_group(file.id(), "steps");
    h5::Group group = h5::create_group(steps.id(), name);
    std::vector<hsize_t> dims(m_grid.shape.rbegin(), m_grid.shape.rend());
    {
      h5::Dataset dset = h5::write_dataset(group.id(), "density", dims, density.data());
      h5::write_attribute(dset.id(), "time", time);
      h5::write_attribute(dset.id(), "step", step);
    }
    h5::write_attribute(group.id(), "mass", row.mass);
    h5::write_attribute(group.id(), "energy", row.energy);
    if (!stepper_state.empty()) h5::write_attribute(group.id(), "stepper_state", stepper_state);
    m_diagnostics_written = append_diagnostics(file.id(), history, m_diagnostics_written);
    h5::flush(file.id());
  }  // closed here: no lock is held between snapshots

  m_snapshots.push_back({"/steps/" + name + "/density", time, row.mass, row.energy});
  write_xdmf(m_xdmf_path, std::filesystem::path(m_path).filename().string(),
             xdmf_geometry(m_grid), m_snapshots);
}

template <int Dim>
void SnapshotWriter<Dim>::flush_diagnostics(const DiagnosticsHistory& history) {
  if (history.size() == m_diagnostics_written) return;
  h5::File file = reopen_for_writing(m_path);
  m_diagnostics_written = append_diagnostics(file.id(), history, m_diagnostics_written);
  h5::flush(file.id());
}

template class SnapshotWriter<1>;
template class SnapshotWriter<2>;
template class SnapshotWriter<3>;

}  // namespace wgflow
