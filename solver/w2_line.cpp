#include "solver/w2_line.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "grids/reduction_chunks.hpp"

namespace wgflow {

bool cdf_levels(const double* v, int first, int count, int n, const Communicator& ranks, std::vector<double>& level) {
  const int chunk = reduction_chunk_cells(n, 1);
  if (first % chunk != 0 || (first + count != n && count % chunk != 0))
    throw std::logic_error("cdf_levels: a rank's share of the line is not whole reduction chunks");
  level.resize(static_cast<std::size_t>(count) + 1);
  // Chunk partials, each summed left to right (as every chunk sum), then this rank's exact total.
  ExactSum mine;
  for (int c0 = 0; c0 < count; c0 += chunk) {
    double s = 0.0;
    for (int i = c0; i < std::min(count, c0 + chunk); ++i) s += v[i];
    mine.add(s);
  }
  mine.normalise();
  ExactSum below = mine, total = mine;
  ranks.exclusive_sum(below.words(), ExactSum::num_words);
  ranks.sum(total.words(), ExactSum::num_words);
  const double mass = total.value();
  if (!(mass > 0.0) || !std::isfinite(mass)) return false;
  // Unnormalised levels: each chunk starts at its rounded exact prefix; inside, that plus the
  // chunk's running sum, never above the next chunk's start (rounding could put it one ulp over).
  double start = below.value();
  for (int c0 = 0; c0 < count; c0 += chunk) {
    const int c1 = std::min(count, c0 + chunk);
    double s = 0.0;
    for (int i = c0; i < c1; ++i) s += v[i];
    below.add(s);
    const double next = below.value();
    level[static_cast<std::size_t>(c0)] = start;
    double running = 0.0;
    for (int i = c0; i + 1 < c1; ++i) {
      running += v[i];
      level[static_cast<std::size_t>(i) + 1] = std::min(start + running, next);
    }
    start = next;
  }
  level[static_cast<std::size_t>(count)] = start;
  for (double& l : level) l /= mass;
  return true;
}

namespace {

/// The quantile of cell i (global index) at level s ∈ [l0, l1], its levels: the density is constant in
/// the cell, so the CDF is linear there: x = lower + Δx (i + (s − l0)/(l1 − l0)).
double quantile_in_cell(double l0, double l1, int i, double s, double lower, double dx) {
  const double t = std::clamp((s - l0) / (l1 - l0), 0.0, 1.0);
  return lower + dx * (i + t);
}

}  // namespace

void add_w2_pieces(const std::vector<double>& level_q, int first, int count, const std::vector<double>& level_p,
                   int n, double lower, double dx, ExactSum& acc) {
  if (count == 0) return;
  const auto lq = [&](int i) { return level_q[static_cast<std::size_t>(i - first)]; };  // at global boundary i
  const double* lp = level_p.data();
  // The walk over the merged breakpoints is at s = this rank's first level with q-cell `first` and
  // the first p-cell whose upper level exceeds s: exactly where a walk over the whole line would be.
  double s = lq(first);
  int i = first;
  int j = static_cast<int>(std::upper_bound(lp + 1, lp + n + 1, s) - (lp + 1));
  const int end = first + count;
  // Both quantile functions are linear between consecutive breakpoints of the merged levels, so
  // ∫ (Q_q − Q_p)² over [s0, s1] = (s1 − s0)(a² + a b + b²)/3 with a, b the differences at the ends.
  while (i < end && j < n) {
    if (lq(i + 1) <= s) {  // cell i is used up (or holds no mass)
      ++i;
      continue;
    }
    if (lp[j + 1] <= s) {
      ++j;
      continue;
    }
    const double s1 = std::min(lq(i + 1), lp[j + 1]);
    const double q0 = lq(i), q1 = lq(i + 1), p0 = lp[j], p1 = lp[j + 1];
    const double a = quantile_in_cell(q0, q1, i, s, lower, dx) - quantile_in_cell(p0, p1, j, s, lower, dx);
    const double b = quantile_in_cell(q0, q1, i, s1, lower, dx) - quantile_in_cell(p0, p1, j, s1, lower, dx);
    acc.add((s1 - s) * (a * a + a * b + b * b) / 3.0);
    s = s1;
  }
}

double w2_distance_1d(const double* q, const double* p, int n, double lower, double dx, std::vector<double>& cdf_q,
                      std::vector<double>& cdf_p) {
  const Communicator one;
  if (!cdf_levels(q, 0, n, n, one, cdf_q) || !cdf_levels(p, 0, n, n, one, cdf_p))
    return std::numeric_limits<double>::quiet_NaN();
  ExactSum w2sq;
  add_w2_pieces(cdf_q, 0, n, cdf_p, n, lower, dx, w2sq);
  return std::sqrt(w2sq.value());
}

}  // namespace wgflow
