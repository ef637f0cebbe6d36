#pragma once
#include "solver/layer_guard.hpp"
/// Positivity-preserving upwind flux of Carrillo, Chertock & Huang, Commun. Comput. Phys. 17 (2015),
/// eqs. (2.5)–(2.9) (numerics.md "Two fluxes"):
///   u_{i+½} = −(ξ_{i+1} − ξ_i)/Δx,   F_{i+½} = max(u,0) q^E_i + min(u,0) q^W_{i+1},
///   q^E_i = q_i + σ_i/2,  q^W_i = q_i − σ_i/2,
///   σ_i = Δx s_i = minmod(θ(q_{i+1} − q_i), (q_{i+1} − q_{i−1})/2, θ(q_i − q_{i−1})),  θ ∈ [1, 2].
/// Pointwise kernels only: q and ξ are padded arrays, c a linear index, s the stride of the axis.
#include <algorithm>
#include <cstddef>

namespace wgflow {

/// minmod(a, b, c): the smallest in magnitude if all three share a sign, else 0. Written with selects
/// instead of branches so that cell loops vectorise; the result is one of the inputs or 0 either way.
inline double minmod(double a, double b, double c) {
  double lo = b < a ? b : a;
  lo = c < lo ? c : lo;
  double hi = b > a ? b : a;
  hi = c > hi ? c : hi;
  double r = lo > 0.0 ? lo : 0.0;  // all positive: the smallest
  r = hi < 0.0 ? hi : r;           // all negative: the largest
  return r;
}

/// σ_c: the limited slope times Δx; with θ ≤ 2 it keeps q^E, q^W ≥ 0 whenever the averages are.
inline double limited_slope(const double* q, std::ptrdiff_t c, std::ptrdiff_t s, double theta) {
  const double dl = q[c] - q[c - s];
  const double dr = q[c + s] - q[c];
  return minmod(theta * dr, 0.5 * (dl + dr), theta * dl);
}

/// F/Δx across the face between cells L = R − s and R (its share of the divergence); u Δx = ξ_L − ξ_R.
/// Order 1 uses the cell averages as point values.
/// F/Δx from the face's own data: ξ on its two sides and the reconstructed values q^E of the left
/// cell and q^W of the right cell. Every caller that forms a face flux goes through this expression.
inline double upwind_flux_rate(double xiL, double xiR, double qE, double qW, double inv_dx2) {
  const double u_dx = -(xiR - xiL);  // u·Δx
  return (std::max(u_dx, 0.0) * qE + std::min(u_dx, 0.0) * qW) * inv_dx2;
}

template <int Order>
inline double upwind_face_rate(const double* q, const double* xi, std::ptrdiff_t R, std::ptrdiff_t s,
                               double inv_dx2, double theta) {
  const std::ptrdiff_t L = R - s;
  double qE = q[L];
  double qW = q[R];
  if constexpr (Order == 2) {
    qE += 0.5 * limited_slope(q, L, s, theta);
    qW -= 0.5 * limited_slope(q, R, s, theta);
  }
  return upwind_flux_rate(xi[L], xi[R], qE, qW, inv_dx2);
}

/// |u| across the face between R − s and R.
inline double face_speed(const double* xi, std::ptrdiff_t R, std::ptrdiff_t s, double inv_dx) {
  return std::abs(xi[R] - xi[R - s]) * inv_dx;
}

}  // namespace wgflow
