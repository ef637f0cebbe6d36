#pragma once
#include "solver/layer_guard.hpp"
/// Numbers inside option texts (kernel parameters, divergence and target specifications, lists).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace wgflow {

/// The whole of `text` as a finite double, or nothing: std::stod alone accepts a prefix ("2x" → 2) and
/// "inf"/"nan", and throws on text that starts with no number.
inline std::optional<double> parse_finite(const std::string& text) {
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

/// `v` with the fewest significant digits (at least 6) that read back as exactly `v`: messages echo the
/// user's value, so --m 10.0000001 must not print as 10.
inline std::string format_exact(double v) {
  char text[32];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    if (!std::isfinite(v) || std::strtod(text, nullptr) == v) break;
  }
  return text;
}

}  // namespace wgflow
