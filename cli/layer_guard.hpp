#pragma once
/// cli/ is the top layer: no library file (WGFLOW_LAYER_GRIDS, _SOLVER or _IO) may include it.
/// Every cli/ header includes this file.
#if defined(WGFLOW_LAYER_GRIDS) || defined(WGFLOW_LAYER_SOLVER) || defined(WGFLOW_LAYER_IO)
#error "layering: cli/ headers may not be included from grids/, solver/ or io/ (grids <- solver <- io <- cli)"
#endif
