/// hypre Struct interface: grid, (2·Dim + 1)-point stencil, matrix, vectors, PCG/BiCGSTAB + PFMG.
#include "solver/linear/struct_multigrid.hpp"
#include "grids/halo.hpp"

#include <cmath>
#include <stdexcept>

#ifdef WGFLOW_HAVE_HYPRE
#include <mpi.h>

#include <HYPRE_struct_ls.h>
#endif

namespace wgflow {

using implicit_detail::Vec;

template <int Dim>
bool StructMultigrid<Dim>::supports(const UniformGrid<Dim>& grid) {
  const Neighbours<Dim> nb(grid);
  for (int k = 0; k < Dim; ++k)
    if (nb.periodic(k) && grid.global_shape(k) < 3) return false;
  return true;
}

#ifdef WGFLOW_HAVE_HYPRE

/// GMRES restart length (Krylov vectors kept).
constexpr int gmres_restart = 30;

/// hypre's dimension: PFMG has no 1D stencils ("unsupported stencil size 3"), so a 1D grid is a 2D
/// grid one cell wide whose y entries are 0.
template <int Dim>
constexpr int hypre_dim = Dim == 1 ? 2 : Dim;

template <int Dim>
struct StructMultigrid<Dim>::Hypre {
  static constexpr int HD = hypre_dim<Dim>;
  static constexpr int entries = 2 * HD + 1;
  HYPRE_StructGrid grid = nullptr;
  HYPRE_StructStencil stencil = nullptr;
  HYPRE_StructMatrix A = nullptr;
  HYPRE_StructVector b = nullptr, x = nullptr;
  HYPRE_StructSolver solver = nullptr, pfmg = nullptr;
  Method method = Method::cg;
  Cycle cycle = Cycle::pfmg;
  bool ready = false;  ///< solver set up for the loaded matrix
  std::array<HYPRE_Int, HD> lo{}, hi{};
  MPI_Comm comm = MPI_COMM_SELF;  ///< the grid's ranks (one rank: its own)

  void destroy_solver() {
    if (solver != nullptr) {
      if (method == Method::cg)
        HYPRE_StructPCGDestroy(solver);
      else if (method == Method::bicgstab)
        HYPRE_StructBiCGSTABDestroy(solver);
      else
        HYPRE_StructGMRESDestroy(solver);
    }
    if (pfmg != nullptr) {
      if (cycle == Cycle::pfmg)
        HYPRE_StructPFMGDestroy(pfmg);
      else
        HYPRE_StructSMGDestroy(pfmg);
    }
    solver = pfmg = nullptr;
    ready = false;
  }
  ~Hypre() {
    destroy_solver();
    if (x != nullptr) HYPRE_StructVectorDestroy(x);
    if (b != nullptr) HYPRE_StructVectorDestroy(b);
    if (A != nullptr) HYPRE_StructMatrixDestroy(A);
    if (stencil != nullptr) HYPRE_StructStencilDestroy(stencil);
    if (grid != nullptr) HYPRE_StructGridDestroy(grid);
  }
};

template <int Dim>
StructMultigrid<Dim>::StructMultigrid(const UniformGrid<Dim>& grid, const implicit_detail::Unknowns<Dim>& unknowns)
    : unk_(unknowns), h_(std::make_unique<Hypre>()) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised == 0) throw std::runtime_error("multigrid: MPI is not initialised (wgflow::MpiSession in main)");
  if (!supports(grid)) throw std::invalid_argument("multigrid: a periodic axis needs at least 3 cells");
  Hypre& h = *h_;
  constexpr int HD = Hypre::HD;
  // The ranks that share the grid: hypre's collectives (dots, coarse-grid exchanges) run over them.
  if (const void* handle = grid.ranks.mpi_handle(); handle != nullptr) h.comm = *static_cast<const MPI_Comm*>(handle);
  const MPI_Comm comm = h.comm;
  std::array<HYPRE_Int, HD> periodic{};
  const Neighbours<Dim> nb(grid);
  for (int k = 0; k < Dim; ++k) {  // this rank's box in global indices; hypre wraps the global box
    h.lo[k] = grid.offset[k];
    h.hi[k] = grid.offset[k] + grid.shape[k] - 1;
    periodic[k] = nb.periodic(k) ? grid.global_shape(k) : 0;
  }
  HYPRE_StructGridCreate(comm, HD, &h.grid);
  HYPRE_StructGridSetExtents(h.grid, h.lo.data(), h.hi.data());
  HYPRE_StructGridSetPeriodic(h.grid, periodic.data());
  HYPRE_StructGridAssemble(h.grid);
  // Entry 0 the cell, 1 + 2k its low and 2 + 2k its high neighbour along axis k: the unknowns' slots.
  constexpr int entries = Hypre::entries;
  HYPRE_StructStencilCreate(HD, entries, &h.stencil);
  for (int e = 0; e < entries; ++e) {
    std::array<HYPRE_Int, HD> offset{};
    if (e > 0) offset[(e - 1) / 2] = (e % 2 == 1) ? -1 : 1;
    HYPRE_StructStencilSetElement(h.stencil, e, offset.data());
  }
  HYPRE_StructMatrixCreate(comm, h.grid, h.stencil, &h.A);
  HYPRE_StructMatrixInitialize(h.A);
  HYPRE_StructVectorCreate(comm, h.grid, &h.b);
  HYPRE_StructVectorInitialize(h.b);
  HYPRE_StructVectorCreate(comm, h.grid, &h.x);
  HYPRE_StructVectorInitialize(h.x);
  values_.assign(static_cast<std::size_t>(unknowns.n) * entries, 0.0);
}

template <int Dim>
StructMultigrid<Dim>::~StructMultigrid() = default;

template <int Dim>
void StructMultigrid<Dim>::set_stencil(const double* values, Method method, Cycle cycle) {
  constexpr int entries = Hypre::entries;
  constexpr int own = 2 * Dim + 1;
  Hypre& h = *h_;
  const auto n = static_cast<std::size_t>(unk_.n);
  double* v = values_.data();
  // Box order is x fastest, the unknowns' order; 1D: hypre's y entries stay 0.
#pragma omp parallel for schedule(static)
  for (std::size_t u = 0; u < n; ++u)
    for (int e = 0; e < entries; ++e)
      v[u * entries + static_cast<std::size_t>(e)] = e < own ? values[u * own + static_cast<std::size_t>(e)] : 0.0;
  std::array<HYPRE_Int, entries> all{};
  for (int e = 0; e < entries; ++e) all[static_cast<std::size_t>(e)] = e;
  HYPRE_StructMatrixSetBoxValues(h.A, h.lo.data(), h.hi.data(), entries, all.data(), values_.data());
  HYPRE_StructMatrixAssemble(h.A);
  use(method, cycle);
}

template <int Dim>
void StructMultigrid<Dim>::use(Method method, Cycle cycle) {
  Hypre& h = *h_;
  h.destroy_solver();
  h.method = method;
  h.cycle = cycle;
}

template <int Dim>
typename StructMultigrid<Dim>::Result StructMultigrid<Dim>::solve(const Vec& b, Vec& x, bool use_guess, double tolerance,
                                                                  int max_iterations) {
  Hypre& h = *h_;
  const MPI_Comm comm = h.comm;
  HYPRE_StructVectorSetBoxValues(h.b, h.lo.data(), h.hi.data(), const_cast<double*>(b.data()));
  HYPRE_StructVectorAssemble(h.b);
  if (!use_guess || x.size() != b.size()) x = Vec::Zero(b.size());
  HYPRE_StructVectorSetBoxValues(h.x, h.lo.data(), h.hi.data(), x.data());
  HYPRE_StructVectorAssemble(h.x);
  if (h.solver == nullptr) {
    // One V(1,1) cycle of PFMG per Krylov iteration with weighted-Jacobi smoothing and Galerkin coarse
    // operators (robust for variable coefficients). Red-black Gauss-Seidel (relax type 2) needs ~15%
    // fewer iterations but CG stalled with it (3D 8³ periodic, 3D 16³ double well at 1000x the explicit
    // limit: the preconditioner is then not SPD in practice), so Jacobi everywhere.
    HYPRE_PtrToStructSolverFcn precond_solve = HYPRE_StructPFMGSolve, precond_setup = HYPRE_StructPFMGSetup;
    if (h.cycle == Cycle::pfmg) {
      HYPRE_StructPFMGCreate(comm, &h.pfmg);
      HYPRE_StructPFMGSetMaxIter(h.pfmg, 1);
      HYPRE_StructPFMGSetTol(h.pfmg, 0.0);
      HYPRE_StructPFMGSetZeroGuess(h.pfmg);
      // CG needs a symmetric preconditioner: weighted Jacobi (see above). The nonsymmetric solvers take
      // red-black Gauss-Seidel with red-then-black sweeps before and after the coarse grid (relax type 3;
      // type 2 sweeps black-then-red after it, the symmetric cycle, which BiCGSTAB does not need). Upwind
      // Jacobians, Krylov iterations per Newton iteration: 3D double well with vacuum at 100x the
      // explicit limit 8.1 / 15 at 16³ / 32³ with type 2, 6.0 / 6.9 with type 3 (4.5 / 4.8 with weighted
      // Jacobi, but 2D porous 512² needs 12.6 linear iterations per step with it against 8.0 with type 3
      // and 11.6 with type 2); porous medium 3D 64³ to t = 1: 10.2 → 6.5 per step.
      HYPRE_StructPFMGSetRelaxType(h.pfmg, h.method == Method::cg ? 1 : 3);
      HYPRE_StructPFMGSetRAPType(h.pfmg, 0);
      HYPRE_StructPFMGSetNumPreRelax(h.pfmg, 1);
      HYPRE_StructPFMGSetNumPostRelax(h.pfmg, 1);
      HYPRE_StructPFMGSetSkipRelax(h.pfmg, 0);
    } else {
      HYPRE_StructSMGCreate(comm, &h.pfmg);
      HYPRE_StructSMGSetMemoryUse(h.pfmg, 0);
      HYPRE_StructSMGSetMaxIter(h.pfmg, 1);
      HYPRE_StructSMGSetTol(h.pfmg, 0.0);
      HYPRE_StructSMGSetZeroGuess(h.pfmg);
      HYPRE_StructSMGSetNumPreRelax(h.pfmg, 1);
      HYPRE_StructSMGSetNumPostRelax(h.pfmg, 1);
      precond_solve = HYPRE_StructSMGSolve;
      precond_setup = HYPRE_StructSMGSetup;
    }
    if (h.method == Method::cg) {
      HYPRE_StructPCGCreate(comm, &h.solver);
      HYPRE_StructPCGSetTwoNorm(h.solver, 1);
      HYPRE_StructPCGSetPrecond(h.solver, precond_solve, precond_setup, h.pfmg);
    } else if (h.method == Method::bicgstab) {
      HYPRE_StructBiCGSTABCreate(comm, &h.solver);
      HYPRE_StructBiCGSTABSetPrecond(h.solver, precond_solve, precond_setup, h.pfmg);
    } else {
      HYPRE_StructGMRESCreate(comm, &h.solver);
      HYPRE_StructGMRESSetKDim(h.solver, gmres_restart);
      HYPRE_StructGMRESSetPrecond(h.solver, precond_solve, precond_setup, h.pfmg);
    }
  }
  Result r;
  double rel = 0.0;
  HYPRE_Int its = 0;
  if (h.method == Method::cg) {
    HYPRE_StructPCGSetTol(h.solver, tolerance);
    HYPRE_StructPCGSetMaxIter(h.solver, max_iterations);
    if (!h.ready) HYPRE_StructPCGSetup(h.solver, h.A, h.b, h.x);
    HYPRE_StructPCGSolve(h.solver, h.A, h.b, h.x);
    HYPRE_StructPCGGetNumIterations(h.solver, &its);
    HYPRE_StructPCGGetFinalRelativeResidualNorm(h.solver, &rel);
  } else if (h.method == Method::bicgstab) {
    HYPRE_StructBiCGSTABSetTol(h.solver, tolerance);
    HYPRE_StructBiCGSTABSetMaxIter(h.solver, max_iterations);
    if (!h.ready) HYPRE_StructBiCGSTABSetup(h.solver, h.A, h.b, h.x);
    HYPRE_StructBiCGSTABSolve(h.solver, h.A, h.b, h.x);
    HYPRE_StructBiCGSTABGetNumIterations(h.solver, &its);
    HYPRE_StructBiCGSTABGetFinalRelativeResidualNorm(h.solver, &rel);
  } else {
    HYPRE_StructGMRESSetTol(h.solver, tolerance);
    HYPRE_StructGMRESSetMaxIter(h.solver, max_iterations);
    if (!h.ready) HYPRE_StructGMRESSetup(h.solver, h.A, h.b, h.x);
    HYPRE_StructGMRESSolve(h.solver, h.A, h.b, h.x);
    HYPRE_StructGMRESGetNumIterations(h.solver, &its);
    HYPRE_StructGMRESGetFinalRelativeResidualNorm(h.solver, &rel);
  }
  h.ready = true;
  HYPRE_ClearAllErrors();  // a solve stopped by max_iterations raises HYPRE_ERROR_CONV: judged below
  HYPRE_StructVectorGetBoxValues(h.x, h.lo.data(), h.hi.data(), x.data());
  r.iterations = static_cast<int>(its);
  r.relative_residual = rel;
  // hypre's residual norm is global (the same on every rank); a non-finite x on any rank fails all.
  double bad = x.allFinite() ? 0.0 : 1.0;
  if (unk_.decomposed) MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_DOUBLE, MPI_MAX, comm);
  r.converged = std::isfinite(rel) && rel <= tolerance && bad == 0.0;
  return r;
}

#else  // built without hypre

template <int Dim>
struct StructMultigrid<Dim>::Hypre {};

template <int Dim>
StructMultigrid<Dim>::StructMultigrid(const UniformGrid<Dim>&, const implicit_detail::Unknowns<Dim>& unknowns)
    : unk_(unknowns) {
  throw std::runtime_error("multigrid: this build has no hypre (CMake option WGFLOW_WITH_HYPRE)");
}
template <int Dim>
StructMultigrid<Dim>::~StructMultigrid() = default;
template <int Dim>
void StructMultigrid<Dim>::set_stencil(const double*, Method, Cycle) {}
template <int Dim>
void StructMultigrid<Dim>::use(Method, Cycle) {}
template <int Dim>
typename StructMultigrid<Dim>::Result StructMultigrid<Dim>::solve(const Vec&, Vec&, bool, double, int) {
  return {};
}

#endif

template class StructMultigrid<1>;
template class StructMultigrid<2>;
template class StructMultigrid<3>;

}  // namespace wgflow
