#include "cli/divergence_setup.hpp"

#include "cli/problem_setup.hpp"
#include "grids/chunk_sums.hpp"
#include "io/expression.hpp"
#include "io/initial_file.hpp"
#include "io/snapshot_writer.hpp"  // array_box
#include "io/parameter_flags.hpp"
#include "solver/energy/target.hpp"

namespace wgflow {

template <int Dim>
double initial_mass_of(const RunConfig& c, const UniformGrid<Dim>& grid) {
  const Field<Dim> q = make_initial_density(initial_of(c, grid), grid, internal_energy_of(c));
  return sum_cells(q, grid) * grid.cell_volume();  // exact over fixed chunks: the same bits on any P
}

template <int Dim>
std::shared_ptr<const FDivergence<Dim>> divergence_of(const RunConfig& c, const UniformGrid<Dim>& grid) {
  TargetSpec target;
  if (is_builtin_target(c.target)) {
    target = parse_target_text(c.target);
  } else if (c.target.rfind("file:", 0) == 0) {
    std::vector<long> shape_zyx;
    for (int k = Dim - 1; k >= 0; --k) shape_zyx.push_back(grid.global_shape(k));  // each rank reads its box
    target.kind = TargetSpec::Kind::values;
    try {
      target.values = read_initial_density(c.target.substr(5), shape_zyx, "--target", array_box(grid), grid.ranks);
    } catch (const std::exception& e) {
      throw ConfigError(user_message(e));  // "--target file:PATH: ..."
    }
  } else {
    auto formula = std::make_shared<Expression>(c.target, "target");
    target.kind = TargetSpec::Kind::function;
    target.function = [formula](const double* x) { return (*formula)(x, Dim); };
  }
  return std::make_shared<const FDivergence<Dim>>(grid, parse_divergence(c.divergence),
                                                  sample_target(target, grid, c.target_mass), c.target_epsilon);
}

#define WGFLOW_INSTANTIATE(D)                                                        \
  template double initial_mass_of<D>(const RunConfig&, const UniformGrid<D>&);       \
  template std::shared_ptr<const FDivergence<D>> divergence_of<D>(const RunConfig&, \
                                                                  const UniformGrid<D>&);
WGFLOW_INSTANTIATE(1)
WGFLOW_INSTANTIATE(2)
WGFLOW_INSTANTIATE(3)
#undef WGFLOW_INSTANTIATE

}  // namespace wgflow
