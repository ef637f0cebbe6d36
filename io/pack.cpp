#include "io/pack.hpp"

#include <exception>
#include <filesystem>
#include <vector>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/output_files.hpp"
#include "io/run_config.hpp"
#include "io/snapshot_writer.hpp"
#include "io/xdmf.hpp"

namespace wgflow {

namespace fs = std::filesystem;

namespace {

/// State of an H5Aiterate2 walk: where to copy to, and the first failure (exceptions cannot cross C).
struct AttributeCopy {
  hid_t to;
  std::exception_ptr error;
};

/// Copies attribute `name` of `from` with its own type and shape (strings, numbers, vectors alike).
herr_t copy_attribute(hid_t from, const char* name, const H5A_info_t*, void* state_ptr) {
  auto* state = static_cast<AttributeCopy*>(state_ptr);
  try {
    const std::string what = "attribute '" + std::string(name) + "' of " + h5::describe(from);
    h5::Attribute source(h5::check(H5Aopen(from, name, H5P_DEFAULT), "cannot open " + what));
    h5::Datatype type(h5::check(H5Aget_type(source.id()), "cannot query the type of " + what));
    h5::Dataspace space(h5::check(H5Aget_space(source.id()), "cannot query the shape of " + what));
    const hssize_t points = H5Sget_simple_extent_npoints(space.id());
    if (points < 0) h5::fail("cannot query the size of " + what);
    std::vector<unsigned char> buffer(static_cast<std::size_t>(points > 0 ? points : 1) * H5Tget_size(type.id()));
    h5::check_status(H5Aread(source.id(), type.id(), buffer.data()), "cannot read " + what);
    const bool variable = H5Tis_variable_str(type.id()) > 0 || H5Tdetect_class(type.id(), H5T_VLEN) > 0;
    h5::Attribute copy(H5Acreate2(state->to, name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
    const herr_t written = copy.valid() ? H5Awrite(copy.id(), type.id(), buffer.data()) : -1;
    if (variable) H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, buffer.data());
    h5::check_status(written, "cannot copy " + what);
  } catch (...) {
    state->error = std::current_exception();
    return -1;
  }
  return 0;
}

void copy_attributes(hid_t from, hid_t to) {
  AttributeCopy state{to, nullptr};
  hsize_t index = 0;
  const herr_t status = H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_INC, &index, copy_attribute, &state);
  if (state.error) std::rethrow_exception(state.error);
  h5::check_status(status, "cannot list the attributes of " + h5::describe(from));
}

void copy_object(hid_t from, const std::string& name, hid_t to) {
  h5::check_status(H5Ocopy(from, name.c_str(), to, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                   "cannot copy " + h5::describe(from, name));
}

/// The file holding snapshot group `name` of the main file `run`: the target of its external link,
/// looked up next to the main file (never via the working directory); "" if the group is in `run`.
std::string snapshot_file(hid_t steps, const std::string& name, const std::string& run) {
  const std::string target = h5::external_link_target(steps, name);
  if (target.empty() || fs::path(target).is_absolute()) return target;
  return (fs::path(run).parent_path() / target).string();
}

/// The sidecar geometry from /grid (all in z, y, x order; missing axes have one cell).
XdmfGeometry geometry_of(hid_t file) {
  h5::Group grid = h5::open_group(file, "grid");
  const std::vector<long> shape = h5::read_long_vector_attribute(grid.id(), "shape");
  const std::vector<double> lower = h5::read_double_vector_attribute(grid.id(), "lower");
  const std::vector<double> spacing = h5::read_double_vector_attribute(grid.id(), "spacing");
  XdmfGeometry g;
  const std::size_t offset = 3 - shape.size();
  for (std::size_t k = 0; k < shape.size(); ++k) {
    g.cells_zyx[offset + k] = shape[k];
    g.origin_zyx[offset + k] = lower.at(k);
    g.spacing_zyx[offset + k] = spacing.at(k);
  }
  return g;
}

/// Copies every snapshot of `run` (a dim-dimensional run) into /steps of `out` and returns the sidecar's
/// view of them, particles included.
std::vector<XdmfSnapshot> copy_snapshots(hid_t run_file, const std::string& run, int dim, hid_t out,
                                         const std::string& out_name) {
  h5::Group from_steps = h5::open_group(run_file, "steps");
  h5::Group to_steps = h5::create_group(out, "steps");
  std::vector<XdmfSnapshot> snapshots;
  for (const std::string& name : h5::child_names(from_steps.id())) {
    const std::string file_name = snapshot_file(from_steps.id(), name, run);
    h5::File snapshot_file_handle;
    h5::Group source;
    if (file_name.empty()) {
      source = h5::open_group(from_steps.id(), name);
    } else {
      snapshot_file_handle = h5::open_file(file_name, false);
      source = h5::open_group(snapshot_file_handle.id(), "/");
    }
    h5::Group target = h5::create_group(to_steps.id(), name);
    copy_attributes(source.id(), target.id());
    copy_object(source.id(), "density", target.id());
    for (const std::string& child : h5::child_names(source.id()))  // particles, network_output, ...
      if (child != "density" && h5::is_dataset(source.id(), child)) copy_object(source.id(), child, target.id());
    if (dim == 1 && h5::is_dataset(target.id(), "particles") && !h5::is_dataset(target.id(), k_particle_points_1d)) {
      const std::vector<double> points = particle_points_1d(h5::read_dataset(target.id(), "particles"));
      h5::write_dataset(target.id(), k_particle_points_1d, {points.size() / 2, 2}, points.data());  // older runs
    }
    h5::Dataset density = h5::open_dataset(target.id(), "density");
    snapshots.push_back({out_name, "/steps/" + name + "/density", h5::read_double_attribute(density.id(), "time"),
                         h5::read_double_attribute(target.id(), "mass"), h5::read_double_attribute(target.id(), "energy"), "", 0, 0});
    list_particles(target.id(), dim, snapshots.back());  // the sidecar shows them as the run's does
  }
  return snapshots;
}

/// Every /diagnostics column of `run` (views over many files) as an ordinary dataset of `out`.
void copy_diagnostics(hid_t run_file, hid_t out) {
  h5::Group from = h5::open_group(run_file, "diagnostics");
  h5::Group to = h5::create_group(out, "diagnostics");
  for (const std::string& name : h5::child_names(from.id())) {
    const std::vector<double> values = h5::read_dataset(from.id(), name);
    h5::write_dataset(to.id(), name, {values.size()}, values.data());
  }
}

}  // namespace

bool is_packed_output(const std::string& path) {
  try {
    if (!h5::is_hdf5_file(path)) return false;
    h5::File file = h5::open_file(path, false);
    return h5::has_attribute(file.id(), "packed_from");
  } catch (const std::exception&) {
    return false;
  }
}

void pack_output(const std::string& run, const std::string& out, bool overwrite) {
  OutputSummary summary;
  try {
    summary = read_output_summary(run);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("pack: ") + e.what());
  }
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(run, out, ec))
    throw ConfigError("pack: OUT must be another file than the run it packs (got '" + out + "' twice)");
  const fs::path out_dir = fs::path(out).has_parent_path() ? fs::path(out).parent_path() : fs::path(".");
  if (!fs::is_directory(out_dir, ec))
    throw ConfigError("pack: cannot create '" + out + "': directory '" + out_dir.string() + "' does not exist");
  const OutputPaths out_paths = output_paths(out);
  if (output_exists(out_paths)) {
    if (!overwrite)
      throw ConfigError("pack: '" + out + "' (or '" + out_paths.directory + "' or '" + out_paths.xdmf +
                        "') exists; pass --overwrite to replace it");
    try {
      remove_output(out_paths);
    } catch (const std::exception& e) {
      throw ConfigError(std::string("pack: ") + e.what());
    }
  }
  h5::File run_file = h5::open_file(run, false);
  std::vector<XdmfSnapshot> snapshots;
  const std::string out_name = fs::path(out).filename().string();
  publish_h5_file(out, [&](hid_t file) {
    copy_attributes(run_file.id(), file);
    h5::write_attribute(file, "packed_from", fs::path(run).filename().string());
    copy_object(run_file.id(), "grid", file);
    snapshots = copy_snapshots(run_file.id(), run, summary.dim, file, out_name);
    copy_diagnostics(run_file.id(), file);
  });
  write_xdmf(out_paths.xdmf, geometry_of(run_file.id()), snapshots);
}

}  // namespace wgflow
