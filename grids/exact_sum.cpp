#include "grids/exact_sum.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace wgflow {

namespace {

constexpr std::int64_t digit_mask = (std::int64_t{1} << ExactSum::digit_bits) - 1;

/// Carry propagation over limbs 0 … n−2 into limb n−1 (arithmetic shifts: floor division by 2^32).
void propagate(std::int64_t* limb, int n) {
  std::int64_t carry = 0;
  for (int i = 0; i + 1 < n; ++i) {
    const std::int64_t v = limb[i] + carry;
    carry = v >> ExactSum::digit_bits;
    limb[i] = v & digit_mask;
  }
  limb[n - 1] += carry;
}

/// Bit k of the non-negative normalised integer held in limbs (the top limb may be wider than 32 bits).
int bit(const std::int64_t* limb, int n, int k) {
  const int i = std::min(k / ExactSum::digit_bits, n - 1);
  const int offset = k - i * ExactSum::digit_bits;
  return offset > 62 ? 0 : static_cast<int>((limb[i] >> offset) & 1);
}

}  // namespace

void ExactSum::add(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const auto biased_exponent = static_cast<int>((bits >> 52) & 0x7ff);
  std::uint64_t significand = bits & ((std::uint64_t{1} << 52) - 1);
  const bool negative = (bits >> 63) != 0;
  if (biased_exponent == 0x7ff) {
    ++m_words[significand != 0 ? nan_word : negative ? neg_inf_word : pos_inf_word];
    return;
  }
  // x = significand · 2^(position − 1074): subnormals have position 0, normals the implicit bit.
  int position = 0;
  if (biased_exponent != 0) {
    significand |= std::uint64_t{1} << 52;
    position = biased_exponent - 1;
  }
  if (significand == 0) return;  // ±0
  if (m_words[pending_word] >= max_pending) normalise();
  ++m_words[pending_word];
  const int i = position / digit_bits;
  // significand · 2^shift < 2^85 as high·2^64 + low, cut into three digits.
  const int shift = position % digit_bits;
  const std::uint64_t low = significand << shift;
  const std::uint64_t high = shift == 0 ? 0 : significand >> (64 - shift);
  const auto d0 = static_cast<std::int64_t>(low & 0xffffffffULL);
  const auto d1 = static_cast<std::int64_t>(low >> 32);
  const auto d2 = static_cast<std::int64_t>(high);
  if (negative) {
    m_words[i] -= d0;
    m_words[i + 1] -= d1;
    m_words[i + 2] -= d2;
  } else {
    m_words[i] += d0;
    m_words[i + 1] += d1;
    m_words[i + 2] += d2;
  }
}

void ExactSum::add(const ExactSum& other) {
  if (m_words[pending_word] + other.m_words[pending_word] > 2 * max_pending) {
    ExactSum b = other;
    b.normalise();
    normalise();
    for (int w = 0; w < num_words; ++w) m_words[w] += b.m_words[w];
    return;
  }
  for (int w = 0; w < num_words; ++w) m_words[w] += other.m_words[w];
}

void ExactSum::normalise() {
  propagate(m_words.data(), num_limbs);
  m_words[pending_word] = 1;  // every limb is now below 2^32: as if after one addition
}

double ExactSum::value() const {
  if (m_words[nan_word] > 0 || (m_words[pos_inf_word] > 0 && m_words[neg_inf_word] > 0))
    return std::numeric_limits<double>::quiet_NaN();
  if (m_words[pos_inf_word] > 0) return std::numeric_limits<double>::infinity();
  if (m_words[neg_inf_word] > 0) return -std::numeric_limits<double>::infinity();

  std::array<std::int64_t, num_limbs> limb;
  std::memcpy(limb.data(), m_words.data(), sizeof limb);
  propagate(limb.data(), num_limbs);
  const bool negative = limb[num_limbs - 1] < 0;
  if (negative) {  // magnitude: negate every limb and propagate again (the top limb becomes ≥ 0)
    for (std::int64_t& d : limb) d = -d;
    propagate(limb.data(), num_limbs);
  }
  int top = num_limbs - 1;
  while (top >= 0 && limb[top] == 0) --top;
  if (top < 0) return 0.0;
  // Bit length of the magnitude N; the value is N · 2^-1074.
  const int length = top * digit_bits + (64 - __builtin_clzll(static_cast<std::uint64_t>(limb[top])));
  double magnitude;
  if (length <= 53) {  // N < 2^53: exact (a subnormal or the smallest normals)
    const auto n = static_cast<std::uint64_t>(limb[0]) | (static_cast<std::uint64_t>(limb[1]) << digit_bits);
    magnitude = std::ldexp(static_cast<double>(n), -1074);
  } else {
    // The top 53 bits, then round to nearest, ties to even, on the guard bit and the bits below it.
    int shift = length - 53;
    std::uint64_t m = 0;
    for (int k = length - 1; k >= shift; --k) m = (m << 1) | static_cast<std::uint64_t>(bit(limb.data(), num_limbs, k));
    const int guard = bit(limb.data(), num_limbs, shift - 1);
    bool sticky = false;
    for (int k = 0; k < shift - 1 && !sticky; ++k) {
      if (k % digit_bits == 0 && k + digit_bits <= shift - 1 && limb[k / digit_bits] == 0) {
        k += digit_bits - 1;  // a whole zero digit
        continue;
      }
      sticky = bit(limb.data(), num_limbs, k) != 0;
    }
    if (guard != 0 && (sticky || (m & 1) != 0)) ++m;
    if (m == (std::uint64_t{1} << 53)) {
      m >>= 1;
      ++shift;
    }
    magnitude = std::ldexp(static_cast<double>(m), shift - 1074);  // overflows to +Inf beyond DBL_MAX
  }
  return negative ? -magnitude : magnitude;
}

}  // namespace wgflow
