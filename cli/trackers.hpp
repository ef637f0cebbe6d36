#pragma once
#include "cli/layer_guard.hpp"
/// Trackers the command line hangs off the run loop: HDF5 snapshots, checkpoints, progress.
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "grids/field.hpp"
#include "io/checkpoint.hpp"
#include "io/snapshot_writer.hpp"
#include "solver/simulation.hpp"

namespace wgflow {

/// Writes every snapshot (and the diagnostics rows so far, and the arrays of each source) to the
/// output file, and a checkpoint when the run is interrupted. A decomposed run: q is this rank's box
/// (the writer's grid) and every rank calls the writer together (io/snapshot_writer.hpp).
template <int Dim>
class OutputTracker final : public Tracker<Dim> {
 public:
  OutputTracker(SnapshotWriter<Dim>& writer, const TimeStepper<Dim>& stepper,
                std::vector<const SnapshotArraySource<Dim>*> sources = {})
      : m_writer(writer), m_stepper(stepper), m_sources(std::move(sources)) {}
  void on_snapshot(const Field<Dim>& q, const DiagnosticsHistory& history, long step, int) override {
    std::vector<SnapshotArray> arrays;
    for (const SnapshotArraySource<Dim>* source : m_sources) source->append_snapshot_arrays(q, arrays);
    m_writer.write_snapshot(interior_values(q), history.back().time, step, history, m_stepper.carried_state(),
                            arrays);
  }
  void on_step(const Field<Dim>&, const DiagnosticsHistory& history, long) override { m_writer.write_rows_if_due(history); }
  std::size_t rows_needed_from() const override { return m_writer.rows_written(); }
  void on_interrupt(const Field<Dim>& q, const DiagnosticsHistory& history, long step, double t,
                    int next_snapshot) override {
    m_writer.flush_diagnostics(history);
    Checkpoint checkpoint{interior_values(q), t, step, next_snapshot, m_stepper.carried_state(), history.size(), {}};
    for (const SnapshotArraySource<Dim>* source : m_sources) source->append_snapshot_arrays(q, checkpoint.arrays);
    write_checkpoint(m_writer.path(), checkpoint, m_writer.box(), m_writer.ranks());
  }

 private:
  SnapshotWriter<Dim>& m_writer;
  const TimeStepper<Dim>& m_stepper;
  std::vector<const SnapshotArraySource<Dim>*> m_sources;
};

/// Progress on stderr: a line rewritten in place on a terminal (5 times a second at most), plain log
/// lines every 10 s otherwise. Percent of t_end, steps, dt, elapsed time, ETA and mass drift.
template <int Dim>
class ProgressTracker final : public Tracker<Dim> {
 public:
  /// `workers`: how the run executes, e.g. "2 ranks x 2 threads", shown at the end of each line.
  ProgressTracker(double t_start, double t_end, bool terminal, std::string workers = {})
      : m_t_start(t_start), m_t_end(t_end), m_terminal(terminal), m_interval(terminal ? 0.2 : 10.0),
        m_workers(std::move(workers)) {}
  ~ProgressTracker() override {
    if (m_terminal && m_printed) std::fputc('\n', stderr);
  }
  void on_step(const Field<Dim>&, const DiagnosticsHistory& history, long step) override {
    const double elapsed = seconds_since(m_start);
    if (elapsed - m_last < m_interval) return;
    m_last = elapsed;
    const DiagnosticsRow& row = history.back();
    const double done = (row.time - m_t_start) / (m_t_end - m_t_start);  // of this call, for the ETA
    const double eta = done > 0.0 ? elapsed * (1.0 - done) / done : 0.0;
    const double drift = std::abs(row.mass - history.front().mass) / history.front().mass;
    std::fprintf(stderr, "%s[%5.1f%%] t = %-10.4g step %-8ld dt %-9.3g elapsed %-8.1fs ETA %-8.1fs mass drift %.1e%s%s%s",
                 m_terminal ? "\r" : "", 100.0 * (row.time / m_t_end), row.time, step, row.dt, elapsed, eta, drift,
                 m_workers.empty() ? "" : "  ", m_workers.c_str(), m_terminal ? "" : "\n");
    std::fflush(stderr);
    m_printed = true;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
  double m_t_start, m_t_end;
  bool m_terminal;
  double m_interval;
  std::string m_workers;
  double m_last = 0.0;
  bool m_printed = false;
};

}  // namespace wgflow
