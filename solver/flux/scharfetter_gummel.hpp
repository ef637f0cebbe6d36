#pragma once
#include "solver/layer_guard.hpp"
/// Scharfetter–Gummel flux for linear diffusion with drift, q_t = ∇·(D∇q + q∇V)
/// (Scharfetter & Gummel 1969; numerics.md "Two fluxes"):
///   J_{i+½} = (D/Δx) [ B(Pe) q_i − B(−Pe) q_{i+1} ],   Pe = (V_{i+1} − V_i)/D,   B(z) = z/(eᶻ − 1).
/// The coefficients depend on V only and are precomputed per face as c⁺ = D B(Pe)/Δx² and
/// c⁻ = D B(−Pe)/Δx², so that a face contributes J/Δx = c⁺ q_i − c⁻ q_{i+1} to the divergence.
#include <algorithm>
#include <cmath>

namespace wgflow {

/// Bernoulli function B(z) = z/(eᶻ − 1), B(0) = 1; a series near 0 where expm1 loses digits.
inline double bernoulli(double z) {
  if (std::abs(z) < 1e-3) return 1.0 - z / 2.0 + z * z / 12.0;  // next term −z⁴/720 < 2e-15
  if (z > 700.0) return z * std::exp(-z);                         // eᶻ − 1 overflows, B → z e^{−z}
  return z / std::expm1(z);
}

/// J_{L→R}/Δx across one face, from the precomputed coefficients of that face.
inline double sg_face_rate(double c_plus, double c_minus, double qL, double qR) {
  return c_plus * qL - c_minus * qR;
}

/// c⁺ of a face from s = D B(|Pe|)/Δx² and d = (V_R − V_L)/Δx²: B(−z) = B(z) + z makes the larger of
/// c⁺, c⁻ the smaller plus |d|, a sum of non-negative numbers (no cancellation at large |Pe|).
inline double sg_c_plus(double s, double d) { return s + std::max(-d, 0.0); }
/// c⁻ of a face from s = D B(|Pe|)/Δx² and d = (V_R − V_L)/Δx².
inline double sg_c_minus(double s, double d) { return s + std::max(d, 0.0); }

/// J/Δx across a face where V is constant (Pe = 0, B = 1): D (q_L − q_R)/Δx².
inline double heat_face_rate(double D_dx2, double qL, double qR) { return D_dx2 * (qL - qR); }

}  // namespace wgflow
