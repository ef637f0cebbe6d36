/// wgflow_bench_stencil: the practical ceiling of a 3D stage on this machine (docs/benchmarks.md
/// "Why 3D SG is below the model"). On three padded (n+4)³ arrays laid out like Field<3>, it times one
/// SSP-RK stage out = base + b·(in + Δt·Δ_h in − base) (the sg-heat stage; stage_update) against loops
/// that move the same bytes without the stencil, in several variants of the loop and the memory:
///
///   triad    a = b + s·c over the whole padded arrays (STREAM, same footprint as the stage)
///   update   out = base + b·(in − base) over the interior rows (the stage's streams, no neighbours)
///   update-ip  the same written over `in` (what an in-place stage streams)
///   stencil  the 7-point stage, rows (x-lines) spread over threads like parallel_for_rows
///   stencil-nt  the same with non-temporal (streaming) stores of out
///   stencil-pf  the same with software prefetch of the next row's z+1 neighbours and base
///   stencil-tile  rows visited in y-tiles of a z-slab (2.5D plane reuse inside L2)
///
///   wgflow_bench_stencil [--n 256] [--repeats 15] [--huge 0|1] [--touch parallel|serial] [--tile 64]
///                        [--skew K] [--only triad,update,...]
/// Prints one line per variant: min and median seconds per pass, cells/s, GB/s at 24 bytes/cell.
#include <immintrin.h>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Arrays {
  int n;
  std::ptrdiff_t s1, s2, offset;
  std::size_t size;
  double *q, *q0, *o;
};

/// 2 MiB-aligned anonymous memory; with huge = true, MADV_HUGEPAGE before the first touch.
double* allocate(std::size_t count, bool huge) {
  const std::size_t bytes = (count * sizeof(double) + (2u << 20) - 1) & ~std::size_t((2u << 20) - 1);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return static_cast<double*>(p);
}

template <class Row>
void for_rows(const Arrays& A, Row&& row) {
  const std::ptrdiff_t rows = std::ptrdiff_t(A.n) * A.n;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r) {
    const std::ptrdiff_t j = r % A.n, k = r / A.n;
    row(A.offset + j * A.s1 + k * A.s2);
  }
}

constexpr double D_dx2 = 0.1, dt = 0.5, b = 0.25;

// The sg-heat stage of one row, the same expression and operand order as sg_row<3, true, true>
// (heat_face_rate, stage_increment), with the neighbour rows as pointers as there.
[[gnu::target("avx2")]] inline void stage_row(const double* __restrict q, const double* __restrict q0,
                                              double* __restrict o, std::ptrdiff_t c0, int n, std::ptrdiff_t s1,
                                              std::ptrdiff_t s2) {
  const double* __restrict qc = q + c0;
  const double* lo[3] = {qc - 1, qc - s1, qc - s2};
  const double* hi[3] = {qc + 1, qc + s1, qc + s2};
#pragma omp simd
  for (int i = 0; i < n; ++i) {
    double rate = 0.0;
#pragma GCC unroll 3
    for (int k = 0; k < 3; ++k) rate += D_dx2 * (lo[k][i] - qc[i]) - D_dx2 * (qc[i] - hi[k][i]);
    const double x = qc[i] + dt * rate;
    o[c0 + i] = q0[c0 + i] + b * (x - q0[c0 + i]);
  }
}

/// The same row with streaming stores: a scalar head up to 32-byte alignment, AVX2 body, scalar tail.
[[gnu::target("avx2")]] void stage_row_nt(const double* __restrict q, const double* __restrict q0,
                                          double* __restrict o, std::ptrdiff_t c0, int n, std::ptrdiff_t s1,
                                          std::ptrdiff_t s2) {
  std::ptrdiff_t c = c0;
  const std::ptrdiff_t end = c0 + n;
  while (c < end && (reinterpret_cast<std::uintptr_t>(o + c) & 31) != 0) stage_row(q, q0, o, c++, 1, s1, s2);
  const __m256d d = _mm256_set1_pd(D_dx2), vdt = _mm256_set1_pd(dt), vb = _mm256_set1_pd(b);
  for (; c + 4 <= end; c += 4) {
    const __m256d qc = _mm256_loadu_pd(q + c);
    __m256d rate = _mm256_setzero_pd();
    const std::ptrdiff_t st[3] = {1, s1, s2};
    for (int k = 0; k < 3; ++k) {
      const __m256d lo = _mm256_mul_pd(d, _mm256_sub_pd(_mm256_loadu_pd(q + c - st[k]), qc));
      const __m256d hi = _mm256_mul_pd(d, _mm256_sub_pd(qc, _mm256_loadu_pd(q + c + st[k])));
      rate = _mm256_add_pd(rate, _mm256_sub_pd(lo, hi));
    }
    const __m256d x = _mm256_add_pd(qc, _mm256_mul_pd(vdt, rate));
    const __m256d base = _mm256_loadu_pd(q0 + c);
    _mm256_stream_pd(o + c, _mm256_add_pd(base, _mm256_mul_pd(vb, _mm256_sub_pd(x, base))));
  }
  if (c < end) stage_row(q, q0, o, c, int(end - c), s1, s2);
}

double now() { return omp_get_wtime(); }

template <class Pass>
void time_it(const char* name, const Arrays& A, int repeats, double cells, Pass&& pass) {
  std::vector<double> t;
  for (int r = 0; r < repeats + 2; ++r) {
    const double t0 = now();
    pass();
    if (r >= 2) t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  const double tmin = t.front(), tmed = t[t.size() / 2];
  std::printf("%-13s n=%d threads=%d  min %.4f s  median %.4f s  %.3e cells/s  %.1f GB/s (24 B/cell, best)\n", name,
              A.n, omp_get_max_threads(), tmin, tmed, cells / tmin, 24.0 * cells / tmin * 1e-9);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 256, repeats = 15, tile = 64, skew = 0;
  bool huge = false, parallel_touch = true;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--n") n = std::atoi(v.c_str());
    else if (a == "--repeats") repeats = std::atoi(v.c_str());
    else if (a == "--huge") huge = v == "1";
    else if (a == "--touch") parallel_touch = v == "parallel";
    else if (a == "--only") only = v;
    else if (a == "--tile") tile = std::atoi(v.c_str());
    else if (a == "--skew") skew = std::atoi(v.c_str());
  }
  Arrays A{};
  A.n = n;
  A.s1 = n + 4;
  A.s2 = A.s1 * A.s1;
  A.offset = 2 + 2 * A.s1 + 2 * A.s2;
  A.size = std::size_t(A.s2) * std::size_t(n + 4);
  // --skew K shifts base and out by K and 2K cache lines against in (4 KiB aliasing test; 0 = all
  // three arrays at the same address modulo 4 KiB, as std::vector's large mmap'd blocks are).
  A.q = allocate(A.size + 1024, huge);
  A.q0 = allocate(A.size + 1024, huge) + 8 * skew;
  A.o = allocate(A.size + 1024, huge) + 16 * skew;
  const auto N = static_cast<std::ptrdiff_t>(A.size);
  // First touch: by the thread that later streams the page (parallel), or all by thread 0 (serial,
  // what std::vector's value-initialisation does).
#pragma omp parallel for schedule(static) if (parallel_touch)
  for (std::ptrdiff_t i = 0; i < N; ++i) {
    A.q[i] = 1.0 + 1e-3 * double(i % 97);
    A.q0[i] = 1.0;
    A.o[i] = 0.0;
  }
  std::printf("# tile %d, padded %zu doubles per array (%.0f MiB), huge pages %s, first touch %s, load %s", tile, A.size,
              A.size * 8.0 / (1 << 20), huge ? "madvise" : "off", parallel_touch ? "parallel" : "serial", "");
  std::fflush(stdout);
  if (std::system("cat /proc/loadavg") != 0) std::printf("\n");
  std::fflush(stdout);
  const double cells = double(n) * n * n;
  auto want = [&](const char* v) { return only.empty() || ("," + only + ",").find("," + std::string(v) + ",") != std::string::npos; };
  double* q = A.q;
  double* q0 = A.q0;
  double* o = A.o;
  if (want("triad"))
    time_it("triad", A, repeats, double(N), [&] {
#pragma omp parallel for schedule(static)
      for (std::ptrdiff_t i = 0; i < N; ++i) o[i] = q0[i] + 3.0 * q[i];
    });
  if (want("update"))
    time_it("update", A, repeats, cells, [&] {
      for_rows(A, [&](std::ptrdiff_t c0) {
#pragma omp simd
        for (std::ptrdiff_t c = c0; c < c0 + n; ++c) o[c] = q0[c] + b * (q[c] - q0[c]);
      });
    });
  if (want("update-ip"))  // the same written over `in`: no write-allocate read of a third array
    time_it("update-ip", A, repeats, cells, [&] {
      for_rows(A, [&](std::ptrdiff_t c0) {
#pragma omp simd
        for (std::ptrdiff_t c = c0; c < c0 + n; ++c) q[c] = q0[c] + b * (q[c] - q0[c]);
      });
    });
  if (want("stencil"))
    time_it("stencil", A, repeats, cells, [&] { for_rows(A, [&](std::ptrdiff_t c0) { stage_row(q, q0, o, c0, n, A.s1, A.s2); }); });
  if (want("stencil-nt"))
    time_it("stencil-nt", A, repeats, cells, [&] {
      for_rows(A, [&](std::ptrdiff_t c0) { stage_row_nt(q, q0, o, c0, n, A.s1, A.s2); });
      _mm_sfence();
    });
  if (want("stencil-pf"))
    time_it("stencil-pf", A, repeats, cells, [&] {
      for_rows(A, [&](std::ptrdiff_t c0) {
        // One prefetch per cache line of the z+1 row and of base, one row ahead.
        for (int i = 0; i < n; i += 8) {
          __builtin_prefetch(q + c0 + A.s1 + A.s2 + i, 0, 1);
          __builtin_prefetch(q0 + c0 + A.s1 + i, 0, 0);
        }
        stage_row(q, q0, o, c0, n, A.s1, A.s2);
      });
    });
  if (want("stencil-tile"))
    time_it("stencil-tile", A, repeats, cells, [&] {
      // z-slabs per thread (as the static row schedule gives), y-tiles of `tile` rows inside a slab:
      // the three z-planes of a tile (3 × tile × 2 KiB of q) stay in L2 while the tile sweeps z.
#pragma omp parallel
      {
        const int T = omp_get_num_threads(), id = omp_get_thread_num();
        const int k0 = n * id / T, k1 = n * (id + 1) / T;
        for (int j0 = 0; j0 < n; j0 += tile)
          for (int k = k0; k < k1; ++k)
            for (int j = j0; j < std::min(n, j0 + tile); ++j)
              stage_row(q, q0, o, A.offset + j * A.s1 + k * A.s2, n, A.s1, A.s2);
      }
    });
  return o[A.offset + 5] > 1e300 ? 1 : 0;
}
