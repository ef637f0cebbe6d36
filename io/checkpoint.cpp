#include "io/checkpoint.hpp"

#include <stdexcept>

#include "io/h5.hpp"
#include "io/initial_file.hpp"
#include "io/snapshot_writer.hpp"

namespace wgflow {

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  h5::init();
  h5::File file = h5::open_file(path, true);
  if (h5::link_exists(file.id(), "/checkpoint")) h5::delete_link(file.id(), "/checkpoint");
  h5::Group group = h5::create_group(file.id(), "checkpoint");
  const std::vector<hsize_t> dims{c.density.size()};  // flat: the grid's shape is in /grid
  h5::write_dataset(group.id(), "density", dims, c.density.data());
  h5::write_attribute(group.id(), "time", c.time);
  h5::write_attribute(group.id(), "step", c.step);
  h5::write_attribute(group.id(), "next_snapshot", c.next_snapshot);
  if (!c.stepper_state.empty()) h5::write_attribute(group.id(), "stepper_state", c.stepper_state);
  h5::flush(file.id());
}

Checkpoint read_restart_point(const std::string& path) {
  const OutputSummary summary = read_output_summary(path);
  if (summary.snapshot_times.empty())
    throw std::runtime_error("--restart " + path + ": the file holds no snapshot to continue from");
  Checkpoint c;
  c.time = summary.snapshot_times.back();
  c.step = summary.snapshot_steps.back();
  c.next_snapshot = static_cast<int>(summary.snapshot_times.size());
  h5::File file = h5::open_file(path, false);
  if (h5::link_exists(file.id(), "/checkpoint")) {
    h5::Group group = h5::open_group(file.id(), "/checkpoint");
    const long step = h5::read_long_attribute(group.id(), "step");
    const int next = static_cast<int>(h5::read_long_attribute(group.id(), "next_snapshot"));
    // Newer than the last snapshot, and written after it (a checkpoint taken before a later snapshot is stale).
    if (step > c.step && next == c.next_snapshot) {
      c.time = h5::read_double_attribute(group.id(), "time");
      c.step = step;
      c.density = h5::read_dataset(group.id(), "density");
      if (h5::has_attribute(group.id(), "stepper_state"))
        c.stepper_state = h5::read_double_vector_attribute(group.id(), "stepper_state");
      return c;
    }
  }
  c.density = read_snapshot(path, -1);
  h5::Group last = h5::open_group(file.id(), "/steps/" + snapshot_group_name(c.next_snapshot - 1));
  if (h5::has_attribute(last.id(), "stepper_state"))
    c.stepper_state = h5::read_double_vector_attribute(last.id(), "stepper_state");
  return c;
}

}  // namespace wgflow
