#pragma once
#include "solver/layer_guard.hpp"
/// Diagnostics of an f-divergence run against its target p: the divergence itself (the free-energy
/// column: E_ε for the upwind divergences; kl's is already U + V q), the L1 distance Δx^d Σ |q − p| and,
/// in 1D, the W2 distance between q/|q| and p/|p|. Row sums in row order: bitwise independent of the
/// thread count.
#include <vector>

#include "solver/diagnostics_history.hpp"
#include "solver/energy/f_divergence.hpp"

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
  std::vector<double> m_cdf_q, m_cdf_p;  ///< 1D W2 work space, sized once
};

/// W2 between two non-negative 1D cell densities on cells of width dx starting at `lower`, each
/// normalised to mass 1 (piecewise-constant densities: piecewise-linear quantile functions Q_q, Q_p):
///   W2² = ∫₀¹ |Q_q(s) − Q_p(s)|² ds, integrated exactly between the merged CDF breakpoints.
/// cdf_q, cdf_p: work space (resized to n + 1; no allocation once they have that size).
double w2_distance_1d(const double* q, const double* p, int n, double lower, double dx, std::vector<double>& cdf_q,
                      std::vector<double>& cdf_p);

}  // namespace wgflow
