#pragma once
#include "solver/layer_guard.hpp"
/// Accurate cell averages of the Barenblatt profile B = A (C − K|x − c|²)_+^p, p = 1/(m − 1), whose
/// edge is a square root for m = 3 (a kink for m = 2): a 4-point Gauss rule per axis misses such an
/// edge cell by up to 4e-3 (issue 17). Cells near the edge are integrated exactly along x with the
/// substitution u = a sin θ, which turns (a² − u²)^p du into a^{2p+1} cos^{2p+1}θ dθ (smooth), and
/// along y and z by tanh-sinh quadrature on the pieces between the points where the integrand's
/// smoothness breaks (the edge circle meeting the cell's sides), which is exponentially accurate with
/// algebraic endpoint singularities. Cells more than one cell diagonal inside the edge use 8-point
/// Gauss per axis, more than four diagonals inside 4-point Gauss (the profile is analytic there).
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "grids/quadrature.hpp"
#include "solver/exact_solutions.hpp"

namespace wgflow::exact {

namespace detail {

/// 16-point Gauss–Legendre nodes and weights on [−1, 1] (positive half; the rule is symmetric).
inline constexpr std::array<double, 8> gauss16_nodes{0.0950125098376374, 0.2816035507792589, 0.4580167776572274,
                                                     0.6178762444026438, 0.7554044083550030, 0.8656312023878318,
                                                     0.9445750230732326, 0.9894009349916499};
inline constexpr std::array<double, 8> gauss16_weights{0.1894506104550685, 0.1826034150449236, 0.1691565193950025,
                                                       0.1495959888165767, 0.1246289712555339, 0.0951585116824928,
                                                       0.0622535239386479, 0.0271524594117541};

/// ∫_{θ0}^{θ1} cos^e θ dθ, −π/2 ≤ θ0 ≤ θ1 ≤ π/2, by 16-point Gauss (exact to round-off for e ≤ ~20
/// integer, and for the smooth non-integer powers of the usual m).
inline double cos_power_integral(double theta0, double theta1, double e) {
  const double mid = 0.5 * (theta0 + theta1), half = 0.5 * (theta1 - theta0);
  const int whole = static_cast<int>(e);
  const bool integer = e == whole && whole <= 32;  // m = 2, 3, 1.5, ...: no pow
  auto power = [&](double c) {
    c = std::max(0.0, c);
    if (!integer) return std::pow(c, e);
    double v = 1.0;
    for (int i = 0; i < whole; ++i) v *= c;
    return v;
  };
  double sum = 0.0;
  for (std::size_t i = 0; i < 8; ++i) {
    const double d = half * gauss16_nodes[i];
    sum += gauss16_weights[i] * (power(std::cos(mid - d)) + power(std::cos(mid + d)));
  }
  return sum * half;
}

/// (1/|cell|) ∫_cell f by the 8^Dim-point Gauss–Legendre rule (cells near, not at, the edge).
template <int Dim, class Fn>
double cell_average_gauss8(const UniformGrid<Dim>& grid, const std::array<int, Dim>& cell, Fn&& f) {
  static constexpr std::array<double, 8> nodes{-0.9602898564975363, -0.7966664774136267, -0.5255324099163290,
                                               -0.1834346424956498, 0.1834346424956498,  0.5255324099163290,
                                               0.7966664774136267,  0.9602898564975363};
  static constexpr std::array<double, 8> weights{0.1012285362903763, 0.2223810344533745, 0.3137066458778873,
                                                 0.3626837833783620, 0.3626837833783620, 0.3137066458778873,
                                                 0.2223810344533745, 0.1012285362903763};
  double sum = 0.0;
  std::array<int, 3> node{0, 0, 0};
  const int n1 = Dim > 1 ? 8 : 1, n2 = Dim > 2 ? 8 : 1;
  for (node[2] = 0; node[2] < n2; ++node[2])
    for (node[1] = 0; node[1] < n1; ++node[1])
      for (node[0] = 0; node[0] < 8; ++node[0]) {
        double x[3] = {0, 0, 0};
        double w = 1.0;
        for (int k = 0; k < Dim; ++k) {
          const auto g = static_cast<std::size_t>(node[static_cast<std::size_t>(k)]);
          x[k] = grid.centre(k, cell[k]) + 0.5 * grid.dx(k) * nodes[g];
          w *= 0.5 * weights[g];
        }
        sum += w * f(static_cast<const double*>(x));
      }
  return sum;
}

/// ∫_{u0}^{u1} (R² − s − u²)_+^p du (the profile along x at transverse squared distance s).
inline double line_integral(double u0, double u1, double s, double R2, double p) {
  const double a2 = R2 - s;
  if (!(a2 > 0.0)) return 0.0;
  const double a = std::sqrt(a2);
  const double lo = std::max(u0, -a), hi = std::min(u1, a);
  if (!(lo < hi)) return 0.0;
  const double t0 = std::asin(std::clamp(lo / a, -1.0, 1.0)), t1 = std::asin(std::clamp(hi / a, -1.0, 1.0));
  return std::pow(a, 2.0 * p + 1.0) * cos_power_integral(t0, t1, 2.0 * p + 1.0);
}

/// ∫_a^b f by tanh-sinh quadrature with step h on t ∈ [−3.2, 3.2] (f is never called at a or b).
template <class F>
double tanh_sinh(double a, double b, double h, F&& f) {
  const double mid = 0.5 * (a + b), half = 0.5 * (b - a);
  const double pi_2 = 1.5707963267948966;
  double sum = 0.0;
  const int K = static_cast<int>(std::ceil(3.2 / h));
  for (int k = -K; k <= K; ++k) {
    const double t = k * h;
    const double s = pi_2 * std::sinh(t);
    const double c = std::cosh(s);
    const double x = std::tanh(s);
    const double w = pi_2 * std::cosh(t) / (c * c);
    const double at = mid + half * x;
    if (at <= a || at >= b) continue;
    sum += w * f(at);
  }
  return sum * h * half;
}

/// ∫_a^b f split at the points `breaks` (any order; those outside (a, b) are ignored).
template <class F>
double piecewise(double a, double b, std::vector<double> breaks, double h, F&& f) {
  breaks.push_back(a);
  breaks.push_back(b);
  std::sort(breaks.begin(), breaks.end());
  double sum = 0.0, left = a;
  for (double x : breaks) {
    if (!(x > left) || x > b) continue;
    sum += tanh_sinh(left, x, h, f);
    left = x;
  }
  return sum;
}

}  // namespace detail

/// Cell average of barenblatt(x, c, Dim, m, t, C) over `cell`, to ~1e-13 of max B in 1D/2D (tests) and
/// ~1e-12 of the mass in 3D, where the y and z rules are coarser to keep set-up time in seconds.
template <int Dim>
double barenblatt_cell_average(const UniformGrid<Dim>& grid, const std::array<int, Dim>& cell, const double* c, double m,
                               double t, double C) {
  const double beta = 1.0 / (Dim * (m - 1.0) + 2.0);
  const double A = std::pow(t, -Dim * beta);
  const double K = (m - 1.0) * beta / (2.0 * m) * std::pow(t, -2.0 * beta);
  const double p = 1.0 / (m - 1.0);
  const double R2 = C / K;  // squared support radius
  std::array<double, 3> lo{}, hi{};
  double rmin2 = 0.0, rmax2 = 0.0, diag2 = 0.0;
  for (int k = 0; k < Dim; ++k) {
    lo[k] = grid.lower[k] + (grid.offset[k] + cell[k]) * grid.dx(k) - c[k];  // global index, as centre()
    hi[k] = lo[k] + grid.dx(k);
    const double near = lo[k] > 0.0 ? lo[k] : (hi[k] < 0.0 ? -hi[k] : 0.0);
    rmin2 += near * near;
    rmax2 += std::max(lo[k] * lo[k], hi[k] * hi[k]);
    diag2 += grid.dx(k) * grid.dx(k);
  }
  if (rmin2 >= R2) return 0.0;
  // Away from the edge the profile is analytic: Gauss converges fast, with more points nearer the edge.
  const double depth = std::sqrt(R2) - std::sqrt(rmax2), diag = std::sqrt(diag2);
  const auto point = [&](const double* x) { return barenblatt(x, c, Dim, m, t, C); };
  if (depth > 4.0 * diag) return cell_average<Dim>(grid, cell, point);
  if (depth > diag) return detail::cell_average_gauss8<Dim>(grid, cell, point);
  const double h = Dim == 3 ? 0.25 : 0.125;
  const double scale = A * std::pow(K, p) / grid.cell_volume();  // B = A K^p (R² − r²)_+^p
  // Along y (at transverse squared distance sz from the z-axis part): breaks where the edge circle
  // meets x = lo, x = hi or leaves the cell's y-range.
  auto over_y = [&](double sz) {
    if (Dim == 1) return detail::line_integral(lo[0], hi[0], sz, R2, p);
    std::vector<double> breaks;
    for (double e : {0.0, lo[0], hi[0]}) {
      const double y2 = R2 - sz - e * e;
      if (y2 > 0.0) breaks.insert(breaks.end(), {-std::sqrt(y2), std::sqrt(y2)});
    }
    return detail::piecewise(lo[1], hi[1], breaks, h, [&](double y) { return detail::line_integral(lo[0], hi[0], sz + y * y, R2, p); });
  };
  if (Dim < 3) return scale * over_y(0.0);
  std::vector<double> breaks;  // z where the circle in the x-y slice passes a side or corner of the cell
  for (double ex : {0.0, lo[0], hi[0]})
    for (double ey : {0.0, lo[1], hi[1]}) {
      const double z2 = R2 - ex * ex - ey * ey;
      if (z2 > 0.0) breaks.insert(breaks.end(), {-std::sqrt(z2), std::sqrt(z2)});
    }
  return scale * detail::piecewise(lo[2], hi[2], breaks, h, [&](double z) { return over_y(z * z); });
}

}  // namespace wgflow::exact
