#include "cli/problem_setup.hpp"

#include "io/expression.hpp"
#include "io/initial_file.hpp"
#include "io/snapshot_writer.hpp"  // array_box

#include <cmath>
#include <memory>
#include <stdexcept>

#include "grids/cell_loop.hpp"
#include "grids/decomposition.hpp"
#include "grids/halo_exchange.hpp"
#include "io/interaction_config.hpp"

namespace wgflow {

namespace {

/// Expands "one value or one per axis" into a value per axis.
double per_axis(const std::vector<double>& values, int axis, double fallback) {
  if (values.empty()) return fallback;
  return values.size() == 1 ? values.front() : values[static_cast<std::size_t>(axis)];
}

/// A wgflow output records its box; a density from another box would change its mass and meaning.
template <int Dim>
void check_same_box(const std::string& path, const UniformGrid<Dim>& grid) {
  OutputSummary file;
  try {
    file = read_output_summary(path);
  } catch (const std::exception&) {
    return;  // a plain /density file: only its shape is known
  }
  for (int k = 0; k < Dim; ++k) {
    const auto zyx = static_cast<std::size_t>(Dim - 1 - k);
    const double tol = 1e-12 * (grid.upper[k] - grid.lower[k]);
    if (std::abs(file.lower_zyx[zyx] - grid.lower[k]) > tol || std::abs(file.upper_zyx[zyx] - grid.upper[k]) > tol)
      throw std::runtime_error("--initial file:" + path + ": the file's grid spans [" + std::to_string(file.lower_zyx[zyx]) +
                               ", " + std::to_string(file.upper_zyx[zyx]) + "] on axis " + std::to_string(k) +
                               ", this run's --domain is [" + std::to_string(grid.lower[k]) + ", " +
                               std::to_string(grid.upper[k]) + "]");
  }
}

/// A formula's values at the cell centres of this rank's box, in dataset order; refuses negative or
/// non-finite values (the first such cell of the lowest rank that has one, on every rank alike).
template <int Dim>
std::vector<double> formula_values(const Expression& formula, const UniformGrid<Dim>& grid) {
  std::vector<double> values;
  values.reserve(grid.num_cells());
  std::string problem;
  for_each_cell(grid, [&](std::ptrdiff_t, const std::array<int, Dim>&, const std::array<double, Dim>& x) {
    if (!problem.empty()) return;
    const double q = formula(x.data(), Dim);
    if (!std::isfinite(q) || q < 0.0) {
      std::string where;
      for (int k = 0; k < Dim; ++k) where += (k ? ", " : "") + std::to_string(x[k]);
      problem = "--initial: the formula gives q = " + std::to_string(q) + " at x = (" + where +
                "); a density must be finite and >= 0";
    }
    values.push_back(q);  // for_each_cell visits x fastest: dataset order
  });
  problem = grid.ranks.first_message(problem);
  if (!problem.empty()) throw ConfigError(problem);
  return values;
}

}  // namespace

InternalEnergySpec internal_energy_of(const RunConfig& c) {
  InternalEnergySpec s;
  s.kind = c.case_name == "porous-medium" ? InternalEnergySpec::Kind::porous_medium : InternalEnergySpec::Kind::entropy;
  if ((c.case_name == "aggregation-diffusion" || c.case_name == "mean-field-network") && c.diffusion == 0.0)
    s.kind = InternalEnergySpec::Kind::none;
  s.D = c.diffusion;
  s.m = c.m;
  return s;
}

template <int Dim>
UniformGrid<Dim> grid_of(const RunConfig& c) {
  UniformGrid<Dim> g = make_cube_grid<Dim>(static_cast<int>(c.n), c.domain[0], c.domain[1], Boundary::no_flux);
  const std::vector<std::string> bc = c.boundary_per_axis();
  for (int k = 0; k < Dim; ++k) {
    g.boundary[k] = parse_boundary(bc[static_cast<std::size_t>(k)]);
    g.lower[k] = c.domain_of(k)[0];
    g.upper[k] = c.domain_of(k)[1];
  }
  return g;
}

std::string not_decomposable(const RunConfig& c) {
  // Implicit Euler runs decomposed through hypre, the SG flux and Newton on the upwind flux (its
  // positivity sweep in rounds of the halo exchange; docs/linear_solvers.md "Several ranks"), with an
  // interaction term through the distributed convolution, with particles handed between ranks
  // mid-flight; the Eigen solvers hold the whole grid in one matrix.
  const bool implicit = c.stepper == "implicit-euler";
  if (implicit && c.linear_solver == "eigen")
    return "--linear-solver eigen is not available on more than one rank (its matrix holds the whole grid); "
           "run it on one rank, or use --linear-solver multigrid";
  return "";
}

namespace {
template <int Dim>
std::string split_problem(const RunConfig& c, int ranks) {
  try {
    split_ranks(grid_of<Dim>(c), ranks);
  } catch (const DecompositionError& e) {
    return std::string("mpirun: ") + e.what() + "; use fewer ranks or a larger --n";
  }
  return "";
}
}  // namespace

std::string decomposition_problem(const RunConfig& c, int ranks) {
  const std::string why = not_decomposable(c);
  if (!why.empty()) return "mpirun: " + std::to_string(ranks) + " ranks: " + why;
  switch (c.dim) {
    case 1: return split_problem<1>(c, ranks);
    case 2: return split_problem<2>(c, ranks);
    default: return split_problem<3>(c, ranks);
  }
}

template <int Dim>
UniformGrid<Dim> rank_grid_of(const RunConfig& c) {
  try {
    return decompose(grid_of<Dim>(c), Communicator::world());
  } catch (const DecompositionError& e) {
    throw ConfigError(std::string("mpirun: ") + e.what() + "; use fewer ranks or a larger --n");
  }
}

template <int Dim>
PotentialSpec potential_of(const RunConfig& c) {
  PotentialSpec p;
  const std::string name = c.resolved_potential();
  if (name != "none" && name != "quadratic" && name != "double-well") {
    auto formula = std::make_shared<Expression>(name, "potential");
    p.kind = PotentialSpec::Kind::function;
    p.function = [formula](const double* x) { return (*formula)(x, Dim); };
    return p;
  }
  p.kind = parse_potential_kind(name);
  p.gamma = c.gamma;
  for (int k = 0; k < Dim; ++k) p.centre[static_cast<std::size_t>(k)] = per_axis(c.potential_center, k, 0.0);
  return p;
}

template <int Dim>
InitialSpec initial_of(const RunConfig& c, const UniformGrid<Dim>& grid) {
  InitialSpec s;
  const std::string init = c.resolved_initial();
  for (int k = 0; k < Dim; ++k)
    s.centre[static_cast<std::size_t>(k)] = per_axis(c.gaussian_center, k, 0.5 * (c.domain_of(k)[0] + c.domain_of(k)[1]));
  s.width = c.gaussian_width > 0.0 ? c.gaussian_width : (c.domain[1] - c.domain[0]) / 20.0;  // of the x axis
  s.mass = c.mass > 0.0 ? c.mass : 1.0;
  if (init == "gaussian") s.kind = InitialSpec::Kind::gaussian;
  if (init == "uniform") s.kind = InitialSpec::Kind::uniform;
  if (init == "barenblatt") {
    s.kind = InitialSpec::Kind::barenblatt;
    s.centre.fill(0.5 * (c.domain[0] + c.domain[1]));
  }
  if (init != "gaussian" && init != "uniform" && init != "barenblatt" && init.rfind("file:", 0) != 0) {
    s.kind = InitialSpec::Kind::values;
    s.values = formula_values(Expression(init, "initial"), grid);
    s.mass = c.mass;  // 0 keeps the formula's own mass
  }
  if (init.rfind("file:", 0) == 0) {
    std::vector<long> shape_zyx;  // the whole grid's; each rank reads its box of it
    for (int k = Dim - 1; k >= 0; --k) shape_zyx.push_back(grid.global_shape(k));
    s.kind = InitialSpec::Kind::values;
    const std::string path = init.substr(5);
    s.values = read_initial_density(path, shape_zyx, "--initial", array_box(grid), grid.ranks);
    check_same_box(path, grid);
    s.mass = c.mass;  // 0 keeps the file's own mass
  }
  if (c.case_name == "mean-field-network" && !(c.mass > 0.0)) s.mass = 1.0;  // ρ is a probability density
  return s;
}

#define WGFLOW_INSTANTIATE(D)                                         \
  template UniformGrid<D> grid_of<D>(const RunConfig&);               \
  template UniformGrid<D> rank_grid_of<D>(const RunConfig&);          \
  template PotentialSpec potential_of<D>(const RunConfig&);           \
  template InitialSpec initial_of<D>(const RunConfig&, const UniformGrid<D>&);
WGFLOW_INSTANTIATE(1)
WGFLOW_INSTANTIATE(2)
WGFLOW_INSTANTIATE(3)
#undef WGFLOW_INSTANTIATE

}  // namespace wgflow
