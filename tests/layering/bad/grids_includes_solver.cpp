// Deliberately bad: a grids/ file that includes a solver/ header. The layering test compiles it as a
// grids file (WGFLOW_LAYER_GRIDS) and passes only if solver/layer_guard.hpp's #error stops the build.
#include "solver/concentration.hpp"
