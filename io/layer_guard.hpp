#pragma once
/// io/ is above solver/ and grids/: files of those layers (compiled with WGFLOW_LAYER_SOLVER or
/// WGFLOW_LAYER_GRIDS) must not include it. Every io/ header includes this file.
#if defined(WGFLOW_LAYER_GRIDS) || defined(WGFLOW_LAYER_SOLVER)
#error "layering: io/ headers may not be included from grids/ or solver/ (grids <- solver <- io <- cli)"
#endif
