#include "io/memory_estimate.hpp"

#include <cmath>

#include "io/interaction_config.hpp"
#include "io/network_config.hpp"

namespace wgflow {

namespace {

constexpr double k_mib = 1024.0 * 1024.0;

/// Resident size of `wgflow run` on a tiny grid (heat, 2D, 64²: 17.0 MB peak resident set).
constexpr double k_process_bytes = 16.0 * k_mib;
/// Implicit runs with --linear-solver multigrid also start MPI (OpenMPI's singleton) and hypre, Newton
/// runs too: the intercept of peak against cells of the multigrid runs below (2D: 14.2 MiB, 3D: 16.4 MiB
/// over the process) and the Newton run's rise (2D porous medium at 256²: +14.4 MiB over Eigen).
constexpr double k_mpi_process_bytes = 15.0 * k_mib;

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
/// The LDLᵀ re-solve of a step whose update came out < 0 (its factor ~2 log₂N entries per row in 2D)
/// is gone from ordinary runs: the SG flux limiting repairs them (docs/linear_solvers.md), and LDLᵀ is
/// left only for a repair too large on a grid of at most 65 536 cells, where its factor is small.
double implicit_linear_bytes_per_cell(int dim) {
  if (dim == 1) return 440.0;
  if (dim == 2) return 519.0;
  return 710.0;
}

/// The same linear step with --linear-solver multigrid (hypre PFMG-CG): the run's own matrices and
/// vectors as with Eigen, no LDLᵀ factor (no run of the memory test needed the repair), plus hypre's
/// hierarchy. PFMG coarsens one axis at a time, so level l has 2^-l of the cells and the levels sum to
/// twice the fine grid; its operators are the fine stencil (3/5/7 points) and the Galerkin coarse
/// stencils (3/9/27 points) over a series that sums to the fine size, 8 B per entry, and about six
/// vectors per level: 8·(s_fine + s_coarse) + 2·6·8 = 208 B (2D), 368 B (3D). Measured peaks (1 thread,
/// Fokker–Planck, 64²…512² and 16³…48³) fit own + hierarchy within 4 %: 727 B/cell in 2D (measured
/// slope 744–751) and 1078 in 3D (1113). 1D has its own overheads: 882 B/cell measured at 10⁵ cells.
double implicit_multigrid_bytes_per_cell(int dim) {
  if (dim == 1) return 882.0;
  const double fine = dim == 2 ? 5.0 : 7.0, coarse = dim == 2 ? 9.0 : 27.0;
  const double hierarchy = 8.0 * (fine + coarse) + 2.0 * 6.0 * 8.0;
  return (dim == 2 ? 519.0 : 710.0) + hierarchy;
}

/// Implicit Euler with Eigen, Newton on the first-order upwind scheme: the Jacobian (CSR), the
/// preconditioner (ILUT in 1D, Jacobi otherwise), the BiCGSTAB vectors, the Newton iterate, trial and
/// residual fields. Measured per cell: 442 (1D), 355 (2D), 426 (3D) bytes.
double implicit_newton_bytes_per_cell(int dim) { return dim == 1 ? 450.0 : dim == 2 ? 360.0 : 430.0; }

double stepper_bytes(const RunConfig& c) {
  if (c.stepper != "implicit-euler") return explicit_bytes(c);
  const double cells = std::pow(static_cast<double>(c.n), c.dim);
  if (!implicit_step_is_linear(c)) return cells * implicit_newton_bytes_per_cell(c.dim);  // Eigen either way
  return cells * (c.linear_solver == "multigrid" ? implicit_multigrid_bytes_per_cell(c.dim)
                                                 : implicit_linear_bytes_per_cell(c.dim));
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
