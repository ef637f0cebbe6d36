#pragma once
#include "solver/layer_guard.hpp"
/// The positivity safeguard of implicit Euler's upwind path (implicit_newton.cpp): the solution q̂ of
/// (I − Δt L_u) q̂ = qⁿ with the first-order upwind velocities u of a frozen ξ, on any number of ranks.
#include <array>

#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "solver/steppers/implicit_unknowns.hpp"

namespace wgflow {

/// What one sweep did: false ok means it stopped without reaching every cell (a round that moved
/// nothing anywhere, or more rounds than cells): q̂ is then not written and the caller rejects the
/// attempt. rounds: halo exchanges of q̂ it took (0 on an undecomposed grid).
struct UpwindSweepResult {
  bool ok = false;
  long rounds = 0;
};

/// q̂ (interior and ghosts) from qⁿ and ξ on the cells of unk (both with ghosts filled, across rank
/// borders too; inv_dx2: 1/Δx_k² per axis). Flow on a face runs from higher to lower ξ (u Δx = ξ_L − ξ_R), so a cell's inflows come only from
/// cells of strictly higher ξ, and q̂_c = (qⁿ_c + Δt Σ_in u q̂_donor/Δx²) / (1 + Δt Σ_out u/Δx²) is a
/// quotient of sums of non-negative terms: ≥ 0 in floating point. Each cell's value is one fixed
/// formula (faces in a fixed order) of its donors' final values, so every order that finishes the
/// donors first gives the same bits: the result does not depend on the split into ranks.
template <int Dim>
UpwindSweepResult upwind_sweep(const UniformGrid<Dim>& grid, const implicit_detail::Unknowns<Dim>& unk,
                               const Field<Dim>& xi, const Field<Dim>& qn, double dt,
                               const double* inv_dx2, Field<Dim>& qh);

}  // namespace wgflow
