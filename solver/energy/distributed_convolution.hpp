#pragma once
#include "solver/layer_guard.hpp"
/// The convolution of convolution.hpp on a decomposed grid (MPI builds only): each rank holds its box
/// of q and gets Φ on the same box; the transforms are FFTW's MPI ones (fftw_mpi), on the same
/// padded array as the serial convolution (2n on no-flux axes, n on periodic ones), which FFTW
/// distributes in slabs of the slowest axis (y in 2D, z in 3D, x in 1D).
///
/// One call: (1) every rank sends the rows of its box to the ranks whose slab holds them, one
/// MPI_Alltoallv (no rank ever holds more than its slab); (2) r2c with FFTW_MPI_TRANSPOSED_OUT, the
/// product with K̂ in that transposed layout (K̂ was made by the same plan), c2r with
/// FFTW_MPI_TRANSPOSED_IN, so the two global transposes the distributed transform would otherwise
/// add are skipped; (3) the reverse Alltoallv returns each box its rows. In 1D, where FFTW-MPI has
/// complex transforms only, the padded line is a complex array with zero imaginary part, transformed
/// with FFTW_MPI_SCRAMBLED_OUT/IN (the product does not care about the order of the spectrum).
///
/// The result equals the serial convolution to rounding (a different transform algorithm, not the
/// same bits: docs/architecture.md "Interaction energies on several ranks"). Plans use FFTW's
/// threads like the serial ones (fftw_init_threads, then fftw_mpi_init).
#include <array>
#include <cstddef>
#include <functional>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

template <int Dim>
class DistributedConvolution {
 public:
  /// The kernel table K for |m_{Dim−1}| in [first, last) and every |m_k| = 0..n_k−1 on the other axes,
  /// x fastest (cell_averaged_kernel's layout and scaling): each rank asks for the rows of its slab.
  using TableRows = std::function<std::vector<double>(int first, int last)>;

  /// grid: this rank's box of a decomposed grid (grid.ranks are all the ranks of the split).
  DistributedConvolution(const UniformGrid<Dim>& grid, const TableRows& table_rows);
  ~DistributedConvolution();
  DistributedConvolution(const DistributedConvolution&) = delete;
  DistributedConvolution& operator=(const DistributedConvolution&) = delete;

  /// out_i = Σ_j K_{i−j} q_j on the interior of this rank's box (ghosts untouched); collective.
  void apply(const Field<Dim>& q, Field<Dim>& out) const;

  /// Bytes of this rank's buffers (its slab, K̂'s part, the send and receive rows).
  std::size_t bytes() const;

 private:
  struct Box {
    std::array<int, Dim> offset{}, shape{};
  };
  /// Calls row(box_cell, slab_element, length) for each x-run of `box` (local cell coordinates) that
  /// lies in the slab [start, start + count) of the slowest axis, in the order both sides pack them.
  template <class Row>
  void for_each_row(const Box& box, std::ptrdiff_t start, std::ptrdiff_t count, Row&& row) const;

  UniformGrid<Dim> m_grid;
  std::array<int, Dim> m_n{}, m_padded{};
  std::vector<Box> m_boxes;                        ///< every rank's box
  std::vector<std::ptrdiff_t> m_slab_starts, m_slab_counts;  ///< every rank's slab
  std::ptrdiff_t m_slab_start = 0, m_slab_count = 0;
  std::array<std::ptrdiff_t, Dim> m_stride{};      ///< slab buffer stride per axis (in doubles)
  std::size_t m_buffer_doubles = 0, m_spectrum_count = 0;
  std::vector<int> m_box_counts, m_box_displs;     ///< doubles of my box in each rank's slab
  std::vector<int> m_slab_counts_in, m_slab_displs;  ///< doubles of each rank's box in my slab
  mutable std::vector<double> m_box_rows, m_slab_rows;
  double* m_buffer = nullptr;    ///< the slab (fftw_malloc), transformed in place
  void* m_kernel_hat = nullptr;  ///< fftw_complex[m_spectrum_count]: K̂ / length, FFTW's output layout
  void* m_forward = nullptr;
  void* m_backward = nullptr;
};

}  // namespace wgflow
