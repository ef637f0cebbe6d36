// Deliberately bad: a solver/ file that includes an io/ header. The layering test compiles it as a
// solver file (WGFLOW_LAYER_SOLVER) and passes only if io/layer_guard.hpp's #error stops the build.
#include "io/write_error.hpp"
