#include "solver/energy/interaction.hpp"

#include "grids/boundary.hpp"

#include <stdexcept>

namespace wgflow {

template <int Dim>
InteractionTerm<Dim>::InteractionTerm(const UniformGrid<Dim>& grid, const InteractionSpec& spec)
    : m_grid(grid), m_spec(spec), m_phi(FieldLayout<Dim>(grid.shape)) {
  const double volume = grid.cell_volume();
  if (grid.decomposed()) {
#ifdef WGFLOW_HAVE_MPI
    m_distributed = std::make_shared<DistributedConvolution<Dim>>(grid, [&](int first, int last) {
      std::vector<double> rows = cell_averaged_kernel<Dim>(spec, grid, first, last);
      for (double& w : rows) w *= volume;
      return rows;
    });
    return;
#else
    throw std::logic_error("interaction: a decomposed grid needs the MPI build");
#endif
  }
  std::vector<double> table = cell_averaged_kernel<Dim>(spec, grid);
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
#ifdef WGFLOW_HAVE_MPI
  else if (m_distributed)
    m_distributed->apply(q, m_phi);
#endif
  else
    m_convolution->apply(q, m_phi);
  fill_ghosts(m_phi, m_grid);
  return m_phi;
}

template <int Dim>
std::size_t InteractionTerm<Dim>::bytes() const {
#ifdef WGFLOW_HAVE_MPI
  if (m_distributed) return m_distributed->bytes() + m_phi.layout().padded_size * sizeof(double);
#endif
  const std::size_t transforms = m_network ? m_network->bytes() : m_convolution->bytes();
  return transforms + m_phi.layout().padded_size * sizeof(double);
}

template class InteractionTerm<1>;
template class InteractionTerm<2>;
template class InteractionTerm<3>;

}  // namespace wgflow
