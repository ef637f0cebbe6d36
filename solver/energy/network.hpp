#pragma once
#include "solver/layer_guard.hpp"
/// The risk of a wide two-layer network as an energy on parameter space (Mei–Montanari–Nguyen 2018,
/// Chizat–Bach 2018). A neuron σ̂(θ; x) = a σ(w x + b); the network f_ρ(x) = ∫ σ̂(θ; x) dρ(θ); the risk
///   R[ρ] = ½ (1/n) Σ_j (f_ρ(x_j) − y_j)² = ½ mean y² + ∫ V ρ + ½ ∬ W ρ ρ,
///   V(θ) = −(1/n) Σ_j y_j σ̂(θ; x_j),   W(θ, θ′) = (1/n) Σ_j σ̂(θ; x_j) σ̂(θ′; x_j)
/// — an interaction energy that is not a convolution. Discretely f_j = h^d Σ_c S_cj q_c with the
/// feature matrix S_cj = σ̂(θ_c; x_j) (cell centres θ_c), and the interaction part of ξ is
///   Φ_c = h^d Σ_c′ W_cc′ q_c′ = (1/n) Σ_j S_cj f_j,    so that V_c + Φ_c = Ψ(θ_c) = (1/n) Σ_j (f_j − y_j) S_cj.
/// S is made once per run (cells × n doubles); each apply() is two threaded passes over it.
/// Parameter axes: 3D (a, w, b); 2D (w, b) with a = A; 1D w with a = A and b = 0.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

enum class Activation { relu, tanh, sigmoid };

/// Parses "relu", "tanh" or "sigmoid"; throws std::invalid_argument naming --activation.
Activation parse_activation(const std::string& text);
std::string to_string(Activation a);

struct NetworkSpec {
  Activation activation = Activation::relu;
  double output_weight = 1.0;  ///< A: the output weight a of the 1D and 2D parameter grids
  std::vector<double> x, y;    ///< the data (x_j, y_j), j < n
};

/// σ(z) of the activation, and σ'(z) (ReLU: 1 for z > 0, else 0).
double activation_value(Activation a, double z);
double activation_slope(Activation a, double z);

/// σ̂(θ; x) with θ in the grid's axes: Dim 3 (a, w, b), Dim 2 (w, b) and a = A, Dim 1 w, a = A, b = 0.
template <int Dim>
double neuron(const NetworkSpec& spec, const double* theta, double x);
/// ∇_θ σ̂(θ; x) in the grid's axes (ReLU: σ' = 1 for z > 0, else 0).
template <int Dim>
std::array<double, Dim> neuron_gradient(const NetworkSpec& spec, const double* theta, double x);
/// |∇_θ σ̂(θ; x)|².
template <int Dim>
double neuron_gradient_squared(const NetworkSpec& spec, const double* theta, double x);

/// The one place that holds S and the buffers of the two passes.
template <int Dim>
class NetworkKernel {
 public:
  NetworkKernel(const UniformGrid<Dim>& grid, NetworkSpec spec);

  const NetworkSpec& spec() const { return m_spec; }
  std::size_t data_points() const { return m_spec.x.size(); }

  /// f_j = h^d Σ_c S_cj q_c (interior of q) into the kernel's buffer, returned. The sum over cells is
  /// cut into the global grid's fixed chunks (grids/chunk_sums.hpp) and their partials added exactly:
  /// bitwise the same for any thread count and any split over ranks, and the same f on every rank
  /// (collective on a decomposed grid). Not reentrant (one buffer set).
  const std::vector<double>& network_output(const Field<Dim>& q) const;

  /// Φ_c = (1/n) Σ_j S_cj f_j on the interior of phi (ghosts untouched), f = network_output(q).
  void apply(const Field<Dim>& q, Field<Dim>& phi) const;

  /// V_c = −(1/n) Σ_j y_j S_cj, ghosts filled per boundary.
  Field<Dim> potential() const;
  /// ½ (1/n) Σ_j y_j²: R = this + h^d Σ_c (V_c + ½ Φ_c) q_c.
  double energy_constant() const;
  /// R = ½ (1/n) Σ_j (f_j − y_j)² of q, directly (tests).
  double risk(const Field<Dim>& q) const;

  /// 1/Δt of the network's own time scale: G = (1/n) Σ_j ∫ |∇_θ σ̂(θ; x_j)|² dρ, discretely h^d Σ_c g_c q_c.
  /// G bounds the non-local part of the risk's Hessian along the flow, (1/n) Σ_j (∫ ∇σ̂_j · v dρ)² ≤
  /// G ∫ |v|² dρ; explicit steps of Δt ≤ cfl/G keep the risk falling once the face speeds (the
  /// positivity limit) become small near a minimiser. Chunk partials added exactly (collective).
  double step_rate(const Field<Dim>& q) const;

  /// Bytes of S and of the per-thread chunk partials.
  std::size_t bytes() const;
  /// Bytes S and its buffers take on a grid of `cells` cells with `rows` rows and n data points: an
  /// upper bound since the partials are per thread (n each), no longer per row.
  static double bytes_for(double cells, double rows, double n);

 private:
  UniformGrid<Dim> m_grid;
  NetworkSpec m_spec;
  std::size_t m_n = 0;
  std::vector<double> m_S;                ///< S_cj at c·n + j, c the interior index (x fastest)
  std::vector<double> m_gradient;         ///< g_c = (1/n) Σ_j |∇_θ σ̂(θ_c; x_j)|², interior index
  mutable std::vector<double> m_partial;  ///< per thread t: a chunk's Σ_{c in chunk} S_cj q_c at t·n + j
  mutable std::vector<double> m_f;        ///< f_j of the last network_output()
  mutable std::vector<double> m_g;        ///< f_j / n
};

}  // namespace wgflow
