#include "solver/energy/network.hpp"
#include "grids/parameter_error.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "grids/boundary.hpp"
#include "grids/cell_loop.hpp"
#include "grids/chunk_sums.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

namespace {

/// Interior index (x fastest) of the first cell of row r: rows are whole x-lines, or 1D blocks.
template <int Dim>
std::size_t first_interior_cell(const FieldLayout<Dim>& L, std::size_t r) {
  return r * static_cast<std::size_t>(Dim == 1 ? row_block : L.shape[0]);
}

/// The same for this rank's reduction chunk c (grids/chunk_sums.hpp): whole x-lines, or 1D segments
/// cut by the global grid's rule (a rank's box starts at a chunk boundary).
template <int Dim>
std::size_t first_chunk_cell(const UniformGrid<Dim>& grid, std::size_t c) {
  return c * static_cast<std::size_t>(reduction_chunk_cells(grid.global_shape(0), Dim));
}

}  // namespace

Activation parse_activation(const std::string& text) {
  if (text == "relu") return Activation::relu;
  if (text == "tanh") return Activation::tanh;
  if (text == "sigmoid") return Activation::sigmoid;
  throw ParameterError(Parameter::activation, "must be relu, tanh or sigmoid (got '" + text + "')");
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::relu: return "relu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
  }
  return "relu";
}

double activation_value(Activation a, double z) {
  switch (a) {
    case Activation::relu: return z > 0.0 ? z : 0.0;
    case Activation::tanh: return std::tanh(z);
    case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-z));
  }
  return 0.0;
}

double activation_slope(Activation a, double z) {
  switch (a) {
    case Activation::relu: return z > 0.0 ? 1.0 : 0.0;
    case Activation::tanh: {
      const double t = std::tanh(z);
      return 1.0 - t * t;
    }
    case Activation::sigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-z));
      return s * (1.0 - s);
    }
  }
  return 0.0;
}

template <int Dim>
std::array<double, Dim> neuron_gradient(const NetworkSpec& spec, const double* theta, double x) {
  const Activation act = spec.activation;
  std::array<double, Dim> g{};
  if constexpr (Dim == 3) {  // ∇ (a σ(w x + b)) = (σ, a σ' x, a σ')
    const double z = theta[1] * x + theta[2], ds = theta[0] * activation_slope(act, z);
    g = {activation_value(act, z), ds * x, ds};
  } else if constexpr (Dim == 2) {  // ∇ (A σ(w x + b)) = (A σ' x, A σ')
    const double ds = spec.output_weight * activation_slope(act, theta[0] * x + theta[1]);
    g = {ds * x, ds};
  } else {  // ∂_w A σ(w x) = A σ' x
    g = {spec.output_weight * activation_slope(act, theta[0] * x) * x};
  }
  return g;
}

template <int Dim>
double neuron_gradient_squared(const NetworkSpec& spec, const double* theta, double x) {
  const std::array<double, Dim> g = neuron_gradient<Dim>(spec, theta, x);
  double s = 0.0;
  for (double v : g) s += v * v;
  return s;
}

template <int Dim>
double neuron(const NetworkSpec& spec, const double* theta, double x) {
  if constexpr (Dim == 3) return theta[0] * activation_value(spec.activation, theta[1] * x + theta[2]);  // a σ(w x + b)
  if constexpr (Dim == 2) return spec.output_weight * activation_value(spec.activation, theta[0] * x + theta[1]);
  return spec.output_weight * activation_value(spec.activation, theta[0] * x);  // b = 0
}

template <int Dim>
NetworkKernel<Dim>::NetworkKernel(const UniformGrid<Dim>& grid, NetworkSpec spec)
    : m_grid(grid), m_spec(std::move(spec)), m_n(m_spec.x.size()) {
  if (m_n == 0 || m_spec.y.size() != m_n) throw std::invalid_argument("NetworkKernel: needs n >= 1 data points (x_j, y_j)");
  const FieldLayout<Dim> L(grid.shape);
  m_S.resize(grid.num_cells() * m_n);
  m_gradient.resize(grid.num_cells());
  std::size_t c = 0;
  for_each_cell(grid, [&](std::ptrdiff_t, const std::array<int, Dim>&, const std::array<double, Dim>& theta) {
    double g = 0.0;
    for (std::size_t j = 0; j < m_n; ++j) {
      m_S[c * m_n + j] = neuron<Dim>(m_spec, theta.data(), m_spec.x[j]);
      g += neuron_gradient_squared<Dim>(m_spec, theta.data(), m_spec.x[j]);
    }
    m_gradient[c] = g / static_cast<double>(m_n);
    ++c;  // for_each_cell visits x fastest: the interior index
  });
  m_partial.assign(static_cast<std::size_t>(omp_get_max_threads()) * m_n, 0.0);  // grown if threads grow
  m_f.assign(m_n, 0.0);
  m_g.assign(m_n, 0.0);
}

/// f_j = h^d Σ_c S_cj q_c: one partial per fixed global chunk, the partials added exactly over
/// threads and ranks (one allreduce of n exact sums): every rank holds the same f.
template <int Dim>
const std::vector<double>& NetworkKernel<Dim>::network_output(const Field<Dim>& q_field) const {
  const FieldLayout<Dim>& L = q_field.layout();
  const double* q = q_field.data();
  const std::size_t n = m_n;
  // Per chunk a partial per j in cell order, then exact sums over chunks: independent of the split.
  std::vector<double>& partial = m_partial;  // n per thread
  const std::size_t threads = static_cast<std::size_t>(omp_get_max_threads());
  if (partial.size() < threads * n) partial.resize(threads * n);
  const ChunkSumsVector sums = reduce_chunks(
      m_grid, L,
      [&](std::size_t c, std::ptrdiff_t begin, int count, ChunkSumsVector& f) {
        double* __restrict acc = partial.data() + static_cast<std::size_t>(omp_get_thread_num()) * n;
        std::fill(acc, acc + n, 0.0);
        const double* S = m_S.data() + first_chunk_cell(m_grid, c) * n;
        for (int i = 0; i < count; ++i) {
          const double qc = q[begin + i];
          const double* __restrict s = S + static_cast<std::size_t>(i) * n;
#pragma omp simd
          for (std::size_t j = 0; j < n; ++j) acc[j] += qc * s[j];
        }
        for (std::size_t j = 0; j < n; ++j) f[j].add(acc[j]);
      },
      ChunkSumsVector(n));
  for (std::size_t j = 0; j < n; ++j) m_f[j] = sums.value(j);
  const double volume = m_grid.cell_volume();
  for (double& f : m_f) f *= volume;
  return m_f;
}

/// Φ_c = (1/n) Σ_j S_cj f_j (four partial sums per cell, combined in a fixed order).
template <int Dim>
void NetworkKernel<Dim>::apply(const Field<Dim>& q, Field<Dim>& phi_field) const {
  network_output(q);
  const std::size_t n = m_n;
  for (std::size_t j = 0; j < n; ++j) m_g[j] = m_f[j] / static_cast<double>(n);
  const double* g = m_g.data();
  double* phi = phi_field.data();
  const FieldLayout<Dim>& L = q.layout();
  parallel_for_rows(L, [&](std::size_t r, std::ptrdiff_t begin, int count) {
    const double* S = m_S.data() + first_interior_cell(L, r) * n;
    for (int i = 0; i < count; ++i) {
      const double* s = S + static_cast<std::size_t>(i) * n;
      double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0;
      std::size_t j = 0;
      for (; j + 4 <= n; j += 4) {
        p0 += s[j] * g[j];
        p1 += s[j + 1] * g[j + 1];
        p2 += s[j + 2] * g[j + 2];
        p3 += s[j + 3] * g[j + 3];
      }
      for (; j < n; ++j) p0 += s[j] * g[j];
      phi[begin + i] = (p0 + p1) + (p2 + p3);
    }
  });
}

template <int Dim>
double NetworkKernel<Dim>::step_rate(const Field<Dim>& q_field) const {
  const FieldLayout<Dim>& L = q_field.layout();
  const double* q = q_field.data();
  const double G = reduce_chunks<ChunkSums<1>>(m_grid, L, [&](std::size_t c, std::ptrdiff_t begin, int count, ChunkSums<1>& acc) {
                     const double* g = m_gradient.data() + first_chunk_cell(m_grid, c);
                     double sum = 0.0;
                     for (int i = 0; i < count; ++i) sum += g[i] * q[begin + i];
                     acc.add({sum});
                   }).values()[0];
  return G * m_grid.cell_volume();
}

template <int Dim>
Field<Dim> NetworkKernel<Dim>::potential() const {
  Field<Dim> V(FieldLayout<Dim>(m_grid.shape));
  std::size_t c = 0;
  const double n = static_cast<double>(m_n);
  for_each_cell(m_grid, [&](std::ptrdiff_t idx, const std::array<int, Dim>&, const std::array<double, Dim>&) {
    double sum = 0.0;
    for (std::size_t j = 0; j < m_n; ++j) sum += m_spec.y[j] * m_S[c * m_n + j];
    V[idx] = -sum / n;  // V(θ_c) = −(1/n) Σ_j y_j σ̂(θ_c; x_j)
    ++c;
  });
  fill_ghosts(V, m_grid);
  return V;
}

template <int Dim>
double NetworkKernel<Dim>::energy_constant() const {
  double sum = 0.0;
  for (double y : m_spec.y) sum += y * y;
  return 0.5 * sum / static_cast<double>(m_n);
}

template <int Dim>
double NetworkKernel<Dim>::risk(const Field<Dim>& q) const {
  const std::vector<double>& f = network_output(q);
  double sum = 0.0;
  for (std::size_t j = 0; j < m_n; ++j) sum += (f[j] - m_spec.y[j]) * (f[j] - m_spec.y[j]);
  return 0.5 * sum / static_cast<double>(m_n);
}

template <int Dim>
std::size_t NetworkKernel<Dim>::bytes() const {
  return (m_S.size() + m_gradient.size() + m_partial.size() + m_f.size() + m_g.size()) *
         sizeof(double);
}

template <int Dim>
double NetworkKernel<Dim>::bytes_for(double cells, double rows, double n) {
  return (cells * (n + 1.0) + rows * (n + 1.0) + 2.0 * n) * 8.0;
}

template std::array<double, 1> neuron_gradient<1>(const NetworkSpec&, const double*, double);
template std::array<double, 2> neuron_gradient<2>(const NetworkSpec&, const double*, double);
template std::array<double, 3> neuron_gradient<3>(const NetworkSpec&, const double*, double);
template double neuron_gradient_squared<1>(const NetworkSpec&, const double*, double);
template double neuron_gradient_squared<2>(const NetworkSpec&, const double*, double);
template double neuron_gradient_squared<3>(const NetworkSpec&, const double*, double);
template double neuron<1>(const NetworkSpec&, const double*, double);
template double neuron<2>(const NetworkSpec&, const double*, double);
template double neuron<3>(const NetworkSpec&, const double*, double);
template class NetworkKernel<1>;
template class NetworkKernel<2>;
template class NetworkKernel<3>;

}  // namespace wgflow
