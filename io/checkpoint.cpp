#include "io/checkpoint.hpp"

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/output_files.hpp"

namespace wgflow {

namespace {

/// Every dataset in group `group` except `skip`, as snapshot arrays.
std::vector<SnapshotArray> read_arrays(hid_t loc, const std::string& group, const std::string& skip) {
  std::vector<SnapshotArray> arrays;
  h5::Group g = h5::open_group(loc, group);
  for (const std::string& name : h5::child_names(g.id())) {
    if (name == skip || !h5::is_dataset(g.id(), name)) continue;
    h5::Dataset d = h5::open_dataset(g.id(), name);
    SnapshotArray a;
    a.name = name;
    for (hsize_t n : h5::dataset_dims(d.id())) a.shape.push_back(static_cast<std::size_t>(n));
    a.values = h5::read_dataset(d.id());
    arrays.push_back(std::move(a));
  }
  return arrays;
}

}  // namespace

void write_checkpoint(const std::string& path, const Checkpoint& c, const h5::Box& box, const Communicator& ranks) {
  const OutputPaths paths = output_paths(path);
  const std::string final_path = paths.checkpoint();
  if (ranks.size() > 1 && box.size() != c.density.size())
    throw std::logic_error("write_checkpoint: the density does not fill this rank's box");
  publish_h5_file(final_path, ranks, [&](hid_t file) {
    std::exception_ptr failed;
    const h5::ReplicatedData replicated(ranks.rank() == 0);  // attributes and arrays: rank 0's
    if (ranks.size() == 1) {
      const std::vector<hsize_t> dims{c.density.size()};  // flat: the grid's shape is in the main file
      h5::write_dataset(file, "density", dims, c.density.data());
    } else {
      h5::Dataset density;
      failed = h5::write_dataset_box(file, "density", box, true, c.density.data(), true, density);
    }
    h5::write_attribute(file, "time", c.time);
    h5::write_attribute(file, "step", c.step);
    h5::write_attribute(file, "next_snapshot", c.next_snapshot);
    h5::write_attribute(file, "rows", static_cast<long>(c.rows));
    if (!c.stepper_state.empty()) h5::write_attribute(file, "stepper_state", c.stepper_state);
    if (!c.arrays.empty()) {
      h5::Group arrays = h5::create_group(file, "arrays");
      for (const SnapshotArray& a : c.arrays) {
        const std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
        if (!a.distributed) {
          h5::write_dataset(arrays.id(), a.name, dims, a.values.data());
          continue;
        }
        h5::Dataset rows;  // each rank's rows (particles: each rank's own)
        std::exception_ptr e = h5::write_dataset_rows(arrays.id(), a.name, dims, a.rows, a.values.data(), true, rows);
        if (!failed) failed = e;
      }
    }
    return failed;
  });
}

Checkpoint read_restart_point(const std::string& path, const h5::Box& box) {
  const OutputSummary summary = read_output_summary(path);
  if (summary.format_version != k_output_format_version)
    throw std::runtime_error("--restart " + path + ": written in output format " +
                             std::to_string(summary.format_version) + " by wgflow " + summary.version +
                             "; this wgflow continues format " + std::to_string(k_output_format_version) +
                             " only (rerun the case, or continue it with that version)");
  if (summary.snapshot_times.empty())
    throw std::runtime_error("--restart " + path + ": the file holds no snapshot to continue from");
  Checkpoint c;
  c.time = summary.snapshot_times.back();
  c.step = summary.snapshot_steps.back();
  c.next_snapshot = static_cast<int>(summary.snapshot_times.size());
  const std::string checkpoint_path = output_paths(path).checkpoint();
  std::error_code ec;
  if (std::filesystem::exists(checkpoint_path, ec)) {
    try {
      h5::File file = h5::open_file(checkpoint_path, false);
      const long step = h5::read_long_attribute(file.id(), "step");
      const int next = static_cast<int>(h5::read_long_attribute(file.id(), "next_snapshot"));
      // Newer than the last snapshot, and written after it (a checkpoint taken before a later snapshot is stale).
      if (step > c.step && next == c.next_snapshot) {
        c.time = h5::read_double_attribute(file.id(), "time");
        c.step = step;
        c.density = h5::read_box(h5::open_dataset(file.id(), "density").id(), box, true);
        // Outputs written before --diagnostics-every kept one row per step.
        c.rows = h5::has_attribute(file.id(), "rows") ? static_cast<std::size_t>(h5::read_long_attribute(file.id(), "rows"))
                                                      : static_cast<std::size_t>(step) + 1;
        if (h5::has_attribute(file.id(), "stepper_state"))
          c.stepper_state = h5::read_double_vector_attribute(file.id(), "stepper_state");
        if (h5::link_exists(file.id(), "arrays")) c.arrays = read_arrays(file.id(), "arrays", "");
        return c;
      }
    } catch (const std::runtime_error& e) {
      std::ostringstream s;
      s << "--restart " << path << ": the checkpoint '" << checkpoint_path << "' cannot be read (" << h5::plain_reason(e)
        << "); delete it to continue from the last snapshot instead (t = " << c.time << ", step " << c.step << ")";
      throw std::runtime_error(s.str());
    }
  }
  c.density = read_snapshot(path, -1, box);
  h5::File file = h5::open_file(path, false);
  h5::Group last = h5::open_group(file.id(), "/steps/" + snapshot_group_name(c.next_snapshot - 1));
  if (h5::has_attribute(last.id(), "stepper_state"))
    c.stepper_state = h5::read_double_vector_attribute(last.id(), "stepper_state");
  // The snapshot's rows end where the state's row is (a snapshot always keeps its row).
  c.rows = h5::has_attribute(last.id(), "first_row")
               ? static_cast<std::size_t>(h5::read_long_attribute(last.id(), "first_row")) +
                     static_cast<std::size_t>(h5::dataset_dims(h5::open_dataset(last.id(), "/diagnostics/time").id()).at(0))
               : static_cast<std::size_t>(c.step) + 1;
  c.arrays = read_arrays(file.id(), "/steps/" + snapshot_group_name(c.next_snapshot - 1), "density");
  return c;
}

}  // namespace wgflow
