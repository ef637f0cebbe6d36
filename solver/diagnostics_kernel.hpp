#pragma once
#include "solver/layer_guard.hpp"
/// The row kernel of Diagnostics::measure: one x-row's mass, E_D sum, min and max, vectorised.
/// Exposed (rather than hidden in diagnostics.cpp) so tests can run both the baseline and the AVX2
/// build on the same data and require bitwise equal results.
#include "grids/parallel_for.hpp"
#include "solver/energy/internal_energy.hpp"

namespace wgflow {

/// Σ q, Σ [U(q) + V q (+ ½ φ q)], min q, max q over one row (sums not yet scaled by the cell volume).
struct DiagnosticsRowTotals {
  double mass, energy, min, max;
};

/// Totals of the `count` cells at q, V and phi (phi = nullptr: no interaction term), computed by the
/// given build. Every build gives bitwise the same numbers; they depend on count, never on threads.
/// V = nullptr stands for V ≡ +0.0 (no potential): the same bits as an array of +0.0 (the term is
/// still added as 0.0·q), without streaming that array from memory.
DiagnosticsRowTotals diagnostics_row(SimdLevel simd, const InternalEnergySpec& internal, const double* q,
                                     const double* V, const double* phi, int count);

}  // namespace wgflow
