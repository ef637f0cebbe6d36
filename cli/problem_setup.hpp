#pragma once
#include "cli/layer_guard.hpp"
/// From a validated RunConfig to the solver's specs: grid, internal energy, potential, initial data.
#include <string>
#include <vector>

#include "io/run_config.hpp"
#include "solver/energy/internal_energy.hpp"
#include "solver/energy/potential.hpp"
#include "solver/initial_data.hpp"

namespace wgflow {

InternalEnergySpec internal_energy_of(const RunConfig& c);

/// The global grid of the run.
template <int Dim>
UniformGrid<Dim> grid_of(const RunConfig& c);
/// This rank's box of it, with the ranks and the halo exchange attached (grids/halo_exchange.hpp,
/// decompose): the global grid itself on one rank. Too many ranks for the grid: a ConfigError.
template <int Dim>
UniformGrid<Dim> rank_grid_of(const RunConfig& c);

/// Why the run `c` cannot be decomposed over several ranks yet, as the end of the one-line error
/// ("--particles is not available on more than one rank yet; ..."), or "" when it can. A restart is
/// judged by its stored configuration, like a new run.
std::string not_decomposable(const RunConfig& c);
/// The one-line error of a run that cannot be decomposed over `ranks` ranks ("mpirun: 3 ranks: ..."):
/// not_decomposable's reason, or too many ranks for the grid (grids/decomposition.hpp); "" if it can.
/// Every rank finds it alike.
std::string decomposition_problem(const RunConfig& c, int ranks);

template <int Dim>
PotentialSpec potential_of(const RunConfig& c);

/// The initial density's spec; reads the file of --initial file:PATH.h5.
template <int Dim>
InitialSpec initial_of(const RunConfig& c, const UniformGrid<Dim>& grid);

}  // namespace wgflow
