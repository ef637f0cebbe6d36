#include "io/snapshot_writer.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "io/h5.hpp"
#include "io/initial_file.hpp"

namespace wgflow {

namespace {

constexpr const char* k_diagnostics_columns[] = {"time", "dt", "mass", "energy", "dissipation", "min",
                                                 "max"};

/// Columns only f-divergence runs fill (their rows are not NaN): written when the first row has one.
struct OptionalColumn {
  const char* name;
  double DiagnosticsRow::*field;
};
constexpr OptionalColumn k_optional_columns[] = {{"l1_to_target", &DiagnosticsRow::l1_to_target},
                                                 {"w2_to_target", &DiagnosticsRow::w2_to_target}};

void write_column(hid_t group, const char* name, const std::vector<DiagnosticsRow>& rows,
                  double DiagnosticsRow::*field) {
  std::vector<double> values(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) values[i] = rows[i].*field;
  h5::write_dataset(group, name, {values.size()}, values.data());
}

/// /diagnostics: one column per quantity, one row per accepted step.
void write_diagnostics(hid_t file, const std::vector<DiagnosticsRow>& rows) {
  h5::Group group = h5::create_group(file, "diagnostics");
  constexpr double DiagnosticsRow::*fields[] = {&DiagnosticsRow::time,        &DiagnosticsRow::dt,
                                                &DiagnosticsRow::mass,        &DiagnosticsRow::energy,
                                                &DiagnosticsRow::dissipation, &DiagnosticsRow::min,
                                                &DiagnosticsRow::max};
  for (std::size_t c = 0; c < 7; ++c) write_column(group.id(), k_diagnostics_columns[c], rows, fields[c]);
  for (const OptionalColumn& column : k_optional_columns)
    if (!rows.empty() && !std::isnan(rows.front().*column.field))
      write_column(group.id(), column.name, rows, column.field);
}

template <class T, std::size_t N>
std::vector<T> reversed(const std::array<T, N>& a) {
  return std::vector<T>(a.rbegin(), a.rend());
}

/// /grid attributes, all in dataset order (z, y, x).
template <int Dim>
void write_grid(hid_t file, const UniformGrid<Dim>& grid) {
  std::array<long, Dim> shape{};
  std::array<double, Dim> spacing{};
  std::string axes, boundaries;
  static const char* axis_names[] = {"x", "y", "z"};
  for (int k = Dim - 1; k >= 0; --k) {
    shape[k] = grid.shape[k];
    spacing[k] = grid.dx(k);
    axes += std::string(axis_names[k]) + (k > 0 ? "," : "");
    boundaries += to_string(grid.boundary[k]) + (k > 0 ? "," : "");
  }
  h5::Group group = h5::create_group(file, "grid");
  h5::write_attribute(group.id(), "dim", Dim);
  h5::write_attribute(group.id(), "shape", reversed(shape));
  h5::write_attribute(group.id(), "lower", reversed(grid.lower));
  h5::write_attribute(group.id(), "upper", reversed(grid.upper));
  h5::write_attribute(group.id(), "spacing", reversed(spacing));
  h5::write_attribute(group.id(), "axes", axes);
  h5::write_attribute(group.id(), "boundary", boundaries);
}

}  // namespace

template <int Dim>
SnapshotWriter<Dim>::SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid,
                                    const RunMetadata& meta, bool overwrite)
    : m_paths(output_paths(path)), m_grid(grid) {
  if (output_exists(m_paths)) {
    if (!overwrite) throw std::runtime_error("output " + path + " exists; pass --overwrite to replace it");
    remove_output(m_paths);
  }
  std::error_code ec;
  std::filesystem::remove(m_paths.xdmf, ec);  // a sidecar of an earlier run would name other snapshots
  m_header = {meta.case_name, meta.config_text, WGFLOW_VERSION, ""};
#ifdef WGFLOW_GIT_HASH
  m_header.git_hash = WGFLOW_GIT_HASH;
#endif
  // The main file first: a run killed before it exists leaves nothing but a temporary file, so the
  // same command can simply be run again; killed after, --restart starts it afresh.
  write_main_file(DiagnosticsHistory{});
  if (!std::filesystem::create_directory(m_paths.directory, ec)) {
    std::filesystem::remove(m_paths.main, ec);
    throw std::runtime_error("cannot create the snapshot directory '" + m_paths.directory + "'");
  }
}

template <int Dim>
SnapshotWriter<Dim>::SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const Resume& resume)
    : m_paths(output_paths(path)), m_grid(grid) {
  const OutputSummary summary = read_output_summary(path);
  if (resume.keep_rows > summary.diagnostics.size() ||
      resume.keep_snapshots > static_cast<int>(summary.snapshot_times.size()))
    throw std::logic_error("SnapshotWriter: cannot keep more than " + path + " holds");
  m_header = {summary.case_name, summary.config_text, summary.version, summary.git_hash};
  {
    h5::File file = h5::open_file(path, false);
    for (int i = 0; i < resume.keep_snapshots; ++i) {
      h5::Group snapshot = h5::open_group(file.id(), "/steps/" + snapshot_group_name(i));
      m_snapshots.push_back({m_paths.snapshot_relative(i), "/density", summary.snapshot_times[i],
                             h5::read_double_attribute(snapshot.id(), "mass"),
                             h5::read_double_attribute(snapshot.id(), "energy")});
    }
  }
  DiagnosticsHistory kept;
  kept.rows.assign(summary.diagnostics.rows.begin(),
                   summary.diagnostics.rows.begin() + static_cast<long>(resume.keep_rows));
  write_main_file(kept);  // first, so that nothing links the leftovers removed next
  m_rows_written = kept.size();
  remove_leftovers(m_paths, resume.keep_snapshots);
  write_xdmf(m_paths.xdmf, xdmf_geometry(m_grid), m_snapshots);
}

template <int Dim>
void SnapshotWriter<Dim>::write_main_file(const DiagnosticsHistory& history) const {
  const std::string temporary = m_paths.main + ".tmp";
  {
    h5::File file = h5::create_file(temporary);
    h5::write_attribute(file.id(), "format", "wgflow");
    h5::write_attribute(file.id(), "format_version", k_output_format_version);
    h5::write_attribute(file.id(), "case", m_header.case_name);
    h5::write_attribute(file.id(), "config", m_header.config_text);
    h5::write_attribute(file.id(), "version", m_header.version);
    if (!m_header.git_hash.empty()) h5::write_attribute(file.id(), "git_hash", m_header.git_hash);
    write_grid(file.id(), m_grid);
    h5::Group steps = h5::create_group(file.id(), "steps");
    for (int i = 0; i < snapshots_written(); ++i)
      h5::create_external_link(steps.id(), snapshot_group_name(i), m_paths.snapshot_relative(i), "/");
    write_diagnostics(file.id(), history.rows);
  }
  publish_file(temporary, m_paths.main);
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
  if (history.size() < m_rows_written)
    throw std::logic_error("SnapshotWriter: diagnostics history shrank from " + std::to_string(m_rows_written) +
                           " to " + std::to_string(history.size()) + " rows");

  const int index = snapshots_written();
  const DiagnosticsRow& row = history.back();
  const std::string final_path = m_paths.snapshot(index);
  const std::string temporary = final_path + ".tmp";
  {
    h5::File file = h5::create_file(temporary);
    std::vector<hsize_t> dims(m_grid.shape.rbegin(), m_grid.shape.rend());
    {
      h5::Dataset dset = h5::write_dataset(file.id(), "density", dims, density.data());
      h5::write_attribute(dset.id(), "time", time);
      h5::write_attribute(dset.id(), "step", step);
    }
    h5::write_attribute(file.id(), "mass", row.mass);
    h5::write_attribute(file.id(), "energy", row.energy);
    if (!stepper_state.empty()) h5::write_attribute(file.id(), "stepper_state", stepper_state);
  }
  publish_file(temporary, final_path);

  m_snapshots.push_back({m_paths.snapshot_relative(index), "/density", time, row.mass, row.energy});
  try {
    write_main_file(history);
  } catch (...) {
    m_snapshots.pop_back();
    throw;
  }
  m_rows_written = history.size();
  write_xdmf(m_paths.xdmf, xdmf_geometry(m_grid), m_snapshots);
}

template <int Dim>
void SnapshotWriter<Dim>::flush_diagnostics(const DiagnosticsHistory& history) {
  if (history.size() == m_rows_written) return;
  if (history.size() < m_rows_written)
    throw std::logic_error("SnapshotWriter: diagnostics history shrank from " + std::to_string(m_rows_written) +
                           " to " + std::to_string(history.size()) + " rows");
  write_main_file(history);
  m_rows_written = history.size();
}

template class SnapshotWriter<1>;
template class SnapshotWriter<2>;
template class SnapshotWriter<3>;

}  // namespace wgflow
