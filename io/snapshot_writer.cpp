#include "io/snapshot_writer.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "io/diagnostics_columns.hpp"
#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/rank_agreement.hpp"

namespace wgflow {

std::vector<double> particle_points_1d(const std::vector<double>& x) {
  std::vector<double> points(2 * x.size(), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) points[2 * i] = x[i];
  return points;
}

void list_particles(hid_t group, int dim, XdmfSnapshot& snapshot) {
  const std::string name = dim == 1 ? k_particle_points_1d : "particles";
  const hsize_t columns = dim == 1 ? 2 : static_cast<hsize_t>(dim);
  if (!h5::is_dataset(group, name)) return;
  h5::Dataset particles = h5::open_dataset(group, name);
  const std::vector<hsize_t> dims = h5::dataset_dims(particles.id());
  if (dims.size() != 2 || dims[1] != columns || dims[0] == 0) return;
  snapshot.particles_dataset = snapshot.dataset.substr(0, snapshot.dataset.rfind('/') + 1) + name;
  snapshot.particles = static_cast<std::size_t>(dims[0]);
  snapshot.particle_dim = static_cast<int>(columns);
}

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
    shape[k] = grid.global_shape(k);
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
  std::size_t expected = 1, row_length = 1;
  for (std::size_t extent : array.shape) expected *= extent;
  for (std::size_t k = 1; k < array.shape.size(); ++k) row_length *= array.shape[k];
  if (array.distributed) expected = array.rows.size() * row_length;  // this rank's rows
  if (array.name.empty() || array.name == "density" || array.name.find('/') != std::string::npos ||
      expected != array.values.size() || array.shape.empty())
    throw std::logic_error("SnapshotWriter: malformed snapshot array '" + array.name + "'");
  for (std::size_t i = 0; i < array.values.size(); ++i)
    if (!std::isfinite(array.values[i])) {
      const std::size_t flat =
          array.distributed ? static_cast<std::size_t>(array.rows[i / row_length]) * row_length + i % row_length : i;
      throw std::runtime_error("refusing to write snapshot at step " + std::to_string(step) + " (t = " +
                               format_double(time) + "): " + array.name + " has a non-finite value at flat index " +
                               std::to_string(flat));
    }
}

/// Writes a snapshot array: the whole array (rank 0's, see h5::ReplicatedData) or, distributed, every
/// rank's rows. A failed distributed write is returned, as h5::write_dataset_box does.
std::exception_ptr write_array(hid_t loc, const std::string& name, const SnapshotArray& array, const double* values,
                               const std::vector<hsize_t>& dims, const std::string& where) {
  if (!array.distributed) {
    h5::write_dataset(loc, name, dims, values).close(where);
    return nullptr;
  }
  h5::Dataset created;
  std::exception_ptr failed = h5::write_dataset_rows(loc, name, dims, array.rows, values, true, created);
  created.close(where);
  return failed;
}

/// Pieces (snapshot or rows files) whose diagnostics rows are also written together into one block
/// file, so that the main file's views map O(pieces / 64 + 64) files instead of one per piece.
constexpr std::size_t k_pieces_per_block = 64;

/// Rows of /diagnostics/time in an open block, snapshot or tail file.
std::size_t diagnostics_rows_in(hid_t file) {
  h5::Dataset rows = h5::open_dataset(file, "/diagnostics/time");
  return static_cast<std::size_t>(h5::dataset_dims(rows.id()).at(0));
}

/// Writes rows [first, end) as a file of their own at `path` (attribute first_row), atomically.
void publish_diagnostics_rows(const std::string& path, const DiagnosticsHistory& rows, std::size_t first,
                              std::size_t end, const std::vector<std::string>& columns) {
  publish_h5_file(path, [&](hid_t file) {
    h5::write_attribute(file, "first_row", static_cast<long>(first));
    write_diagnostics_rows(file, rows, first, end, columns);
  });
}

}  // namespace

template <int Dim>
SnapshotWriter<Dim>::SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid,
                                    const RunMetadata& meta, bool overwrite, const Communicator& ranks)
    : m_paths(output_paths(path)), m_grid(grid), m_ranks(ranks), m_box(array_box(grid)) {
  m_header = {meta.case_name, meta.config_text, WGFLOW_VERSION, "", meta.root_arrays, m_ranks.size(), omp_get_max_threads()};
#ifdef WGFLOW_GIT_HASH
  m_header.git_hash = WGFLOW_GIT_HASH;
#endif
  on_rank0(m_ranks, path, [&] {
    if (output_exists(m_paths)) {
      if (!overwrite) throw std::runtime_error("output " + path + " exists; pass --overwrite to replace it");
      remove_output(m_paths);
    }
    std::error_code ec;
    // The main file first: a run killed before it exists leaves nothing but a temporary file, so the
    // same command can simply be run again; killed after, --restart starts it afresh.
    write_main_file();
    if (!std::filesystem::create_directory(m_paths.directory, ec)) {
      const std::error_code why = ec;
      std::filesystem::remove(m_paths.main, ec);
      throw OutputWriteError(m_paths.directory, is_no_space_errno(why.value()),
                             "cannot create the snapshot directory: " + why.message());
    }
  });
}

template <int Dim>
SnapshotWriter<Dim>::SnapshotWriter(const std::string& path, const UniformGrid<Dim>& grid, const Resume& resume,
                                    const Communicator& ranks)
    : m_paths(output_paths(path)), m_grid(grid), m_ranks(ranks), m_box(array_box(grid)) {
  // Every rank reads what it keeps; rank 0 changes the output only once all have read it.
  on_every_rank(m_ranks, path, [&] { resume_from(path, resume); });
  publish_index();  // first, so that nothing links the leftovers removed next
  on_rank0(m_ranks, path, [&] {
    remove_leftovers(m_paths, resume.keep_snapshots, static_cast<int>(m_block_rows.size()), m_rows_in_pieces);
  });
}

template <int Dim>
void SnapshotWriter<Dim>::resume_from(const std::string& path, const Resume& resume) {
  const OutputSummary summary = read_output_summary(path);
  if (resume.keep_rows > summary.diagnostics.size() ||
      resume.keep_snapshots > static_cast<int>(summary.snapshot_times.size()))
    throw std::logic_error("SnapshotWriter: cannot keep more than " + path + " holds");
  m_header = {summary.case_name, summary.config_text, summary.version, summary.git_hash, {}, m_ranks.size(), omp_get_max_threads()};
  if (resume.keep_rows > 0) m_columns = diagnostics_columns(summary.diagnostics.front());

  // The pieces that hold rows [0, keep_rows): the kept snapshot files and the rows files between them
  // (and before the checkpoint), in row order; the rest of the rows are in the tail file.
  struct Found {
    std::size_t first, rows;
    std::string file;
  };
  std::vector<Found> found;
  {
    h5::File file = h5::open_file(path, false);
    for (const char* name : k_root_array_names)
      if (h5::has_attribute(file.id(), name))
        m_header.root_arrays.push_back({name, h5::read_double_vector_attribute(file.id(), name)});
    std::size_t end_of_previous = 0;  // for snapshot files written before they carried first_row
    for (int i = 0; i < resume.keep_snapshots; ++i) {
      h5::Group snapshot = h5::open_group(file.id(), "/steps/" + snapshot_group_name(i));
      m_snapshots.push_back({m_paths.relative(m_paths.snapshot(i)), "/density", summary.snapshot_times[i],
                             h5::read_double_attribute(snapshot.id(), "mass"),
                             h5::read_double_attribute(snapshot.id(), "energy"), "", 0, 0});
      list_particles(snapshot.id(), Dim, m_snapshots.back());  // as write_snapshot lists them
      const std::size_t rows = diagnostics_rows_in(snapshot.id());
      const std::size_t first = h5::has_attribute(snapshot.id(), "first_row")
                                    ? static_cast<std::size_t>(h5::read_long_attribute(snapshot.id(), "first_row"))
                                    : end_of_previous;
      found.push_back({first, rows, m_paths.relative(m_paths.snapshot(i))});
      end_of_previous = first + rows;
    }
  }
  for (std::size_t first : diagnostics_rows_files(m_paths)) {
    h5::File rows_file = h5::open_file(m_paths.diagnostics_rows(first), false);
    const std::size_t rows = diagnostics_rows_in(rows_file.id());
    if (first + rows <= resume.keep_rows) found.push_back({first, rows, m_paths.relative(m_paths.diagnostics_rows(first))});
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.first < b.first; });
  for (const Found& piece : found) {
    if (piece.first != m_rows_in_pieces)
      throw std::runtime_error(m_paths.directory + ": the diagnostics pieces do not line up at row " +
                               std::to_string(m_rows_in_pieces) + " (" + piece.file + " starts at row " +
                               std::to_string(piece.first) + ")");
    m_pieces.push_back({piece.file, piece.rows});
    m_rows_in_pieces += piece.rows;
  }
  if (resume.keep_rows < m_rows_in_pieces)
    throw std::logic_error("SnapshotWriter: " + path + "'s pieces hold more diagnostics rows than its restart point");
  for (std::size_t b = 0; b < m_pieces.size() / k_pieces_per_block; ++b) {
    std::size_t rows = 0;
    for (std::size_t i = b * k_pieces_per_block; i < (b + 1) * k_pieces_per_block; ++i) rows += m_pieces[i].rows;
    h5::File block = h5::open_file(m_paths.diagnostics_block(static_cast<int>(b)), false);
    if (diagnostics_rows_in(block.id()) != rows)
      throw std::runtime_error(m_paths.diagnostics_block(static_cast<int>(b)) +
                               " does not hold the diagnostics rows of its 64 pieces");
    m_block_rows.push_back(rows);
  }
  // Rows after the last piece (a SIGINT/SIGTERM stop) are in the tail file written then.
  m_tail_rows = resume.keep_rows - m_rows_in_pieces;
  if (m_tail_rows > 0) {
    h5::File tail = h5::open_file(m_paths.diagnostics_tail(), false);
    h5::Dataset rows = h5::open_dataset(tail.id(), "/diagnostics/time");
    if (static_cast<std::size_t>(h5::read_long_attribute(tail.id(), "first_row")) != m_rows_in_pieces ||
        h5::dataset_dims(rows.id()).at(0) < m_tail_rows)
      throw std::runtime_error(m_paths.diagnostics_tail() + " does not hold the diagnostics rows " +
                               std::to_string(m_rows_in_pieces) + " to " + std::to_string(resume.keep_rows - 1) +
                               " of the restart point");
  }
}

template <int Dim>
void SnapshotWriter<Dim>::write_main_file() const {
  publish_h5_file(m_paths.main, [&](hid_t file) {
    h5::write_attribute(file, "format", "wgflow");
    h5::write_attribute(file, "format_version", k_output_format_version);
    h5::write_attribute(file, "case", m_header.case_name);
    h5::write_attribute(file, "config", m_header.config_text);
    h5::write_attribute(file, "version", m_header.version);
    if (!m_header.git_hash.empty()) h5::write_attribute(file, "git_hash", m_header.git_hash);
    h5::write_attribute(file, "ranks", m_header.ranks);  // how it ran, not what it computed: `wgflow info`
    h5::write_attribute(file, "threads", m_header.threads);
    for (const RootArray& a : m_header.root_arrays) h5::write_attribute(file, a.name, a.values);
    write_grid(file, m_grid);
    h5::Group steps = h5::create_group(file, "steps");
    for (int i = 0; i < snapshots_written(); ++i)
      h5::create_external_link(steps.id(), snapshot_group_name(i), m_paths.relative(m_paths.snapshot(i)), "/");
    std::vector<DiagnosticsPiece> pieces;
    const std::size_t blocks = m_block_rows.size();
    for (std::size_t b = 0; b < blocks; ++b)
      pieces.push_back({m_paths.relative(m_paths.diagnostics_block(static_cast<int>(b))), m_block_rows[b]});
    pieces.insert(pieces.end(), m_pieces.begin() + static_cast<std::ptrdiff_t>(blocks * k_pieces_per_block),
                  m_pieces.end());
    if (m_tail_rows > 0) pieces.push_back({m_paths.relative(m_paths.diagnostics_tail()), m_tail_rows});
    write_diagnostics_view(file, pieces, m_columns.empty() ? diagnostics_columns(DiagnosticsRow{}) : m_columns);
  });
}

template <int Dim>
void SnapshotWriter<Dim>::publish_index() {
  on_rank0(m_ranks, m_paths.main, [&] {
    write_main_file();
    write_xdmf(m_paths.xdmf, xdmf_geometry(m_grid), m_snapshots);
  });
  m_listed_snapshots = snapshots_written();
  m_index_current = true;
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
  if (m_ranks.size() > 1) {  // every rank refuses, with the same message: counted over the whole grid
    std::int64_t total = static_cast<std::int64_t>(bad);
    m_ranks.sum(&total, 1);
    const double first = m_ranks.min(bad > 0 ? static_cast<double>(m_box.global_index(first_bad))
                                             : std::numeric_limits<double>::infinity());
    bad = static_cast<std::size_t>(total);
    if (bad > 0) first_bad = static_cast<std::size_t>(first);
  }
  if (bad > 0)
    throw std::runtime_error("refusing to write snapshot at step " + std::to_string(step) + " (t = " +
                             format_double(time) + "): density has " + std::to_string(bad) +
                             " non-finite values, first at flat index " + std::to_string(first_bad));
  on_rank0(m_ranks, m_paths.snapshot(snapshots_written()), [&] {  // the arrays written are rank 0's
    for (const SnapshotArray& array : arrays)
      if (!array.distributed) check_array(array, step, time);
  });
  on_every_rank(m_ranks, m_paths.snapshot(snapshots_written()), [&] {  // each rank's rows of the others
    for (const SnapshotArray& array : arrays)
      if (array.distributed) check_array(array, step, time);
  });
  if (history.size() == 0)
    throw std::logic_error("SnapshotWriter: write_snapshot needs the diagnostics row of this state");
  check_history(history);

  const int index = snapshots_written();
  if (m_columns.empty()) m_columns = diagnostics_columns(history.front());
  const DiagnosticsRow& row = history.back();
  const std::string final_path = m_paths.snapshot(index);
  publish_h5_file(final_path, m_ranks, [&](hid_t file) {
    std::exception_ptr failed;
    const h5::ReplicatedData replicated(m_ranks.rank() == 0);  // rows and arrays: rank 0 writes them
    h5::Dataset dset;
    if (m_ranks.size() == 1)
      dset = h5::write_dataset(file, "density", m_box.global, density.data());
    else
      failed = h5::write_dataset_box(file, "density", m_box, false, density.data(), true, dset);
    h5::write_attribute(dset.id(), "time", time);
    h5::write_attribute(dset.id(), "step", step);
    dset.close("dataset '/density' of '" + final_path + ".tmp'");
    h5::write_attribute(file, "mass", row.mass);
    h5::write_attribute(file, "energy", row.energy);
    if (!stepper_state.empty()) h5::write_attribute(file, "stepper_state", stepper_state);
    for (const SnapshotArray& array : arrays) {
      std::exception_ptr e = write_array(file, array.name, array, array.values.data(),
                                         std::vector<hsize_t>(array.shape.begin(), array.shape.end()),
                                         "dataset '/" + array.name + "' of '" + final_path + ".tmp'");
      if (!failed) failed = e;
    }
    for (const SnapshotArray& array : arrays)
      if (Dim == 1 && array.name == "particles" && array.shape[0] > 0) {
        const std::vector<double> points = particle_points_1d(array.values);
        std::exception_ptr e = write_array(file, k_particle_points_1d, array, points.data(), {array.shape[0], 2},
                                           "dataset '/" + std::string(k_particle_points_1d) + "' of '" + final_path + ".tmp'");
        if (!failed) failed = e;
      }
    h5::write_attribute(file, "first_row", static_cast<long>(m_rows_in_pieces));
    write_diagnostics_rows(file, history, m_rows_in_pieces, history.size(), m_columns);
    return failed;
  });

  XdmfSnapshot snapshot{m_paths.relative(m_paths.snapshot(index)), "/density", time, row.mass, row.energy, "", 0, 0};
  for (const SnapshotArray& array : arrays)  // particle positions (N x dim) become points in the XDMF
    if (array.name == "particles" && array.shape.size() == 2 && array.shape[1] == Dim && array.shape[0] > 0) {
      snapshot.particles_dataset = Dim == 1 ? std::string("/") + k_particle_points_1d : "/particles";
      snapshot.particles = array.shape[0];
      snapshot.particle_dim = Dim == 1 ? 2 : Dim;
    }
  m_snapshots.push_back(snapshot);
  const std::size_t tail_rows = m_tail_rows;
  m_tail_rows = 0;  // the snapshot's own rows include them
  try {
    add_piece(final_path, history.size() - m_rows_in_pieces);
  } catch (...) {
    m_snapshots.pop_back();
    m_tail_rows = tail_rows;
    throw;
  }
  // The main file and sidecar list every snapshot: rebuilt when those they miss reach 1/32 of those
  // they list, so the O(snapshots) rebuild costs O(1) per snapshot; flush_diagnostics completes it.
  if (snapshots_written() - m_listed_snapshots >= std::max(1, m_listed_snapshots / 32)) publish_index();
}

template <int Dim>
void SnapshotWriter<Dim>::write_rows_if_due(const DiagnosticsHistory& history) {
  if (history.size() - m_rows_in_pieces < k_rows_per_file) return;
  if (m_columns.empty()) m_columns = diagnostics_columns(history.front());
  const std::string path = m_paths.diagnostics_rows(m_rows_in_pieces);
  on_rank0(m_ranks, path, [&] { publish_diagnostics_rows(path, history, m_rows_in_pieces, history.size(), m_columns); });
  const std::size_t tail_rows = m_tail_rows;
  m_tail_rows = 0;
  try {
    add_piece(path, history.size() - m_rows_in_pieces);
  } catch (...) {
    m_tail_rows = tail_rows;
    throw;
  }
}

template <int Dim>
void SnapshotWriter<Dim>::add_piece(const std::string& path, std::size_t rows) {
  m_pieces.push_back({m_paths.relative(path), rows});
  m_rows_in_pieces += rows;
  m_index_current = false;
  if (m_pieces.size() % k_pieces_per_block != 0) return;
  try {
    write_block();
  } catch (...) {
    // Nothing lists the piece yet: its file goes (a restart would remove it anyway), which gives its
    // space back, and the writer is as before it.
    std::error_code ignored;
    if (m_ranks.rank() == 0) std::filesystem::remove(path, ignored);
    m_pieces.pop_back();
    m_rows_in_pieces -= rows;
    throw;
  }
}

template <int Dim>
void SnapshotWriter<Dim>::flush_diagnostics(const DiagnosticsHistory& history) {
  check_history(history);
  const std::size_t tail_rows = history.size() - m_rows_in_pieces;
  if (tail_rows != m_tail_rows) {
    if (m_columns.empty()) m_columns = diagnostics_columns(history.front());
    if (tail_rows > 0)
      on_rank0(m_ranks, m_paths.diagnostics_tail(), [&] {
        publish_diagnostics_rows(m_paths.diagnostics_tail(), history, m_rows_in_pieces, history.size(), m_columns);
      });
    m_tail_rows = tail_rows;
    m_index_current = false;
  }
  if (!m_index_current) publish_index();
}

template <int Dim>
void SnapshotWriter<Dim>::remove_stop_files() {
  // After flush_diagnostics: the main file no longer lists the tail once a later snapshot holds its rows.
  if (m_ranks.rank() != 0) return;
  std::error_code ignored;
  std::filesystem::remove(m_paths.checkpoint(), ignored);
  if (m_tail_rows == 0) std::filesystem::remove(m_paths.diagnostics_tail(), ignored);
}

template <int Dim>
void SnapshotWriter<Dim>::write_block() {
  const std::size_t b = m_block_rows.size();
  std::size_t rows = 0;  // known to every rank; rank 0 reads the rows back and writes the block
  for (std::size_t i = b * k_pieces_per_block; i < (b + 1) * k_pieces_per_block; ++i) rows += m_pieces[i].rows;
  const std::string block = m_paths.diagnostics_block(static_cast<int>(b));
  on_rank0(m_ranks, block, [&] {
    std::vector<std::vector<double>> values;
    std::size_t read = 0;
    const std::string directory = std::filesystem::path(m_paths.main).parent_path().string();
    for (std::size_t i = b * k_pieces_per_block; i < (b + 1) * k_pieces_per_block; ++i) {
      const std::string piece = directory.empty() ? m_pieces[i].file : directory + "/" + m_pieces[i].file;
      h5::File file = h5::open_file(piece, false);
      read += append_diagnostics_columns(file.id(), m_columns, values);
    }
    if (read != rows) throw std::logic_error("SnapshotWriter: the pieces of " + block + " do not hold the rows they were written with");
    publish_h5_file(block, [&](hid_t file) {
      h5::write_attribute(file, "first_row", static_cast<long>(m_rows_in_pieces - rows));
      write_diagnostics_columns(file, values, m_columns);
    });
  });
  m_block_rows.push_back(rows);
}

template <int Dim>
void SnapshotWriter<Dim>::check_history(const DiagnosticsHistory& history) const {
  if (history.size() < m_rows_in_pieces + m_tail_rows)
    throw std::logic_error("SnapshotWriter: diagnostics history shrank from " +
                           std::to_string(m_rows_in_pieces + m_tail_rows) + " to " + std::to_string(history.size()) +
                           " rows");
  if (history.first > m_rows_in_pieces)
    throw std::logic_error("SnapshotWriter: the history forgot rows not yet written");
}

template class SnapshotWriter<1>;
template class SnapshotWriter<2>;
template class SnapshotWriter<3>;

}  // namespace wgflow
