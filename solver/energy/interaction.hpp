#pragma once
/// The interaction term ½∬W(x−y)q(x)q(y) of the free energy, discretised as
///   E_W = ½ h^{2d} Σ_i Σ_j W_{i−j} q_i q_j,    its part of ξ: Φ_i = h^d Σ_j W_{i−j} q_j
/// (numerics.md "Interaction W*q"; Carrillo–Chertock–Huang 2015, eq. (2.11)), W_m the cell averages
/// of interaction_kernel.hpp and the sum an FFT convolution (convolution.hpp).
#include <memory>

#include "grids/field.hpp"
#include "solver/energy/convolution.hpp"
#include "solver/energy/interaction_kernel.hpp"

namespace wgflow {

template <int Dim>
class InteractionTerm {
 public:
  InteractionTerm(const UniformGrid<Dim>& grid, const InteractionSpec& spec);

  const InteractionSpec& spec() const { return m_spec; }

  /// Φ = W*q (interior; ghosts filled per boundary) into the term's own buffer, returned. The buffer is
  /// overwritten by the next call: use Φ before convolving another state.
  const Field<Dim>& convolve(const Field<Dim>& q) const;

  /// Bytes of the FFT buffers and Φ.
  std::size_t bytes() const;

 private:
  UniformGrid<Dim> m_grid;
  InteractionSpec m_spec;
  std::unique_ptr<Convolution<Dim>> m_convolution;
  mutable Field<Dim> m_phi;
};

}  // namespace wgflow
