#pragma once
#include "solver/layer_guard.hpp"
/// Krylov solves preconditioned by hypre's structured-grid multigrid PFMG (docs/linear_solvers.md), for
/// the (2·Dim + 1)-point systems of implicit Euler. Each rank gives hypre its own box of the grid (in
/// global indices, on the communicator of the grid's ranks): one hypre grid, one code path for 1 and P
/// ranks; couplings across rank borders and periodic wraps are hypre's (HYPRE_StructGridSetPeriodic).
#include <array>
#include <memory>
#include <vector>

#include "solver/steppers/implicit_unknowns.hpp"

namespace wgflow {

template <int Dim>
class StructMultigrid {
 public:
  /// cg: symmetric positive definite matrices; bicgstab, gmres: any (M-matrix) system.
  enum class Method { cg, bicgstab, gmres };
  /// One V-cycle per Krylov iteration of pfmg (point smoothing, semicoarsening by the strongest
  /// coupling) or smg (line/plane smoothing, semicoarsening along the last axis: costlier, more robust).
  enum class Cycle { pfmg, smg };
  struct Result {
    bool converged = false;
    int iterations = 0;
    double relative_residual = 0.0;  ///< ‖b − Ax‖₂/‖b‖₂ of the loaded (scaled) system
  };

  /// Whether hypre can take these unknowns: periodic axes need ≥ 3 cells (with 2 the low and high
  /// neighbour are one cell, which the fixed pattern stores as one merged entry).
  static bool supports(const UniformGrid<Dim>& grid);

  /// Throws std::runtime_error if this build has no hypre or MPI is not initialised (MpiSession).
  StructMultigrid(const UniformGrid<Dim>& grid, const implicit_detail::Unknowns<Dim>& unknowns);
  ~StructMultigrid();
  StructMultigrid(const StructMultigrid&) = delete;
  StructMultigrid& operator=(const StructMultigrid&) = delete;

  /// Loads the matrix from its stencil values, (2·Dim + 1) per unknown of this rank's box in the
  /// unknowns' order (x fastest): entry 0 the cell, 1 + 2k its low, 2 + 2k its high neighbour along
  /// axis k (which may lie on another rank or across a periodic wrap; 0 at a wall).
  /// The next solve sets up the multigrid hierarchy.
  void set_stencil(const double* values, Method method, Cycle cycle = Cycle::pfmg);

  /// Keeps the loaded matrix, switches the solver (the next solve sets it up).
  void use(Method method, Cycle cycle);

  /// Solves B x = b to ‖b − Bx‖₂ ≤ tolerance·‖b‖₂ in at most max_iterations iterations; x holds the
  /// initial guess if use_guess, else starts from 0.
  Result solve(const implicit_detail::Vec& b, implicit_detail::Vec& x, bool use_guess, double tolerance,
               int max_iterations);

 private:
  struct Hypre;
  const implicit_detail::Unknowns<Dim>& unk_;
  std::unique_ptr<Hypre> h_;
  std::vector<double> values_;  ///< hypre's (2·HD + 1) entries per unknown (1D: HD = 2), box order
};

}  // namespace wgflow
