#include "grids/field.hpp"

#include <algorithm>
#include <stdexcept>

#include "grids/parallel_for.hpp"

namespace wgflow {

void fill_first_touch(double* p, std::size_t n, double value) {
  const auto count = static_cast<std::ptrdiff_t>(n);
  if (n < parallel_min_cells || omp_get_max_threads() <= 1) {
    std::fill(p, p + n, value);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < count; ++i) p[i] = value;
}

template <int Dim>
std::vector<double> interior_values(const Field<Dim>& f) {
  const auto& L = f.layout();
  std::vector<double> out(L.num_cells());
  for (std::size_t r = 0; r < num_rows(L); ++r) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, r, begin, count);
    const std::size_t first = Dim == 1 ? r * row_block : r * static_cast<std::size_t>(L.shape[0]);
    for (int i = 0; i < count; ++i) out[first + static_cast<std::size_t>(i)] = f[begin + i];
  }
  return out;
}

template <int Dim>
void set_interior_values(Field<Dim>& f, const std::vector<double>& values) {
  const auto& L = f.layout();
  if (values.size() != L.num_cells())
    throw std::invalid_argument("set_interior_values: " + std::to_string(values.size()) +
                                " values for " + std::to_string(L.num_cells()) + " cells");
  for (std::size_t r = 0; r < num_rows(L); ++r) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, r, begin, count);
    const std::size_t first = Dim == 1 ? r * row_block : r * static_cast<std::size_t>(L.shape[0]);
    for (int i = 0; i < count; ++i) f[begin + i] = values[first + static_cast<std::size_t>(i)];
  }
}

template std::vector<double> interior_values(const Field<1>&);
template std::vector<double> interior_values(const Field<2>&);
template std::vector<double> interior_values(const Field<3>&);
template void set_interior_values(Field<1>&, const std::vector<double>&);
template void set_interior_values(Field<2>&, const std::vector<double>&);
template void set_interior_values(Field<3>&, const std::vector<double>&);

}  // namespace wgflow
