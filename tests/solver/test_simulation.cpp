/// The run loop: snapshots at the right times, and a state that turns non-finite stops the run at
/// once with step, time and cell, after the last good snapshot and before any bad one.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "solver/simulation.hpp"
#include "solver/steppers/explicit_rk.hpp"
#include "solver/steppers/implicit_euler.hpp"
#include "tests/support.hpp"

using namespace wgflow;
using namespace wgflow::test;

namespace {

/// Steps of fixed size; poisons one cell at a given step.
class PoisoningStepper final : public TimeStepper<1> {
 public:
  explicit PoisoningStepper(long poison_at, double poison = std::numeric_limits<double>::quiet_NaN(), int cell = 3)
      : m_poison_at(poison_at), m_poison(poison), m_cell(cell) {}
  std::string name() const override { return "poisoning"; }
  StepReport step(Field<1>& q, double t, double t_stop) override {
    if (++m_steps == m_poison_at) q.at({m_cell}) = m_poison;
    StepReport r;
    r.dt = std::min(0.01, t_stop - t);
    r.reached_stop = r.dt == t_stop - t;
    return r;
  }

 private:
  long m_poison_at;
  double m_poison;
  int m_cell;
  long m_steps = 0;
};

struct RecordingTracker final : Tracker<1> {
  std::vector<double> snapshot_times;
  void on_snapshot(const Field<1>&, const DiagnosticsHistory& h, long, int) override {
    snapshot_times.push_back(h.back().time);
  }
};

}  // namespace

TEST_SUITE("physics") {
  TEST_CASE("run loop: snapshots land on t_end k/K and a non-finite state stops the run with its location") {
    const UniformGrid<1> grid = make_cube_grid<1>(8, 0.0, 1.0, Boundary::no_flux);
    const FreeEnergy<1> energy(grid, entropy(1.0), no_potential());
    Field<1> q(FieldLayout<1>(grid.shape), 1.0);

    PoisoningStepper healthy(-1);
    Simulation<1> ok(energy, healthy);
    RecordingTracker seen;
    RunState state;
    ok.run(q, 0.1, 4, state, {&seen});
    std::vector<double> expected;  // exactly t_end·k/K, as the loop computes them
    for (int k = 0; k <= 4; ++k) expected.push_back(0.1 * k / 4);
    CHECK(seen.snapshot_times == expected);
    CHECK(state.t == 0.1);

    // Steps end at 0.01, 0.02, 0.025 (landing), 0.035, 0.045, 0.05 (landing), 0.06: step 7 is poisoned.
    PoisoningStepper poisoning(7);
    Simulation<1> bad(energy, poisoning);
    RecordingTracker written;
    RunState fresh;
    Field<1> q2(FieldLayout<1>(grid.shape), 1.0);
    std::string message;
    try {
      bad.run(q2, 0.1, 4, fresh, {&written});
    } catch (const NonFiniteState& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find("step 7") != std::string::npos);
    CHECK(message.find("t = 0.06") != std::string::npos);
    CHECK(message.find("cell (3)") != std::string::npos);
    CHECK(written.snapshot_times == std::vector<double>(expected.begin(), expected.begin() + 3));
    CHECK(bad.history().size() == 7u);  // rows of the 6 good steps and the initial state
  }

  TEST_CASE("run loop: a finite state whose energy overflows stops the run naming the cell") {
    // q = 1e308 is finite, and so is the mass (times dx = 1/8), but q log q is not: the message must
    // still say where (it once read "...: ; stopping").
    const UniformGrid<1> grid = make_cube_grid<1>(8, 0.0, 1.0, Boundary::no_flux);
    const FreeEnergy<1> energy(grid, entropy(1.0), no_potential());
    PoisoningStepper overflowing(2, 1e308, 5);
    Simulation<1> sim(energy, overflowing);
    RecordingTracker written;
    RunState state;
    Field<1> q(FieldLayout<1>(grid.shape), 1.0);
    std::string message;
    try {
      sim.run(q, 0.1, 4, state, {&written});
    } catch (const NonFiniteState& e) {
      message = e.what();
    }
    INFO(message);
    CHECK(message.find("step 2") != std::string::npos);
    CHECK(message.find("energy density is inf in cell (5)") != std::string::npos);
    CHECK(message.find(": ;") == std::string::npos);
  }

  TEST_CASE("run loop: a collapsing step is explained by the stepper that took it") {
    // The implicit stepper must not tell its user about the explicit step limit.
    const UniformGrid<1> grid = make_cube_grid<1>(8, 0.0, 1.0, Boundary::no_flux);
    const FreeEnergy<1> energy(grid, entropy(1.0), no_potential());
    FluxSpec flux;
    flux.kind = default_flux_for(energy.internal());
    const ImplicitEuler<1> implicit(energy, flux, ImplicitOptions{});
    CHECK(implicit.step_limit_reason().find("explicit") == std::string::npos);
    CHECK(implicit.step_limit_reason().find("implicit solver") != std::string::npos);

    struct Crawling final : TimeStepper<1> {
      std::string name() const override { return "crawling"; }
      std::string step_limit_reason() const override { return "the crawling stepper's own reason"; }
      StepReport step(Field<1>&, double, double) override { return StepReport{1e-20, false, 0}; }
    } crawling;
    Simulation<1> sim(energy, crawling);
    RunState state;
    Field<1> q(FieldLayout<1>(grid.shape), 1.0);
    std::string message;
    try {
      sim.run(q, 1.0, 1, state, {});
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    CHECK(message.find("more than 1e10 steps; the crawling stepper's own reason") != std::string::npos);
  }
}
