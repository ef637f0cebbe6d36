#include "solver/energy/interaction.hpp"

#include "grids/boundary.hpp"

namespace wgflow {

template <int Dim>
InteractionTerm<Dim>::InteractionTerm(const UniformGrid<Dim>& grid, const InteractionSpec& spec)
    : m_grid(grid), m_spec(spec), m_phi(FieldLayout<Dim>(grid.shape)) {
  std::vector<double> table = cell_averaged_kernel<Dim>(spec, grid);
  const double volume = grid.cell_volume();
  for (double& w : table) w *= volume;  // Φ_i = h^d Σ_j W_{i−j} q_j
  m_convolution = std::make_unique<Convolution<Dim>>(grid, table);
}

template <int Dim>
InteractionTerm<Dim>::InteractionTerm(const UniformGrid<Dim>& grid, std::shared_ptr<const NetworkKernel<Dim>> network)
    : m_grid(grid), m_network(std::move(network)), m_phi(FieldLayout<Dim>(grid.shape)) {}

template <int Dim>
const Field<Dim>& InteractionTerm<Dim>::convolve(const Field<Dim>& q) const {
  if (m_network)
    m_network->apply(q, m_phi);
  else
    m_convolution->apply(q, m_phi);
  fill_ghosts(m_phi, m_grid);
  return m_phi;
}

template <int Dim>
std::size_t InteractionTerm<Dim>::bytes() const {
  return (m_network ? m_network->bytes() : m_convolution->bytes()) + m_phi.layout().padded_size * sizeof(double);
}

template class InteractionTerm<1>;
template class InteractionTerm<2>;
template class InteractionTerm<3>;

}  // namespace wgflow
