#include "io/memory_estimate.hpp"

#include <cmath>

#include "io/interaction_config.hpp"
#include "io/network_config.hpp"

namespace wgflow {

namespace {

constexpr double k_mib = 1024.0 * 1024.0;

/// Resident size of `wgflow run` on a tiny grid (heat, 2D, 64²: 17.0 MB peak resident set).
constexpr double k_process_bytes = 16.0 * k_mib;
/// Implicit runs with --linear-solver multigrid also start MPI (OpenMPI's singleton, hypre): the peak
/// of implicit runs rose by 19–31 MiB when they did (the ten runs of the memory test).
constexpr double k_mpi_process_bytes = 28.0 * k_mib;

/// Explicit SSP-RK (any stage count): q, the stage buffers (in place where issue 7 asked for it), ξ, V
/// and the flux coefficients, all with two ghost layers. Measured: 41 (1D), 53 (2D), 44 (3D) bytes per
/// cell; 7 padded arrays model them all within 1.4.
double explicit_bytes(const RunConfig& c) {
  const double padded = std::pow(static_cast<double>(c.n) + 4.0, c.dim);
  return 7.0 * 8.0 * padded;
}

/// Implicit Euler with Eigen, linear case (SG flux): the SG matrix, its Slotboom-symmetrised copy and
/// I − ΔtA in CSR form, the assembly triplets, the preconditioner (incomplete Cholesky in 1D, Jacobi
/// otherwise), the CG/BiCGSTAB vectors and the conservative-update fields. Measured per cell: 440 (1D),
/// 519 (2D), 710 (3D) bytes.
///
/// On top of that the direct fallback (numerics: a step whose update comes out < 0 is solved again by
/// LDLᵀ of the Stieltjes matrix) factors the matrix. In 2D that happens routinely (Gaussian tails
/// underflow to 0) and its factor holds ~2 log₂N entries per row with AMD ordering: the issue-17 run
/// (512², 283 MiB) is that. In 1D the factor has no fill. In 3D the factor would hold ~N^{1/3}·9
/// entries per row (358 at 40³, 4 KB per cell), more than the run itself by far, and no 3D run
/// measured needed it: it is left out, so a 3D run that does fall back can need more than this says.
double implicit_linear_bytes_per_cell(int dim, double cells) {
  if (dim == 1) return 440.0;
  if (dim == 2) return 519.0 + std::max(0.0, 45.0 * std::log2(cells) - 263.0);  // 457 at 256², 547 at 512²
  return 710.0;
}

/// Implicit Euler with Eigen, Newton on the first-order upwind scheme: the Jacobian (CSR), the
/// preconditioner (ILUT in 1D, Jacobi otherwise), the BiCGSTAB vectors, the Newton iterate, trial and
/// residual fields. Measured per cell: 442 (1D), 355 (2D), 426 (3D) bytes.
double implicit_newton_bytes_per_cell(int dim) { return dim == 1 ? 450.0 : dim == 2 ? 360.0 : 430.0; }

double stepper_bytes(const RunConfig& c) {
  if (c.stepper != "implicit-euler") return explicit_bytes(c);
  const double cells = std::pow(static_cast<double>(c.n), c.dim);
  // Another linear solver (e.g. hypre's multigrid) adds its own per-cell model here.
  return cells * (implicit_step_is_linear(c) ? implicit_linear_bytes_per_cell(c.dim, cells)
                                             : implicit_newton_bytes_per_cell(c.dim));
}

}  // namespace

bool implicit_step_is_linear(const RunConfig& c) {
  // As cli/problem_setup.cpp builds the energy: linear diffusion (U = D q log q) takes the SG flux.
  if (c.case_name == "porous-medium") return false;
  if (c.case_name == "aggregation-diffusion" || c.case_name == "mean-field-network") return c.diffusion > 0.0;
  if (c.case_name == "f-divergence") return c.divergence == "kl";
  return true;  // heat, fokker-planck, keller-segel
}

MemoryEstimate estimate_memory(const RunConfig& c) {
  MemoryEstimate m;
  m.process = k_process_bytes +
              (c.stepper == "implicit-euler" && c.linear_solver == "multigrid" ? k_mpi_process_bytes : 0.0);
  m.stepper = stepper_bytes(c);
  m.interaction = interaction_memory_bytes(c) + network_memory_bytes(c);  // FFT buffers; the network's feature matrix
  return m;
}

double estimated_memory_bytes(const RunConfig& c) { return estimate_memory(c).total(); }

}  // namespace wgflow
