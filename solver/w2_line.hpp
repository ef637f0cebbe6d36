#pragma once
#include "solver/layer_guard.hpp"
/// The 1D W2 distance of two cell densities from their quantile functions, computed so that the
/// result is the same bits on one rank and on any split of the line over ranks (issue 12):
///  - CDF levels at cell boundaries from exact prefix sums: the line is cut into the fixed reduction
///    chunks (grids/reduction_chunks.hpp); a chunk starts at its exact prefix (ExactSum, across ranks
///    by one MPI_Exscan), rounded once, and inside the chunk adds its own running sum, clamped below
///    the next chunk's start so the levels never decrease. Every level depends on the global line
///    only, never on who computed it.
///  - the integral ∫₀¹ (Q_q − Q_p)² ds split at the merged breakpoints: each rank integrates the
///    s-range of its own q-cells, each piece added exactly; one exact sum over ranks.
#include <vector>

#include "grids/communicator.hpp"
#include "grids/exact_sum.hpp"

namespace wgflow {

/// CDF levels (normalised to 1) of the cells [first, first + count) of a line of `n` cells whose
/// values on this rank are v[0 … count): level[k] at the boundary first + k, k = 0 … count
/// (level of boundary n is exactly 1). `first` and every rank's share are whole chunks (the rule of
/// the decomposition). Collective over `ranks`, which hold the line in rank order. Returns false
/// (on every rank) if the line's total is not positive. `level` is resized to count + 1.
bool cdf_levels(const double* v, int first, int count, int n, const Communicator& ranks, std::vector<double>& level);

/// Adds to `acc` the pieces of ∫ (Q_q − Q_p)² ds over the s-range of q-cells [first, first + count):
/// level_q as cdf_levels gave them for those cells, level_p the target's levels of the whole line
/// (n + 1 values). Cells of width dx from `lower`. Both level sets must be non-decreasing.
void add_w2_pieces(const std::vector<double>& level_q, int first, int count, const std::vector<double>& level_p,
                   int n, double lower, double dx, ExactSum& acc);

/// W2 between two non-negative 1D cell densities on cells of width dx starting at `lower`, each
/// normalised to mass 1 (piecewise-constant densities: piecewise-linear quantile functions Q_q, Q_p):
///   W2² = ∫₀¹ |Q_q(s) − Q_p(s)|² ds, integrated exactly between the merged CDF breakpoints.
/// One rank, the whole line; NaN if either total is not positive. cdf_q, cdf_p: work space.
double w2_distance_1d(const double* q, const double* p, int n, double lower, double dx, std::vector<double>& cdf_q,
                      std::vector<double>& cdf_p);

}  // namespace wgflow
