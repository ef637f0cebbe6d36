#include "io/run_config.hpp"

#include "grids/communicator.hpp"

#include "io/expression.hpp"
#include "io/interaction_config.hpp"
#include "io/memory_estimate.hpp"
#include "io/network_config.hpp"
#include "io/parameter_flags.hpp"
#include "solver/energy/f_divergence.hpp"
#include "solver/energy/parse_number.hpp"
#include "solver/energy/target.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace wgflow {

namespace {

template <class T>
std::string show(const T& value) {
  std::ostringstream s;
  s << value;
  return s.str();
}

/// Doubles are echoed exactly (--m 10.0000001 is not "10").
std::string show(double value) { return format_exact(value); }

[[noreturn]] void fail(const std::string& option, const std::string& allowed, const std::string& got) {
  throw ConfigError("--" + option + ": " + allowed + " (got " + got + ")");
}

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (v == a) return true;
  return false;
}

double machine_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<double>(pages) * static_cast<double>(page_size) : 0.0;
}

/// "A,B", or "A,B:C,D:..." with one interval per axis.
std::string domain_text(const RunConfig& c) {
  std::ostringstream s;
  s.precision(17);
  if (c.domain_axes.empty()) {
    s << c.domain[0] << "," << c.domain[1];
  } else {
    for (std::size_t k = 0; k < c.domain_axes.size(); ++k) s << (k ? ":" : "") << c.domain_axes[k][0] << "," << c.domain_axes[k][1];
  }
  return s.str();
}

}  // namespace

std::string RunConfig::resolved_potential() const {
  if (potential != "auto") return potential;
  return case_name == "fokker-planck" ? "quadratic" : "none";  // f-divergence: the target sets the drift
}

std::string RunConfig::resolved_initial() const {
  if (initial != "auto") return initial;
  return case_name == "porous-medium" ? "barenblatt" : "gaussian";
}

std::vector<std::string> RunConfig::boundary_per_axis() const {
  if (bc.size() == 1) return std::vector<std::string>(static_cast<std::size_t>(dim), bc.front());
  return bc;
}

void RunConfig::validate() const {
  if (!one_of(case_name, {"heat", "fokker-planck", "porous-medium", "aggregation-diffusion", "keller-segel", "f-divergence",
                          "mean-field-network"}))
    fail("case",
         "must be one of heat, fokker-planck, porous-medium, aggregation-diffusion, keller-segel, f-divergence, "
         "mean-field-network",
         "'" + case_name + "'");
  if (dim < 1 || dim > 3) fail("dim", "must be 1, 2 or 3", show(dim));
  if (n < 2 || n > 1000000) fail("n", "cells per axis must be in [2, 1000000]", show(n));
  // Under mpirun every rank holds its box: a machine needs its ranks' share of the grid-sized parts
  // and one process each. Judged alike on every rank (largest need, smallest machine), so all stop or none.
  const Communicator world = Communicator::world();
  const MemoryEstimate estimate = estimate_memory(*this);
  const int here = world.ranks_on_this_machine();
  const double need = world.max(memory_per_machine(estimate, world.size(), here));
  const double have = world.min(machine_memory_bytes());
  if (have > 0.0 && need > 0.8 * have) {
    std::ostringstream s;
    s.precision(3);
    s << "--n: " << n << "^" << dim << " cells with --stepper " << stepper << " need about " << need / (1 << 30)
      << " GiB, more than 80% of this machine's " << have / (1 << 30) << " GiB";
    if (world.size() > 1) s << " (" << world.size() << " ranks, " << here << " on this machine: use more machines)";
    throw ConfigError(s.str());
  }
  if (!domain_axes.empty() && domain_axes.size() != static_cast<std::size_t>(dim))
    fail("domain", "takes A,B or one A,B per axis separated by ':' (" + show(dim) + " axes)",
         show(domain_axes.size()) + " intervals");
  for (int k = 0; k < dim; ++k) {
    const std::array<double, 2> ab = domain_of(k);
    if (!std::isfinite(ab[0]) || !std::isfinite(ab[1]) || !(ab[0] < ab[1]))
      fail("domain", "must be A,B with finite A < B", show(ab[0]) + "," + show(ab[1]));
    // B − A and the cell width must be finite and resolvable, or the grid (and what is built on it) is not.
    const double cell_width = (ab[1] - ab[0]) / static_cast<double>(n);
    const double largest = std::max(std::abs(ab[0]), std::abs(ab[1]));
    if (!std::isfinite(ab[1] - ab[0]) || largest > 1e150)
      fail("domain", "must be A,B with |A|, |B| <= 1e150 (so that |x|^2 stays finite)", show(ab[0]) + "," + show(ab[1]));
    if (!(cell_width > 1e-12 * largest) || !(cell_width > 1e-150))
      fail("domain", "the cells (width (B-A)/n = " + show(cell_width) + ") are too small to tell apart at coordinates up to " +
                         show(largest), show(ab[0]) + "," + show(ab[1]));
  }
  if (bc.size() != 1 && bc.size() != static_cast<std::size_t>(dim))
    fail("bc", "takes one value or one per axis (" + show(dim) + ")", show(bc.size()) + " values");
  for (const std::string& b : bc)
    if (!one_of(b, {"no-flux", "periodic"})) fail("bc", "must be no-flux or periodic", "'" + b + "'");
  if (case_name == "aggregation-diffusion" || case_name == "mean-field-network") {
    if (!(diffusion >= 0.0) || !std::isfinite(diffusion))
      fail("diffusion", "D must be a finite number >= 0 (0: no diffusion)", show(diffusion));
  } else if (!(diffusion > 0.0) || !std::isfinite(diffusion)) {
    fail("diffusion", "D must be a finite number > 0", show(diffusion));
  }
  if (case_name == "porous-medium" && (!(m > 1.0) || !(m <= 10.0)))
    fail("m", "the porous-medium exponent must be in (1, 10]", show(m));
  if (!one_of(resolved_potential(), {"none", "quadratic", "double-well"})) Expression(potential, "potential");
  if (!(gamma > 0.0) || !std::isfinite(gamma)) fail("gamma", "must be a finite number > 0", show(gamma));
  if (!potential_center.empty() && potential_center.size() != 1 && potential_center.size() != static_cast<std::size_t>(dim))
    fail("potential-center", "takes one value or one per axis", show(potential_center.size()) + " values");
  const std::string init = resolved_initial();
  if (!one_of(init, {"gaussian", "barenblatt", "uniform"}) && init.rfind("file:", 0) != 0) Expression(initial, "initial");
  if (init == "file:") fail("initial", "file: needs a path, as in file:start.h5", "'" + initial + "'");
  if (init == "barenblatt" && case_name != "porous-medium")
    fail("initial", "barenblatt needs --case porous-medium", "'" + initial + "' with --case " + case_name);
  if (mass < 0.0 || !std::isfinite(mass))
    fail("mass", "must be >= 0 (0: 1 for the built-in profiles, the own mass of a file or formula)", show(mass));
  if (!gaussian_center.empty() && gaussian_center.size() != 1 && gaussian_center.size() != static_cast<std::size_t>(dim))
    fail("gaussian-center", "takes one value or one per axis", show(gaussian_center.size()) + " values");
  if (gaussian_width < 0.0 || !std::isfinite(gaussian_width)) fail("gaussian-width", "must be > 0 (0: (B-A)/20)", show(gaussian_width));
  if (!(t_end > 0.0) || !std::isfinite(t_end)) fail("t-end", "must be a finite time > 0", show(t_end));
  if (!one_of(stepper, {"euler", "ssp-rk2", "ssp-rk3", "implicit-euler"}))
    fail("stepper", "must be one of euler, ssp-rk2, ssp-rk3, implicit-euler", "'" + stepper + "'");
  if (!(dt >= 0.0) || !std::isfinite(dt)) fail("dt", "must be a finite time >= 0 (0: adaptive)", show(dt));
  if (dt > 0.0 && stepper != "implicit-euler")
    fail("dt", "a fixed step is for --stepper implicit-euler (explicit steps follow the positivity limit)", show(dt));
  if (dt > 0.0 && t_end / dt > 1e10)
    fail("dt", "reaching --t-end " + show(t_end) + " in steps of this size would take more than 1e10 steps", show(dt));
  if (!one_of(linear_solver, {"multigrid", "eigen"}))
    fail("linear-solver", "must be multigrid or eigen", "'" + linear_solver + "'");
#ifndef WGFLOW_HAVE_HYPRE
  if (linear_solver == "multigrid")
    fail("linear-solver", "multigrid needs a build with hypre (cmake -DWGFLOW_WITH_HYPRE=ON); this build has eigen only",
         "'" + linear_solver + "'");
#endif
  if (order != 1 && order != 2) fail("order", "must be 1 or 2", show(order));
  if (!(cfl > 0.0) || !(cfl <= 1.0)) fail("cfl", "must be in (0, 1]", show(cfl));
  if (snapshots < 1 || snapshots > 100000) fail("snapshots", "must be in [1, 100000]", show(snapshots));
  if (diagnostics_every < 1 || diagnostics_every > 1000000000)
    fail("diagnostics-every", "must be an integer in [1, 1e9]", show(diagnostics_every));
  if (threads < 0 || threads > 4096) fail("threads", "must be in [0, 4096] (0: OpenMP's default)", show(threads));
  if (out.empty()) fail("out", "needs a file name", "''");
  validate_interaction(*this);
  if (case_name == "f-divergence") validate_divergence();
  if (case_name == "mean-field-network") validate_network(*this);
  if (particles == "file:") fail("particles", "file: needs a path, as in file:positions.h5", "'" + particles + "'");
  if (particles.rfind("file:", 0) != 0) particle_count();
  if (particles_seed < 0) fail("particles-seed", "must be an integer >= 0", show(particles_seed));
}

long RunConfig::particle_count() const {
  if (particles.rfind("file:", 0) == 0) return 0;
  constexpr long max_particles = 1000000000;
  const bool digits = !particles.empty() && particles.size() <= 10 &&
                      particles.find_first_not_of("0123456789") == std::string::npos;
  const long n = digits ? std::stol(particles) : -1;
  if (!(n >= 0 && n <= max_particles))
    fail("particles", "must be a count N in [0, 1000000000] or file:PATH.h5", "'" + particles + "'");
  return n;
}

void RunConfig::validate_divergence() const {
  try {
    parse_divergence(divergence);
    if (is_builtin_target(target)) parse_target_text(target);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(user_message(e));
  }
  if (target == "file:") fail("target", "file: needs a path, as in file:target.h5", "'" + target + "'");
  if (!is_builtin_target(target) && target.rfind("file:", 0) != 0) Expression(target, "target");
  if (resolved_kernel(*this) != "none")
    fail("kernel", "does not apply to --case f-divergence (use none)", "'" + kernel + "'");
  if (resolved_potential() != "none")
    fail("potential", "does not apply to --case f-divergence (the target sets the drift)", "'" + potential + "'");
  if (!(target_epsilon > 0.0) || !(target_epsilon <= 0.1))
    fail("target-epsilon", "must be in (0, 0.1] (relative to max p)", show(target_epsilon));
  if (!(target_mass >= 0.0) || !std::isfinite(target_mass))
    fail("target-mass", "must be >= 0 (0: the initial density's mass)", show(target_mass));
}

std::string RunConfig::to_ini() const {
  std::ostringstream s;
  s.precision(17);
  auto list = [](const auto& v) {
    std::ostringstream l;
    l.precision(17);
    for (std::size_t i = 0; i < v.size(); ++i) l << (i ? "," : "") << v[i];
    return l.str();
  };
  s << "case = " << case_name << "\n"
    << "dim = " << dim << "\n"
    << "n = " << n << "\n"
    << "domain = " << domain_text(*this) << "\n"
    << "bc = " << list(bc) << "\n"
    << "diffusion = " << diffusion << "\n";
  if (case_name == "porous-medium") s << "m = " << m << "\n";  // the only case it applies to
  s << "potential = " << resolved_potential() << "\n"
    << "gamma = " << gamma << "\n";
  if (!potential_center.empty()) s << "potential-center = " << list(potential_center) << "\n";
  s << "initial = " << resolved_initial() << "\n";
  if (mass > 0.0) s << "mass = " << mass << "\n";
  if (!gaussian_center.empty()) s << "gaussian-center = " << list(gaussian_center) << "\n";
  if (gaussian_width > 0.0) s << "gaussian-width = " << gaussian_width << "\n";
  s << "t-end = " << t_end << "\n"
    << "stepper = " << stepper << "\n"
    << "dt = " << dt << "\n"
    << "linear-solver = " << linear_solver << "\n"
    << "order = " << order << "\n"
    << "cfl = " << cfl << "\n"
    << "snapshots = " << snapshots << "\n"
    << (diagnostics_every != 1 ? "diagnostics-every = " + std::to_string(diagnostics_every) + "\n" : "")
    << interaction_ini(*this);
  if (case_name == "f-divergence")
    s << "divergence = " << divergence << "\n"
      << "target = " << target << "\n"
      << "target-epsilon = " << target_epsilon << "\n"
      << "target-mass = " << target_mass << "\n";
  s << network_ini(*this);
  if (particles != "0") s << "particles = " << particles << "\n"
                          << "particles-seed = " << particles_seed << "\n";
  return s.str();
}

}  // namespace wgflow
