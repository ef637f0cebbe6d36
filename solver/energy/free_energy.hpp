#pragma once
#include "solver/layer_guard.hpp"
/// The free energy F[q] = ∫U(q) + ∫V q, discretised as E_D = Δx^d Σ_i [U(q_i) + V_i q_i]
/// (Carrillo–Chertock–Huang 2015, eq. (2.11)), and its variation ξ = δF/δq = U'(q) + V.
/// An interaction energy ½∬W q q (solver/energy/interaction.hpp) is a further term: it adds Φ = W*q
/// to ξ and ½ h^d Σ q Φ to E_D; the internal part stays one fused pass. An f-divergence toward a
/// target (solver/energy/f_divergence.hpp) replaces U + V q; the two are not combined (RunConfig
/// refuses --kernel with --case f-divergence).
#include <memory>

#include "grids/field.hpp"
#include "solver/energy/f_divergence.hpp"
#include "solver/energy/interaction.hpp"
#include "solver/energy/internal_energy.hpp"
#include "solver/energy/potential.hpp"

namespace wgflow {

template <int Dim>
class FreeEnergy {
 public:
  FreeEnergy(const UniformGrid<Dim>& grid, const InternalEnergySpec& internal, const PotentialSpec& potential,
             const InteractionSpec& interaction = {})
      : m_grid(grid), m_internal(internal), m_potential(potential), m_V(sample_potential(potential, grid)) {
    if (interaction.kind != InteractionSpec::Kind::none)
      m_interaction = std::make_shared<const InteractionTerm<Dim>>(grid, interaction);
  }

  const UniformGrid<Dim>& grid() const { return m_grid; }
  const InternalEnergySpec& internal() const { return m_internal; }
  const PotentialSpec& potential() const { return m_potential; }
  /// V at cell centres, ghosts filled like the density's.
  const Field<Dim>& V() const { return m_V; }

  /// The interaction term, or nullptr when there is none (ξ then depends on q pointwise).
  const InteractionTerm<Dim>* interaction() const { return m_interaction.get(); }
  bool has_interaction() const { return m_interaction != nullptr; }

  /// ξ_i = U'(q_i) + V_i (+ Φ_i with an interaction) on the interior, ghosts filled per boundary (a mirrored ξ gives u = 0 on walls).
  /// Also returns max_i q_i U''(q_i), the diffusivity that bounds the explicit step.
  double variation(const Field<Dim>& q, Field<Dim>& xi) const;
  /// ξ = U'(q) + V + Φ with a given interaction potential Φ (interior values; e.g. W*q of another
  /// state, as implicit Euler's W*((qⁿ + q^{n+1})/2)). Returns max q U''(q) like variation().
  double variation(const Field<Dim>& q, const Field<Dim>& phi, Field<Dim>& xi) const;

  /// Makes F the f-divergence toward a target (solver/energy/f_divergence.hpp): kl becomes U = q log q
  /// with V = −log p (the SG flux's equilibrium is then p); the others replace U + V q by E_ε in
  /// variation() and in the diagnostics, with U = V = 0.
  void set_divergence(std::shared_ptr<const FDivergence<Dim>> divergence);
  const FDivergence<Dim>* divergence() const { return m_divergence.get(); }

  /// Makes F the risk of a two-layer network (solver/energy/network.hpp): V = −(1/n) Σ_j y_j S_cj
  /// replaces the potential and the network's W becomes the interaction term; U is kept (τ q log q).
  void set_network(std::shared_ptr<const NetworkKernel<Dim>> network);
  /// What the energy column adds to E_D: ½ mean y² for a network (the column is then the risk), else 0.
  double energy_constant() const { return m_interaction ? m_interaction->energy_constant() : 0.0; }

 private:
  UniformGrid<Dim> m_grid;
  InternalEnergySpec m_internal;
  PotentialSpec m_potential;
  Field<Dim> m_V;
  std::shared_ptr<const InteractionTerm<Dim>> m_interaction;  ///< shared by copies (set-up data, FFT plans)
  std::shared_ptr<const FDivergence<Dim>> m_divergence;
};

}  // namespace wgflow
