#pragma once
/// An exact accumulator for doubles: the sum of any multiset of doubles, correctly rounded once at
/// the end, so the result depends on the values added and never on their order or on how they were
/// split between accumulators (threads, MPI ranks). This is what makes mass and energy independent
/// of the decomposition (issue 12); see grids/reduction_chunks.hpp for the chunks it sums.
///
/// Representation: a fixed-point integer with its least significant bit at 2^-1074 (the smallest
/// subnormal), held in 32-bit digits stored in int64 "limbs". Adding a double puts its 53-bit
/// significand into three consecutive limbs (each gets less than 2^32 in magnitude, signed), and
/// carries are not propagated: a limb holds the carries of 2^30 additions and more before it could
/// overflow, so normalise() (the carry propagation) runs only every 2^30 additions. Non-finite inputs
/// are counted (NaN, +Inf, −Inf) rather than added.
///
/// Everything is in words(): int64 values that combine by elementwise addition. That is exactly what
/// MPI_Allreduce(MPI_INT64_T, MPI_SUM) does, so a cross-rank sum is one allreduce of words() after
/// normalise() (which keeps every limb below 2^32, leaving room for 2^31 ranks).
#include <array>
#include <cstddef>
#include <cstdint>

namespace wgflow {

class ExactSum {
 public:
  static constexpr int digit_bits = 32;
  /// Limbs 0 … 65 receive significands (bits up to 2^1024); the top limb gathers carries and the sign.
  static constexpr int num_limbs = 67;
  /// Additions between carry propagations: each adds < 2^32 to a limb, so with pending ≤ 2^31 no limb
  /// leaves int64 (2^31 · 2^32 = 2^63); two accumulators at this bound still combine safely.
  static constexpr std::int64_t max_pending = std::int64_t{1} << 30;
  /// words(): the limbs, then the pending count, then the NaN, +Inf and −Inf counts.
  static constexpr int num_words = num_limbs + 4;

  /// Adds x exactly (NaN and ±Inf are counted instead).
  void add(double x);
  /// Adds another accumulator: elementwise addition of the words, i.e. what an MPI sum-allreduce does.
  void add(const ExactSum& other);
  /// Adds the n doubles at p.
  void add(const double* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) add(p[i]);
  }

  /// The exact sum rounded to the nearest double (ties to even): ±Inf if it exceeds the double range;
  /// NaN if a NaN was added or both +Inf and −Inf; ±Inf if only infinities of one sign. An exact zero
  /// is +0.0.
  double value() const;

  /// Propagates carries so every limb but the top one lies in [0, 2^32); the value is unchanged.
  void normalise();

  /// The state as int64 words that combine by elementwise addition (for a cross-rank allreduce).
  std::int64_t* words() { return m_words.data(); }
  const std::int64_t* words() const { return m_words.data(); }

 private:
  static constexpr int pending_word = num_limbs;
  static constexpr int nan_word = num_limbs + 1;
  static constexpr int pos_inf_word = num_limbs + 2;
  static constexpr int neg_inf_word = num_limbs + 3;
  std::array<std::int64_t, num_words> m_words{};
};

}  // namespace wgflow
