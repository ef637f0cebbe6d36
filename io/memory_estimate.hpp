#pragma once
#include "io/layer_guard.hpp"
/// How much memory a run needs, part by part, so that a run that cannot fit is refused up front
/// (RunConfig::validate) instead of dying with std::bad_alloc hours later.
///
/// Every part is a model of what the code allocates, calibrated against the peak resident set of real
/// runs (tests/cli/test_memory_estimate.cpp keeps each within a factor 1.5). A new stepper or linear
/// solver adds its own bytes-per-cell function next to those in memory_estimate.cpp.
#include "io/run_config.hpp"

namespace wgflow {

struct MemoryEstimate {
  double process = 0.0;      ///< the executable with its libraries (HDF5, FFTW, OpenMP, Boost)
  double stepper = 0.0;      ///< state, stage buffers, ξ, V, flux coefficients; implicit: matrices, solver
  double interaction = 0.0;  ///< interaction energies: zero-padded FFT buffers, kernel spectrum, W*q
  double total() const { return process + stepper + interaction; }
};

MemoryEstimate estimate_memory(const RunConfig& config);

/// What one machine needs when `ranks` ranks split the grid and `ranks_here` of them run on it: a
/// process each and their share of the grid-sized parts (the whole estimate for one rank).
inline double memory_per_machine(const MemoryEstimate& m, int ranks, int ranks_here) {
  return ranks_here * (m.process + (m.stepper + m.interaction) / ranks);
}

/// True if the implicit stepper solves this run's equation linearly (Scharfetter–Gummel flux: one
/// sparse solve per step) rather than by Newton on the upwind scheme.
bool implicit_step_is_linear(const RunConfig& config);

}  // namespace wgflow
