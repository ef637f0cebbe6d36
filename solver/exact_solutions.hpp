#pragma once
#include "solver/layer_guard.hpp"
/// Closed-form solutions used as initial data and as references in the convergence tests
/// (numerics.md "Exact solutions for tests"). Points are const double* x of length d.
#include <cmath>

namespace wgflow::exact {

inline constexpr double pi = 3.14159265358979323846;

/// Heat kernel of q_t = D Δq with mass M: M (4πDt)^{−d/2} exp(−|x − c|²/(4Dt)).
inline double heat_kernel(const double* x, const double* c, int d, double D, double t, double M) {
  double r2 = 0.0;
  for (int k = 0; k < d; ++k) r2 += (x[k] - c[k]) * (x[k] - c[k]);
  return M * std::pow(4.0 * pi * D * t, -0.5 * d) * std::exp(-r2 / (4.0 * D * t));
}

/// No-flux cosine mode of q_t = D Δq on the box [a, b]^d:
/// c0 + c1 Π_k cos(π n (x_k − a)/L) exp(−D π² d n²/L² t).
inline double heat_cosine_mode(const double* x, int d, double a, double b, int n, double c0, double c1, double D,
                               double t) {
  const double L = b - a;
  double prod = 1.0;
  for (int k = 0; k < d; ++k) prod *= std::cos(pi * n * (x[k] - a) / L);
  return c0 + c1 * prod * std::exp(-D * pi * pi * d * n * n / (L * L) * t);
}

/// Ornstein–Uhlenbeck (V = γ|x|²/2, U = D q log q) from N(m0, s0²) per axis, mass M:
/// N(m(t), s²(t)) with m = m0 e^{−γt}, s² = D/γ + (s0² − D/γ) e^{−2γt}.
inline double ornstein_uhlenbeck(const double* x, const double* m0, int d, double s0, double gamma, double D,
                                 double t, double M) {
  const double s2 = D / gamma + (s0 * s0 - D / gamma) * std::exp(-2.0 * gamma * t);
  double r2 = 0.0;
  for (int k = 0; k < d; ++k) {
    const double m = m0[k] * std::exp(-gamma * t);
    r2 += (x[k] - m) * (x[k] - m);
  }
  return M * std::pow(2.0 * pi * s2, -0.5 * d) * std::exp(-r2 / (2.0 * s2));
}

/// The constant C of the Barenblatt profile of mass M for q_t = Δq^m in d dimensions:
/// M = C^{p+d/2} k^{−d/2} π^{d/2} Γ(p+1)/Γ(p+1+d/2), p = 1/(m−1), k = (m−1)β/(2m).
inline double barenblatt_constant(double m, int d, double M) {
  const double beta = 1.0 / (d * (m - 1.0) + 2.0);
  const double k = (m - 1.0) * beta / (2.0 * m);
  const double p = 1.0 / (m - 1.0);
  const double unit = std::pow(k, -0.5 * d) * std::pow(pi, 0.5 * d) * std::tgamma(p + 1.0) / std::tgamma(p + 1.0 + 0.5 * d);
  return std::pow(M / unit, 1.0 / (p + 0.5 * d));
}

/// Barenblatt solution of q_t = Δq^m centred at c: t^{−α}(C − k|x−c|² t^{−2β})_+^{1/(m−1)}.
inline double barenblatt(const double* x, const double* c, int d, double m, double t, double C) {
  const double beta = 1.0 / (d * (m - 1.0) + 2.0);
  const double alpha = d * beta;
  const double k = (m - 1.0) * beta / (2.0 * m);
  double r2 = 0.0;
  for (int i = 0; i < d; ++i) r2 += (x[i] - c[i]) * (x[i] - c[i]);
  const double base = C - k * r2 * std::pow(t, -2.0 * beta);
  return base > 0.0 ? std::pow(t, -alpha) * std::pow(base, 1.0 / (m - 1.0)) : 0.0;
}

}  // namespace wgflow::exact
