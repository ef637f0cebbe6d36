#pragma once
/// Numbers inside option texts (kernel parameters, divergence and target specifications, lists).
#include <cmath>
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

}  // namespace wgflow
