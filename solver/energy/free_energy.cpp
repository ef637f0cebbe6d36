#include "solver/energy/free_energy.hpp"

#include <algorithm>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

template <int Dim>
double FreeEnergy<Dim>::variation(const Field<Dim>& q, Field<Dim>& xi) const {
  if (m_divergence && !m_divergence->through_potential()) {
    const double max_diffusivity = m_divergence->variation(q, xi);  // ξ = f(r) − r f'(r)
    fill_ghosts(xi, m_grid);
    return max_diffusivity;
  }
  const double* qp = q.data();
  const double* V = m_V.data();
  double* x = xi.data();
  if (m_interaction != nullptr) return variation(q, m_interaction->convolve(q), xi);
  const double max_diffusivity = with_internal_energy(m_internal, [&](auto U) {
    const double q_max = parallel_max_rows(q.layout(), [&](std::ptrdiff_t begin, int count) {
      double row_max = 0.0;
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
        x[c] = U.dU(qp[c]) + V[c];  // ξ = U'(q) + V
        row_max = std::max(row_max, qp[c]);
      }
      return row_max;
    });
    return U.P_prime(q_max);  // P' is non-decreasing in q
  });
  fill_ghosts(xi, m_grid);
  return max_diffusivity;
}

/// ξ = U'(q) + V + Φ, Φ = W*q (numerics.md "Interaction W*q").
template <int Dim>
double FreeEnergy<Dim>::variation(const Field<Dim>& q, const Field<Dim>& phi_field, Field<Dim>& xi) const {
  const double* phi = phi_field.data();
  const double* qp = q.data();
  const double* V = m_V.data();
  double* x = xi.data();
  const double max_diffusivity = with_internal_energy(m_internal, [&](auto U) {
    const double q_max = parallel_max_rows(q.layout(), [&](std::ptrdiff_t begin, int count) {
      double row_max = 0.0;
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
        x[c] = U.dU(qp[c]) + V[c] + phi[c];
        row_max = std::max(row_max, qp[c]);
      }
      return row_max;
    });
    return U.P_prime(q_max);
  });
  fill_ghosts(xi, m_grid);
  return max_diffusivity;
}

template <int Dim>
void FreeEnergy<Dim>::set_divergence(std::shared_ptr<const FDivergence<Dim>> divergence) {
  m_divergence = std::move(divergence);
  m_potential = PotentialSpec{};
  if (m_divergence->through_potential()) {
    m_internal = InternalEnergySpec{InternalEnergySpec::Kind::entropy, 1.0, 2.0};
    m_V = m_divergence->kl_potential();
  } else {
    m_internal = InternalEnergySpec{InternalEnergySpec::Kind::none, 1.0, 2.0};
    m_V = Field<Dim>(FieldLayout<Dim>(m_grid.shape));
  }
}

template <int Dim>
void FreeEnergy<Dim>::set_network(std::shared_ptr<const NetworkKernel<Dim>> network) {
  m_potential = PotentialSpec{};
  m_V = network->potential();
  m_interaction = std::make_shared<const InteractionTerm<Dim>>(m_grid, std::move(network));
}

template class FreeEnergy<1>;
template class FreeEnergy<2>;
template class FreeEnergy<3>;

}  // namespace wgflow
