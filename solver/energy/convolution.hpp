#pragma once
#include "solver/layer_guard.hpp"
/// The discrete convolution Φ_i = Σ_j K_{i−j} q_j over the interior cells, by FFTW real transforms
/// (numerics.md "Interaction W*q"): zero padding to 2n on no-flux axes (the linear convolution),
/// length n on periodic axes (circular, the offset taken as the nearest image). K is a radial table
/// K_{|m_0|,|m_1|,|m_2|}, transformed once at set-up; plans (FFTW_ESTIMATE: the same plan, hence the
/// same bits, in every run) and buffers are made once, so a convolution allocates nothing.
/// Cost O(N log N) per call: one forward and one inverse transform of the padded array.
#include <array>
#include <cstddef>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

template <int Dim>
class Convolution {
 public:
  /// table: K for |m_k| = 0..n_k−1, x fastest (cell_averaged_kernel's layout), already scaled as wanted.
  Convolution(const UniformGrid<Dim>& grid, const std::vector<double>& table);
  ~Convolution();
  Convolution(const Convolution&) = delete;
  Convolution& operator=(const Convolution&) = delete;

  /// out_i = Σ_j K_{i−j} q_j on the interior of out (ghosts untouched). Not reentrant (one buffer set).
  void apply(const Field<Dim>& q, Field<Dim>& out) const;

  /// Bytes of the transform buffers (padded real array, two half-spectra).
  std::size_t bytes() const;
  /// Padded transform length along each axis: 2n (no-flux) or n (periodic).
  const std::array<int, Dim>& padded_shape() const { return m_padded; }

 private:
  UniformGrid<Dim> m_grid;
  std::array<int, Dim> m_padded{};
  std::size_t m_real_size = 0, m_complex_size = 0;
  double* m_real = nullptr;     ///< padded real array (fftw_malloc)
  void* m_spectrum = nullptr;   ///< fftw_complex[m_complex_size]: the state's spectrum
  void* m_kernel_hat = nullptr; ///< fftw_complex[m_complex_size]: K's spectrum divided by the length
  void* m_forward = nullptr;    ///< fftw_plan r2c
  void* m_backward = nullptr;   ///< fftw_plan c2r
};

/// Threads FFTW's plans use: OMP's maximum at set-up, or 1 below parallel_min_cells padded cells.
int fftw_plan_threads(std::size_t padded_cells);

/// Locks FFTW's planner (not thread-safe) for the life of the returned guard, after initialising
/// FFTW's threads once per process (fftw_init_threads; the distributed convolution then starts
/// fftw_mpi_init, which must come after it). ready: whether FFTW's threads are available.
struct FftwPlannerLock {
  FftwPlannerLock();
  ~FftwPlannerLock();
  FftwPlannerLock(const FftwPlannerLock&) = delete;
  FftwPlannerLock& operator=(const FftwPlannerLock&) = delete;
  bool threads_ready = false;
};

}  // namespace wgflow
