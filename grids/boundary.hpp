#pragma once
/// Ghost filling: the one function through which a field learns its neighbours' values.
/// No-flux walls mirror the interior (q_{-1} = q_0, q_{-2} = q_1), which makes every one-sided
/// difference across the wall vanish; periodic axes wrap around. A later MPI decomposition replaces
/// only this function with a halo exchange.
#include <array>

#include "grids/field.hpp"

namespace wgflow {

template <int Dim>
void fill_ghosts(Field<Dim>& f, const UniformGrid<Dim>& grid);

}  // namespace wgflow
