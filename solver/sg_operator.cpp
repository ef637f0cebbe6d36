#include "solver/sg_operator.hpp"

#include <algorithm>
#include <limits>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/scharfetter_gummel.hpp"

namespace wgflow {

template <int Dim>
SgOperator<Dim>::SgOperator(const FreeEnergy<Dim>& energy) : m_grid(energy.grid()) {
  const double D = energy.internal().D;
  const Field<Dim>& V = energy.V();
  const FieldLayout<Dim> L(m_grid.shape);
  for (int k = 0; k < Dim; ++k) {
    m_c_plus[k] = Field<Dim>(L, 0.0);
    m_c_minus[k] = Field<Dim>(L, 0.0);
    const double D_dx2 = D / (m_grid.dx(k) * m_grid.dx(k));
    const std::ptrdiff_t s = L.stride[k];
    const bool walls = m_grid.boundary[k] == Boundary::no_flux;
    auto set_face = [&](std::ptrdiff_t R) {  // face between R − s and R
      const double Pe = (V[R] - V[R - s]) / D;
      m_c_plus[k][R] = D_dx2 * bernoulli(Pe);
      m_c_minus[k][R] = D_dx2 * bernoulli(-Pe);
    };
    for_each_cell(m_grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>& cell, const std::array<double, Dim>&) {
      const int i = cell[k];
      if (!(walls && i == 0)) set_face(idx);
      if (i == m_grid.shape[k] - 1 && !walls) set_face(idx + s);  // periodic face n ≡ face 0
    });
  }
  // Forward Euler keeps q ≥ 0 iff Δt · (c⁺_{i+½} + c⁻_{i−½}, summed over axes) ≤ 1 in every cell:
  // the exact diagonal of the explicit update matrix.
  double max_diag = 0.0;
  for_each_cell(m_grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    double diag = 0.0;
    for (int k = 0; k < Dim; ++k) diag += m_c_plus[k][idx + L.stride[k]] + m_c_minus[k][idx];
    max_diag = std::max(max_diag, diag);
  });
  m_dt_limit = max_diag > 0.0 ? 1.0 / max_diag : std::numeric_limits<double>::infinity();
}

template <int Dim>
double SgOperator<Dim>::prepare(Field<Dim>& in) {
  fill_ghosts(in, m_grid);
  return m_dt_limit;
}

template <int Dim>
void SgOperator<Dim>::euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                                  const Field<Dim>& base, double b) const {
  const auto& L = in.layout();
  const double* q = in.data();
  const double* q0 = base.data();
  double* o = out.data();
  std::array<const double*, Dim> cp, cm;
  for (int k = 0; k < Dim; ++k) {
    cp[k] = m_c_plus[k].data();
    cm[k] = m_c_minus[k].data();
  }
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      double rate = 0.0;  // −div J = Σ_k (J_{i−½} − J_{i+½})/Δx_k
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        rate += sg_face_rate(cp[k][c], cm[k][c], q[c - s], q[c]) -
                sg_face_rate(cp[k][c + s], cm[k][c + s], q[c], q[c + s]);
      }
      o[c] = a * q0[c] + b * (q[c] + dt * rate);
    }
  });
}

template class SgOperator<1>;
template class SgOperator<2>;
template class SgOperator<3>;

}  // namespace wgflow
