#pragma once
/// Shared by the decomposition unit tests and the MPI halo test (tests/mpi): a field filled with a
/// function of the global cell index, and the check that every face ghost of a rank's box holds what
/// fill_ghosts gives the undecomposed field at the same global index.
#include <array>
#include <functional>
#include <string>

#include "grids/boundary.hpp"
#include "grids/field.hpp"

namespace wgflow::testing {

/// Distinct, exactly representable values: 1 + i + 1000 j + 10⁶ k of the global index.
template <int Dim>
double global_value(const std::array<int, Dim>& global_index) {
  double v = 1.0, scale = 1.0;
  for (int k = 0; k < Dim; ++k, scale *= 1000.0) v += scale * global_index[k];
  return v;
}

/// The undecomposed field with its ghosts filled (the reference every decomposition must match).
template <int Dim>
Field<Dim> reference_field(const UniformGrid<Dim>& global) {
  Field<Dim> f(FieldLayout<Dim>(global.shape), -1.0);
  std::array<int, 3> n{1, 1, 1};
  for (int k = 0; k < Dim; ++k) n[static_cast<std::size_t>(k)] = global.shape[k];
  std::array<int, Dim> c{};
  for (int k2 = 0; k2 < n[2]; ++k2)
    for (int k1 = 0; k1 < n[1]; ++k1)
      for (int k0 = 0; k0 < n[0]; ++k0) {
        const int ijk[3] = {k0, k1, k2};
        for (int k = 0; k < Dim; ++k) c[k] = ijk[k];
        f.at(c) = global_value<Dim>(c);
      }
  fill_ghosts(f, global);
  return f;
}

/// This rank's field: interior from the global function, ghosts poisoned (-1).
template <int Dim>
Field<Dim> local_field(const UniformGrid<Dim>& local) {
  Field<Dim> f(FieldLayout<Dim>(local.shape), -1.0);
  std::array<int, 3> n{1, 1, 1};
  for (int k = 0; k < Dim; ++k) n[static_cast<std::size_t>(k)] = local.shape[k];
  std::array<int, Dim> c{}, g{};
  for (int k2 = 0; k2 < n[2]; ++k2)
    for (int k1 = 0; k1 < n[1]; ++k1)
      for (int k0 = 0; k0 < n[0]; ++k0) {
        const int ijk[3] = {k0, k1, k2};
        for (int k = 0; k < Dim; ++k) {
          c[k] = ijk[k];
          g[k] = local.offset[k] + ijk[k];
        }
        f.at(c) = global_value<Dim>(g);
      }
  return f;
}

/// Calls fn(local index c, axis) for every face ghost of a box: c[axis] ∈ {−2, −1, n, n + 1}, the
/// other coordinates interior (edges and corners are no one's ghosts: fill_ghosts leaves them alone).
template <int Dim, class Fn>
void for_each_face_ghost(const std::array<int, Dim>& shape, Fn&& fn) {
  for (int axis = 0; axis < Dim; ++axis) {
    std::array<int, 3> lo{0, 0, 0}, hi{1, 1, 1};
    for (int k = 0; k < Dim; ++k) hi[static_cast<std::size_t>(k)] = shape[k];
    const int n = shape[axis];
    for (int ghost : {-2, -1, n, n + 1}) {
      lo[static_cast<std::size_t>(axis)] = ghost;
      hi[static_cast<std::size_t>(axis)] = ghost + 1;
      std::array<int, Dim> c{};
      for (int k2 = lo[2]; k2 < hi[2]; ++k2)
        for (int k1 = lo[1]; k1 < hi[1]; ++k1)
          for (int k0 = lo[0]; k0 < hi[0]; ++k0) {
            const int ijk[3] = {k0, k1, k2};
            for (int k = 0; k < Dim; ++k) c[k] = ijk[k];
            fn(c, axis);
          }
    }
  }
}

/// Face ghosts of `f` (rank box `local`) that differ from the reference at the same global index;
/// describe(...) gets each mismatch. Returns their number.
template <int Dim>
int ghost_mismatches(const Field<Dim>& f, const UniformGrid<Dim>& local, const Field<Dim>& reference,
                     const std::function<void(const std::string&)>& describe = {}) {
  int bad = 0;
  for_each_face_ghost<Dim>(local.shape, [&](const std::array<int, Dim>& c, int) {
    std::array<int, Dim> g{};
    for (int k = 0; k < Dim; ++k) g[k] = local.offset[k] + c[k];
    if (f.at(c) == reference.at(g)) return;
    ++bad;
    if (describe) {
      std::string where;
      for (int k = 0; k < Dim; ++k) where += (k ? "," : "") + std::to_string(c[k]);
      describe("ghost (" + where + ") holds " + std::to_string(f.at(c)) + ", expected " +
               std::to_string(reference.at(g)));
    }
  });
  return bad;
}

}  // namespace wgflow::testing
