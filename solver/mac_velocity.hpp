#pragma once
#include "solver/layer_guard.hpp"
/// The velocity field a flux implies, as a MAC / lowest-order Raviart–Thomas field: one normal velocity
/// per face, v_k linear in x_k between the two k-faces of a cell and constant in the other axes
/// (numerics.md "Particles"). Both fluxes give the face velocity u = −(ξ_R − ξ_L)/Δx; walls give 0.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "grids/field.hpp"
#include "grids/halo.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

/// Where a point lies in the grid: its cell and the fraction λ_k ∈ [0, 1] of the way from the low
/// face to the high face along each axis. A point on the high end of the box lies in the last cell
/// with λ = 1. Periodic axes must be wrapped first (positions outside the box are clamped here).
template <int Dim>
struct CellLocation {
  std::array<int, Dim> cell{};
  std::array<double, Dim> lambda{};
};

template <int Dim>
CellLocation<Dim> locate(const UniformGrid<Dim>& grid, const double* x) {
  CellLocation<Dim> loc;
  for (int k = 0; k < Dim; ++k) {
    const double s = (x[k] - grid.lower[k]) / grid.dx(k);
    const int n = grid.shape[k];
    int i = static_cast<int>(std::floor(s));
    i = std::clamp(i, 0, n - 1);
    loc.cell[k] = i;
    loc.lambda[k] = std::clamp(s - i, 0.0, 1.0);
  }
  return loc;
}

/// locate() with the spacing inverted once: what the particle loops call per particle.
template <int Dim>
struct CellLocator {
  std::array<double, Dim> lower{}, inv_dx{};
  std::array<int, Dim> n{}, first{};
  explicit CellLocator(const UniformGrid<Dim>& grid) {
    for (int k = 0; k < Dim; ++k) {
      lower[k] = grid.lower[k];
      inv_dx[k] = 1.0 / grid.dx(k);
      n[k] = grid.global_shape(k);
      first[k] = grid.offset[k];
    }
  }
  /// The cell is local; the point must lie in this rank's box (solver/particle_boxes.hpp: the same
  /// global index arithmetic), so λ is the one rank's.
  CellLocation<Dim> operator()(const double* x) const {
    CellLocation<Dim> loc;
    for (int k = 0; k < Dim; ++k) {
      const double s = std::max((x[k] - lower[k]) * inv_dx[k], 0.0);  // ≥ 0: truncation is floor
      const int i = std::min(static_cast<int>(s), n[k] - 1);
      loc.cell[k] = i - first[k];
      loc.lambda[k] = std::min(s - i, 1.0);
    }
    return loc;
  }
};

/// Fills u[k] (allocated here with layout L on first use) with face_velocity(k, R) for every face
/// that is not a wall and 0 on walls: one threaded pass over the rows, each face written by one cell.
template <int Dim, class FaceVelocity>
void fill_face_velocities(const UniformGrid<Dim>& grid, const FieldLayout<Dim>& L, std::array<Field<Dim>, Dim>& u,
                          const FaceVelocity& face_velocity) {
  for (int k = 0; k < Dim; ++k)
    if (u[k].layout().padded_size != L.padded_size) u[k] = Field<Dim>(L, 0.0);
  std::array<double*, Dim> uk{};
  for (int k = 0; k < Dim; ++k) uk[k] = u[k].data();
  const Neighbours<Dim> nb(grid);
  parallel_for_rows(L, [&](std::size_t, std::ptrdiff_t begin, int count) {
    std::array<int, Dim> cell{};  // interior coordinates of `begin`
    std::ptrdiff_t rest = begin - L.offset;
    for (int k = Dim - 1; k >= 0; --k) {
      cell[k] = static_cast<int>(rest / L.stride[k]);
      rest -= cell[k] * L.stride[k];
    }
    const int i0 = cell[0];
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      cell[0] = i0 + static_cast<int>(c - begin);
      for (int k = 0; k < Dim; ++k) {
        const std::ptrdiff_t s = L.stride[k];
        uk[k][c] = nb.wall(k, 0) && cell[k] == 0 ? 0.0 : face_velocity(k, c);
        if (cell[k] == grid.shape[k] - 1) uk[k][c + s] = nb.wall(k, 1) ? 0.0 : face_velocity(k, c + s);
      }
    }
  });
}

/// v at a located point from the face velocities u (fill_face_velocities).
template <int Dim>
std::array<double, Dim> mac_velocity(const FieldLayout<Dim>& L, const std::array<const double*, Dim>& u,
                                     const CellLocation<Dim>& loc) {
  const std::ptrdiff_t c = L.index(loc.cell);
  std::array<double, Dim> v{};
  for (int k = 0; k < Dim; ++k) {
    const double l = loc.lambda[k];
    v[k] = (1.0 - l) * u[k][c] + l * u[k][c + L.stride[k]];  // RT0: linear in x_k between the k-faces
  }
  return v;
}

/// v (n × Dim) at the points x (n × Dim, periodic axes wrapped) of the MAC field of face_velocity.
/// Few particles: each evaluates the 2·Dim faces of its cell (O(n), no grid pass); many (2n ≥ cells):
/// one threaded pass fills the face arrays u first. Both give bitwise the same v.
template <int Dim, class FaceVelocity>
void mac_velocities(const UniformGrid<Dim>& grid, const FieldLayout<Dim>& L, const double* x, double* v,
                    std::size_t n, std::array<Field<Dim>, Dim>& u, const FaceVelocity& face_velocity) {
  const CellLocator<Dim> locate_point(grid);
  if (2 * n >= L.num_cells()) {
    fill_face_velocities<Dim>(grid, L, u, face_velocity);
    std::array<const double*, Dim> uk{};
    for (int k = 0; k < Dim; ++k) uk[k] = u[k].data();
    parallel_for_items(n, [&](std::size_t p) {
      const std::array<double, Dim> vp = mac_velocity<Dim>(L, uk, locate_point(x + p * Dim));
      for (int k = 0; k < Dim; ++k) v[p * Dim + k] = vp[k];
    });
    return;
  }
  const Neighbours<Dim> nb(grid);
  parallel_for_items(n, [&](std::size_t p) {
    const CellLocation<Dim> loc = locate_point(x + p * Dim);
    const std::ptrdiff_t c = L.index(loc.cell);
    for (int k = 0; k < Dim; ++k) {
      const int i = loc.cell[k];
      const double v_lo = nb.wall(k, 0) && i == 0 ? 0.0 : face_velocity(k, c);
      const double v_hi = nb.wall(k, 1) && i == grid.shape[k] - 1 ? 0.0 : face_velocity(k, c + L.stride[k]);
      const double l = loc.lambda[k];
      v[p * Dim + k] = (1.0 - l) * v_lo + l * v_hi;  // as mac_velocity
    }
  });
}

}  // namespace wgflow
