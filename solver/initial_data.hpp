#pragma once
#include "solver/layer_guard.hpp"
/// Initial densities: cell averages of a Gaussian, a Barenblatt profile or a constant, or values
/// given by the caller (read from a file). Rescaled to a requested mass where one is set.
#include <array>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "solver/energy/internal_energy.hpp"

namespace wgflow {

struct InitialSpec {
  enum class Kind { gaussian, barenblatt, uniform, values };
  Kind kind = Kind::gaussian;
  std::array<double, 3> centre{};  ///< gaussian and barenblatt centre (x, y, z)
  double width = 0.5;              ///< gaussian standard deviation
  double mass = 1.0;               ///< target mass Δx^d Σ q; ≤ 0 keeps the values' own mass
  std::vector<double> values;      ///< kind values: interior values in dataset order (x fastest)
};

/// The mass-M Barenblatt profile of q_t = D Δq^m at time 1 (D rescales time: B(x, D t)).
inline constexpr double barenblatt_initial_time = 1.0;

/// Builds the initial density; throws std::invalid_argument (naming --initial) for unusable data.
template <int Dim>
Field<Dim> make_initial_density(const InitialSpec& spec, const UniformGrid<Dim>& grid,
                                const InternalEnergySpec& internal);

}  // namespace wgflow
