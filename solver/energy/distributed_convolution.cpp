#include "solver/energy/distributed_convolution.hpp"

#include <fftw3-mpi.h>
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "grids/parallel_for.hpp"
#include "solver/energy/convolution.hpp"

namespace wgflow {

namespace {

/// |m| of padded index p along an axis of n cells padded to P (convolution.cpp's offset_of): −1 for
/// the entry of a 2n padding that pairs no cells.
int offset_of(std::ptrdiff_t p, int n, int P) {
  if (P == n) return static_cast<int>(p <= n - p ? p : n - p);
  if (p < n) return static_cast<int>(p);
  return p == n ? -1 : static_cast<int>(P - p);
}

int checked_int(std::size_t count) {
  if (count > static_cast<std::size_t>(INT_MAX))
    throw std::runtime_error("interaction: a rank's part of the distributed FFT exceeds MPI's int counts");
  return static_cast<int>(count);
}

}  // namespace

template <int Dim>
template <class Row>
void DistributedConvolution<Dim>::for_each_row(const Box& box, std::ptrdiff_t start, std::ptrdiff_t count,
                                               Row&& row) const {
  constexpr int s = Dim - 1;  // the slowest axis, FFTW's distributed one
  const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(box.offset[s], start);
  const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(box.offset[s] + box.shape[s], start + count);
  std::array<int, Dim> cell{};
  for (std::ptrdiff_t z = lo; z < hi; ++z) {
    cell[s] = static_cast<int>(z - box.offset[s]);
    const std::ptrdiff_t plane = (z - start) * m_stride[s];
    if constexpr (Dim == 1) {
      row(cell, plane, 1);
    } else if constexpr (Dim == 2) {
      row(cell, plane, box.shape[0]);
    } else {
      for (int y = 0; y < box.shape[1]; ++y) {
        cell[1] = y;
        row(cell, plane + (box.offset[1] + y) * m_stride[1], box.shape[0]);
      }
    }
  }
}

template <int Dim>
DistributedConvolution<Dim>::DistributedConvolution(const UniformGrid<Dim>& grid, const TableRows& table_rows)
    : m_grid(grid) {
  const auto* handle = static_cast<const MPI_Comm*>(grid.ranks.mpi_handle());
  if (handle == nullptr) throw std::logic_error("DistributedConvolution: the grid's ranks have no MPI communicator");
  const MPI_Comm comm = *handle;
  const int ranks = grid.ranks.size();
  std::size_t real_length = 1;
  for (int k = 0; k < Dim; ++k) {
    m_n[k] = grid.global_shape(k);
    m_padded[k] = grid.boundary[k] == Boundary::periodic ? m_n[k] : 2 * m_n[k];
    real_length *= static_cast<std::size_t>(m_padded[k]);
  }
  std::array<ptrdiff_t, Dim> dims{};  // FFTW's row-major order: x last
  for (int k = 0; k < Dim; ++k) dims[static_cast<std::size_t>(Dim - 1 - k)] = m_padded[k];

  // Every rank's box.
  std::vector<int> mine(2 * Dim), all(static_cast<std::size_t>(2 * Dim * ranks));
  for (int k = 0; k < Dim; ++k) {
    mine[static_cast<std::size_t>(k)] = grid.offset[k];
    mine[static_cast<std::size_t>(Dim + k)] = grid.shape[k];
  }
  MPI_Allgather(mine.data(), 2 * Dim, MPI_INT, all.data(), 2 * Dim, MPI_INT, comm);
  m_boxes.resize(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    for (int k = 0; k < Dim; ++k) {
      m_boxes[static_cast<std::size_t>(r)].offset[k] = all[static_cast<std::size_t>(2 * Dim * r + k)];
      m_boxes[static_cast<std::size_t>(r)].shape[k] = all[static_cast<std::size_t>(2 * Dim * r + Dim + k)];
    }

  // FFTW's slab, buffers and plans.
  ptrdiff_t alloc = 0;
  {
    const FftwPlannerLock lock;
    static const bool mpi_ready = (fftw_mpi_init(), true);
    (void)mpi_ready;
    if constexpr (Dim == 1) {
      const unsigned forward = FFTW_ESTIMATE | FFTW_MPI_SCRAMBLED_OUT, backward = FFTW_ESTIMATE | FFTW_MPI_SCRAMBLED_IN;
      ptrdiff_t ni = 0, i0 = 0, no = 0, o0 = 0, bi = 0, b0 = 0, bo = 0, bo0 = 0;
      alloc = fftw_mpi_local_size_1d(dims[0], comm, FFTW_FORWARD, forward, &ni, &i0, &no, &o0);
      alloc = std::max(alloc, fftw_mpi_local_size_1d(dims[0], comm, FFTW_BACKWARD, backward, &bi, &b0, &bo, &bo0));
      // The inverse must return the line where the forward transform took it, and read its output.
      if (bo != ni || bo0 != i0 || bi != no)
        throw std::logic_error("interaction: FFTW-MPI's 1D forward and backward distributions differ");
      m_slab_start = i0;
      m_slab_count = ni;
      m_spectrum_count = static_cast<std::size_t>(no);
      m_stride[0] = 2;  // complex elements: the real part carries the line
      m_buffer_doubles = 2 * static_cast<std::size_t>(alloc);
      m_buffer = fftw_alloc_real(m_buffer_doubles);
      if (m_buffer == nullptr) throw std::runtime_error("interaction: cannot allocate the FFT buffers");
      if (lock.threads_ready) fftw_plan_with_nthreads(fftw_plan_threads(m_buffer_doubles));
      auto* c = reinterpret_cast<fftw_complex*>(m_buffer);
      m_forward = fftw_mpi_plan_dft_1d(dims[0], c, c, comm, FFTW_FORWARD, forward);
      m_backward = fftw_mpi_plan_dft_1d(dims[0], c, c, comm, FFTW_BACKWARD, backward);
    } else {
      std::array<ptrdiff_t, Dim> half = dims;  // the complex dimensions of the r2c transform
      half[Dim - 1] = dims[Dim - 1] / 2 + 1;
      ptrdiff_t n0 = 0, s0 = 0, n1 = 0, s1 = 0;
      alloc = fftw_mpi_local_size_transposed(Dim, half.data(), comm, &n0, &s0, &n1, &s1);
      m_slab_start = s0;
      m_slab_count = n0;
      std::size_t others = 1;  // the transposed output: n1 rows of the other complex dimensions
      for (int i = 0; i < Dim; ++i)
        if (i != 1) others *= static_cast<std::size_t>(half[static_cast<std::size_t>(i)]);
      m_spectrum_count = static_cast<std::size_t>(n1) * others;
      const std::ptrdiff_t row = 2 * half[Dim - 1];  // a padded real row, as FFTW's r2c lays it out
      m_stride[0] = 1;
      if constexpr (Dim == 3) m_stride[1] = row;
      m_stride[Dim - 1] = Dim == 3 ? m_padded[1] * row : row;
      m_buffer_doubles = 2 * static_cast<std::size_t>(alloc);
      m_buffer = fftw_alloc_real(m_buffer_doubles);
      if (m_buffer == nullptr) throw std::runtime_error("interaction: cannot allocate the FFT buffers");
      if (lock.threads_ready) fftw_plan_with_nthreads(fftw_plan_threads(m_buffer_doubles));
      auto* c = reinterpret_cast<fftw_complex*>(m_buffer);
      m_forward = fftw_mpi_plan_dft_r2c(Dim, dims.data(), m_buffer, c, comm, FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_OUT);
      m_backward = fftw_mpi_plan_dft_c2r(Dim, dims.data(), c, m_buffer, comm, FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_IN);
    }
  }
  if (m_forward == nullptr || m_backward == nullptr)
    throw std::runtime_error("interaction: FFTW-MPI planning failed for " + std::to_string(ranks) + " ranks");
  auto* kernel_hat = fftw_alloc_complex(std::max<std::size_t>(m_spectrum_count, 1));
  m_kernel_hat = kernel_hat;
  if (kernel_hat == nullptr) throw std::runtime_error("interaction: cannot allocate the FFT buffers");

  // Every rank's slab, and what goes where: my box's rows in each slab, each box's rows in my slab.
  m_slab_starts.assign(static_cast<std::size_t>(ranks), 0);
  m_slab_counts.assign(static_cast<std::size_t>(ranks), 0);
  const long long slab[2] = {static_cast<long long>(m_slab_start), static_cast<long long>(m_slab_count)};
  std::vector<long long> slabs(static_cast<std::size_t>(2 * ranks));
  MPI_Allgather(slab, 2, MPI_LONG_LONG, slabs.data(), 2, MPI_LONG_LONG, comm);
  m_box_counts.assign(static_cast<std::size_t>(ranks), 0);
  m_slab_counts_in.assign(static_cast<std::size_t>(ranks), 0);
  m_box_displs.assign(static_cast<std::size_t>(ranks), 0);
  m_slab_displs.assign(static_cast<std::size_t>(ranks), 0);
  const Box& me = m_boxes[static_cast<std::size_t>(grid.ranks.rank())];
  std::size_t box_total = 0, slab_total = 0;
  for (int r = 0; r < ranks; ++r) {
    const auto u = static_cast<std::size_t>(r);
    m_slab_starts[u] = static_cast<std::ptrdiff_t>(slabs[2 * u]);
    m_slab_counts[u] = static_cast<std::ptrdiff_t>(slabs[2 * u + 1]);
    std::size_t to = 0, from = 0;
    for_each_row(me, m_slab_starts[u], m_slab_counts[u], [&](const auto&, std::ptrdiff_t, int n) { to += n; });
    for_each_row(m_boxes[u], m_slab_start, m_slab_count, [&](const auto&, std::ptrdiff_t, int n) { from += n; });
    m_box_displs[u] = checked_int(box_total);
    m_slab_displs[u] = checked_int(slab_total);
    m_box_counts[u] = checked_int(to);
    m_slab_counts_in[u] = checked_int(from);
    box_total += to;
    slab_total += from;
  }
  checked_int(box_total);
  checked_int(slab_total);
  m_box_rows.resize(std::max<std::size_t>(box_total, 1));
  m_slab_rows.resize(std::max<std::size_t>(slab_total, 1));

  // K in my slab of the padded layout: the table rows of the slab's offsets along the slowest axis.
  constexpr int s = Dim - 1;
  int first = m_n[s], last = 0;
  for (std::ptrdiff_t p = m_slab_start; p < m_slab_start + m_slab_count; ++p) {
    const int m = offset_of(p, m_n[s], m_padded[s]);
    if (m < 0) continue;
    first = std::min(first, m);
    last = std::max(last, m + 1);
  }
  const std::vector<double> table = first < last ? table_rows(first, last) : std::vector<double>();
  std::fill(m_buffer, m_buffer + m_buffer_doubles, 0.0);
  for (std::ptrdiff_t p = m_slab_start; p < m_slab_start + m_slab_count; ++p) {
    const int ms = offset_of(p, m_n[s], m_padded[s]);
    if (ms < 0) continue;
    double* plane = m_buffer + (p - m_slab_start) * m_stride[s];
    if constexpr (Dim == 1) {
      plane[0] = table[static_cast<std::size_t>(ms - first)];
    } else {
      const int rows = Dim == 3 ? m_padded[1] : 1;
      for (int py = 0; py < rows; ++py) {
        const int my = Dim == 3 ? offset_of(py, m_n[1], m_padded[1]) : 0;
        if (my < 0) continue;
        const std::size_t t_row =
            Dim == 3 ? (static_cast<std::size_t>(ms - first) * static_cast<std::size_t>(m_n[1]) + static_cast<std::size_t>(my))
                     : static_cast<std::size_t>(ms - first);
        double* dst = plane + (Dim == 3 ? py * m_stride[1] : 0);
        for (int px = 0; px < m_padded[0]; ++px) {
          const int mx = offset_of(px, m_n[0], m_padded[0]);
          dst[px] = mx < 0 ? 0.0 : table[t_row * static_cast<std::size_t>(m_n[0]) + static_cast<std::size_t>(mx)];
        }
      }
    }
  }
  fftw_execute(static_cast<fftw_plan>(m_forward));
  const double inv_length = 1.0 / static_cast<double>(real_length);
  const auto* spectrum = reinterpret_cast<const fftw_complex*>(m_buffer);
  for (std::size_t i = 0; i < m_spectrum_count; ++i) {
    kernel_hat[i][0] = spectrum[i][0] * inv_length;
    kernel_hat[i][1] = spectrum[i][1] * inv_length;
  }
}

template <int Dim>
DistributedConvolution<Dim>::~DistributedConvolution() {
  const FftwPlannerLock lock;
  if (m_forward != nullptr) fftw_destroy_plan(static_cast<fftw_plan>(m_forward));
  if (m_backward != nullptr) fftw_destroy_plan(static_cast<fftw_plan>(m_backward));
  fftw_free(m_buffer);
  fftw_free(m_kernel_hat);
}

template <int Dim>
std::size_t DistributedConvolution<Dim>::bytes() const {
  return (m_buffer_doubles + 2 * m_spectrum_count + m_box_rows.size() + m_slab_rows.size()) * sizeof(double);
}

template <int Dim>
void DistributedConvolution<Dim>::apply(const Field<Dim>& q, Field<Dim>& out) const {
  const MPI_Comm comm = *static_cast<const MPI_Comm*>(m_grid.ranks.mpi_handle());
  const FieldLayout<Dim>& L = q.layout();
  const Box& me = m_boxes[static_cast<std::size_t>(m_grid.ranks.rank())];
  const auto ranks = static_cast<int>(m_boxes.size());
  const bool parallel = m_buffer_doubles >= parallel_min_cells;

  // My box's rows, in the order of the slabs that take them.
  const double* qp = q.data();
  double* sent = m_box_rows.data();
  for (int r = 0; r < ranks; ++r)
    for_each_row(me, m_slab_starts[static_cast<std::size_t>(r)], m_slab_counts[static_cast<std::size_t>(r)],
                 [&](const std::array<int, Dim>& cell, std::ptrdiff_t, int n) {
                   std::copy(qp + L.index(cell), qp + L.index(cell) + n, sent);
                   sent += n;
                 });
  MPI_Alltoallv(m_box_rows.data(), m_box_counts.data(), m_box_displs.data(), MPI_DOUBLE, m_slab_rows.data(),
                m_slab_counts_in.data(), m_slab_displs.data(), MPI_DOUBLE, comm);
  // My slab: zeros in the padding (and the imaginary parts in 1D), every box's rows in place.
  double* buffer = m_buffer;
  const auto doubles = static_cast<std::ptrdiff_t>(m_buffer_doubles);
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t i = 0; i < doubles; ++i) buffer[i] = 0.0;
  const double* received = m_slab_rows.data();
  for (int r = 0; r < ranks; ++r)
    for_each_row(m_boxes[static_cast<std::size_t>(r)], m_slab_start, m_slab_count,
                 [&](const std::array<int, Dim>&, std::ptrdiff_t at, int n) {
                   if constexpr (Dim == 1)
                     buffer[at] = *received;
                   else
                     std::copy(received, received + n, buffer + at);
                   received += n;
                 });

  fftw_execute(static_cast<fftw_plan>(m_forward));
  // Φ̂ = K̂ q̂ in FFTW's transposed (1D: scrambled) layout, the same for both factors.
  auto* spectrum = reinterpret_cast<fftw_complex*>(m_buffer);
  const auto* k = static_cast<const fftw_complex*>(m_kernel_hat);
  const auto size = static_cast<std::ptrdiff_t>(m_spectrum_count);
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t i = 0; i < size; ++i) {
    const double re = spectrum[i][0] * k[i][0] - spectrum[i][1] * k[i][1];
    const double im = spectrum[i][0] * k[i][1] + spectrum[i][1] * k[i][0];
    spectrum[i][0] = re;
    spectrum[i][1] = im;
  }
  fftw_execute(static_cast<fftw_plan>(m_backward));

  // Back: each box's rows from my slab, then my box's rows from every slab.
  double* packed = m_slab_rows.data();
  for (int r = 0; r < ranks; ++r)
    for_each_row(m_boxes[static_cast<std::size_t>(r)], m_slab_start, m_slab_count,
                 [&](const std::array<int, Dim>&, std::ptrdiff_t at, int n) {
                   if constexpr (Dim == 1)
                     *packed = buffer[at];
                   else
                     std::copy(buffer + at, buffer + at + n, packed);
                   packed += n;
                 });
  MPI_Alltoallv(m_slab_rows.data(), m_slab_counts_in.data(), m_slab_displs.data(), MPI_DOUBLE, m_box_rows.data(),
                m_box_counts.data(), m_box_displs.data(), MPI_DOUBLE, comm);
  double* op = out.data();
  const double* back = m_box_rows.data();
  for (int r = 0; r < ranks; ++r)
    for_each_row(me, m_slab_starts[static_cast<std::size_t>(r)], m_slab_counts[static_cast<std::size_t>(r)],
                 [&](const std::array<int, Dim>& cell, std::ptrdiff_t, int n) {
                   std::copy(back, back + n, op + L.index(cell));
                   back += n;
                 });
}

template class DistributedConvolution<1>;
template class DistributedConvolution<2>;
template class DistributedConvolution<3>;

}  // namespace wgflow
