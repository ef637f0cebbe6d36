#include "io/snapshot_writer.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "io/diagnostics_columns.hpp"
#include "io/h5.hpp"
#include "io/initial_file.hpp"

namespace wgflow {

namespace {

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

/// An extra snapshot array must be well formed and finite, like the density: nothing non-finite is
/// ever written as a result.
void check_array(const SnapshotArray& array, long step, double time) {
  std::size_t expected = 1;
  for (std::size_t extent : array.shape) expected *= extent;
  if (array.name.empty() || array.name == "density" || array.name.find('/') != std::string::npos ||
      expected != array.values.size())
    throw std::logic_error("SnapshotWriter: malformed snapshot array '" + array.name + "'");
  for (std::size_t i = 0; i < array.values.size(); ++i)
    if (!std::isfinite(array.values[i]))
      throw std::runtime_error("refusing to write snapshot at step " + std::to_string(step) + " (t = " +
                               format_double(time) + "): " + array.name + " has a non-finite value at flat index " +
                               std::to_string(i));
}

/// Snapshot files whose diagnostics rows are also written together into one block file, so that the
/// main file's views map O(snapshots / 64 + 64) pieces instead of one per snapshot.
constexpr int k_snapshots_per_block = 64;

/// Rows of /diagnostics/time in an open block, snapshot or tail file.
std::size_t diagnostics_rows_in(hid_t file) {
  h5::Dataset rows = h5::open_dataset(file, "/diagnostics/time");
  return static_cast<std::size_t>(h5::dataset_dims(rows.id()).at(0));
}

/// Writes rows [first, end) as a file of their own at `path` (attribute first_row), atomically.
void publish_diagnostics_rows(const std::string& path, const std::vector<DiagnosticsRow>& rows, std::size_t first,
                              std::size_t end, const std::vector<std::string>& columns) {
  const std::string temporary = path + ".tmp";
  {
    h5::File file = h5::create_file(temporary);
    h5::write_attribute(file.id(), "first_row", static_cast<long>(first));
    write_diagnostics_rows(file.id(), rows, first, end, columns);
  }
  publish_file(temporary, path);
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
  write_main_file();
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
  if (resume.keep_rows > 0) m_columns = diagnostics_columns(summary.diagnostics.rows.front());
  {
    h5::File file = h5::open_file(path, false);
    for (int i = 0; i < resume.keep_snapshots; ++i) {
      const std::string group = "/steps/" + snapshot_group_name(i);
      h5::Group snapshot = h5::open_group(file.id(), group);
      m_snapshots.push_back({m_paths.relative(m_paths.snapshot(i)), "/density", summary.snapshot_times[i],
                             h5::read_double_attribute(snapshot.id(), "mass"),
                             h5::read_double_attribute(snapshot.id(), "energy"), "", 0, 0});
      if (Dim > 1 && h5::is_dataset(snapshot.id(), "particles")) {  // as write_snapshot lists them
        h5::Dataset particles = h5::open_dataset(snapshot.id(), "particles");
        const std::vector<hsize_t> dims = h5::dataset_dims(particles.id());
        if (dims.size() == 2 && dims[1] == static_cast<hsize_t>(Dim) && dims[0] > 0) {
          m_snapshots.back().particles_dataset = "/particles";
          m_snapshots.back().particles = static_cast<std::size_t>(dims[0]);
          m_snapshots.back().particle_dim = Dim;
        }
      }
      h5::Group rows_of(h5::open_group(file.id(), group));
      m_snapshot_rows.push_back(diagnostics_rows_in(rows_of.id()));
      m_rows_in_snapshots += m_snapshot_rows.back();
    }
  }
  for (int b = 0; b < resume.keep_snapshots / k_snapshots_per_block; ++b) {
    std::size_t rows = 0;
    for (int i = b * k_snapshots_per_block; i < (b + 1) * k_snapshots_per_block; ++i) rows += m_snapshot_rows[i];
    h5::File block = h5::open_file(m_paths.diagnostics_block(b), false);
    if (diagnostics_rows_in(block.id()) != rows)
      throw std::runtime_error(m_paths.diagnostics_block(b) + " does not hold the diagnostics rows of snapshots " +
                               std::to_string(b * k_snapshots_per_block) + " to " +
                               std::to_string((b + 1) * k_snapshots_per_block - 1));
    m_block_rows.push_back(rows);
  }
  // Rows after the last kept snapshot (a SIGINT/SIGTERM stop) are in the tail file written then.
  if (resume.keep_rows < m_rows_in_snapshots)
    throw std::logic_error("SnapshotWriter: " + path + "'s snapshots hold more diagnostics rows than its restart point");
  m_tail_rows = resume.keep_rows - m_rows_in_snapshots;
  if (m_tail_rows > 0) {
    h5::File tail = h5::open_file(m_paths.diagnostics_tail(), false);
    h5::Dataset rows = h5::open_dataset(tail.id(), "/diagnostics/time");
    if (static_cast<std::size_t>(h5::read_long_attribute(tail.id(), "first_row")) != m_rows_in_snapshots ||
        h5::dataset_dims(rows.id()).at(0) < m_tail_rows)
      throw std::runtime_error(m_paths.diagnostics_tail() + " does not hold the diagnostics rows " +
                               std::to_string(m_rows_in_snapshots) + " to " + std::to_string(resume.keep_rows - 1) +
                               " of the restart point");
  }
  write_main_file();  // first, so that nothing links the leftovers removed next
  remove_leftovers(m_paths, resume.keep_snapshots, static_cast<int>(m_block_rows.size()));
  write_xdmf(m_paths.xdmf, xdmf_geometry(m_grid), m_snapshots);
}

template <int Dim>
void SnapshotWriter<Dim>::write_main_file() const {
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
      h5::create_external_link(steps.id(), snapshot_group_name(i), m_paths.relative(m_paths.snapshot(i)), "/");
    std::vector<DiagnosticsPiece> pieces;
    const int blocks = static_cast<int>(m_block_rows.size());
    for (int b = 0; b < blocks; ++b) pieces.push_back({m_paths.relative(m_paths.diagnostics_block(b)), m_block_rows[b]});
    for (int i = blocks * k_snapshots_per_block; i < snapshots_written(); ++i)
      pieces.push_back({m_paths.relative(m_paths.snapshot(i)), m_snapshot_rows[i]});
    if (m_tail_rows > 0) pieces.push_back({m_paths.relative(m_paths.diagnostics_tail()), m_tail_rows});
    write_diagnostics_view(file.id(), pieces, m_columns.empty() ? diagnostics_columns(DiagnosticsRow{}) : m_columns);
  }
  publish_file(temporary, m_paths.main);
}

template <int Dim>
void SnapshotWriter<Dim>::write_snapshot(const std::vector<double>& density, double time, long step,
                                         const DiagnosticsHistory& history,
                                         const std::vector<double>& stepper_state,
                                         const std::vector<SnapshotArray>& arrays) {
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
  for (const SnapshotArray& array : arrays) check_array(array, step, time);
  if (history.size() == 0)
    throw std::logic_error("SnapshotWriter: write_snapshot needs the diagnostics row of this state");
  check_history(history);

  const int index = snapshots_written();
  if (m_columns.empty()) m_columns = diagnostics_columns(history.rows.front());
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
    for (const SnapshotArray& array : arrays)
      h5::write_dataset(file.id(), array.name, std::vector<hsize_t>(array.shape.begin(), array.shape.end()),
                        array.values.data());
    write_diagnostics_rows(file.id(), history.rows, m_rows_in_snapshots, history.size(), m_columns);
  }
  publish_file(temporary, final_path);

  const std::size_t tail_rows = m_tail_rows;
  const std::size_t blocks = m_block_rows.size();
  XdmfSnapshot snapshot{m_paths.relative(m_paths.snapshot(index)), "/density", time, row.mass, row.energy, "", 0, 0};
  for (const SnapshotArray& array : arrays)  // particle positions (N x dim) become points in the XDMF, 2D/3D
    if (array.name == "particles" && array.shape.size() == 2 && array.shape[1] == Dim && Dim > 1 && array.shape[0] > 0) {
      snapshot.particles_dataset = "/particles";
      snapshot.particles = array.shape[0];
      snapshot.particle_dim = Dim;
    }
  m_snapshots.push_back(snapshot);
  m_snapshot_rows.push_back(history.size() - m_rows_in_snapshots);
  m_tail_rows = 0;  // the snapshot's own rows include them
  try {
    if ((index + 1) % k_snapshots_per_block == 0) write_block(history);
    write_main_file();
  } catch (...) {
    m_snapshots.pop_back();
    m_snapshot_rows.pop_back();
    m_block_rows.resize(blocks);
    m_tail_rows = tail_rows;
    throw;
  }
  m_rows_in_snapshots = history.size();
  write_xdmf(m_paths.xdmf, xdmf_geometry(m_grid), m_snapshots);
}

template <int Dim>
void SnapshotWriter<Dim>::flush_diagnostics(const DiagnosticsHistory& history) {
  check_history(history);
  const std::size_t tail_rows = history.size() - m_rows_in_snapshots;
  if (tail_rows == m_tail_rows) return;
  if (m_columns.empty()) m_columns = diagnostics_columns(history.rows.front());
  publish_diagnostics_rows(m_paths.diagnostics_tail(), history.rows, m_rows_in_snapshots, history.size(), m_columns);
  const std::size_t previous = m_tail_rows;
  m_tail_rows = tail_rows;
  try {
    write_main_file();
  } catch (...) {
    m_tail_rows = previous;
    throw;
  }
}

template <int Dim>
void SnapshotWriter<Dim>::write_block(const DiagnosticsHistory& history) {
  const int b = static_cast<int>(m_block_rows.size());
  std::size_t first = 0;
  for (std::size_t rows : m_block_rows) first += rows;
  publish_diagnostics_rows(m_paths.diagnostics_block(b), history.rows, first, history.size(), m_columns);
  m_block_rows.push_back(history.size() - first);
}

template <int Dim>
void SnapshotWriter<Dim>::check_history(const DiagnosticsHistory& history) const {
  if (history.size() < m_rows_in_snapshots + m_tail_rows)
    throw std::logic_error("SnapshotWriter: diagnostics history shrank from " +
                           std::to_string(m_rows_in_snapshots + m_tail_rows) + " to " + std::to_string(history.size()) +
                           " rows");
}

template class SnapshotWriter<1>;
template class SnapshotWriter<2>;
template class SnapshotWriter<3>;

}  // namespace wgflow
