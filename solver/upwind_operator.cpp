#include "solver/upwind_operator.hpp"

#include <algorithm>
#include <limits>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/flux/upwind.hpp"

namespace wgflow {

template <int Dim>
UpwindOperator<Dim>::UpwindOperator(const FreeEnergy<Dim>& energy, const FluxSpec& flux)
    : m_energy(energy), m_flux(flux), m_grid(energy.grid()), m_xi(FieldLayout<Dim>(m_grid.shape)) {}

template <int Dim>
double UpwindOperator<Dim>::prepare(Field<Dim>& in) {
  fill_ghosts(in, m_grid);
  const double max_diffusivity = m_energy.variation(in, m_xi);

  // Positivity (CCH 2015, Thm 2.2, per axis summed): Δt Σ_k 2 a_k/Δx_k ≤ 1, a_k = max |u| on k-faces.
  // The low faces of the interior cells are all the faces (walls carry u = 0, periodic face n ≡ 0).
  const auto& L = in.layout();
  const double* xi = m_xi.data();
  double hyperbolic_rate = 0.0;
  for (int k = 0; k < Dim; ++k) {
    const std::ptrdiff_t s = L.stride[k];
    const double inv_dx = 1.0 / m_grid.dx(k);
    const double a_k = parallel_max_rows(L, [&](std::ptrdiff_t begin, int count) {
      double row_max = 0.0;
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) row_max = std::max(row_max, face_speed(xi, c, s, inv_dx));
      return row_max;
    });
    hyperbolic_rate += 2.0 * a_k * inv_dx;
  }
  // Parabolic limit (numerics.md "Explicit time step"): Δt Σ_k 2 max P'(q)/Δx_k² ≤ 1.
  double parabolic_rate = 0.0;
  for (int k = 0; k < Dim; ++k) parabolic_rate += 2.0 * max_diffusivity / (m_grid.dx(k) * m_grid.dx(k));

  const double rate = std::max(hyperbolic_rate, parabolic_rate);
  return rate > 0.0 ? 1.0 / rate : std::numeric_limits<double>::infinity();
}

template <int Dim>
void UpwindOperator<Dim>::euler_stage(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                                      const Field<Dim>& base, double b) const {
  if (m_flux.order == 2)
    euler_stage_kernel<2>(out, in, dt, a, base, b);
  else
    euler_stage_kernel<1>(out, in, dt, a, base, b);
}

template <int Dim>
template <int Order>
void UpwindOperator<Dim>::euler_stage_kernel(Field<Dim>& out, const Field<Dim>& in, double dt, double a,
                                             const Field<Dim>& base, double b) const {
  const auto& L = in.layout();
  const double* q = in.data();
  const double* q0 = base.data();
  const double* xi = m_xi.data();
  double* o = out.data();
  std::array<double, Dim> inv_dx2;
  for (int k = 0; k < Dim; ++k) inv_dx2[k] = 1.0 / (m_grid.dx(k) * m_grid.dx(k));
  const double theta = m_flux.theta;
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      double rate = 0.0;  // −div F = Σ_k (F_{i−½} − F_{i+½})/Δx_k
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        rate += upwind_face_rate<Order>(q, xi, c, s, inv_dx2[k], theta) -
                upwind_face_rate<Order>(q, xi, c + s, s, inv_dx2[k], theta);
      }
      o[c] = a * q0[c] + b * (q[c] + dt * rate);
    }
  });
}

template class UpwindOperator<1>;
template class UpwindOperator<2>;
template class UpwindOperator<3>;

}  // namespace wgflow
