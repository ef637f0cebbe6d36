#include "solver/energy/convolution.hpp"

#include <fftw3.h>
#include <omp.h>

#include <mutex>
#include <stdexcept>

#include "grids/halo.hpp"
#include "grids/parallel_for.hpp"

namespace wgflow {

namespace {

/// FFTW's planner is not thread-safe, and its threads must be initialised once per process.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

/// Padded rows: all axes but x. Row r's first element in the padded real array is r·P_0.
template <int Dim>
std::size_t padded_rows(const std::array<int, Dim>& P) {
  std::size_t rows = 1;
  for (int k = 1; k < Dim; ++k) rows *= static_cast<std::size_t>(P[k]);
  return rows;
}

/// The interior row of padded row r (coordinates along y, z), or false if r lies in the padding.
template <int Dim>
bool interior_row(std::size_t r, const std::array<int, Dim>& P, const std::array<int, Dim>& n,
                  std::array<int, Dim>& cell) {
  cell.fill(0);
  for (int k = 1; k < Dim; ++k) {
    cell[k] = static_cast<int>(r % static_cast<std::size_t>(P[k]));
    r /= static_cast<std::size_t>(P[k]);
    if (cell[k] >= n[k]) return false;
  }
  return true;
}

/// |m| of padded index p along an axis of n cells padded to P: offsets 0..n−1 then −(n−1)..−1 for
/// 2n (the entry at n pairs no cells: 0), the nearest image min(p, n − p) for periodic P = n.
int offset_of(int p, int n, int P) {
  if (P == n) return p <= n - p ? p : n - p;
  if (p < n) return p;
  return p == n ? -1 : P - p;
}

}  // namespace

FftwPlannerLock::FftwPlannerLock() {
  planner_mutex().lock();
  static const bool ready = fftw_init_threads() != 0;
  threads_ready = ready;
}

FftwPlannerLock::~FftwPlannerLock() { planner_mutex().unlock(); }

int fftw_plan_threads(std::size_t padded_cells) {
  return padded_cells >= parallel_min_cells ? std::max(1, omp_get_max_threads()) : 1;
}

template <int Dim>
Convolution<Dim>::Convolution(const UniformGrid<Dim>& grid, const std::vector<double>& table) : m_grid(grid) {
  // A serial FFT over this rank's cells is the whole convolution only when they are the whole grid.
  if (grid.decomposed()) throw std::logic_error("interaction: the FFT convolution does not run on a decomposed grid");
  m_real_size = 1;
  const Neighbours<Dim> nb(grid);
  for (int k = 0; k < Dim; ++k) {
    m_padded[k] = nb.periodic(k) ? grid.shape[k] : 2 * grid.shape[k];
    m_real_size *= static_cast<std::size_t>(m_padded[k]);
  }
  m_complex_size = m_real_size / static_cast<std::size_t>(m_padded[0]) * static_cast<std::size_t>(m_padded[0] / 2 + 1);
  std::array<int, Dim> dims{};  // FFTW's row-major order: the last dimension (x) is contiguous
  for (int k = 0; k < Dim; ++k) dims[static_cast<std::size_t>(Dim - 1 - k)] = m_padded[k];

  m_real = fftw_alloc_real(m_real_size);
  auto* spectrum = fftw_alloc_complex(m_complex_size);
  auto* kernel_hat = fftw_alloc_complex(m_complex_size);
  m_spectrum = spectrum;
  m_kernel_hat = kernel_hat;
  if (m_real == nullptr || spectrum == nullptr || kernel_hat == nullptr)
    throw std::runtime_error("interaction: cannot allocate the FFT buffers");
  {
    const FftwPlannerLock lock;
    if (lock.threads_ready) fftw_plan_with_nthreads(fftw_plan_threads(m_real_size));
    m_forward = fftw_plan_dft_r2c(Dim, dims.data(), m_real, spectrum, FFTW_ESTIMATE);
    m_backward = fftw_plan_dft_c2r(Dim, dims.data(), spectrum, m_real, FFTW_ESTIMATE);
  }
  if (m_forward == nullptr || m_backward == nullptr) throw std::runtime_error("interaction: FFTW planning failed");

  // The kernel in the padded layout, transformed once and divided by the length (FFTW does not normalise).
  const std::size_t rows = padded_rows<Dim>(m_padded);
  const int P0 = m_padded[0];
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t rest = r, t_row = 0, stride = static_cast<std::size_t>(grid.shape[0]);
    bool used = true;
    for (int k = 1; k < Dim; ++k) {
      const int m = offset_of(static_cast<int>(rest % static_cast<std::size_t>(m_padded[k])), grid.shape[k], m_padded[k]);
      rest /= static_cast<std::size_t>(m_padded[k]);
      used = used && m >= 0;
      t_row += static_cast<std::size_t>(std::max(m, 0)) * stride;
      stride *= static_cast<std::size_t>(grid.shape[k]);
    }
    for (int p = 0; p < P0; ++p) {
      const int m = offset_of(p, grid.shape[0], P0);
      m_real[r * static_cast<std::size_t>(P0) + static_cast<std::size_t>(p)] =
          used && m >= 0 ? table[t_row + static_cast<std::size_t>(m)] : 0.0;
    }
  }
  fftw_execute_dft_r2c(static_cast<fftw_plan>(m_forward), m_real, kernel_hat);
  const double inv_length = 1.0 / static_cast<double>(m_real_size);
  for (std::size_t i = 0; i < m_complex_size; ++i) {
    kernel_hat[i][0] *= inv_length;
    kernel_hat[i][1] *= inv_length;
  }
}

template <int Dim>
Convolution<Dim>::~Convolution() {
  const FftwPlannerLock lock;
  if (m_forward != nullptr) fftw_destroy_plan(static_cast<fftw_plan>(m_forward));
  if (m_backward != nullptr) fftw_destroy_plan(static_cast<fftw_plan>(m_backward));
  fftw_free(m_real);
  fftw_free(m_spectrum);
  fftw_free(m_kernel_hat);
}

template <int Dim>
std::size_t Convolution<Dim>::bytes() const {
  return m_real_size * sizeof(double) + 2 * m_complex_size * sizeof(fftw_complex);
}

template <int Dim>
void Convolution<Dim>::apply(const Field<Dim>& q, Field<Dim>& out) const {
  const FieldLayout<Dim>& L = q.layout();
  const std::array<int, Dim> n = m_grid.shape;
  const std::array<int, Dim> P = m_padded;
  const auto rows = static_cast<std::ptrdiff_t>(padded_rows<Dim>(P));
  const auto P0 = static_cast<std::ptrdiff_t>(P[0]);
  const bool parallel = m_real_size >= parallel_min_cells;
  double* real = m_real;
  const double* qp = q.data();
  // Copy in: the state's rows, zeros in the padding.
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    std::array<int, Dim> cell;
    double* dst = real + r * P0;
    std::ptrdiff_t i = 0;
    if (interior_row<Dim>(static_cast<std::size_t>(r), P, n, cell)) {
      const double* src = qp + L.index(cell);
      for (; i < n[0]; ++i) dst[i] = src[i];
    }
    for (; i < P0; ++i) dst[i] = 0.0;
  }
  fftw_execute(static_cast<fftw_plan>(m_forward));
  // Φ̂ = K̂ q̂ (the convolution theorem).
  auto* s = static_cast<fftw_complex*>(m_spectrum);
  const auto* k = static_cast<const fftw_complex*>(m_kernel_hat);
  const auto size = static_cast<std::ptrdiff_t>(m_complex_size);
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t i = 0; i < size; ++i) {
    const double re = s[i][0] * k[i][0] - s[i][1] * k[i][1];
    const double im = s[i][0] * k[i][1] + s[i][1] * k[i][0];
    s[i][0] = re;
    s[i][1] = im;
  }
  fftw_execute(static_cast<fftw_plan>(m_backward));
  // Copy out the interior rows.
  double* op = out.data();
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    std::array<int, Dim> cell;
    if (!interior_row<Dim>(static_cast<std::size_t>(r), P, n, cell)) continue;
    const double* src = real + r * P0;
    double* dst = op + L.index(cell);
    for (std::ptrdiff_t i = 0; i < n[0]; ++i) dst[i] = src[i];
  }
}

template class Convolution<1>;
template class Convolution<2>;
template class Convolution<3>;

}  // namespace wgflow
