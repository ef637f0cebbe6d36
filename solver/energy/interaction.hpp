#pragma once
#include "solver/layer_guard.hpp"
/// The interaction term ½∬W(x−y)q(x)q(y) of the free energy, discretised as
///   E_W = ½ h^{2d} Σ_i Σ_j W_{i−j} q_i q_j,    its part of ξ: Φ_i = h^d Σ_j W_{i−j} q_j
/// (numerics.md "Interaction W*q"; Carrillo–Chertock–Huang 2015, eq. (2.11)), W_m the cell averages
/// of interaction_kernel.hpp and the sum an FFT convolution (convolution.hpp). The one kernel that is
/// not a convolution, a two-layer network's W(θ, θ′) (network.hpp), is the same term with Φ from
/// its own two passes: every user of Φ (ξ, E_D, the SG drift, implicit Euler's lagged Φ) is shared.
#include <memory>

#include "grids/field.hpp"
#include "solver/energy/convolution.hpp"
#include "solver/energy/distributed_convolution.hpp"
#include "solver/energy/interaction_kernel.hpp"
#include "solver/energy/network.hpp"

namespace wgflow {

template <int Dim>
class InteractionTerm {
 public:
  InteractionTerm(const UniformGrid<Dim>& grid, const InteractionSpec& spec);
  /// The network kernel's W: Φ_c = (1/n) Σ_j S_cj f_j (no FFT).
  InteractionTerm(const UniformGrid<Dim>& grid, std::shared_ptr<const NetworkKernel<Dim>> network);

  const InteractionSpec& spec() const { return m_spec; }

  /// Φ = W*q (interior; ghosts filled per boundary) into the term's own buffer, returned. The buffer is
  /// overwritten by the next call: use Φ before convolving another state.
  const Field<Dim>& convolve(const Field<Dim>& q) const;

  /// Bytes of the FFT buffers (or the network's features) and Φ.
  std::size_t bytes() const;

  /// 1/Δt of the term's own time scale for explicit steps: the network's G (NetworkKernel::step_rate),
  /// 0 for a convolution (its face speeds bound its steps).
  double step_rate(const Field<Dim>& q) const { return m_network ? m_network->step_rate(q) : 0.0; }
  /// The network kernel, or nullptr for a convolution.
  const NetworkKernel<Dim>* network() const { return m_network.get(); }
  /// A constant the energy column adds to E_D: ½ mean y² for the network (E_D + it = the risk), else 0.
  double energy_constant() const { return m_network ? m_network->energy_constant() : 0.0; }

 private:
  UniformGrid<Dim> m_grid;
  InteractionSpec m_spec;
  std::unique_ptr<Convolution<Dim>> m_convolution;  ///< on one rank
  /// On a decomposed grid (MPI builds): the same convolution with FFTW's MPI transforms.
  std::shared_ptr<DistributedConvolution<Dim>> m_distributed;
  std::shared_ptr<const NetworkKernel<Dim>> m_network;
  mutable Field<Dim> m_phi;
};

}  // namespace wgflow
