#pragma once
#include "cli/layer_guard.hpp"
/// --case f-divergence: the target density and the divergence term from a validated RunConfig.
#include <memory>

#include "io/run_config.hpp"
#include "solver/energy/f_divergence.hpp"

namespace wgflow {

/// Δx^d Σ q of the run's initial density (what --target-mass 0 resolves to).
template <int Dim>
double initial_mass_of(const RunConfig& c, const UniformGrid<Dim>& grid);

/// The divergence of --divergence toward --target, sampled on `grid` and normalised to c.target_mass
/// (which must be resolved, > 0). Throws std::invalid_argument / ConfigError naming the option.
template <int Dim>
std::shared_ptr<const FDivergence<Dim>> divergence_of(const RunConfig& c, const UniformGrid<Dim>& grid);

}  // namespace wgflow
