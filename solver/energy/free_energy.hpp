#pragma once
/// The free energy F[q] = ∫U(q) + ∫V q, discretised as E_D = Δx^d Σ_i [U(q_i) + V_i q_i]
/// (Carrillo–Chertock–Huang 2015, eq. (2.11)), and its variation ξ = δF/δq = U'(q) + V.
/// Interaction energies ½∬W q q enter later as further terms that add W*q to ξ and their
/// value to E_D; the internal part stays one fused pass.
#include <memory>

#include "grids/field.hpp"
#include "solver/energy/f_divergence.hpp"
#include "solver/energy/internal_energy.hpp"
#include "solver/energy/potential.hpp"

namespace wgflow {

template <int Dim>
class FreeEnergy {
 public:
  FreeEnergy(const UniformGrid<Dim>& grid, const InternalEnergySpec& internal, const PotentialSpec& potential)
      : m_grid(grid), m_internal(internal), m_potential(potential), m_V(sample_potential(potential, grid)) {}

  const UniformGrid<Dim>& grid() const { return m_grid; }
  const InternalEnergySpec& internal() const { return m_internal; }
  const PotentialSpec& potential() const { return m_potential; }
  /// V at cell centres, ghosts filled like the density's.
  const Field<Dim>& V() const { return m_V; }

  /// ξ_i = U'(q_i) + V_i on the interior, ghosts filled per boundary (a mirrored ξ gives u = 0 on walls).
  /// Also returns max_i q_i U''(q_i), the diffusivity that bounds the explicit step.
  double variation(const Field<Dim>& q, Field<Dim>& xi) const;

  /// Makes F the f-divergence toward a target (solver/energy/f_divergence.hpp): kl becomes U = q log q
  /// with V = −log p (the SG flux's equilibrium is then p); the others replace U + V q by E_ε in
  /// variation() and in the diagnostics, with U = V = 0.
  void set_divergence(std::shared_ptr<const FDivergence<Dim>> divergence);
  const FDivergence<Dim>* divergence() const { return m_divergence.get(); }

 private:
  UniformGrid<Dim> m_grid;
  InternalEnergySpec m_internal;
  PotentialSpec m_potential;
  Field<Dim> m_V;
  std::shared_ptr<const FDivergence<Dim>> m_divergence;
};

}  // namespace wgflow
