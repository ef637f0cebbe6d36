#pragma once
/// solver/ is above grids/: a grids/ file (compiled with WGFLOW_LAYER_GRIDS) must not include it.
/// Every solver/ header includes this file, so a layering violation fails the build, not a review.
#if defined(WGFLOW_LAYER_GRIDS)
#error "layering: solver/ headers may not be included from grids/ (grids <- solver <- io <- cli)"
#endif
