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

template <int Dim>
UniformGrid<Dim> grid_of(const RunConfig& c);

template <int Dim>
PotentialSpec potential_of(const RunConfig& c);

/// The initial density's spec; reads the file of --initial file:PATH.h5.
template <int Dim>
InitialSpec initial_of(const RunConfig& c, const UniformGrid<Dim>& grid);

}  // namespace wgflow
