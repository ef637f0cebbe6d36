#pragma once
#include "solver/layer_guard.hpp"
/// A finite network of width m trained by gradient flow: the particle system whose m → ∞ limit the
/// mean-field-network case solves on a grid. f(x) = (1/m) Σ_i σ̂(θ_i; x), L = ½ (1/n) Σ_j (f(x_j) − y_j)²,
///   dθ_i/dt = −∇_θ Ψ(θ_i; ρ_m),  Ψ(θ; ρ_m) = (1/n) Σ_j (f(x_j) − y_j) σ̂(θ; x_j),
/// i.e. gradient descent with learning rate η on m L after t/η steps (README "mean-field time").
/// A reference for tests and measurements (serial, O(m n) per evaluation), not a solver path.
#include <array>
#include <vector>

#include "solver/energy/network.hpp"

namespace wgflow {

template <int Dim>
class ParticleNetwork {
 public:
  ParticleNetwork(NetworkSpec spec, std::vector<std::array<double, Dim>> theta)
      : m_spec(std::move(spec)), m_theta(std::move(theta)), m_f(m_spec.x.size()), m_k1(m_theta.size()),
        m_k2(m_theta.size()), m_trial(m_theta.size()) {}

  const std::vector<std::array<double, Dim>>& theta() const { return m_theta; }

  /// f(x_j) of the particles θ.
  const std::vector<double>& output(const std::vector<std::array<double, Dim>>& theta) const {
    const double m = static_cast<double>(theta.size());
    for (std::size_t j = 0; j < m_f.size(); ++j) {
      double sum = 0.0;
      for (const auto& t : theta) sum += neuron<Dim>(m_spec, t.data(), m_spec.x[j]);
      m_f[j] = sum / m;
    }
    return m_f;
  }
  /// L = ½ (1/n) Σ_j (f(x_j) − y_j)².
  double loss() const {
    const std::vector<double>& f = output(m_theta);
    double sum = 0.0;
    for (std::size_t j = 0; j < f.size(); ++j) sum += (f[j] - m_spec.y[j]) * (f[j] - m_spec.y[j]);
    return 0.5 * sum / static_cast<double>(f.size());
  }

  /// One Heun (RK2) step of dθ_i/dt = −∇_θ Ψ(θ_i; ρ_m).
  void step(double dt) {
    velocity(m_theta, m_k1);
    for (std::size_t i = 0; i < m_theta.size(); ++i)
      for (int k = 0; k < Dim; ++k) m_trial[i][k] = m_theta[i][k] + dt * m_k1[i][k];
    velocity(m_trial, m_k2);
    for (std::size_t i = 0; i < m_theta.size(); ++i)
      for (int k = 0; k < Dim; ++k) m_theta[i][k] += 0.5 * dt * (m_k1[i][k] + m_k2[i][k]);
  }

 private:
  /// v_i = −(1/n) Σ_j (f(x_j) − y_j) ∇_θ σ̂(θ_i; x_j).
  void velocity(const std::vector<std::array<double, Dim>>& theta, std::vector<std::array<double, Dim>>& v) const {
    const std::vector<double>& f = output(theta);
    const double n = static_cast<double>(f.size());
    for (std::size_t i = 0; i < theta.size(); ++i) {
      std::array<double, Dim> sum{};
      for (std::size_t j = 0; j < f.size(); ++j) {
        const std::array<double, Dim> g = neuron_gradient<Dim>(m_spec, theta[i].data(), m_spec.x[j]);
        for (int k = 0; k < Dim; ++k) sum[k] += (f[j] - m_spec.y[j]) * g[k];
      }
      for (int k = 0; k < Dim; ++k) v[i][k] = -sum[k] / n;
    }
  }

  NetworkSpec m_spec;
  std::vector<std::array<double, Dim>> m_theta;
  mutable std::vector<double> m_f;
  std::vector<std::array<double, Dim>> m_k1, m_k2, m_trial;
};

}  // namespace wgflow
