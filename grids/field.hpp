#pragma once
/// Cell-centred scalar field with two ghost layers per side in one contiguous allocation.
/// Cell (i, j, k) lives at linear index offset + i*stride[0] + j*stride[1] + k*stride[2]; ghosts are
/// i = -2, -1 and i = n, n+1 (AMReX habit: negative indices are ghosts). x is the fastest axis.
#include <array>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "grids/grid.hpp"

namespace wgflow {

/// Index arithmetic of a padded array; shared by fields and per-face coefficient arrays.
template <int Dim>
struct FieldLayout {
  static constexpr int ghosts = 2;  ///< the second-order reconstruction needs q_{i-2} for the face at i-1/2

  std::array<int, Dim> shape{};               ///< interior cells per axis
  std::array<std::ptrdiff_t, Dim> stride{};   ///< distance between neighbours along each axis
  std::size_t padded_size = 0;
  std::ptrdiff_t offset = 0;                  ///< linear index of cell (0, 0, 0)

  FieldLayout() = default;
  explicit FieldLayout(const std::array<int, Dim>& cells) : shape(cells) {
    std::ptrdiff_t s = 1;
    for (int k = 0; k < Dim; ++k) {
      stride[k] = s;
      offset += ghosts * s;
      s *= shape[k] + 2 * ghosts;
    }
    padded_size = static_cast<std::size_t>(s);
  }

  std::ptrdiff_t index(const std::array<int, Dim>& c) const {
    std::ptrdiff_t idx = offset;
    for (int k = 0; k < Dim; ++k) idx += c[k] * stride[k];
    return idx;
  }
  std::size_t num_cells() const {
    std::size_t n = 1;
    for (int k = 0; k < Dim; ++k) n *= static_cast<std::size_t>(shape[k]);
    return n;
  }
};

/// std::allocator that leaves default-constructed doubles uninitialised, so a Field's storage is not
/// zero-filled (and page-faulted) by one thread before fill_first_touch writes every element.
template <class T>
struct UninitialisedAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitialisedAllocator<U>;
  };
  UninitialisedAllocator() = default;
  template <class U>
  UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// Sets p[0 … n − 1] = value, the array cut into contiguous halves/thirds/… over the threads with a
/// static schedule (as the row loops cut the interior), so each page is first touched — and placed —
/// by about the thread whose rows use it, and a 3D 256³ field is not faulted in by one thread.
void fill_first_touch(double* p, std::size_t n, double value);

template <int Dim>
class Field {
 public:
  Field() = default;
  explicit Field(const FieldLayout<Dim>& layout, double value = 0.0)
      : m_layout(layout), m_data(layout.padded_size) {
    fill_first_touch(m_data.data(), m_data.size(), value);  // ghosts too: every element is written
  }

  const FieldLayout<Dim>& layout() const { return m_layout; }
  double* data() { return m_data.data(); }
  const double* data() const { return m_data.data(); }
  double& operator[](std::ptrdiff_t idx) { return m_data[static_cast<std::size_t>(idx)]; }
  double operator[](std::ptrdiff_t idx) const { return m_data[static_cast<std::size_t>(idx)]; }
  double& at(const std::array<int, Dim>& c) { return (*this)[m_layout.index(c)]; }
  double at(const std::array<int, Dim>& c) const { return (*this)[m_layout.index(c)]; }

  void swap(Field& other) noexcept {
    std::swap(m_layout, other.m_layout);
    m_data.swap(other.m_data);
  }

 private:
  FieldLayout<Dim> m_layout;
  std::vector<double, UninitialisedAllocator<double>> m_data;
};

/// Interior values in dataset order (x fastest, no ghosts): what HDF5 files hold.
template <int Dim>
std::vector<double> interior_values(const Field<Dim>& f);
/// Writes interior values given in dataset order; ghosts are left untouched.
template <int Dim>
void set_interior_values(Field<Dim>& f, const std::vector<double>& values);

}  // namespace wgflow
