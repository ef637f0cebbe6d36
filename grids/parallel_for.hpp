#pragma once
/// The one place that holds OpenMP pragmas for cell loops.
/// The interior is cut into fixed "rows": contiguous runs along x (a whole x-line in 2D/3D, blocks
/// of at most row_block cells in 1D). The cut depends on the grid only, never on the thread count,
/// so per-row partial sums summed in row order are bitwise identical for any number of threads.
#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "grids/field.hpp"

namespace wgflow {

inline constexpr int row_block = 1024;

/// Which build of the row kernels runs: each kernel is compiled for baseline x86-64 and, where the
/// compiler allows, again for AVX2 and for AVX-512 (F, DQ, VL; 512-bit vectors), and the build is
/// chosen here, once per process: the CPU's best, capped by WGFLOW_SIMD=generic or WGFLOW_SIMD=avx2.
/// Every build performs the same IEEE operations in the same order on each cell (no FMA:
/// -ffp-contract=off), so results are bitwise the same whichever runs; only speed differs. A kernel
/// whose AVX-512 build measured slower than its AVX2 build asks for simd_level_for(SimdLevel::avx2)
/// (docs/benchmarks.md "AVX-512 row kernels"); WGFLOW_SIMD=avx512 or set_simd_level lifts that cap.
enum class SimdLevel { generic = 0, avx2 = 1, avx512 = 2 };

/// The best build this CPU can run, whatever WGFLOW_SIMD says.
inline SimdLevel cpu_simd_level() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const SimdLevel level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return SimdLevel::avx512;
    return __builtin_cpu_supports("avx2") ? SimdLevel::avx2 : SimdLevel::generic;
  }();
  return level;
#else
  return SimdLevel::generic;
#endif
}

/// Whether this CPU can run the SimdLevel::avx512 build.
inline bool cpu_has_avx512() { return cpu_simd_level() == SimdLevel::avx512; }

namespace detail {
/// cpu_simd_level() capped by WGFLOW_SIMD, plus 4 when WGFLOW_SIMD asks for a level (avx512): then no
/// kernel caps it.
inline int simd_default() {
  static const int level = [] {
    int best = static_cast<int>(cpu_simd_level());
    const char* env = std::getenv("WGFLOW_SIMD");
    const std::string wanted = env != nullptr ? env : "";
    if (wanted == "generic") best = 0;
    if (wanted == "avx2") best = std::min(best, 1);
    return wanted == "avx512" ? best | 4 : best;
  }();
  return level;
}
/// The level in force: simd_default() until set_simd_level changes it.
inline std::atomic<int>& simd_setting() {
  static std::atomic<int> level{simd_default()};
  return level;
}
}  // namespace detail

/// The build the row kernels run; the one place that decides it.
inline SimdLevel simd_level() {
  return static_cast<SimdLevel>(detail::simd_setting().load(std::memory_order_relaxed) & 3);
}

/// The build for a kernel whose wider builds do not pay: simd_level() capped at `widest`, unless a
/// level was asked for explicitly (then every kernel runs it, so tests reach every build).
inline SimdLevel simd_level_for(SimdLevel widest) {
  const int setting = detail::simd_setting().load(std::memory_order_relaxed);
  const auto level = static_cast<SimdLevel>(setting & 3);
  return (setting & 4) != 0 ? level : std::min(level, widest);
}

/// Tests and benchmarks: run `wanted` (capped at what the CPU runs) in every kernel from now on;
/// returns the level set. Call it between steps, never while kernels run.
inline SimdLevel set_simd_level(SimdLevel wanted) {
  const SimdLevel level = std::min(wanted, cpu_simd_level());
  detail::simd_setting().store(static_cast<int>(level) | 4, std::memory_order_relaxed);
  return level;
}

/// Back to the process's default (cpu_simd_level() capped by WGFLOW_SIMD, per-kernel caps).
inline void reset_simd_level() { detail::simd_setting().store(detail::simd_default(), std::memory_order_relaxed); }

#if defined(__x86_64__) && defined(__GNUC__)
#define WGFLOW_SIMD_CLONES 1
/// Attributes of a row kernel's AVX2 clone; flatten inlines every callee into that ISA.
#define WGFLOW_TARGET_AVX2 gnu::target("avx2"), gnu::flatten
/// The same for AVX-512 (F, DQ, VL) with 512-bit vectors.
#define WGFLOW_TARGET_AVX512 gnu::target("avx512f,avx512dq,avx512vl,prefer-vector-width=512"), gnu::flatten

/// kernel(args...) compiled for AVX2 / AVX-512: flatten inlines the kernel's whole body into the clone,
/// so its loops are vectorised for that ISA. The kernel's own __restrict parameters keep their meaning.
template <class Kernel, class... Args>
[[WGFLOW_TARGET_AVX2]] decltype(auto) run_avx2(const Kernel& kernel, Args&&... args) {
  return kernel(std::forward<Args>(args)...);
}
template <class Kernel, class... Args>
[[WGFLOW_TARGET_AVX512]] decltype(auto) run_avx512(const Kernel& kernel, Args&&... args) {
  return kernel(std::forward<Args>(args)...);
}
#endif

/// kernel(args...) in the build `simd` (normally simd_level()): the one clone-and-dispatch of the row
/// kernels. Pass the kernel as a lambda or function object that calls the kernel template.
template <class Kernel, class... Args>
decltype(auto) run_simd(SimdLevel simd, const Kernel& kernel, Args&&... args) {
#ifdef WGFLOW_SIMD_CLONES
  if (simd == SimdLevel::avx512) return run_avx512(kernel, std::forward<Args>(args)...);
  if (simd == SimdLevel::avx2) return run_avx2(kernel, std::forward<Args>(args)...);
#endif
  (void)simd;
  return kernel(std::forward<Args>(args)...);
}

/// Grids smaller than this run their loops on one thread: waking a team costs more than the work.
/// Rows are cut the same way either way, so results do not depend on it.
inline constexpr std::size_t parallel_min_cells = 16384;

template <int Dim>
std::size_t num_rows(const FieldLayout<Dim>& L) {
  if constexpr (Dim == 1) return static_cast<std::size_t>((L.shape[0] + row_block - 1) / row_block);
  std::size_t rows = 1;
  for (int k = 1; k < Dim; ++k) rows *= static_cast<std::size_t>(L.shape[k]);
  return rows;
}

/// First linear index and length of row r.
template <int Dim>
void row_extent(const FieldLayout<Dim>& L, std::size_t r, std::ptrdiff_t& begin, int& count) {
  if constexpr (Dim == 1) {
    const int i0 = static_cast<int>(r) * row_block;
    begin = L.offset + i0;
    count = std::min(row_block, L.shape[0] - i0);
  } else if constexpr (Dim == 2) {
    begin = L.offset + static_cast<std::ptrdiff_t>(r) * L.stride[1];
    count = L.shape[0];
  } else {
    const auto j = static_cast<std::ptrdiff_t>(r % static_cast<std::size_t>(L.shape[1]));
    const auto k = static_cast<std::ptrdiff_t>(r / static_cast<std::size_t>(L.shape[1]));
    begin = L.offset + j * L.stride[1] + k * L.stride[2];
    count = L.shape[0];
  }
}

/// True if loops over `L` should fork threads: at least parallel_min_cells cells and more than one
/// thread allowed. Otherwise they run with no OpenMP region at all: even a region whose `if` clause
/// is false ends in libgomp's team barrier, one futex system call each (17 per SSP-RK3 step; 2.9 s of
/// a 10 s run of a 400-cell 1D problem went to them).
template <int Dim>
bool use_threads(const FieldLayout<Dim>& L) {
  return L.num_cells() >= parallel_min_cells && omp_get_max_threads() > 1;
}

/// Calls body(row, begin, count) for every row, rows spread over threads with a static schedule.
template <int Dim, class Body>
void parallel_for_rows(const FieldLayout<Dim>& L, Body&& body) {
  const auto rows = static_cast<std::ptrdiff_t>(num_rows(L));
  const auto visit = [&](std::ptrdiff_t r) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, static_cast<std::size_t>(r), begin, count);
    body(static_cast<std::size_t>(r), begin, count);
  };
  if (!use_threads(L)) {
    for (std::ptrdiff_t r = 0; r < rows; ++r) visit(r);
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r) visit(r);
}

/// The set-up twin of for_each_cell (grids/cell_loop.hpp): fn(idx, cell, x) for every interior cell,
/// with the same idx, cell and centre x, but rows spread over threads as the kernels spread them, so
/// each row of a new field is first written by the thread that will step it. fn may write only the
/// cell idx (and read anything); each value is computed alone, so the result is the same for any
/// thread count. fn must not throw.
template <int Dim, class Fn>
void parallel_for_each_cell(const UniformGrid<Dim>& grid, Fn&& fn) {
  const FieldLayout<Dim> L(grid.shape);
  parallel_for_rows(L, [&](std::size_t r, std::ptrdiff_t begin, int count) {
    std::array<int, Dim> cell{};
    std::array<double, Dim> x{};
    if constexpr (Dim == 1) cell[0] = static_cast<int>(r) * row_block;
    if constexpr (Dim == 2) cell[1] = static_cast<int>(r);
    if constexpr (Dim == 3) {
      cell[1] = static_cast<int>(r % static_cast<std::size_t>(L.shape[1]));
      cell[2] = static_cast<int>(r / static_cast<std::size_t>(L.shape[1]));
    }
    for (int k = 1; k < Dim; ++k) x[k] = grid.centre(k, cell[k]);
    const int first = cell[0];
    for (int i = 0; i < count; ++i) {
      cell[0] = first + i;
      x[0] = grid.centre(0, cell[0]);
      fn(begin + i, static_cast<const std::array<int, Dim>&>(cell), static_cast<const std::array<double, Dim>&>(x));
    }
  });
}

/// Calls body(i) for i = 0 … n − 1 (independent items, e.g. particles), static schedule; no OpenMP
/// region below parallel_min_cells items or with one thread. Each i is done by one thread, so results
/// written per item do not depend on the thread count.
template <class Body>
void parallel_for_items(std::size_t n, Body&& body) {
  const auto count = static_cast<std::ptrdiff_t>(n);
  if (n < parallel_min_cells || omp_get_max_threads() <= 1) {
    for (std::ptrdiff_t i = 0; i < count; ++i) body(static_cast<std::size_t>(i));
    return;
  }
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < count; ++i) body(static_cast<std::size_t>(i));
}

/// Maximum over rows of row_max(begin, count); max is exact, so any thread order gives the same value.
template <int Dim, class RowMax>
double parallel_max_rows(const FieldLayout<Dim>& L, RowMax&& row_max) {
  const auto rows = static_cast<std::ptrdiff_t>(num_rows(L));
  const auto visit = [&](std::ptrdiff_t r) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, static_cast<std::size_t>(r), begin, count);
    return row_max(begin, count);
  };
  double result = 0.0;
  if (!use_threads(L)) {
    for (std::ptrdiff_t r = 0; r < rows; ++r) result = std::max(result, visit(r));
    return result;
  }
#pragma omp parallel for schedule(static) reduction(max : result)
  for (std::ptrdiff_t r = 0; r < rows; ++r) result = std::max(result, visit(r));
  return result;
}

/// N maxima at once: row_max(begin, count, acc) raises the entries of acc (which start at 0) with its
/// row's values. Max is exact, so the per-thread partials merge to the same result in any order.
template <int Dim, std::size_t N, class RowMax>
std::array<double, N> parallel_max_rows_n(const FieldLayout<Dim>& L, RowMax&& row_max) {
  const auto rows = static_cast<std::ptrdiff_t>(num_rows(L));
  std::array<double, N> result{};
  const auto visit = [&](std::ptrdiff_t r, std::array<double, N>& acc) {
    std::ptrdiff_t begin;
    int count;
    row_extent(L, static_cast<std::size_t>(r), begin, count);
    row_max(begin, count, acc);
  };
  if (!use_threads(L)) {
    for (std::ptrdiff_t r = 0; r < rows; ++r) visit(r, result);
    return result;
  }
#pragma omp parallel
  {
    std::array<double, N> acc{};
#pragma omp for schedule(static) nowait
    for (std::ptrdiff_t r = 0; r < rows; ++r) visit(r, acc);
#pragma omp critical(wgflow_parallel_max_rows_n)
    for (std::size_t i = 0; i < N; ++i) result[i] = std::max(result[i], acc[i]);
  }
  return result;
}

/// Deterministic sums: one partial per row into a buffer kept between calls, then summed in row order.
template <int Dim>
class RowSum {
 public:
  explicit RowSum(const FieldLayout<Dim>& L) : m_layout(L), m_partial(num_rows(L)) {}

  /// Sum over rows of row_sum(begin, count).
  template <class RowSumFn>
  double operator()(RowSumFn&& row_sum) {
    parallel_for_rows(m_layout, [&](std::size_t r, std::ptrdiff_t begin, int count) {
      m_partial[r] = row_sum(begin, count);
    });
    double s = 0.0;
    for (double p : m_partial) s += p;
    return s;
  }

 private:
  FieldLayout<Dim> m_layout;
  std::vector<double> m_partial;
};

}  // namespace wgflow
