#include "io/initial_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "io/h5.hpp"

namespace wgflow {

namespace {

/// A message already carrying its "PATH: " prefix; passes through the prefixing catch unchanged.
struct PrefixedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// "(4, 8)", the way h5py and numpy print shapes.
std::string shape_text(const std::vector<long>& shape) {
  std::string s = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) s += (k > 0 ? ", " : "") + std::to_string(shape[k]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Multi-index (row-major, last fastest) of flat index `flat` in an array of `shape`.
std::string index_text(std::size_t flat, const std::vector<long>& shape) {
  std::vector<long> idx(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    idx[k] = static_cast<long>(flat % static_cast<std::size_t>(shape[k]));
    flat /= static_cast<std::size_t>(shape[k]);
  }
  return shape_text(idx);
}

/// Snapshot group names under /steps in numeric order (all-digit names only).
std::vector<std::string> snapshot_groups(hid_t file) {
  if (!h5::link_exists(file, "/steps")) return {};
  h5::Group steps = h5::open_group(file, "/steps");
  std::vector<std::string> names = h5::child_names(steps.id());
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& n) {
                               return n.empty() || n.find_first_not_of("0123456789") != std::string::npos;
                             }),
              names.end());
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return names;
}

std::string density_path(const std::string& group) { return "/steps/" + group + "/density"; }

/// Where the external link `target` (as stored) of the main file `main_path` points: next to the main
/// file, whatever the current directory.
std::filesystem::path next_to_main(const std::string& main_path, const std::string& target) {
  const std::filesystem::path t(target);
  return t.is_absolute() ? t : std::filesystem::path(main_path).parent_path() / t;
}

/// Opens /steps/GROUP/density. In a format-2 output /steps/GROUP links to a snapshot file of its own;
/// if that file is gone (the main file was moved without its directory) say so. The file is looked
/// for next to the main file only: HDF5 would otherwise fall back to the same name in the current
/// directory and silently read another run's snapshots.
h5::Dataset open_snapshot_density(hid_t file, const std::string& path, const std::string& group,
                                  const std::string& prefix) {
  const std::string target = h5::external_link_target(file, "/steps/" + group);
  if (!target.empty()) {
    const std::filesystem::path where = next_to_main(path, target);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(where, ec))
      throw PrefixedError(prefix + "snapshot " + group + " is stored in '" + where.string() +
                          "', which does not exist (keep the directory " + std::filesystem::path(target).parent_path().string() +
                          "/ next to " + std::filesystem::path(path).filename().string() + ")");
  }
  try {
    return h5::open_dataset(file, density_path(group));
  } catch (const std::runtime_error& e) {
    if (target.empty()) throw;
    throw PrefixedError(prefix + "snapshot " + group + " in '" + next_to_main(path, target).string() + "' cannot be read: " + h5::plain_reason(e));
  }
}

/// Reads the 1-D column `name`; a virtual column's pieces must lie next to the main file (as the
/// snapshots must), never be picked up from the current directory.
std::vector<double> read_column(hid_t root, const std::string& path, const std::string& name, const std::string& prefix) {
  h5::Dataset dset = h5::open_dataset(root, name);
  for (const std::string& source : h5::virtual_source_files(dset.id())) {
    if (source == ".") continue;  // a piece in the main file itself
    const std::filesystem::path where = next_to_main(path, source);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(where, ec))
      throw PrefixedError(prefix + name + " reads rows from '" + where.string() + "', which does not exist (keep the directory " +
                          std::filesystem::path(source).parent_path().string() + "/ next to " +
                          std::filesystem::path(path).filename().string() + ")");
  }
  return h5::read_dataset(dset.id());
}

/// Opens an existing HDF5 file read-only; errors are prefixed with `prefix`.
h5::File open_existing(const std::string& path, const std::string& prefix) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw PrefixedError(prefix + "no such file");
  if (std::filesystem::is_directory(path, ec)) throw PrefixedError(prefix + "is a directory");
  // A file that cannot be probed (unreadable, locked) falls through to H5Fopen's own reason.
  if (h5::is_not_hdf5_file(path)) throw PrefixedError(prefix + "not an HDF5 file");
  return h5::open_file(path, false);
}

/// Runs `body`, turning any std::runtime_error without the prefix into a prefixed one-liner.
template <class Body>
auto with_prefix(const std::string& prefix, Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const PrefixedError& e) {
    throw std::runtime_error(e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(prefix + e.what());
  }
}

/// Refuses metadata that wgflow never writes (a doctored or damaged file), so that no reader prints
/// or uses it: a format version it does not know, a dimension outside 1..3, a shape or box that does
/// not match the dimension, empty cells or an empty box.
void check_metadata(const OutputSummary& s, const std::string& prefix) {
  auto bad = [&](const std::string& what) {
    throw PrefixedError(prefix + what + "; the file is not as wgflow wrote it");
  };
  if (s.format_version < 1 || s.format_version > k_output_format_version)
    bad("format_version " + std::to_string(s.format_version) + " is not one this wgflow reads (1 to " +
        std::to_string(k_output_format_version) + ")");
  if (s.dim < 1 || s.dim > 3) bad("/grid dim = " + std::to_string(s.dim) + " (wgflow writes 1, 2 or 3)");
  const auto dim = static_cast<std::size_t>(s.dim);
  if (s.shape_zyx.size() != dim || s.lower_zyx.size() != dim || s.upper_zyx.size() != dim)
    bad("/grid shape, lower and upper must have dim = " + std::to_string(s.dim) + " entries (shape " +
        shape_text(s.shape_zyx) + ")");
  for (std::size_t k = 0; k < dim; ++k) {
    if (s.shape_zyx[k] < 1) bad("/grid shape " + shape_text(s.shape_zyx) + " has an axis without cells");
    if (!std::isfinite(s.lower_zyx[k]) || !std::isfinite(s.upper_zyx[k]) || !(s.lower_zyx[k] < s.upper_zyx[k]))
      bad("/grid lower/upper do not bound a box on axis " + std::to_string(k) + " (z,y,x order)");
  }
}

}  // namespace

std::vector<double> read_initial_density(const std::string& path, const std::vector<long>& shape_zyx,
                                         const std::string& option, const h5::Box& box, const Communicator& ranks) {
  const std::string prefix = option + " file:" + path + ": ";
  return with_prefix(prefix, [&] {
    h5::File file = open_existing(path, prefix);
    std::string name;
    if (h5::is_dataset(file.id(), "/density")) {
      name = "/density";
    } else {
      const std::vector<std::string> groups = snapshot_groups(file.id());
      if (!groups.empty()) name = groups.back();
    }
    if (name.empty())
      throw PrefixedError(prefix + "no density dataset (looked for /density and /steps/NNNNNN/density)");

    h5::Dataset dset = name == "/density" ? h5::open_dataset(file.id(), name)
                                          : open_snapshot_density(file.id(), path, name, prefix);
    if (name != "/density") name = density_path(name);
    H5T_class_t cls = h5::dataset_type_class(dset.id());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER)
      throw PrefixedError(prefix + name + " is not a numeric dataset");
    std::vector<long> found;
    for (hsize_t d : h5::dataset_dims(dset.id())) found.push_back(static_cast<long>(d));
    if (found != shape_zyx)
      throw PrefixedError(prefix + name + " has shape " + shape_text(found) + ", expected " +
                          shape_text(shape_zyx) + " (dataset order z,y,x, x fastest)");

    std::vector<double> values = h5::read_box(dset.id(), box, false);
    std::size_t non_finite = 0, negative = 0, first_non_finite = 0, first_negative = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        if (non_finite++ == 0) first_non_finite = i;
      } else if (values[i] < 0.0) {
        if (negative++ == 0) first_negative = i;
      }
    }
    if (ranks.size() > 1) {  // the counts and first (global) indices over every rank's box
      const auto global = [&](std::size_t count, std::size_t first) {
        return count > 0 ? static_cast<double>(box.global_index(first)) : std::numeric_limits<double>::infinity();
      };
      std::int64_t counts[2] = {static_cast<std::int64_t>(non_finite), static_cast<std::int64_t>(negative)};
      const double first_nf = ranks.min(global(non_finite, first_non_finite));
      const double first_neg = ranks.min(global(negative, first_negative));
      ranks.sum(counts, 2);
      non_finite = static_cast<std::size_t>(counts[0]);
      negative = static_cast<std::size_t>(counts[1]);
      if (non_finite > 0) first_non_finite = static_cast<std::size_t>(first_nf);
      if (negative > 0) first_negative = static_cast<std::size_t>(first_neg);
    }
    std::string problems;
    if (non_finite > 0)
      problems += std::to_string(non_finite) + " non-finite value" + (non_finite > 1 ? "s" : "") +
                  " (first at index " + index_text(first_non_finite, found) + ")";
    if (negative > 0)
      problems += (problems.empty() ? "" : " and ") + std::to_string(negative) + " negative value" +
                  (negative > 1 ? "s" : "") + " (first at index " + index_text(first_negative, found) + ")";
    if (!problems.empty())
      throw PrefixedError(prefix + name + " has " + problems + "; a density must be finite and >= 0");
    return values;
  });
}

OutputSummary read_output_summary(const std::string& path) {
  const std::string prefix = path + ": ";
  return with_prefix(prefix, [&] {
    h5::File file = open_existing(path, prefix);
    const hid_t root = file.id();
    if (!h5::has_attribute(root, "format") || h5::read_string_attribute(root, "format") != "wgflow")
      throw PrefixedError(prefix + "not a wgflow output (no root attribute format=\"wgflow\")");

    OutputSummary s;
    s.format_version = static_cast<int>(h5::read_long_attribute(root, "format_version"));
    s.case_name = h5::read_string_attribute(root, "case");
    s.config_text = h5::read_string_attribute(root, "config");
    s.version = h5::read_string_attribute(root, "version");
    if (h5::has_attribute(root, "git_hash")) s.git_hash = h5::read_string_attribute(root, "git_hash");
    if (h5::has_attribute(root, "ranks")) s.ranks = static_cast<int>(h5::read_long_attribute(root, "ranks"));
    if (h5::has_attribute(root, "threads")) s.threads = static_cast<int>(h5::read_long_attribute(root, "threads"));

    h5::Group grid = h5::open_group(root, "grid");
    s.dim = static_cast<int>(h5::read_long_attribute(grid.id(), "dim"));
    s.shape_zyx = h5::read_long_vector_attribute(grid.id(), "shape");
    s.lower_zyx = h5::read_double_vector_attribute(grid.id(), "lower");
    s.upper_zyx = h5::read_double_vector_attribute(grid.id(), "upper");
    s.axes = h5::read_string_attribute(grid.id(), "axes");
    s.boundary = h5::read_string_attribute(grid.id(), "boundary");

    check_metadata(s, prefix);
    for (const std::string& g : snapshot_groups(root)) {
      h5::Dataset dset = open_snapshot_density(root, path, g, prefix);
      std::vector<long> found;
      for (hsize_t d : h5::dataset_dims(dset.id())) found.push_back(static_cast<long>(d));
      if (found != s.shape_zyx)
        throw PrefixedError(prefix + density_path(g) + " has shape " + shape_text(found) + " but /grid says " +
                            shape_text(s.shape_zyx) + "; the file is not as wgflow wrote it");
      s.snapshot_times.push_back(h5::read_double_attribute(dset.id(), "time"));
      s.snapshot_steps.push_back(h5::read_long_attribute(dset.id(), "step"));
    }

    const char* names[] = {"time", "dt", "mass", "energy", "dissipation", "min", "max"};
    std::vector<std::vector<double>> columns;
    for (const char* n : names) {
      columns.push_back(read_column(root, path, std::string("/diagnostics/") + n, prefix));
      if (columns.back().size() != columns.front().size())
        throw PrefixedError(prefix + "/diagnostics/" + n + " has " + std::to_string(columns.back().size()) +
                            " rows but /diagnostics/time has " + std::to_string(columns.front().size()));
    }
    for (std::size_t i = 0; i < columns.front().size(); ++i)
      s.diagnostics.push_back({columns[0][i], columns[1][i], columns[2][i], columns[3][i], columns[4][i],
                               columns[5][i], columns[6][i]});
    // f-divergence runs only: distances to the target; implicit runs only: linear iterations.
    const std::pair<const char*, double DiagnosticsRow::*> optional[] = {
        {"l1_to_target", &DiagnosticsRow::l1_to_target}, {"w2_to_target", &DiagnosticsRow::w2_to_target},
        {"linear_iterations", &DiagnosticsRow::linear_iterations}};
    for (const auto& [n, field] : optional) {
      const std::string name = std::string("/diagnostics/") + n;
      if (!h5::link_exists(root, name)) continue;
      const std::vector<double> column = read_column(root, path, name, prefix);
      if (column.size() != columns.front().size())
        throw PrefixedError(prefix + name + " has " + std::to_string(column.size()) + " rows but /diagnostics/time has " +
                            std::to_string(columns.front().size()));
      for (std::size_t i = 0; i < column.size(); ++i) s.diagnostics.rows[i].*field = column[i];
    }
    return s;
  });
}

std::vector<double> read_snapshot(const std::string& path, int index, const h5::Box& box) {
  const std::string prefix = path + ": ";
  return with_prefix(prefix, [&] {
    h5::File file = open_existing(path, prefix);
    std::vector<std::string> groups = snapshot_groups(file.id());
    const long n = static_cast<long>(groups.size());
    const long i = index < 0 ? n + index : index;
    if (i < 0 || i >= n)
      throw PrefixedError(prefix + "snapshot index " + std::to_string(index) + " out of range (" +
                          std::to_string(n) + " snapshots)");
    h5::Dataset dset = open_snapshot_density(file.id(), path, groups[static_cast<std::size_t>(i)], prefix);
    return h5::read_box(dset.id(), box, false);
  });
}

}  // namespace wgflow
