#pragma once
#include "solver/layer_guard.hpp"
/// The entropy density D q log q of eight cells in AVX-512 registers, bitwise what EntropyU (the
/// diagnostics row's det_log path, solver/diagnostics_kernel.cpp) gives in every build: the same
/// IEEE operations on the same operands after the exponent split, which is exact either way. The split
/// x = 2^k m, m ∈ [√½, √2) takes getexp/getmant (subnormals included) and one compare instead of
/// det_log's integer bit arithmetic and subnormal scaling, and the q ≤ 0 selection is a mask:
/// ~38 instead of ~50 vector operations per 8 cells, 0.83 against 1.08 ns/value (docs/benchmarks.md
/// "Whole runs against the kernel step"). Only for the AVX-512 build; callers dispatch with simd_level().
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "solver/energy/det_log.hpp"

namespace wgflow {

[[gnu::target("avx512f")]] inline __m512d splat8(double c) { return _mm512_set1_pd(c); }

/// D q det_log(q) where q > 0 or q = +NaN (sign bit clear, not +0), +0.0 elsewhere: EntropyU's
/// selection, lane by lane.
[[gnu::target("avx512f,avx512dq,avx512vl")]] inline __m512d entropy_density_avx512(__m512d q, __m512d D) {
  const __m512d one = _mm512_set1_pd(1.0);
  const __mmask8 keep = _mm512_cmpgt_epi64_mask(_mm512_castpd_si512(q), _mm512_setzero_si512());
  const __m512d arg = _mm512_mask_blend_pd(keep, one, q);  // log 1 stands in for q ≤ 0
  // det_log's split: m ∈ [√½, √2), i.e. m = mantissa in [1, 2) halved from √2 (the bits of 2·√½) on.
  // (The masked forms with every lane set: GCC 12 warns of _mm512_undefined_pd in the unmasked ones.)
  const __mmask8 all = 0xff;
  const __m512d m1 = _mm512_mask_getmant_pd(arg, all, arg, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
  const __m512d e = _mm512_mask_getexp_pd(arg, all, arg);
  const __mmask8 up = _mm512_cmp_pd_mask(m1, _mm512_set1_pd(0x1.6a09e667f3bcdp0), _CMP_GE_OQ);
  const __m512d m = _mm512_mask_mul_pd(m1, up, m1, _mm512_set1_pd(0.5));
  const __m512d k = _mm512_mask_add_pd(e, up, e, one);  // +∞ for q = +∞: D q log q = +∞, as det_log's split gives
  // det_log from here on (fdlibm e_log.c), operation for operation.
  using namespace det_log_constants;
  const __m512d f = _mm512_sub_pd(m, one);
  const __m512d s = _mm512_div_pd(f, _mm512_add_pd(splat8(2.0), f));
  const __m512d z = _mm512_mul_pd(s, s);
  const __m512d w = _mm512_mul_pd(z, z);
  const __m512d t1 = _mm512_mul_pd(
      w, _mm512_add_pd(splat8(Lg2),
                       _mm512_mul_pd(w, _mm512_add_pd(splat8(Lg4), _mm512_mul_pd(w, splat8(Lg6))))));
  const __m512d t2 = _mm512_mul_pd(
      z, _mm512_add_pd(splat8(Lg1),
                       _mm512_mul_pd(w, _mm512_add_pd(splat8(Lg3),
                                                      _mm512_mul_pd(w, _mm512_add_pd(splat8(Lg5),
                                                                                     _mm512_mul_pd(w, splat8(Lg7))))))));
  const __m512d R = _mm512_add_pd(t2, t1);
  const __m512d hfsq = _mm512_mul_pd(_mm512_mul_pd(splat8(0.5), f), f);
  const __m512d inner = _mm512_add_pd(_mm512_mul_pd(s, _mm512_add_pd(hfsq, R)), _mm512_mul_pd(k, splat8(ln2_lo)));
  const __m512d log_arg =
      _mm512_sub_pd(_mm512_mul_pd(k, splat8(ln2_hi)), _mm512_sub_pd(_mm512_sub_pd(hfsq, inner), f));
  return _mm512_maskz_mul_pd(keep, _mm512_mul_pd(D, q), log_arg);  // (D q) log q, +0.0 where not kept
}

/// u[i] = D q[i] log q[i] (as above) for i < n; the last n mod 8 cells through masked loads and stores.
[[gnu::target("avx512f,avx512dq,avx512vl")]] inline void entropy_densities_avx512(const double* q, double D, int n,
                                                                                 double* u) {
  const __m512d Dv = _mm512_set1_pd(D);
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm512_storeu_pd(u + i, entropy_density_avx512(_mm512_loadu_pd(q + i), Dv));
  if (i < n) {
    const __mmask8 tail = static_cast<__mmask8>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_pd(u + i, tail, entropy_density_avx512(_mm512_maskz_loadu_pd(tail, q + i), Dv));
  }
}

}  // namespace wgflow
#endif
