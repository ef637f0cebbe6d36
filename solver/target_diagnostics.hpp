#pragma once
#include "solver/layer_guard.hpp"
/// Diagnostics of an f-divergence run against its target p: the divergence itself (the free-energy
/// column: E_ε for the upwind divergences; kl's is already U + V q), the L1 distance Δx^d Σ |q − p| and,
/// in 1D, the W2 distance between q/|q| and p/|p|. Sums over fixed chunks added exactly: bitwise
/// independent of the thread count and of the split over ranks (1D W2: solver/w2_line.hpp).
#include <vector>

#include "solver/diagnostics_history.hpp"
#include "solver/energy/f_divergence.hpp"
#include "solver/w2_line.hpp"

namespace wgflow {

template <int Dim>
class TargetDiagnostics {
 public:
  explicit TargetDiagnostics(const FDivergence<Dim>& divergence);

  /// Adds the divergence to row.energy (upwind divergences) and sets row.l1_to_target and, in 1D,
  /// row.w2_to_target.
  void measure(const Field<Dim>& q, DiagnosticsRow& row);

 private:
  const FDivergence<Dim>& m_div;
  std::vector<double> m_cdf_q;  ///< 1D W2: this rank's q-levels (work space, sized once)
  std::vector<double> m_cdf_p;  ///< 1D W2: the target's levels of the whole line, on every rank
  bool m_target_levels_ok = false;
};

}  // namespace wgflow
